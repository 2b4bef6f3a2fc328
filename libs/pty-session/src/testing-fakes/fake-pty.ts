/**
 * Test doubles for node-pty: a scriptable `IPty` and a spawner that records
 * every spawn. Test-only (excluded from the library build).
 *
 * Safety: a session signals its process group with `process.kill(-pid, sig)`.
 * Fake pids are therefore chosen above the largest pid the kernel can ever
 * hand out (`max(/proc/sys/kernel/pid_max, PID_MAX_LIMIT) + 1000 + n`), so a
 * real `kill` aimed at a fake can only fail with ESRCH and never reach a real
 * process, and `/proc/<pid>/stat` never exists for them.
 *
 * Because real signals cannot reach a fake, tests either drive the exit by
 * hand (`emitExit`) or install `interceptProcessGroupSignals()`, which routes
 * `process.kill` calls aimed at a fake pid (and only those) to the fake: it
 * records the signal and "dies" when the signal is in its `dieOn` set.
 */
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { IDisposable, IEvent, IPty, IPtyForkOptions } from 'node-pty';
import type { PtySpawnFunction } from '../pty-spawner.provider.js';

/** The kernel's hard upper bound of pid_max on 64-bit Linux (2^22). */
const PID_MAX_LIMIT = 4 * 1024 * 1024;

function readPidMax(): number {
  try {
    const value = Number.parseInt(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim(), 10);
    if (Number.isSafeInteger(value) && value > 0) return value;
  } catch {
    /* no /proc: fall back to the hard limit */
  }
  return PID_MAX_LIMIT;
}

/** First fake pid minus one: no real process can ever have a pid at or above it. */
export const FAKE_PID_BASE = Math.max(readPidMax(), PID_MAX_LIMIT) + 1000;

let fakePidCounter = 0;

/** Every fake created in this module instance, by pid (for signal routing and teardown). */
const fakesByPid = new Map<number, FakePty>();

const signalNumbers = osConstants.signals as Record<string, number>;

/** `'SIGTERM'` → 15; numbers pass through. */
export function signalNumber(signal: string | number): number {
  if (typeof signal === 'number') return signal;
  const n = signalNumbers[signal];
  if (n === undefined) throw new Error(`unknown signal ${signal}`);
  return n;
}

/** 15 → `'SIGTERM'`; names pass through. */
export function signalName(signal: string | number): string {
  if (typeof signal === 'string') return signal;
  const name = Object.keys(signalNumbers).find((k) => signalNumbers[k] === signal);
  return name ?? `SIG${signal}`;
}

export interface FakePtyOptions {
  pid?: number;
  cols?: number;
  rows?: number;
  /** `IPty.process`: the program's name. */
  process?: string;
  /**
   * Signals on which the fake "dies" (emits exit with that signal). Default
   * SIGHUP, SIGTERM, SIGINT, SIGKILL. Leaving SIGKILL out models a process the
   * kernel cannot reap (uninterruptible sleep).
   */
  dieOn?: Iterable<string>;
}

export interface ReceivedSignal {
  signal: string;
  /** How it was sent: `IPty.kill()`, `process.kill(-pid)` or `process.kill(pid)`. */
  via: 'pty.kill' | 'group' | 'process';
}

