#!/usr/bin/env node
// Consumer smoke test: what a user of the published package gets.
//
//   npm run test:consumer        (after `npm run build:lib`; `npm test` does both)
//
// 1. `npm pack`s libs/pty-session into a temporary directory and checks the
//    tarball's file list: both builds, their package.json type markers, the
//    .d.ts files, every target of `main`/`module`/`types`/`exports`, and no
//    TypeScript sources, specs, test fakes or build configuration.
// 2. Extracts the tarball into node_modules/nestjs-pty-session of two tiny
//    hosts (test/consumer/cjs-host, test/consumer/esm-host), copied into
//    test/consumer/.tmp-XXXXXX/ so that everything else (Nest, node-pty,
//    reflect-metadata, rxjs) resolves from the repository's node_modules, with
//    no network and no npm install. Whatever Nest is installed there is used:
//    12 normally, 11 under `npm run test:nest11`.
// 3. Boots each host with plain `node`: a Nest application context with
//    PtySessionModule.forRoot(), one session running
//    `/bin/sh -c 'echo consumer-ok; exit 7'`, then app.close(). Checks the
//    output, the exit code, that the CommonJS host loaded dist/cjs and the ESM
//    host dist/esm (and nothing of the other build), that both builds export
//    the same names, and that each process ends by itself after app.close().
// 4. Type-checks a small TypeScript consumer against the tarball's .d.ts, once
//    as CommonJS (.cts) and once as ESM (.mts), with the repository's tsc and
//    module/moduleResolution NodeNext, and checks which declaration file the
//    `exports` map picked for each.
//
// Exits non-zero on any failure. CONSUMER_SMOKE_KEEP=1 keeps the temporary
// directory for inspection.
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const libDir = join(repo, 'libs/pty-session');
const PKG = 'nestjs-pty-session';
const MARKER = 'CONSUMER_RESULT ';
const HOST_TIMEOUT_MS = Number(process.env.CONSUMER_SMOKE_HOST_TIMEOUT_MS) || 60_000;
const TSC_TIMEOUT_MS = 120_000;
const keep = process.env.CONSUMER_SMOKE_KEEP === '1';

const results = [];
let tmp;
let packedEntries;

class CheckError extends Error {}
const fail = (msg) => {
  throw new CheckError(msg);
};
const ok = (cond, msg) => cond || fail(msg);

async function check(name, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name}${detail ? `: ${detail}` : ''} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  } catch (err) {
    results.push({ name, ok: false });
    const msg = err instanceof CheckError ? err.message : (err?.stack ?? String(err));
    console.log(`FAIL ${name}: ${msg.replace(/\n/g, '\n     ')}`);
  }
}

function cleanup() {
  if (!tmp) return;
  if (keep) console.log(`(kept ${relative(repo, tmp)})`);
  else rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

// ---------------------------------------------------------------- tarball --

/** Minimal reader for the gzip'd ustar archives `npm pack` writes (with pax/GNU long names). */
function readTarball(file) {
  const buf = gunzipSync(readFileSync(file));
  const entries = [];
  let off = 0;
  let longPath;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const field = (start, len) => {
      const b = h.subarray(start, start + len);
      const end = b.indexOf(0);
      return b.subarray(0, end < 0 ? len : end).toString('utf8');
    };
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = h[156] === 0 ? '0' : String.fromCharCode(h[156]);
    let name = field(0, 100);
    const prefix = field(345, 155);
    if (field(257, 5) === 'ustar' && prefix) name = `${prefix}/${name}`;
    const body = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      // pax extended header: "<len> <key>=<value>\n" records.
      for (const m of body.toString('utf8').matchAll(/^\d+ ([^=]+)=(.*)$/gm)) if (m[1] === 'path') longPath = m[2];
      continue;
    }
    if (type === 'g') continue;
    if (type === 'L') {
      longPath = body.toString('utf8').replace(/\0[\s\S]*$/, '');
      continue;
    }
    const path = longPath ?? name;
    longPath = undefined;
    entries.push({ path, type, mode: parseInt(field(100, 8).trim() || '644', 8) & 0o777, body });
  }
  return entries;
}

