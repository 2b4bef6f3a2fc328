import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { PtySessionModule } from 'nestjs-pty-session';
import { homedir } from 'node:os';
import { SessionsController } from './sessions.controller.js';

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
    }),
  ],
  controllers: [SessionsController],
})
export class AppModule {}
