// Consumer smoke test fixture: an ES module host that imports the packed
// library and the packed client. Run by test/consumer/consumer-smoke.mjs as
// `node --import ./trace-loads.mjs index.mjs` from a temporary copy whose
// node_modules/nestjs-pty-session and node_modules/nestjs-pty-session-client
// are the extracted tarballs; Nest, node-pty, socket.io and socket.io-client
// resolve from the repository's node_modules.
//
// Two runs in one process: an application context (manager only, no HTTP
// server, so no gateway), then an HTTP application whose gateway the packed
// client talks to. Prints one CONSUMER_RESULT line of JSON.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as lib from 'nestjs-pty-session';
import { PtySessionModule, PtySessionManager } from 'nestjs-pty-session';
import * as client from 'nestjs-pty-session-client';
import { PtySessionClient } from 'nestjs-pty-session-client';
import * as protocol from 'nestjs-pty-session-client/protocol';

const MARKER = 'CONSUMER_RESULT ';
const EXIT_WAIT_MS = 20_000;
const PROFILES = { sh: { file: '/bin/sh', args: ['-c', 'echo consumer-ok; exit 7'], env: {} } };
// Filled by trace-loads.mjs: { parent, specifier, url } of every ESM resolution.
const TRACE = Symbol.for('nestjs-pty-session.consumer-smoke.esm-resolutions');

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

const path = (url) => (url?.startsWith('file:') ? fileURLToPath(url) : url);

/** The version and location of `name`, as `from` resolves it. */
function version(name, from = fileURLToPath(import.meta.url)) {
  const file = createRequire(from).resolve(`${name}/package.json`);
  return { path: file, version: JSON.parse(readFileSync(file, 'utf8')).version };
}

try {
  const context = await contextRun();
  const http = await httpRun();
  // The trace's last messages cross threads: give them a turn to arrive.
  await new Promise((resolve) => setImmediate(resolve));
  const resolutions = globalThis[TRACE];
  const edges = resolutions
    ? resolutions.filter((r) => r.parent?.includes('nestjs-pty-session')).map((r) => [path(r.parent), path(r.url), r.specifier])
    : null;
  // Files loaded as CommonJS (through require): must be none of the packages' (no dual-package hazard).
  const required = Object.keys(createRequire(import.meta.url).cache);
  console.log(
    MARKER +
      JSON.stringify({
        host: 'esm',
        resolved: {
          'nestjs-pty-session': fileURLToPath(import.meta.resolve('nestjs-pty-session')),
          'nestjs-pty-session-client': fileURLToPath(import.meta.resolve('nestjs-pty-session-client')),
          'nestjs-pty-session-client/protocol': fileURLToPath(import.meta.resolve('nestjs-pty-session-client/protocol')),
        },
        // Files the ES module loader resolved (null without the trace), and those loaded through require().
        loaded: resolutions ? [...new Set(resolutions.filter((r) => r.url.startsWith('file:')).map((r) => path(r.url)))] : null,
        required,
        edges,
        exports: {
          'nestjs-pty-session': Object.keys(lib).sort(),
          'nestjs-pty-session-client': Object.keys(client).sort(),
          'nestjs-pty-session-client/protocol': Object.keys(protocol).sort(),
        },
        // One module instance: the client re-exports the protocol module's objects.
        sameProtocol: client.PTY_EVENTS === protocol.PTY_EVENTS,
        nestCore: version('@nestjs/core'),
        // socket.io-client as the packed client sees it.
        socketIoClient: version('socket.io-client', fileURLToPath(import.meta.resolve('nestjs-pty-session-client'))),
        context,
        http,
      }),
  );
  // No process.exit(): the smoke test also checks that nothing (a socket, a
  // timer, a pty) keeps the event loop alive once both applications are closed.
} catch (err) {
  console.error('esm host failed:', err);
  process.exit(1);
}
