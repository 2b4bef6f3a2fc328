// Consumer smoke test fixture: a CommonJS host that requires the packed
// library. Run by test/consumer/consumer-smoke.mjs from a temporary copy
// whose node_modules/nestjs-pty-session is the extracted tarball; Nest and
// node-pty resolve from the repository's node_modules. Nest 12 is ESM-only,
// so on Node 20.19+ `require('@nestjs/core')` goes through require(esm).
'use strict';
require('reflect-metadata');
const { readFileSync } = require('node:fs');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const lib = require('nestjs-pty-session');
const { PtySessionModule, PtySessionManager } = lib;

const MARKER = 'CONSUMER_RESULT ';

async function main() {
  // No decorators in plain JS: apply @Module() by hand. A legacy class
  // decorator returns undefined, so decorate the class, don't use the result.
  class AppModule {}
  Module({
    imports: [
      PtySessionModule.forRoot({
        profiles: { sh: { file: '/bin/sh', args: ['-c', 'echo consumer-ok; exit 7'], env: {} } },
        defaultProfile: 'sh',
      }),
    ],
  })(AppModule);

  // abortOnError: false: with the logger off, Nest would otherwise exit(1) silently on an init error.
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
  try {
    const manager = app.get(PtySessionManager);
    const session = await manager.createSession();
    const exit = await session.whenExited();
    const output = session.getReplayBuffer().data;
    const nestCorePath = require.resolve('@nestjs/core/package.json');
    console.log(
      MARKER +
        JSON.stringify({
          host: 'cjs',
          resolved: require.resolve('nestjs-pty-session'),
          loaded: Object.keys(require.cache).filter((p) => p.includes('nestjs-pty-session')),
          exports: Object.keys(lib).sort(),
          nestCore: JSON.parse(readFileSync(nestCorePath, 'utf8')).version,
          nestCorePath,
          output,
          exitCode: exit.exitCode,
          reason: exit.reason,
        }),
    );
  } finally {
    await app.close();
  }
  // No process.exit(): the smoke test also checks that nothing keeps the
  // event loop alive once the application is closed.
}

main().catch((err) => {
  console.error('cjs host failed:', err);
  process.exit(1);
});
