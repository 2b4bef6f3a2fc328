import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { PTY_SESSION_CLEANUP_JOB, PTY_SESSION_RESOLVED_OPTIONS } from './pty-session.constants.js';
import type { ResolvedPtySessionOptions } from './pty-session.options.js';
import { PtySessionManager } from './pty-session.manager.js';

/**
 * The periodic job that calls `PtySessionManager.cleanupExpired()`.
 *
 * This is the design's `@Interval` job, registered by hand because a
 * decorator's period is fixed when the class is declared, and because
 * `@Interval` only runs when the host imports `ScheduleModule.forRoot()`:
 * a library must never import it itself (a second `forRoot()` runs every job
 * of the host twice). So: when the host has `ScheduleModule`, the timer is
 * added to its `SchedulerRegistry` under `PTY_SESSION_CLEANUP_JOB`, visible
 * and controllable there; when it has not, the timer runs all the same.
 * The timer is `unref`'d and never overlaps itself.
 *
 * The registry is found among the application's providers, by its class
 * name and methods, not imported: importing `@nestjs/schedule` would make it a
 * required dependency, and npm installs its newest major (12, ESM-only) into
 * Nest 11 hosts, where a CommonJS Jest cannot load it.
 */
@Injectable()
export class PtySessionCleanupJob implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('PtySessionCleanupJob');
  private timer?: NodeJS.Timeout;
  private registered = false;
  private sweeping = false;

  constructor(
    private readonly manager: PtySessionManager,
    @Inject(PTY_SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedPtySessionOptions,
    private readonly discovery: DiscoveryService,
  ) {}

  /** The host's SchedulerRegistry, once found at bootstrap. */
  private registry?: SchedulerRegistryLike;

  onApplicationBootstrap(): void {
    const period = this.options.cleanupIntervalMs;
    if (period === 0) return;
    this.timer = setInterval(() => void this.sweep(), period);
    this.timer.unref();
    this.registry = findSchedulerRegistry(this.discovery);
    if (!this.registry) return;
    try {
      this.registry.addInterval(PTY_SESSION_CLEANUP_JOB, this.timer);
      this.registered = true;
    } catch (error) {
      this.logger.warn(
        `Could not register "${PTY_SESSION_CLEANUP_JOB}" in the SchedulerRegistry (is PtySessionModule imported twice?); the job runs unregistered. ${String(error)}`,
      );
    }
  }

  onModuleDestroy(): void {
    if (this.registered && this.registry?.doesExist('interval', PTY_SESSION_CLEANUP_JOB)) {
      this.registry.deleteInterval(PTY_SESSION_CLEANUP_JOB); // clears the timer too
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.registered = false;
  }

  /** One tick: skipped while the previous sweep is still closing processes. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const count = await this.manager.cleanupExpired();
      if (count > 0) this.logger.debug(`Cleanup closed or forgot ${count} session(s).`);
    } catch (error) {
      this.logger.error('Session cleanup failed; it will run again at the next tick.', error instanceof Error ? error.stack : String(error));
    } finally {
      this.sweeping = false;
    }
  }
}

/** The part of @nestjs/schedule's `SchedulerRegistry` the job uses (the same in its versions 4 to 12). */
interface SchedulerRegistryLike {
  addInterval(name: string, intervalId: NodeJS.Timeout): void;
  deleteInterval(name: string): void;
  doesExist(type: 'interval', name: string): boolean;
}

function findSchedulerRegistry(discovery: DiscoveryService): SchedulerRegistryLike | undefined {
  for (const wrapper of discovery.getProviders()) {
    const instance = wrapper.instance as Partial<SchedulerRegistryLike> | undefined;
    if (
      wrapper.metatype?.name === 'SchedulerRegistry' &&
      typeof instance?.addInterval === 'function' &&
      typeof instance.deleteInterval === 'function' &&
      typeof instance.doesExist === 'function'
    ) {
      return instance as SchedulerRegistryLike;
    }
  }
  return undefined;
}