function extractPackage(entries, dest) {
  for (const e of entries) {
    const rel = e.path.replace(/^package\//, '');
    const target = resolve(dest, rel);
    ok(target.startsWith(dest + sep), `refusing to extract ${e.path} outside ${dest}`);
    if (e.type === '5') mkdirSync(target, { recursive: true });
    else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, e.body, { mode: e.mode });
    }
  }
}

/** Every relative path named by main/module/types/exports. */
function manifestTargets(manifest) {
  const out = new Set();
  const walk = (v) => {
    if (typeof v === 'string') {
      if (v.startsWith('./')) out.add(v.slice(2));
    } else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const key of ['main', 'module', 'types', 'typings']) walk(manifest[key]);
  walk(manifest.exports);
  return [...out];
}

function packAndCheck() {
  const esmIndex = join(libDir, 'dist/esm/index.js');
  ok(
    existsSync(esmIndex) && existsSync(join(libDir, 'dist/cjs/index.js')),
    `${relative(repo, libDir)}/dist is missing: run \`npm run build:lib\` first (\`npm test\` does)`,
  );
  const newestSource = newestMtime(join(libDir, 'src'));
  if (newestSource > statSync(esmIndex).mtimeMs)
    console.log(`warn dist is older than src: the tarball may be stale (run \`npm run build:lib\`)`);

  const packDir = join(tmp, 'pack');
  mkdirSync(packDir);
  // --ignore-scripts: pack the dist that was just built and tested, without
  // the package's prepack rebuild (which `npm publish` does run).
  const npm = spawnSync('npm', ['pack', '--workspace', PKG, '--pack-destination', packDir, '--json', '--ignore-scripts'], {
    cwd: repo,
    encoding: 'utf8',
  });
  ok(npm.status === 0, `npm pack failed (${npm.signal ?? `exit ${npm.status}`}):\n${npm.stderr}${npm.stdout}`);
  const packed = JSON.parse(npm.stdout)[0];
  const tarball = join(packDir, packed.filename);
  ok(existsSync(tarball), `npm pack reported ${packed.filename} but wrote no such file`);

  const entries = readTarball(tarball);
  // From here on the hosts can run, whatever the file list checks say.
  packedEntries = entries;
  const files = entries.filter((e) => e.type === '0').map((e) => e.path);
  const bad = entries.filter((e) => !['0', '5'].includes(e.type)).map((e) => `${e.path} (type ${e.type})`);
  ok(bad.length === 0, `unexpected non-file entries: ${bad.join(', ')}`);
  const outside = files.filter((f) => !f.startsWith('package/'));
  ok(outside.length === 0, `entries outside package/: ${outside.join(', ')}`);
  const rel = files.map((f) => f.slice('package/'.length));
  const has = new Set(rel);
  const content = (f) => entries.find((e) => e.path === `package/${f}`).body.toString('utf8');

  const problems = [];
  const required = [
    'package.json',
    'dist/esm/index.js',
    'dist/esm/index.d.ts',
    'dist/esm/package.json',
    'dist/cjs/index.js',
    'dist/cjs/index.d.ts',
    'dist/cjs/package.json',
  ];
  if (existsSync(join(libDir, 'README.md'))) required.push('README.md');
  if (existsSync(join(libDir, 'LICENSE'))) required.push('LICENSE');
  const manifest = JSON.parse(content('package.json'));
  for (const f of [...required, ...manifestTargets(manifest)]) if (!has.has(f)) problems.push(`missing ${f}`);
  if (has.has('dist/cjs/package.json') && JSON.parse(content('dist/cjs/package.json')).type !== 'commonjs')
    problems.push('dist/cjs/package.json does not say "type": "commonjs"');
  if (has.has('dist/esm/package.json') && JSON.parse(content('dist/esm/package.json')).type !== 'module')
    problems.push('dist/esm/package.json does not say "type": "module"');
  if (manifest.name !== PKG) problems.push(`package name is ${manifest.name}`);
  if (manifest.private) problems.push('package.json says "private": true');

  const forbidden = [
    [/(^|\/)src\//, 'sources'],
    [/(?<!\.d)\.[cm]?ts$/, 'TypeScript source'],
    [/\.(spec|test|e2e-spec)\./, 'test file'],
    [/testing-fakes/, 'test fake'],
    [/(^|\/)tsconfig[^/]*\.json$/, 'tsconfig'],
    [/\.tsbuildinfo$/, 'tsbuildinfo'],
    [/^scripts\//, 'build script'],
    [/(^|\/)node_modules\//, 'node_modules'],
    [/\.tgz$/, 'tarball'],
  ];
  const unexpected = [];
  for (const f of rel) {
    const hit = forbidden.find(([re]) => re.test(f));
    if (hit) unexpected.push(`${hit[1]}: ${f}`);
  }
  if (unexpected.length)
    problems.push(
      `${unexpected.length} unexpected files (check "files" in package.json):`,
      ...unexpected.slice(0, 10).map((u) => `  ${u}`),
      ...(unexpected.length > 10 ? [`  ... and ${unexpected.length - 10} more`] : []),
    );

  // The two builds must mirror each other, and every module needs its typings.
  const under = (d, ext) => rel.filter((f) => f.startsWith(d) && f.endsWith(ext)).map((f) => f.slice(d.length));
  const esmJs = under('dist/esm/', '.js');
  const cjsJs = new Set(under('dist/cjs/', '.js'));
  for (const f of esmJs) if (!cjsJs.has(f)) problems.push(`dist/esm/${f} has no dist/cjs counterpart`);
  for (const f of cjsJs) if (!esmJs.includes(f)) problems.push(`dist/cjs/${f} has no dist/esm counterpart`);
  for (const d of ['dist/esm/', 'dist/cjs/'])
    for (const f of under(d, '.js'))
      if (!has.has(d + f.replace(/\.js$/, '.d.ts'))) problems.push(`${d}${f} has no .d.ts`);
  ok(problems.length === 0, `tarball ${packed.filename}:\n${problems.join('\n')}`);

  // Source maps name ../../src/*.ts, which is not published: debuggers and
  // stack-trace tools find no source. Not a failure; reported.
  const maps = rel.filter((f) => f.endsWith('.js.map'));
  const dangling = maps.filter((f) => {
    const map = JSON.parse(content(f));
    return !map.sourcesContent && map.sources.some((s) => !has.has(join(dirname(f), s)));
  });
  if (dangling.length)
    console.log(
      `warn ${dangling.length} of ${maps.length} source maps name sources that are not in the tarball ` +
        `(e.g. ${dangling[0]} -> ${JSON.parse(content(dangling[0])).sources[0]}); ` +
        'set inlineSources, or stop shipping .map files',
    );

  const size = statSync(tarball).size;
  const unpacked = entries.reduce((n, e) => n + e.body.length, 0);
  return (
    `${packed.filename}, ${(size / 1024).toFixed(1)} kB packed, ${(unpacked / 1024).toFixed(1)} kB unpacked, ${files.length} files`
  );
}

function newestMtime(dir) {
  let newest = 0;
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!d.isFile() || /\.spec\.ts$/.test(d.name)) continue;
    const p = join(d.parentPath ?? d.path, d.name);
    if (p.includes('testing-fakes')) continue;
    newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

// ------------------------------------------------------------------ hosts --

const hosts = {};

/** test/consumer/<kind>-host copied into the temporary directory, with the tarball as node_modules/nestjs-pty-session. */
function makeHost(kind, entries) {
  const dir = join(tmp, `${kind}-host`);
  cpSync(join(here, `${kind}-host`), dir, { recursive: true });
  const pkgDir = join(dir, 'node_modules', PKG);
  mkdirSync(pkgDir, { recursive: true });
  extractPackage(entries, pkgDir);
  hosts[kind] = dir;
  return dir;
}

function run(cmd, args, { cwd, timeoutMs }) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, timedOut });
    });
  });
}

