import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { PtySessionModule } from 'nestjs-pty-session';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { createDevAuthenticator } from './dev-auth.js';
import { SessionsController } from './sessions.controller.js';

/** The development login's token: PTY_DEV_TOKEN, or a fresh random one that main.ts prints. */
export const DEV_TOKEN = process.env.PTY_DEV_TOKEN || randomBytes(12).toString('base64url');

const SHELL_ENV = {
  HOME: homedir(),
  PATH: '/usr/local/bin:/usr/bin:/bin',
  LANG: 'C.UTF-8',
};

/**
 * The demo host: what an application that uses the library looks like.
 * The host owns ScheduleModule.forRoot(); the library only registers its
 * cleanup job in the host's SchedulerRegistry.
 */
@Module({
  imports: [
    ScheduleModule.forRoot(),
    PtySessionModule.forRoot({
      profiles: {
        shell: { file: '/bin/bash', args: ['--login'], cwd: homedir(), env: SHELL_ENV },
        top: { file: '/usr/bin/top', env: SHELL_ENV },
      },
      defaultProfile: 'shell',
      idleTimeoutMs: 10 * 60_000,
      // The Socket.IO gateway (namespace /pty) admits clients with the development token.
      authenticate: createDevAuthenticator(DEV_TOKEN),
    }),
  ],
  controllers: [SessionsController],
})
export class AppModule {}
