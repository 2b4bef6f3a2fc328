import { Logger } from '@nestjs/common';
import type { Disposable } from './interfaces/pty-session-info.interface.js';

interface Registration<T> {
  readonly listener: (value: T) => void;
}

/**
 * A minimal typed event: listeners in registration order, each called inside
 * its own try/catch so that one failing subscriber (a client's socket, say)
 * cannot break delivery to the others or the session itself.
 * Each `add` is its own registration, so one function added twice (a shared
 * forwarder for two clients) is removed once per `dispose`, not everywhere.
 * The array is copied on change, not on emit: emitting is the hot path.
 */
export class ListenerSet<T> {
  private registrations: ReadonlyArray<Registration<T>> = [];

  constructor(private readonly logger: Logger, private readonly eventName: string) {}

  get size(): number {
    return this.registrations.length;
  }

  add(listener: (value: T) => void): Disposable {
    const registration: Registration<T> = { listener };
    this.registrations = [...this.registrations, registration];
    return {
      dispose: () => {
        this.registrations = this.registrations.filter((r) => r !== registration);
      },
    };
  }

  emit(value: T): void {
    const current = this.registrations;
    for (let i = 0; i < current.length; i++) {
      try {
        current[i].listener(value);
      } catch (error) {
        this.logger.error(`A "${this.eventName}" listener threw; the others still run.`, error instanceof Error ? error.stack : String(error));
      }
    }
  }

  clear(): void {
    this.registrations = [];
  }
}
