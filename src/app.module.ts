import { type DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { PtySessionModule } from 'nestjs-pty-session';
import { homedir } from 'node:os';
import { createDevAuthenticator, DEV_TOKEN, DevTokenGuard } from './dev-auth.js';
import { SessionsController } from './sessions.controller.js';

const SHELL_ENV = {
  HOME: homedir(),
  PATH: '/usr/local/bin:/usr/bin:/bin',
  LANG: 'C.UTF-8',
};

export interface AppModuleOptions {
  /** The development login's token: clients connect with `auth: { token, user }` (see dev-auth.ts). */
  token: string;
}

/**
 * The demo host: what an application that uses the library looks like.
 * The host owns ScheduleModule.forRoot(); the library only registers its
 * cleanup job in the host's SchedulerRegistry.
 */
@Module({})
export class AppModule {
  static forRoot({ token }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ScheduleModule.forRoot(),
        PtySessionModule.forRoot({
          profiles: {
            shell: { file: '/bin/bash', args: ['--login'], cwd: homedir(), env: SHELL_ENV },
            top: { file: '/usr/bin/top', env: SHELL_ENV },
          },
          defaultProfile: 'shell',
          idleTimeoutMs: 10 * 60_000,
          // Full-screen programs (editors, top, AI coding CLIs) come back as they were after a reload.
          replay: 'screen',
          // The Socket.IO gateway (namespace /pty) admits clients with the development token.
          authenticate: createDevAuthenticator(token),
        }),
      ],
      controllers: [SessionsController],
      providers: [{ provide: DEV_TOKEN, useValue: token }, DevTokenGuard],
    };
  }
}
