// Consumer smoke test fixture: an ES module host that imports the packed
// library. Run by test/consumer/consumer-smoke.mjs from a temporary copy
// whose node_modules/nestjs-pty-session is the extracted tarball; Nest and
// node-pty resolve from the repository's node_modules.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as lib from 'nestjs-pty-session';
import { PtySessionModule, PtySessionManager } from 'nestjs-pty-session';

const MARKER = 'CONSUMER_RESULT ';

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

try {
  // abortOnError: false: with the logger off, Nest would otherwise exit(1) silently on an init error.
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
  try {
    const manager = app.get(PtySessionManager);
    const session = await manager.createSession();
    const exit = await session.whenExited();
    const output = session.getReplayBuffer().data;
    const nestCorePath = fileURLToPath(import.meta.resolve('@nestjs/core/package.json'));
    console.log(
      MARKER +
        JSON.stringify({
          host: 'esm',
          resolved: fileURLToPath(import.meta.resolve('nestjs-pty-session')),
          // Files of the package loaded as CommonJS: must be none (no dual-package hazard).
          loaded: Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('nestjs-pty-session')),
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
} catch (err) {
  console.error('esm host failed:', err);
  process.exit(1);
}