export const DEFAULT_DIE_ON: readonly string[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGKILL'];

/** A scriptable stand-in for node-pty's `IPty`. */
export class FakePty implements IPty {
  readonly pid: number;
  cols: number;
  rows: number;
  readonly process: string;
  handleFlowControl = false;

  /** Everything written to the terminal, in order. */
  readonly writes: Array<string | Buffer> = [];
  /** Every successful `resize(cols, rows)`, in order. */
  readonly resizes: Array<[number, number]> = [];
  /** Every `resize` call, also the ones that threw. */
  resizeAttempts = 0;
  /** Every signal that reached the fake, in order. */
  readonly signals: ReceivedSignal[] = [];
  /** Signals on which the fake dies. Mutable: `pty.dieOn.clear()` makes a process that ignores every signal. */
  readonly dieOn: Set<string>;
  paused = false;
  clearCount = 0;

  private dataListeners: Array<(data: string) => unknown> = [];
  private exitListeners: Array<(e: { exitCode: number; signal?: number }) => unknown> = [];
  private exitInfo?: { exitCode: number; signal?: number };

  constructor(options: FakePtyOptions = {}) {
    this.pid = options.pid ?? FAKE_PID_BASE + ++fakePidCounter;
    if (this.pid < FAKE_PID_BASE) throw new Error(`FakePty: pid ${this.pid} could belong to a real process; use one >= ${FAKE_PID_BASE}`);
    this.cols = options.cols ?? 80;
    this.rows = options.rows ?? 24;
    this.process = options.process ?? 'fake';
    this.dieOn = new Set(options.dieOn ?? DEFAULT_DIE_ON);
    fakesByPid.set(this.pid, this);
  }

  readonly onData: IEvent<string> = (listener) => {
    this.dataListeners = [...this.dataListeners, listener];
    return this.disposer(() => (this.dataListeners = this.dataListeners.filter((l) => l !== listener)));
  };

  readonly onExit: IEvent<{ exitCode: number; signal?: number }> = (listener) => {
    this.exitListeners = [...this.exitListeners, listener];
    return this.disposer(() => (this.exitListeners = this.exitListeners.filter((l) => l !== listener)));
  };

  /** True once `emitExit` was called (or a signal in `dieOn` arrived). */
  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  get exitStatus(): { exitCode: number; signal?: number } | undefined {
    return this.exitInfo;
  }

  /** Subscribers currently listening to data / exit (a released session must have none). */
  get listenerCount(): { data: number; exit: number } {
    return { data: this.dataListeners.length, exit: this.exitListeners.length };
  }

  /** All written input, joined. */
  get written(): string {
    return this.writes.map((w) => w.toString()).join('');
  }

  /** Signal names received, in order. */
  get signalNames(): string[] {
    return this.signals.map((s) => s.signal);
  }

  /** The program writes `data` to the terminal. (node-pty can deliver output after its exit event, so this is allowed after `emitExit`.) */
  emitData(data: string): void {
    for (const listener of this.dataListeners) listener(data);
  }

  /**
   * The process ends. Calls the exit listeners synchronously, like node-pty
   * when it has noticed the child is gone. Calling it twice emits twice (to
   * test that a consumer copes with a duplicate event).
   */
  emitExit(exitCode = 0, signal?: number): void {
    this.exitInfo = signal === undefined ? { exitCode } : { exitCode, signal };
    const event = signal === undefined ? { exitCode } : { exitCode, signal };
    for (const listener of this.exitListeners) listener(event);
  }

  write(data: string | Buffer): void {
    this.writes.push(data);
  }

  resize(columns: number, rows: number): void {
    this.resizeAttempts++;
    // node-pty's ioctl on a closed fd fails like this once the child is gone.
    if (this.exited) throw new Error('ioctl(2) failed, EBADF');
    if (!(columns > 0 && rows > 0) || !Number.isFinite(columns) || !Number.isFinite(rows)) {
      throw new Error('resizing must be done using positive cols and rows');
    }
    this.resizes.push([columns, rows]);
    this.cols = columns;
    this.rows = rows;
  }

  clear(): void {
    this.clearCount++;
  }

  kill(signal?: string): void {
    this.receiveSignal(signal ?? 'SIGHUP', 'pty.kill');
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** A signal arrives. Records it; if it is in `dieOn`, the fake dies of it (exit code 0, like node-pty reports). */
  receiveSignal(signal: string | number, via: ReceivedSignal['via']): void {
    const name = signalName(signal);
    this.signals.push({ signal: name, via });
    if (!this.exited && this.dieOn.has(name)) {
      this.emitExit(0, signalNumber(name));
    }
  }

  private disposer(remove: () => void): IDisposable {
    let active = true;
    return {
      dispose: () => {
        if (!active) return;
        active = false;
        remove();
      },
    };
  }
}

export interface SpawnCall {
  file: string;
  args: string[];
  options: IPtyForkOptions;
  /** The fake returned, or undefined when this call threw. */
  pty?: FakePty;
}

export interface FakeSpawner {
  /** Pass this as the `PTY_SPAWNER` value. */
  readonly spawn: PtySpawnFunction;
  /** Every call, in order, the failed ones included. */
  readonly calls: SpawnCall[];
  /** Every fake returned, in order. */
  readonly ptys: FakePty[];
  /** The most recently returned fake. @throws when none was spawned */
  last(): FakePty;
  /** The next spawn throws `error` (queued: call several times for several failures). */
  failNext(error?: unknown): void;
  /** Options for the fakes spawned from now on (e.g. `{ dieOn: [] }`). */
  ptyDefaults: Omit<FakePtyOptions, 'pid' | 'cols' | 'rows'>;
}

/** A spawner recording every call and returning a new `FakePty` for each. */
export function createFakeSpawner(ptyDefaults: Omit<FakePtyOptions, 'pid' | 'cols' | 'rows'> = {}): FakeSpawner {
  const calls: SpawnCall[] = [];
  const ptys: FakePty[] = [];
  const failures: unknown[] = [];
  const spawner: FakeSpawner = {
    calls,
    ptys,
    ptyDefaults,
    spawn: (file, args, options) => {
      const call: SpawnCall = { file, args: [...args], options: { ...options, env: options.env ? { ...options.env } : options.env } };
      calls.push(call);
      if (failures.length > 0) throw failures.shift();
      const pty = new FakePty({ ...spawner.ptyDefaults, cols: options.cols, rows: options.rows, process: file });
      call.pty = pty;
      ptys.push(pty);
      return pty;
    },
    last: () => {
      const pty = ptys[ptys.length - 1];
      if (!pty) throw new Error('FakeSpawner: nothing was spawned');
      return pty;
    },
    failNext: (error = new Error('posix_spawnp failed.')) => {
      failures.push(error);
    },
  };
  return spawner;
}

/** Every fake created so far (in this test file). */
export function allFakePtys(): FakePty[] {
  return [...fakesByPid.values()];
}

/** Ends every fake that has not exited yet (teardown: lets pending `terminate()` calls finish). */
export function exitAllFakePtys(exitCode = 0): void {
  for (const pty of fakesByPid.values()) if (!pty.exited) pty.emitExit(exitCode);
}

/**
 * Routes `process.kill(±pid, signal)` aimed at a fake's pid to that fake;
 * every other call goes to the real `process.kill` unchanged. A fake that has
 * exited answers like a vanished process (ESRCH). Returns the restore function.
 */
export function interceptProcessGroupSignals(): () => void {
  const original = process.kill;
  const intercepting = function kill(pid: number, signal?: string | number): true {
    const fake = fakesByPid.get(Math.abs(pid));
    if (!fake) return original.call(process, pid, signal);
    if (fake.exited) {
      throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH', errno: -3, syscall: 'kill' });
    }
    fake.receiveSignal(signal ?? 'SIGTERM', pid < 0 ? 'group' : 'process');
    return true;
  };
  process.kill = intercepting as typeof process.kill;
  return () => {
    if (process.kill === intercepting) process.kill = original;
  };
}

/** Lets `setImmediate` callbacks queued so far run (the session defers its exit handling with one). Uses the real `setImmediate`: keep it out of fake timers. */
export function flushImmediates(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
