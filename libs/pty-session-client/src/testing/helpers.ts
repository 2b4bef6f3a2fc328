/** Small helpers of the client's tests: waiting for conditions, recording a session's output. */
import { PtyClientError } from '../pty-client-error.js';
import { PtySessionClient } from '../pty-session-client.js';
import type { PtyClientSession } from '../pty-client-session.js';
import type { PtyClientOutput, PtySessionClientOptions } from '../pty-session-client.options.js';
import type { PtyWireExit } from '../protocol.js';
import { io as socketIo, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';

/** Polls `probe` until it returns something truthy; fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(probe: () => T | undefined | null | false, what: string | (() => string), timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** What a session delivered: every output, the screen text (from the last reset), exits. */
export class OutputRecorder {
  readonly outputs: PtyClientOutput[] = [];
  readonly exits: PtyWireExit[] = [];

  constructor(readonly session: PtyClientSession) {
    session.onOutput((output) => this.outputs.push(output));
    session.onExit((exit) => this.exits.push(exit));
  }

  /** The text a terminal would hold: everything since the last reset. */
  get text(): string {
    let text = '';
    for (const output of this.outputs) text = output.reset ? output.data : text + output.data;
    return text;
  }

  /** Every output continues the previous one (`offset` = previous `offset + byteLength`) unless it is a reset. */
  get continuous(): boolean {
    return this.outputs.every((o, i) => o.reset || i === 0 || o.offset === this.outputs[i - 1].offset + this.outputs[i - 1].byteLength);
  }

  waitForText(text: string, timeoutMs?: number): Promise<true> {
    return waitFor(
      () => this.text === text,
      () => `the session's text to be ${JSON.stringify(text)} (it is ${JSON.stringify(this.text)})`,
      timeoutMs,
    );
  }
}

/**
 * Creates clients and closes them all in afterEach. They reconnect within
 * tens of milliseconds, and use WebSocket from the start: a connection cut
 * while still on HTTP long-polling leaves engine.io's server a 30-second
 * close timer that keeps Jest from exiting.
 */
export class ClientPool {
  private readonly clients: PtySessionClient[] = [];

  create(options: PtySessionClientOptions): PtySessionClient {
    const client = new PtySessionClient({
      ...options,
      socketOptions: { reconnectionDelay: 20, reconnectionDelayMax: 50, forceNew: true, transports: ['websocket'], ...options.socketOptions },
    });
    this.clients.push(client);
    return client;
  }

  closeAll(): void {
    for (const client of this.clients.splice(0)) client.close();
  }
}

/** Awaits `promise`, expects it to reject with a PtyClientError, and returns the error. */
export async function rejection(promise: Promise<unknown>): Promise<PtyClientError> {
  let outcome: { value: unknown } | { error: unknown };
  try {
    outcome = { value: await promise };
  } catch (error) {
    outcome = { error };
  }
  if (!('error' in outcome)) throw new Error(`Expected a rejection, got ${JSON.stringify(outcome.value)}`);
  if (!(outcome.error instanceof PtyClientError)) throw new Error(`Expected a PtyClientError, got ${String(outcome.error)}`);
  return outcome.error;
}

/** Runs the event loop until the callbacks already queued by setImmediate have run. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A socket.io-client `io` (the client's `io` option) that remembers every socket it made, so a test can reach them. */
export function recordingIo(): { io: typeof socketIo; sockets: Socket[] } {
  const sockets: Socket[] = [];
  const io = ((url: string, options?: Partial<ManagerOptions & SocketOptions>) => {
    const socket = socketIo(url, options);
    sockets.push(socket);
    return socket;
  }) as typeof socketIo;
  return { io, sockets };
}
