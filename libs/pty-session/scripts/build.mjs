// Dual build: the same sources compiled twice by tsc, once as ESM (NodeNext)
// and once as CommonJS, selected by the package's `exports` map. A bundler is
// ruled out by decorator metadata and by node-pty's native addon.
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const project of ['tsconfig.esm.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', join(root, project)], { stdio: 'inherit' });
}
// dist/cjs is CommonJS although the package says "type": "module".
writeFileSync(join(root, 'dist/cjs/package.json'), '{\n  "type": "commonjs"\n}\n');
writeFileSync(join(root, 'dist/esm/package.json'), '{\n  "type": "module"\n}\n');
// The package ships the repository's README and licence.
for (const file of ['README.md', 'LICENSE']) copyFileSync(join(root, '../..', file), join(root, file));
