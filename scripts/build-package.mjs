// Dual build of one package of libs/: the same sources compiled twice by tsc,
// once as ESM (NodeNext) and once as CommonJS, selected by the package's
// `exports` map. A bundler is ruled out by decorator metadata and by
// node-pty's native addon. Usage: node scripts/build-package.mjs <package dir>
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(process.argv[2] ?? '.');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const project of ['tsconfig.esm.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit' });
}
// dist/cjs is CommonJS although the package says "type": "module".
writeFileSync(join(root, 'dist/cjs/package.json'), '{\n  "type": "commonjs"\n}\n');
writeFileSync(join(root, 'dist/esm/package.json'), '{\n  "type": "module"\n}\n');
// Each package ships the repository's licence; its README is its own when it has one.
copyFileSync(join(repo, 'LICENSE'), join(root, 'LICENSE'));
if (root === resolve(repo, 'libs/pty-session')) copyFileSync(join(repo, 'README.md'), join(root, 'README.md'));
