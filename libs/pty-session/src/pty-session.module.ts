import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { PtySessionCleanupJob } from './pty-session-cleanup.job.js';
import { PTY_SESSION_MODULE_OPTIONS, PTY_SESSION_RESOLVED_OPTIONS } from './pty-session.constants.js';
import { PtySessionManager } from './pty-session.manager.js';
import { PTY_SESSION_OPTIONS_TYPE, PtySessionConfigurableModule } from './pty-session.module-definition.js';
import { resolvePtySessionOptions } from './pty-session.options.js';
import { ptySpawnerProvider } from './pty-spawner.provider.js';
import type { PtySessionModuleOptions } from './interfaces/pty-session-module-options.interface.js';

/**
 * Persistent terminal sessions for a Nest application.
 *
 * ```ts
 * @Module({ imports: [PtySessionModule.forRoot({ profiles: { shell: { file: '/bin/bash' } }, defaultProfile: 'shell' })] })
 * export class AppModule {}
 * ```
 * Import it once, at the root: every `forRoot()` call makes another manager.
 * Provides `PtySessionManager`; application shutdown (`app.close()`, or a
 * signal with `enableShutdownHooks()`) closes every session.
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    ptySpawnerProvider,
    {
      provide: PTY_SESSION_RESOLVED_OPTIONS,
      useFactory: (options: PtySessionModuleOptions) => resolvePtySessionOptions(options),
      inject: [PTY_SESSION_MODULE_OPTIONS],
    },
    PtySessionManager,
    PtySessionCleanupJob,
  ],
  exports: [PtySessionManager],
})
export class PtySessionModule extends PtySessionConfigurableModule {
  /** The module with these options (each has a default, so `forRoot()` will do) and extras (`isGlobal`, `gateway`). */
  static forRoot(options: typeof PTY_SESSION_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
