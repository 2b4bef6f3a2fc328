// Builds the demo page (src/web) into dist/web: type-checks it with its own
// tsconfig (DOM types, kept out of the host's Node build), bundles it with
// esbuild (xterm.js, addon-fit and the client package, which it imports by
// name as any consumer would: run `npm run build:lib` first), and copies
// index.html. The host app serves dist/web on /.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(repo, 'src/web');
const out = join(repo, 'dist/web');
const require = createRequire(import.meta.url);

if (!existsSync(join(repo, 'libs/pty-session-client/dist/esm/index.js'))) {
  console.error('build:web: the client package is not built; run `npm run build:lib` first.');
  process.exit(1);
}

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(source, 'tsconfig.json')], { stdio: 'inherit' });

rmSync(out, { recursive: true, force: true });
const result = await build({
  absWorkingDir: repo,
  entryPoints: [join(source, 'main.ts'), join(source, 'style.css')],
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
copyFileSync(join(source, 'index.html'), join(out, 'index.html'));

// Output paths in the metafile are relative to absWorkingDir.
for (const file of [...Object.keys(result.metafile.outputs).filter((f) => !f.endsWith('.map')), 'dist/web/index.html']) {
  console.log(`build:web: ${file} ${(statSync(join(repo, file)).size / 1024).toFixed(1)} KiB`);
}