const hostExports = {};

async function bootHost(kind) {
  const dir = makeHost(kind, packedEntries);
  const main = kind === 'cjs' ? 'index.cjs' : 'index.mjs';
  const r = await run(process.execPath, [join(dir, main)], { cwd: dir, timeoutMs: HOST_TIMEOUT_MS });
  const line = r.stdout.split('\n').find((l) => l.startsWith(MARKER));
  const output = `\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`;
  if (r.timedOut)
    fail(
      line
        ? `the host printed its result but did not exit within ${HOST_TIMEOUT_MS / 1000}s: ` +
            `something keeps the event loop alive after app.close()${output}`
        : `no result within ${HOST_TIMEOUT_MS / 1000}s${output}`,
    );
  ok(r.code === 0, `host exited with ${r.signal ?? `code ${r.code}`}${output}`);
  ok(line, `host printed no ${MARKER.trim()} line${output}`);
  const res = JSON.parse(line.slice(MARKER.length));

  const pkgDir = realpathSync(join(dir, 'node_modules', PKG));
  const build = join(pkgDir, 'dist', kind);
  const problems = [];
  if (!res.output.includes('consumer-ok')) problems.push(`session output ${JSON.stringify(res.output)} lacks "consumer-ok"`);
  if (res.exitCode !== 7) problems.push(`session exit code ${res.exitCode}, expected 7`);
  if (res.reason !== 'exited') problems.push(`session end reason ${res.reason}, expected "exited"`);
  if (realpathSync(res.resolved) !== join(build, 'index.js'))
    problems.push(`'${PKG}' resolved to ${res.resolved}, expected ${join(build, 'index.js')} (the tarball's dist/${kind})`);
  const wrongBuild = res.loaded.filter((p) => !realpathSync(p).startsWith(build + sep));
  if (wrongBuild.length) problems.push(`also loaded, through require(): ${wrongBuild.join(', ')}`);
  if (kind === 'cjs' && !res.loaded.length) problems.push('require.cache holds no file of the package');
  if (!realpathSync(res.nestCorePath).startsWith(join(repo, 'node_modules') + sep))
    problems.push(`@nestjs/core came from ${res.nestCorePath}, not from the repository's node_modules`);
  for (const name of ['PtySessionModule', 'PtySessionManager', 'PtySession', 'PtySessionError'])
    if (!res.exports.includes(name)) problems.push(`export ${name} missing`);
  ok(problems.length === 0, `${problems.join('\n')}${output}`);
  if (r.stderr.trim()) console.log(`note ${kind}-host stderr: ${r.stderr.trim().replace(/\n/g, '\n     ')}`);
  hostExports[kind] = res.exports;
  return `loaded dist/${kind}, Nest ${res.nestCore}, output ${JSON.stringify(res.output.trim())}, exit code ${res.exitCode}`;
}

