import { Logger } from '@nestjs/common';
import type { Disposable } from './interfaces/pty-session-info.interface.js';

/**
 * A minimal typed event: listeners in registration order, each called inside
 * its own try/catch so that one failing subscriber (a client's socket, say)
 * cannot break delivery to the others or the session itself.
 * The array is copied on change, not on emit: emitting is the hot path.
 */
export class ListenerSet<T> {
  private listeners: ReadonlyArray<(value: T) => void> = [];

  constructor(private readonly logger: Logger, private readonly eventName: string) {}

  get size(): number {
    return this.listeners.length;
  }

  add(listener: (value: T) => void): Disposable {
    this.listeners = [...this.listeners, listener];
    let active = true;
    return {
      dispose: () => {
        if (!active) return;
        active = false;
        this.listeners = this.listeners.filter((l) => l !== listener);
      },
    };
  }

  emit(value: T): void {
    const current = this.listeners;
    for (let i = 0; i < current.length; i++) {
      try {
        current[i](value);
      } catch (error) {
        this.logger.error(`A "${this.eventName}" listener threw; the others still run.`, error instanceof Error ? error.stack : String(error));
      }
    }
  }

  clear(): void {
    this.listeners = [];
  }
}
