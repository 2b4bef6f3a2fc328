// Consumer smoke test fixture: a CommonJS host that requires the packed
// library and the packed client. Run by test/consumer/consumer-smoke.mjs from
// a temporary copy whose node_modules/nestjs-pty-session and
// node_modules/nestjs-pty-session-client are the extracted tarballs; Nest,
// node-pty, socket.io and socket.io-client resolve from the repository's
// node_modules. Nest 12 is ESM-only, so on Node 20.19+ `require('@nestjs/core')`
// goes through require(esm).
//
// Two runs in one process: an application context (manager only, no HTTP
// server, so no gateway), then an HTTP application whose gateway the packed
// client talks to. Prints one CONSUMER_RESULT line of JSON.
'use strict';
require('reflect-metadata');
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const lib = require('nestjs-pty-session');
const client = require('nestjs-pty-session-client');
const protocol = require('nestjs-pty-session-client/protocol');
const { PtySessionModule, PtySessionManager } = lib;
const { PtySessionClient } = client;

const MARKER = 'CONSUMER_RESULT ';
const EXIT_WAIT_MS = 20_000;
const PROFILES = { sh: { file: '/bin/sh', args: ['-c', 'echo consumer-ok; exit 7'], env: {} } };

/** A root module importing PtySessionModule.forRoot(options). */
function appModule(options) {
  // No decorators in plain JS: apply @Module() by hand. A legacy class
  // decorator returns undefined, so decorate the class, don't use the result.
  class AppModule {}
  Module({ imports: [PtySessionModule.forRoot(options)] })(AppModule);
  return AppModule;
}

function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The manager alone, in an application context: no HTTP server, so no gateway. */
async function contextRun() {
  // abortOnError: false: with the logger off, Nest would otherwise exit(1) silently on an init error.
  const app = await NestFactory.createApplicationContext(appModule({ profiles: PROFILES, defaultProfile: 'sh', replay: 'screen' }), {
    logger: false,
    abortOnError: false,
  });
  try {
    const session = await app.get(PtySessionManager).createSession();
    const exit = await within(EXIT_WAIT_MS, 'application context: session exit', session.whenExited());
    // Screen mode runs its emulator in a worker thread that loads @xterm/headless from the packed library.
    const snapshot = await within(EXIT_WAIT_MS, 'application context: screen snapshot', session.snapshot());
    return { output: session.getReplayBuffer().data, exitCode: exit.exitCode, reason: exit.reason, snapshot: snapshot.data };
  } finally {
    await app.close();
  }
}

/** An HTTP application on 127.0.0.1, its gateway on /pty, driven by the packed client. */
async function httpRun() {
  const app = await NestFactory.create(
    appModule({ profiles: PROFILES, defaultProfile: 'sh', allowAnonymous: true }),
    { logger: false, abortOnError: false },
  );
  let ptyClient;
  const clientErrors = [];
  try {
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address();
    ptyClient = new PtySessionClient({ url: `http://127.0.0.1:${port}/pty` });
    ptyClient.onError((error) => clientErrors.push(`${error.code}: ${error.message}`));
    await ptyClient.connect();
    const { session: info, created } = await ptyClient.create({ profile: 'sh' });
    const session = await ptyClient.attach({ sessionId: info.id }, { since: 0 });
    let output = '';
    const exited = new Promise((resolve) => session.onExit(resolve));
    session.onOutput(({ data }) => (output += data));
    const exit = await within(EXIT_WAIT_MS, 'client: exit event', exited);
    // The manager behind the gateway: the same PtySessionManager class as the host's import.
    const managed = app.get(PtySessionManager).getSession(info.id);
    return {
      created,
      output,
      offset: session.offset,
      exitCode: exit.exitCode,
      reason: exit.reason,
      manager: managed ? { status: managed.status, exitCode: managed.exit?.exitCode } : null,
      clientErrors,
    };
  } finally {
    ptyClient?.close();
    await app.close();
  }
}

/** Each loaded CommonJS module of the two packages, with the files it required. */
function requireEdges() {
  const edges = [];
  for (const [file, mod] of Object.entries(require.cache))
    if (file.includes('nestjs-pty-session')) for (const child of mod.children) edges.push([file, child.filename]);
  return edges;
}

/** The version and location of `name`, as `from` resolves it. */
function version(name, from = __filename) {
  const path = createRequire(from).resolve(`${name}/package.json`);
  return { path, version: JSON.parse(readFileSync(path, 'utf8')).version };
}

async function main() {
  const context = await contextRun();
  const http = await httpRun();
  console.log(
    MARKER +
      JSON.stringify({
        host: 'cjs',
        resolved: {
          'nestjs-pty-session': require.resolve('nestjs-pty-session'),
          'nestjs-pty-session-client': require.resolve('nestjs-pty-session-client'),
          'nestjs-pty-session-client/protocol': require.resolve('nestjs-pty-session-client/protocol'),
        },
        loaded: Object.keys(require.cache),
        edges: requireEdges(),
        exports: {
          'nestjs-pty-session': Object.keys(lib).sort(),
          'nestjs-pty-session-client': Object.keys(client).sort(),
          'nestjs-pty-session-client/protocol': Object.keys(protocol).sort(),
        },
        // One module instance: the client re-exports the protocol module's objects.
        sameProtocol: client.PTY_EVENTS === protocol.PTY_EVENTS,
        nestCore: version('@nestjs/core'),
        // socket.io-client as the packed client sees it.
        socketIoClient: version('socket.io-client', require.resolve('nestjs-pty-session-client')),
        context,
        http,
      }),
  );
  // No process.exit(): the smoke test also checks that nothing (a socket, a
  // timer, a pty) keeps the event loop alive once both applications are closed.
}

main().catch((err) => {
  console.error('cjs host failed:', err);
  process.exit(1);
});
