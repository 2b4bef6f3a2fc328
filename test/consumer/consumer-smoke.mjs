#!/usr/bin/env node
// Consumer smoke test: what a user of the two published packages gets.
//
//   npm run test:consumer        (after `npm run build:lib`; `npm test` does both)
//
// 1. `npm pack`s libs/pty-session (nestjs-pty-session, the Nest library) and
//    libs/pty-session-client (nestjs-pty-session-client, the Socket.IO client,
//    whose `/protocol` the library imports at runtime) into a temporary
//    directory and checks each tarball's file list: both builds, their
//    package.json type markers, a .d.ts for every .js, every target of
//    `main`/`module`/`types`/`exports` (the client's `./protocol` too),
//    README.md and LICENSE, and no TypeScript sources, specs, test helpers
//    (src/testing/, testing-fakes), build configuration or node_modules. Also
//    checks the manifests: the client depends on neither Nest nor node-pty
//    (nor the server's socket.io), and the library's dependency range on the
//    client accepts the packed client's version.
// 2. Extracts BOTH tarballs into node_modules/nestjs-pty-session and
//    node_modules/nestjs-pty-session-client of two tiny hosts
//    (test/consumer/cjs-host, test/consumer/esm-host), copied into
//    test/consumer/.tmp-XXXXXX/ so that everything else (Nest, node-pty,
//    socket.io, socket.io-client, reflect-metadata, rxjs) resolves from the
//    repository's node_modules, with no network and no npm install. Whatever
//    Nest is installed there is used: 12 normally, 11 under
//    `npm run test:nest11`. The repository's own workspace links
//    (node_modules/nestjs-pty-session* -> libs/*) are still on the lookup
//    path above the hosts, only shadowed by the hosts' node_modules: the host
//    checks below prove that nothing was loaded through them.
// 3. Boots each host with plain `node` (the ESM host with a preloaded resolve
//    hook, esm-host/trace-loads.mjs, that records what the ES module loader
//    resolved, since ESM has no require.cache). Each host runs
//    - a Nest application context with PtySessionModule.forRoot() (manager
//      only, no HTTP server, so no gateway) and one session running
//      `/bin/sh -c 'echo consumer-ok; exit 7'`;
//    - a Nest HTTP application (NestFactory.create, listen on 127.0.0.1:0)
//      with forRoot({ allowAnonymous: true }), whose Socket.IO gateway the
//      packed client (required by the CJS host, imported by the ESM host)
//      connects to on /pty: create from the same profile, attach since 0,
//      collect the output until the exit event;
//    then client.close() and app.close(). Checks the output and exit code of
//    both runs, that the CommonJS host loaded only dist/cjs and the ESM host
//    only dist/esm of BOTH packages (nothing of the other build, nothing from
//    libs/ in the repository), that the library's own import of
//    `nestjs-pty-session-client/protocol` went to the host's extracted client,
//    that both builds export the same names, and that each process ends by
//    itself after app.close().
// 4. Type-checks a small TypeScript consumer of both packages (library,
//    client, client/protocol, with @ts-expect-error lines proving the typings
//    are not `any`) against the tarballs' .d.ts, once as CommonJS (.cts) and
//    once as ESM (.mts), with the repository's tsc, module/moduleResolution
//    NodeNext and skipLibCheck off, and checks which declaration files the
//    `exports` maps picked in each package.
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
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const LIB = 'nestjs-pty-session';
const CLIENT = 'nestjs-pty-session-client';
/** The packages under test: where they live, their public entry points (dist/<build>/<entry>.js), what a user needs from them. */
const PACKAGES = [
  {
    name: LIB,
    dir: join(repo, 'libs/pty-session'),
    entries: ['index'],
    exports: { [LIB]: ['PtySessionModule', 'PtySessionManager', 'PtySession', 'PtySessionError', 'PtySessionGatewayBase'] },
    forbiddenDependencies: [],
  },
  {
    name: CLIENT,
    dir: join(repo, 'libs/pty-session-client'),
    entries: ['index', 'protocol'],
    exports: {
      [CLIENT]: ['PtySessionClient', 'PtyClientError', 'PTY_CLIENT_DEFAULTS', 'PTY_DEFAULT_NAMESPACE', 'PTY_EVENTS'],
      [`${CLIENT}/protocol`]: ['PTY_EVENTS'],
    },
    // A browser/Node client: none of the server side.
    forbiddenDependencies: [/^@nestjs\//, /^node-pty$/, /^socket\.io$/, /^reflect-metadata$/, /^rxjs$/, new RegExp(`^${LIB}$`)],
  },
];
/** Import specifiers a consumer uses, and the file each must reach: [package, entry]. */
const SPECIFIERS = {
  [LIB]: [LIB, 'index'],
  [CLIENT]: [CLIENT, 'index'],
  [`${CLIENT}/protocol`]: [CLIENT, 'protocol'],
};
const MARKER = 'CONSUMER_RESULT ';
const HOST_TIMEOUT_MS = Number(process.env.CONSUMER_SMOKE_HOST_TIMEOUT_MS) || 60_000;
const TSC_TIMEOUT_MS = 120_000;
const keep = process.env.CONSUMER_SMOKE_KEEP === '1';

const results = [];
let tmp;
/** name -> { filename, tarball, entries, manifest }, once packed. */
const packed = {};

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

/** `file` is `dir` or inside it. */
const inside = (file, dir) => file === dir || file.startsWith(dir + sep);
const realpathOrSelf = (p) => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

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

/**
 * Whether `version` (x.y.z) is in `range`, for the simple ranges package.json
 * files here use (x.y.z, ^x.y.z, ~x.y.z, >=x.y.z, joined by ||); undefined
 * for anything else.
 */
function satisfies(version, range) {
  const v = /^(\d+)\.(\d+)\.(\d+)$/.exec(version)?.slice(1).map(Number);
  if (!v) return undefined;
  const cmp = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  let known = true;
  const any = range.split('||').some((part) => {
    const m = /^(\^|~|>=)?(\d+)\.(\d+)\.(\d+)$/.exec(part.trim());
    if (!m) return !(known = false);
    const r = m.slice(2).map(Number);
    if (cmp(v, r) < 0) return false;
    if (m[1] === '>=') return true;
    if (m[1] === '~') return v[0] === r[0] && v[1] === r[1];
    if (m[1] === '^') return r[0] > 0 ? v[0] === r[0] : r[1] > 0 ? v[0] === 0 && v[1] === r[1] : cmp(v, r) === 0;
    return cmp(v, r) === 0;
  });
  return any || (known ? false : undefined);
}

function packBoth() {
  for (const pkg of PACKAGES) {
    const esmIndex = join(pkg.dir, 'dist/esm/index.js');
    ok(
      existsSync(esmIndex) && existsSync(join(pkg.dir, 'dist/cjs/index.js')),
      `${relative(repo, pkg.dir)}/dist is missing: run \`npm run build:lib\` first (\`npm test\` does)`,
    );
    if (newestMtime(join(pkg.dir, 'src')) > statSync(esmIndex).mtimeMs)
      console.log(
        `warn ${relative(repo, pkg.dir)}/dist is older than its src: the tarball may be stale (run \`npm run build:lib\`)`,
      );
  }

  const packDir = join(tmp, 'pack');
  mkdirSync(packDir);
  // --ignore-scripts: pack the dist that was just built and tested, without
  // the packages' prepack rebuild (which `npm publish` does run).
  const workspaces = PACKAGES.flatMap((p) => ['--workspace', p.name]);
  const args = ['pack', ...workspaces, '--pack-destination', packDir, '--json', '--ignore-scripts'];
  const npm = spawnSync('npm', args, { cwd: repo, encoding: 'utf8' });
  ok(npm.status === 0, `npm ${args.join(' ')} failed (${npm.signal ?? `exit ${npm.status}`}):\n${npm.stderr}${npm.stdout}`);
  const reports = JSON.parse(npm.stdout);
  for (const pkg of PACKAGES) {
    const report = reports.find((r) => r.name === pkg.name);
    ok(report, `npm pack reported no tarball for ${pkg.name} (got ${reports.map((r) => r.name).join(', ')})`);
    const tarball = join(packDir, report.filename);
    ok(existsSync(tarball), `npm pack reported ${report.filename} but wrote no such file`);
    const entries = readTarball(tarball);
    const manifestEntry = entries.find((e) => e.path === 'package/package.json');
    ok(manifestEntry, `${report.filename} has no package/package.json`);
    // From here on the hosts can run, whatever the file list checks say.
    packed[pkg.name] = { filename: report.filename, tarball, entries, manifest: JSON.parse(manifestEntry.body.toString('utf8')) };
  }
  return PACKAGES.map((p) => packed[p.name].filename).join(', ');
}

function checkTarball(pkg) {
  const { filename, tarball, entries, manifest } = packed[pkg.name];
  const files = entries.filter((e) => e.type === '0').map((e) => e.path);
  const bad = entries.filter((e) => !['0', '5'].includes(e.type)).map((e) => `${e.path} (type ${e.type})`);
  ok(bad.length === 0, `unexpected non-file entries: ${bad.join(', ')}`);
  const outside = files.filter((f) => !f.startsWith('package/'));
  ok(outside.length === 0, `entries outside package/: ${outside.join(', ')}`);
  const rel = files.map((f) => f.slice('package/'.length));
  const has = new Set(rel);
  const content = (f) => entries.find((e) => e.path === `package/${f}`).body.toString('utf8');

  const problems = [];
  const required = ['package.json', 'README.md', 'LICENSE', 'dist/esm/package.json', 'dist/cjs/package.json'];
  for (const build of ['esm', 'cjs'])
    for (const entry of pkg.entries) required.push(`dist/${build}/${entry}.js`, `dist/${build}/${entry}.d.ts`);
  for (const f of [...required, ...manifestTargets(manifest)]) if (!has.has(f)) problems.push(`missing ${f}`);
  if (has.has('dist/cjs/package.json') && JSON.parse(content('dist/cjs/package.json')).type !== 'commonjs')
    problems.push('dist/cjs/package.json does not say "type": "commonjs"');
  if (has.has('dist/esm/package.json') && JSON.parse(content('dist/esm/package.json')).type !== 'module')
    problems.push('dist/esm/package.json does not say "type": "module"');
  if (manifest.name !== pkg.name) problems.push(`package name is ${manifest.name}`);
  if (manifest.private) problems.push('package.json says "private": true');
  // Every entry point in the exports map, with both conditions.
  for (const entry of pkg.entries) {
    const key = entry === 'index' ? '.' : `./${entry}`;
    for (const [condition, build] of [['import', 'esm'], ['require', 'cjs']]) {
      const target = manifest.exports?.[key]?.[condition];
      if (target?.default !== `./dist/${build}/${entry}.js` || target?.types !== `./dist/${build}/${entry}.d.ts`)
        problems.push(`exports["${key}"].${condition} is ${JSON.stringify(target)}, expected dist/${build}/${entry}.{js,d.ts}`);
    }
  }

  // What installing the package pulls in.
  const deps = ['dependencies', 'peerDependencies', 'optionalDependencies'].flatMap((field) =>
    Object.entries(manifest[field] ?? {}).map(([name, range]) => ({ field, name, range })),
  );
  for (const d of deps) {
    if (pkg.forbiddenDependencies.some((re) => re.test(d.name)))
      problems.push(`${d.field} has ${d.name}: ${pkg.name} must not depend on it`);
    const sibling = packed[d.name];
    if (sibling) {
      const fits = satisfies(sibling.manifest.version, d.range);
      const packedVersion = sibling.manifest.version;
      if (fits === false) problems.push(`${d.field}.${d.name} is "${d.range}", but the packed ${d.name} is ${packedVersion}`);
      if (fits === undefined) console.log(`warn ${pkg.name}: cannot check ${d.field}.${d.name} "${d.range}" against ${packedVersion}`);
    }
  }

  const forbidden = [
    [/(^|\/)src\//, 'sources'],
    [/(?<!\.d)\.[cm]?ts$/, 'TypeScript source'],
    [/\.(spec|test|e2e-spec)\./, 'test file'],
    [/(^|\/)testing\//, 'test helper'],
    [/testing-fakes|fake-gateway|fake-pty/, 'test fake'],
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
      `${unexpected.length} unexpected files (check "files" in package.json and the tsconfig excludes):`,
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
  ok(problems.length === 0, `tarball ${filename}:\n${problems.join('\n')}`);

  // Source maps that name unpublished sources: debuggers and stack-trace
  // tools find no source. Not a failure; reported.
  const maps = rel.filter((f) => f.endsWith('.js.map'));
  const dangling = maps.filter((f) => {
    const map = JSON.parse(content(f));
    return !map.sourcesContent && map.sources.some((s) => !has.has(join(dirname(f), s)));
  });
  if (dangling.length)
    console.log(
      `warn ${pkg.name}: ${dangling.length} of ${maps.length} source maps name sources that are not in the tarball ` +
        `(e.g. ${dangling[0]} -> ${JSON.parse(content(dangling[0])).sources[0]}); ` +
        'set inlineSources, or stop shipping .map files',
    );
  // Relative links in the README resolve on npmjs.com only against a `repository`.
  const links = [...content('README.md').matchAll(/\]\((?![a-z][a-z0-9+.-]*:|#)([^)\s]+)\)/gi)].map((m) => m[1]);
  if (links.length && !manifest.repository)
    console.log(
      `warn ${pkg.name}: README.md links to ${links.map((l) => JSON.stringify(l)).join(', ')}, ` +
        'which do not resolve on the npm registry without a "repository" in package.json',
    );

  const size = statSync(tarball).size;
  const unpacked = entries.reduce((n, e) => n + e.body.length, 0);
  const runtime = deps.filter((d) => d.field === 'dependencies').map((d) => d.name);
  return (
    `${filename}, ${(size / 1024).toFixed(1)} kB packed, ${(unpacked / 1024).toFixed(1)} kB unpacked, ${files.length} files, ` +
    `dependencies: ${runtime.join(', ') || 'none'}`
  );
}

function newestMtime(dir) {
  let newest = 0;
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!d.isFile() || /\.spec\.ts$/.test(d.name)) continue;
    const p = join(d.parentPath ?? d.path, d.name);
    const rel = sep + relative(dir, p);
    if (rel.includes(`${sep}testing${sep}`) || rel.includes('testing-fakes')) continue;
    newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

// ------------------------------------------------------------------ hosts --

const hosts = {};

/** test/consumer/<kind>-host copied into the temporary directory, with both tarballs in its node_modules. */
function makeHost(kind) {
  const dir = join(tmp, `${kind}-host`);
  cpSync(join(here, `${kind}-host`), dir, { recursive: true });
  for (const pkg of PACKAGES) {
    const pkgDir = join(dir, 'node_modules', pkg.name);
    mkdirSync(pkgDir, { recursive: true });
    extractPackage(packed[pkg.name].entries, pkgDir);
  }
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
  const dir = makeHost(kind);
  const args =
    kind === 'cjs'
      ? [join(dir, 'index.cjs')]
      : ['--import', pathToFileURL(join(dir, 'trace-loads.mjs')).href, join(dir, 'index.mjs')];
  const r = await run(process.execPath, args, { cwd: dir, timeoutMs: HOST_TIMEOUT_MS });
  const line = r.stdout.split('\n').find((l) => l.startsWith(MARKER));
  // The result line lists every loaded file: shortened in failure messages.
  const stdout = r.stdout.replace(new RegExp(`^(${MARKER}.{200}).+$`, 'm'), '$1 ...');
  const output = `\n--- stdout ---\n${stdout}--- stderr ---\n${r.stderr}`;
  if (r.timedOut)
    fail(
      line
        ? `the host printed its result but did not exit within ${HOST_TIMEOUT_MS / 1000}s: ` +
            `something keeps the event loop alive after client.close() and app.close()${output}`
        : `no result within ${HOST_TIMEOUT_MS / 1000}s${output}`,
    );
  ok(r.code === 0, `host exited with ${r.signal ?? `code ${r.code}`}${output}`);
  ok(line, `host printed no ${MARKER.trim()} line${output}`);
  const res = JSON.parse(line.slice(MARKER.length));
  const problems = [];
  // The result itself is not repeated in failure messages; stderr is.
  const trimmed = r.stderr.trim() ? `\n--- stderr ---\n${r.stderr}` : '';

  // The sessions.
  const { context, http } = res;
  if (!context.output.includes('consumer-ok'))
    problems.push(`application context: session output ${JSON.stringify(context.output)} lacks "consumer-ok"`);
  if (context.exitCode !== 7) problems.push(`application context: session exit code ${context.exitCode}, expected 7`);
  if (!context.snapshot?.includes('consumer-ok'))
    problems.push(`application context: screen snapshot ${JSON.stringify(context.snapshot)} lacks "consumer-ok"`);
  if (context.reason !== 'exited') problems.push(`application context: end reason ${context.reason}, expected "exited"`);
  if (http.created !== true) problems.push(`client: create answered created: ${http.created}, expected true`);
  if (!http.output.includes('consumer-ok'))
    problems.push(`client: output ${JSON.stringify(http.output)} lacks "consumer-ok" (attached with since: 0)`);
  if (http.offset !== Buffer.byteLength(http.output))
    problems.push(`client: session.offset is ${http.offset}, but ${Buffer.byteLength(http.output)} bytes of output arrived`);
  if (http.exitCode !== 7) problems.push(`client: exit code ${http.exitCode}, expected 7`);
  if (http.reason !== 'exited') problems.push(`client: end reason ${http.reason}, expected "exited"`);
  if (http.manager?.status !== 'exited' || http.manager?.exitCode !== 7)
    problems.push(`the server's PtySessionManager reports ${JSON.stringify(http.manager)} for the client's session`);
  if (http.clientErrors.length) problems.push(`client errors: ${http.clientErrors.join('; ')}`);

  // Which files: each specifier resolves into the host's own copy, built for this host.
  const nodeModules = realpathSync(join(dir, 'node_modules'));
  const pkgDir = (name) => join(nodeModules, name);
  const buildDir = (name) => join(pkgDir(name), 'dist', kind);
  const otherKind = kind === 'cjs' ? 'esm' : 'cjs';
  const libs = join(repo, 'libs');
  for (const [specifier, [name, entry]] of Object.entries(SPECIFIERS)) {
    const expected = join(buildDir(name), `${entry}.js`);
    if (realpathOrSelf(res.resolved[specifier]) !== expected)
      problems.push(`'${specifier}' resolved to ${res.resolved[specifier]}, expected ${relative(dir, expected)}`);
  }
  // CJS host: require.cache. ESM host: what its resolve hook saw, plus whatever went through require.
  if (res.loaded === null) problems.push('the ESM host recorded no resolutions: was it started without --import trace-loads.mjs?');
  const required = new Set((res.required ?? []).map(realpathOrSelf));
  const loaded = [...new Set([...(res.loaded ?? []).map(realpathOrSelf), ...required])];
  const fromRepo = loaded.filter((f) => inside(f, libs));
  if (fromRepo.length)
    problems.push(
      `loaded from the repository's workspace instead of the tarballs: ${fromRepo.map((f) => relative(repo, f)).join(', ')}`,
    );
  for (const pkg of PACKAGES) {
    const wrong = loaded.filter((f) => inside(f, pkgDir(pkg.name)) && !inside(f, buildDir(pkg.name)));
    if (wrong.length)
      problems.push(
        `loaded outside ${pkg.name}/dist/${kind}: ` +
          wrong.map((f) => `${relative(nodeModules, f)}${required.has(f) ? ' (through require)' : ''}`).join(', '),
      );
    for (const entry of pkg.entries)
      if (res.loaded && !loaded.includes(join(buildDir(pkg.name), `${entry}.js`)))
        problems.push(`${pkg.name}/dist/${kind}/${entry}.js was not loaded`);
  }

  // The library's own import of the client's protocol (in its gateway): the host's copy, not the repository's.
  const edges = (res.edges ?? []).map(([from, to, specifier]) => [realpathOrSelf(from), realpathOrSelf(to), specifier]);
  const toClient = edges.filter(
    ([from, to]) =>
      inside(from, pkgDir(LIB)) &&
      (inside(to, pkgDir(CLIENT)) || inside(to, join(libs, 'pty-session-client')) || to.includes(CLIENT)),
  );
  const misrouted = toClient.filter(([, to]) => !inside(to, buildDir(CLIENT)));
  if (misrouted.length)
    problems.push(
      `the library's import of ${CLIENT} went elsewhere: ` +
        misrouted.map(([from, to]) => `${relative(nodeModules, from)} -> ${to}`).join(', '),
    );
  const protocolFile = join(buildDir(CLIENT), 'protocol.js');
  const protocolEdge = toClient.find(([from, to]) => inside(from, buildDir(LIB)) && to === protocolFile);
  if (res.edges && !protocolEdge)
    problems.push(
      `no record of ${LIB}/dist/${kind} loading ${relative(nodeModules, protocolFile)}; ` +
        `the library's imports of ${CLIENT}: ${toClient.map(([f, t]) => `${relative(nodeModules, f)} -> ${t}`).join(', ') || 'none'}`,
    );
  if (res.sameProtocol !== true) problems.push(`${CLIENT} and ${CLIENT}/protocol export different PTY_EVENTS objects`);

  // The rest comes from the repository's node_modules.
  if (!inside(realpathOrSelf(res.nestCore.path), join(repo, 'node_modules')))
    problems.push(`@nestjs/core came from ${res.nestCore.path}, not from the repository's node_modules`);
  const ioRange = packed[CLIENT].manifest.dependencies?.['socket.io-client'];
  if (ioRange && satisfies(res.socketIoClient.version, ioRange) === false)
    problems.push(`the client got socket.io-client ${res.socketIoClient.version}, outside its dependency range "${ioRange}"`);
  for (const pkg of PACKAGES)
    for (const [specifier, names] of Object.entries(pkg.exports))
      for (const name of names)
        if (!res.exports[specifier]?.includes(name)) problems.push(`export ${name} of '${specifier}' missing`);
  ok(problems.length === 0, `${problems.join('\n')}${trimmed}`);
  if (r.stderr.trim()) console.log(`note ${kind}-host stderr: ${r.stderr.trim().replace(/\n/g, '\n     ')}`);
  hostExports[kind] = res.exports;
  const counts = PACKAGES.map((p) => `${loaded.filter((f) => inside(f, buildDir(p.name))).length} of ${p.name}`).join(', ');
  return (
    `Nest ${res.nestCore.version}, dist/${kind} only (${counts} files, none of dist/${otherKind} or libs/); ` +
    `context: ${JSON.stringify(context.output.trim())} exit ${context.exitCode}; ` +
    `gateway + client: ${JSON.stringify(http.output.trim())} exit ${http.exitCode}; ` +
    `${relative(buildDir(LIB), protocolEdge[0])} -> node_modules/${relative(nodeModules, protocolFile)}`
  );
}

// ------------------------------------------------------------ type check --

// The same consumer, compiled as CommonJS (.cts) and as ESM (.mts).
const TYPES_SOURCE = `
import { PtySessionModule, PtySessionManager, PtySessionError, PTY_SESSION_DEFAULTS } from '${LIB}';
import type { PtyExitStatus, PtySessionModuleOptions, PtySessionInfo } from '${LIB}';
import { PtySessionClient, PtyClientError, PTY_CLIENT_DEFAULTS, PTY_DEFAULT_NAMESPACE } from '${CLIENT}';
import type { PtyClientSession, PtyClientOutput, PtyCreateResult, PtySessionClientOptions } from '${CLIENT}';
import { PTY_EVENTS } from '${CLIENT}/protocol';
import type { PtyWireExit, PtyWireSessionInfo } from '${CLIENT}/protocol';
import type { DynamicModule } from '@nestjs/common';

const options: PtySessionModuleOptions = {
  profiles: { sh: { file: '/bin/sh', args: ['-c', 'true'], env: {} } },
  defaultProfile: 'sh',
  allowAnonymous: true,
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
// @ts-expect-error: proves the library's typings are real (not any): replayBufferBytes is a number.
PtySessionModule.forRoot({ replayBufferBytes: 'lots' });

const clientOptions: PtySessionClientOptions = {
  url: \`http://127.0.0.1:3000\${PTY_DEFAULT_NAMESPACE}\`,
  auth: { token: 'secret' },
  socketOptions: { transports: ['websocket'] },
};
export async function follow(): Promise<[string, PtyWireExit]> {
  const client = new PtySessionClient(clientOptions);
  await client.connect();
  const { session: info, created }: PtyCreateResult = await client.create({ profile: 'sh' });
  const wire: PtyWireSessionInfo = info;
  const session: PtyClientSession = await client.attach({ sessionId: wire.id }, { since: created ? 0 : undefined });
  let text = '';
  session.onOutput(({ data }: PtyClientOutput) => {
    text += data;
  });
  const exit = await new Promise<PtyWireExit>((resolve) => session.onExit(resolve));
  client.close();
  return [text + session.offset, exit];
}
export const isClientError = (e: unknown): e is PtyClientError => e instanceof PtyClientError && typeof e.code === 'string';
export const timeout: number = PTY_CLIENT_DEFAULTS.answerTimeoutMs;
export const outputEvent: 'output' = PTY_EVENTS.output;
// @ts-expect-error: proves the client's typings are real (not any): attach needs a sessionId or a key.
new PtySessionClient(clientOptions).attach({ since: 0 });
// @ts-expect-error: proves the protocol's typings are real (not any): PTY_EVENTS is frozen.
PTY_EVENTS.output = 'out';
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
  const nodeModules = realpathSync(join(dir, 'node_modules'));
  const listed = r.stdout.split('\n').filter((l) => l.startsWith('/')).map((l) => realpathSync(l));
  const problems = [];
  const fromRepo = listed.filter((l) => inside(l, join(repo, 'libs')));
  if (fromRepo.length)
    problems.push(`tsc read the repository's sources or dist: ${fromRepo.map((l) => relative(repo, l)).join(', ')}`);
  const picked = [];
  for (const pkg of PACKAGES) {
    const pkgDir = join(nodeModules, pkg.name);
    const build = join(pkgDir, 'dist', kind);
    const mine = listed.filter((l) => inside(l, pkgDir));
    const other = mine.filter((l) => !inside(l, build));
    if (other.length)
      problems.push(`tsc read typings outside ${pkg.name}/dist/${kind}: ${other.map((l) => relative(pkgDir, l)).join(', ')}`);
    for (const entry of pkg.entries)
      if (!mine.includes(join(build, `${entry}.d.ts`)))
        problems.push(
          `expected ${pkg.name}/dist/${kind}/${entry}.d.ts; tsc read: ` +
            (mine.map((l) => relative(pkgDir, l)).join(', ') || 'nothing of the package'),
        );
    picked.push(`${pkg.name} dist/${kind} (${mine.length} .d.ts)`);
  }
  ok(problems.length === 0, problems.join('\n'));
  return `NodeNext ${kind === 'cjs' ? 'require' : 'import'}: ${picked.join(', ')}, no errors`;
}

// ------------------------------------------------------------------- main --

console.log(`consumer smoke: node ${process.version}, packages ${PACKAGES.map((p) => relative(repo, p.dir)).join(', ')}`);
tmp = mkdtempSync(join(here, '.tmp-'));
try {
  await check('pack', packBoth);
  if (PACKAGES.every((p) => packed[p.name])) {
    for (const pkg of PACKAGES) await check(`tarball ${pkg.name}`, () => checkTarball(pkg));
    await check('cjs-host', () => bootHost('cjs'));
    await check('esm-host', () => bootHost('esm'));
    if (hostExports.cjs && hostExports.esm) {
      for (const specifier of Object.keys(SPECIFIERS)) {
        const a = hostExports.cjs[specifier].join();
        const b = hostExports.esm[specifier].join();
        if (a !== b) {
          results.push({ name: `export parity ${specifier}`, ok: false });
          console.log(`FAIL export parity: '${specifier}' exports [${a}] from dist/cjs but [${b}] from dist/esm`);
        }
      }
    }
    // The two compilations are independent: run them side by side.
    await Promise.all(['cjs', 'esm'].map((kind) => check(`${kind}-types`, () => typeCheck(kind))));
  } else {
    console.log('skip tarball checks, cjs-host, esm-host, cjs-types, esm-types: no tarballs');
  }
} finally {
  cleanup();
}

const failed = results.filter((r) => !r.ok);
console.log(`consumer smoke: ${results.length - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length ? 1 : 0;