// ------------------------------------------------------------ type check --

// The same consumer, compiled as CommonJS (.cts) and as ESM (.mts).
const TYPES_SOURCE = `
import { PtySessionModule, PtySessionManager, PtySessionError, PTY_SESSION_DEFAULTS } from '${PKG}';
import type { PtyExitStatus, PtySessionModuleOptions, PtySessionInfo } from '${PKG}';
import type { DynamicModule } from '@nestjs/common';

const options: PtySessionModuleOptions = {
  profiles: { sh: { file: '/bin/sh', args: ['-c', 'true'], env: {} } },
  defaultProfile: 'sh',
};
export const root: DynamicModule = PtySessionModule.forRoot(options);
export const asyncRoot: DynamicModule = PtySessionModule.forRootAsync({ useFactory: () => options, isGlobal: true });
export async function run(manager: PtySessionManager): Promise<[number, PtySessionInfo[]]> {
  const session = await manager.createSession({ cols: 100, rows: 30 });
  const exit: PtyExitStatus = await session.whenExited();
  return [exit.exitCode, manager.listSessions({ status: 'exited' })];
}
export const isPtyError = (e: unknown): e is PtySessionError => e instanceof PtySessionError;
export const defaults: object = PTY_SESSION_DEFAULTS;
// @ts-expect-error: proves the typings are real (not any): replayBufferBytes is a number.
PtySessionModule.forRoot({ replayBufferBytes: 'lots' });
`;

