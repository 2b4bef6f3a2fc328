/** A registration that can be undone. */
export interface Disposable {
  dispose(): void;
}

/** Where a listener's exception goes: it must not break delivery to the others, nor the client. */
export type ListenerErrorReporter = (error: unknown, eventName: string) => void;

/** The default reporter: the console, because a listener's bug should be seen, not swallowed. */
export const reportListenerError: ListenerErrorReporter = (error, eventName) => {
  console.error(`nestjs-pty-session-client: a "${eventName}" listener threw; the other listeners still ran.`, error);
};

/**
 * A minimal typed event: listeners run in registration order, each inside
 * its own try/catch. Each `add` is its own registration, so one function
 * added twice is removed once per `dispose`. The array is copied on change,
 * not on emit: emitting is the hot path (every output chunk).
 * @internal
 */
export class ListenerSet<Args extends unknown[]> {
  private listeners: ReadonlyArray<{ readonly fn: (...args: Args) => void }> = [];

  constructor(
    private readonly eventName: string,
    private readonly report: ListenerErrorReporter = reportListenerError,
  ) {}

  get size(): number {
    return this.listeners.length;
  }

  add(fn: (...args: Args) => void): Disposable {
    const registration = { fn };
    this.listeners = [...this.listeners, registration];
    return {
      dispose: () => {
        this.listeners = this.listeners.filter((r) => r !== registration);
      },
    };
  }

  emit(...args: Args): void {
    const current = this.listeners;
    for (let i = 0; i < current.length; i++) {
      try {
        current[i].fn(...args);
      } catch (error) {
        this.report(error, this.eventName);
      }
    }
  }

  clear(): void {
    this.listeners = [];
  }
}