async function typeCheck(kind) {
  const dir = hosts[kind];
  ok(dir, `no ${kind} host to compile in`);
  const file = kind === 'cjs' ? 'consumer-types.cts' : 'consumer-types.mts';
  writeFileSync(join(dir, file), TYPES_SOURCE);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: [file],
      },
      null,
      2,
    ),
  );
  const tsc = createRequire(join(repo, 'package.json')).resolve('typescript/bin/tsc');
  const r = await run(process.execPath, [tsc, '-p', dir, '--listFiles'], { cwd: dir, timeoutMs: TSC_TIMEOUT_MS });
  const errors = r.stdout
    .split('\n')
    .filter((l) => !l.startsWith('/'))
    .join('\n')
    .trim();
  ok(!r.timedOut, `tsc did not finish within ${TSC_TIMEOUT_MS / 1000}s`);
  ok(r.code === 0, `tsc reported errors (exit ${r.code}):\n${errors}${r.stderr}`);
  const pkgDir = realpathSync(join(dir, 'node_modules', PKG));
  const listed = r.stdout.split('\n').filter((l) => l.startsWith('/')).map((l) => realpathSync(l));
  const index = listed.filter((l) => l.startsWith(pkgDir + sep) && l.endsWith(`${sep}index.d.ts`));
  ok(
    index.length === 1 && index[0] === join(pkgDir, 'dist', kind, 'index.d.ts'),
    `expected the typings of dist/${kind}/index.d.ts, tsc used: ${index.map((l) => relative(pkgDir, l)).join(', ') || 'none'}`,
  );
  const other = listed.filter((l) => l.startsWith(join(pkgDir, 'dist', kind === 'cjs' ? 'esm' : 'cjs') + sep));
  ok(other.length === 0, `tsc also read the other build's typings: ${other.map((l) => relative(pkgDir, l)).join(', ')}`);
  return `NodeNext ${kind === 'cjs' ? 'require' : 'import'} resolves dist/${kind}/index.d.ts, no errors`;
}

// ------------------------------------------------------------------- main --

console.log(`consumer smoke: node ${process.version}, library ${relative(repo, libDir)}`);
tmp = mkdtempSync(join(here, '.tmp-'));
try {
  await check('tarball', packAndCheck);
  if (packedEntries) {
    await check('cjs-host', () => bootHost('cjs'));
    await check('esm-host', () => bootHost('esm'));
    if (hostExports.cjs && hostExports.esm) {
      const a = hostExports.cjs.join();
      const b = hostExports.esm.join();
      if (a !== b) {
        results.push({ name: 'export parity', ok: false });
        console.log(`FAIL export parity: dist/cjs exports [${a}] but dist/esm exports [${b}]`);
      }
    }
    // The two compilations are independent: run them side by side.
    await Promise.all(['cjs', 'esm'].map((kind) => check(`${kind}-types`, () => typeCheck(kind))));
  } else {
    console.log('skip cjs-host, esm-host, cjs-types, esm-types: no tarball');
  }
} finally {
  cleanup();
}

const failed = results.filter((r) => !r.ok);
console.log(`consumer smoke: ${results.length - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length ? 1 : 0;
