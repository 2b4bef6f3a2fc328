import { Logger } from '@nestjs/common';
import type { IDisposable, IPty } from 'node-pty';
import type {
  Disposable,
  PtyAttachment,
  PtyAttachOptions,
  PtyExitStatus,
  PtyOutputChunk,
  PtyReplaySlice,
  PtySessionEndReason,
  PtySessionInfo,
} from './interfaces/pty-session-info.interface.js';
import { ListenerSet } from './listener-set.js';
import { attachOutputText } from './output-text.js';
import { readPtyAsBytes, readPtyIntoSharedMemory } from './pty-byte-output.js';
import { PtyInputWriter } from './pty-input-writer.js';
import { keepTrailingOutput } from './pty-output-tail.js';
import { listSessionProcesses, readProcessStartTime, signalProcessGroup, signalSessionProcesses } from './process-signals.js';
import { PtySessionErrors } from './pty-session.errors.js';
import { OWN_MEMORY_OUTPUT_BYTES, PTY_EXIT_REPORT_GRACE_MS } from './pty-session.constants.js';
import { ReplayBuffer } from './replay-buffer.js';
import type { PtyScreenSnapshot, ScreenMirror } from './screen/screen-mirror.js';
import { fitScreenSize } from './screen/screen-size.js';
import type { ScanState } from './terminal-sequence-scanner.js';
import { Utf8Chunker } from './utf8-chunker.js';

/** Poll period while waiting for the last processes of a terminal session to go. */
const SETTLE_POLL_MS = 20;

/** What a session is given by the manager. Internal. */
export interface PtySessionSettings {
  id: string;
  key?: string;
  owner?: string;
  profile?: string;
  replayBufferBytes: number;
  /** Input waiting for the pty above which more is refused (see `PtyInputWriter`). */
  maxInputBacklogBytes: number;
  idleTimeoutMs: number;
  maxCols: number;
  maxRows: number;
  hangupGracePeriodMs: number;
  terminateGracePeriodMs: number;
  killTimeoutMs: number;
  /**
   * Screen mode: starts the session's emulator at its size. `onBackpressure`
   * pauses (true) and resumes (false) reading the pty while the emulator lags.
   */
  openScreen?: (cols: number, rows: number, onBackpressure: (paused: boolean) => void) => ScreenMirror;
  /** Screen mode: the terminal has at most this many cells (`screen.maxCells`); a larger size is lowered (see `fitScreenSize`). */
  maxScreenCells?: number;
  /**
   * Make node-pty give Buffers instead of decoded strings (see `readPtyAsBytes`);
   * for a pty the session spawned, not for one a caller adopted.
   */
  readPtyAsBytes?: boolean;
  /**
   * With `readPtyAsBytes`: read the pty into memory shared by every pty (see
   * `readPtyIntoSharedMemory`); for a pty the built-in spawner made, not one of a
   * custom spawner, whose own `onData` listeners would get nothing more.
   */
  readPtyIntoSharedMemory?: boolean;
  /** The manager's bookkeeping, called once at exit before any listener; not cleared by `release()`. */
  onExited?: () => void;
}

/** @throws PtySessionError INVALID_SIZE unless both are integers in [1, max]. */
export function assertTerminalSize(cols: unknown, rows: unknown, maxCols: number, maxRows: number): asserts cols is number {
  const ok = (v: unknown, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max;
  if (!ok(cols, maxCols) || !ok(rows, maxRows)) throw PtySessionErrors.invalidSize(cols, rows, maxCols, maxRows);
}

/**
 * One terminal program kept alive across client disconnects: its process, the
 * bounded record of its output, and the clients attached to it.
 *
 * Lifecycle, forward only: `running` → (`terminate()` escalating SIGHUP,
 * SIGTERM, SIGKILL to the process group) → `exited`. The exit event comes
 * only after every byte of output was delivered to listeners and the buffer
 * (see `pty-output-tail.ts` for what that takes with node-pty).
 * @publicApi
 */
export class PtySession {
  readonly id: string;
  readonly key?: string;
  readonly owner?: string;
  /** Name of the spawn profile it was started from; undefined for an adopted `IPty`. */
  readonly profile?: string;
  readonly pid: number;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly idleTimeoutMs: number;

  private readonly logger = new Logger('PtySession');
  private readonly buffer: ReplayBuffer;
  private readonly outputListeners: ListenerSet<PtyOutputChunk>;
  private readonly exitListeners: ListenerSet<PtyExitStatus>;
  private readonly releaseListeners: ListenerSet<void>;
  /** The manager forgot the session (`release()`). */
  private released = false;
  private readonly ptySubscriptions: IDisposable[];
  private readonly startTime: string | undefined;
  private readonly exited: Promise<PtyExitStatus>;
  private resolveExited!: (status: PtyExitStatus) => void;
  private _cols: number;
  private _rows: number;
  private _lastActivity: number;
  /** Output came since the last `packQuietOutput` call. */
  private printedSinceCheck = true;
  private attachedCount = 0;
  /** node-pty reported the process gone (its output may still be in flight). */
  private processGone = false;
  private exitStatus?: PtyExitStatus;
  private endReason?: PtySessionEndReason;
  private terminating?: Promise<PtyExitStatus>;
  /** The terminal session was seen without processes: its id is no longer ours to signal. */
  private terminalSessionEmpty = false;
  private readonly outputTail: Disposable;
  private readonly screen?: ScreenMirror;
  /** Who holds the pty's reading paused (the screen emulator catching up, a stream whose clients are all behind). */
  private readonly readHolds = new Set<object>();
  private readPaused = false;
  /** Keeps the pty's bytes whole characters of valid UTF-8 (see `readPtyAsBytes`). */
  private readonly chars = new Utf8Chunker();
  private readonly input: PtyInputWriter;
  /**
   * node-pty closed the master descriptor (it does so before it reports the
   * exit): its number may already be another pty's, so nothing more is done
   * with it (a resize is an ioctl on that number).
   */
  private masterClosed = false;

  constructor(
    private readonly pty: IPty,
    private readonly settings: PtySessionSettings,
  ) {
    this.id = settings.id;
    this.key = settings.key;
    this.owner = settings.owner;
    this.profile = settings.profile;
    this.pid = pty.pid;
    this.idleTimeoutMs = settings.idleTimeoutMs;
    this._cols = pty.cols;
    this._rows = pty.rows;
    this.createdAt = Date.now();
    this._lastActivity = this.createdAt;
    this.startTime = readProcessStartTime(this.pid);
    this.buffer = new ReplayBuffer(settings.replayBufferBytes);
    this.outputListeners = new ListenerSet(this.logger, 'output');
    this.exitListeners = new ListenerSet(this.logger, 'exit');
    this.releaseListeners = new ListenerSet(this.logger, 'release');
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
    this.input = new PtyInputWriter(pty, this.id, settings.maxInputBacklogBytes);
    // Before node-pty closes the master (and its descriptor number can be reused), input and resizes stop.
    this.outputTail = keepTrailingOutput(pty, () => {
      this.masterClosed = true;
      this.input.close();
    });
    try {
      if (settings.readPtyAsBytes && readPtyAsBytes(pty) && settings.readPtyIntoSharedMemory) {
        readPtyIntoSharedMemory(pty, (read) => this.handleRead(read));
      }
      if (settings.maxScreenCells !== undefined) {
        // A pty the caller adopted may be larger than the screen's budget (one the manager spawned never is).
        const fitted = fitScreenSize(this._cols, this._rows, settings.maxScreenCells);
        if (fitted.cols !== this._cols || fitted.rows !== this._rows) {
          try {
            pty.resize(fitted.cols, fitted.rows);
          } catch (error) {
            // Its process is gone already (the pty's descriptor closed): its exit is on its way. The emulator
            // still opens within the budget.
            this.logger.debug(`resize of adopted pty of session ${this.id} to fit screen.maxCells failed: ${String(error)}`);
          }
          ({ cols: this._cols, rows: this._rows } = fitted);
        }
      }
      const screenHold = {};
      this.screen = settings.openScreen?.(this._cols, this._rows, (paused) => this.holdReading(screenHold, paused));
    } catch (error) {
      // No session: the slave side held open for the last output would never be closed (the manager ends the process).
      this.outputTail.dispose();
      throw error;
    }
    this.ptySubscriptions = [
      pty.onData((data) => this.handleOutput(data)),
      pty.onExit(({ exitCode, signal }) => {
        this.processGone = true;
        this.input.close();
        // The last output must flow (node-pty drops what is unread when it closes the pty).
        this.releaseReading();
        // Let output already queued in this turn of the event loop go first.
        setImmediate(() => this.finishExit(exitCode, signal));
      }),
    ];
  }

  get cols(): number {
    return this._cols;
  }

  get rows(): number {
    return this._rows;
  }

  /** Epoch milliseconds of the last input, output, attach, detach or `touch()`. */
  get lastActivity(): number {
    return this._lastActivity;
  }

  get status(): 'running' | 'exited' {
    return this.exitStatus ? 'exited' : 'running';
  }

  /** How the process ended; undefined while it runs. */
  get exit(): PtyExitStatus | undefined {
    return this.exitStatus;
  }

  /** Clients attached through `attach()` and not yet detached. */
  get attachedClients(): number {
    return this.attachedCount;
  }

  /** Total bytes of output so far: the offset the next chunk starts at. */
  get outputOffset(): number {
    return this.buffer.endOffset;
  }

  /** Bytes held for replay. */
  get bufferedBytes(): number {
    return this.buffer.byteLength;
  }

  /** The most bytes held for replay: the session's `replayBufferBytes` (its profile's, or the module's). */
  get replayBufferBytes(): number {
    return this.buffer.capacityBytes;
  }

  /** `'screen'` when a headless emulator keeps this session's screen (see `snapshot()`), else `'raw'`. */
  get replayMode(): 'raw' | 'screen' {
    return this.screen ? 'screen' : 'raw';
  }

  /** Bytes of input written that the program's pty has not taken yet. */
  get inputBacklogBytes(): number {
    return this.input.backlogBytes;
  }

  /** True once `terminate()` has begun and until the process has exited. */
  get isTerminating(): boolean {
    return this.terminating !== undefined && !this.exitStatus;
  }

  /**
   * Sends input to the program, in order; what its pty does not take at once
   * waits (see `maxInputBacklogBytes`).
   * @throws PtySessionError SESSION_EXITED, INVALID_ARGUMENT, INPUT_BACKLOG_FULL
   */
  write(data: string): void {
    if (typeof data !== 'string') throw PtySessionErrors.invalidArgument('input', 'a string');
    if (this.exitStatus || this.processGone || this.masterClosed) throw PtySessionErrors.sessionExited(this.id);
    if (data.length === 0) return;
    this.input.write(data);
    this.touch();
  }

  /**
   * Resizes the terminal. Ignored once the process has exited. In screen
   * mode a size of more than `screen.maxCells` cells is lowered, rows first:
   * `cols` and `rows` tell the size the terminal took.
   * @throws PtySessionError INVALID_SIZE unless cols and rows are integers within the configured bounds.
   */
  resize(cols: number, rows: number): void {
    assertTerminalSize(cols, rows, this.settings.maxCols, this.settings.maxRows);
    if (this.settings.maxScreenCells !== undefined) ({ cols, rows } = fitScreenSize(cols, rows, this.settings.maxScreenCells));
    if (this.exitStatus || this.processGone || this.masterClosed) return;
    if (cols === this._cols && rows === this._rows) return;
    try {
      this.pty.resize(cols, rows);
      this._cols = cols;
      this._rows = rows;
      this.screen?.resize(cols, rows);
    } catch (error) {
      // The pty closed between our check and the ioctl (EBADF): the exit is on its way.
      this.logger.debug(`resize of session ${this.id} ignored: ${String(error)}`);
    }
  }

  /** Counts as activity for the idle timeout (the seed's `update_activity`). */
  touch(): void {
    this._lastActivity = Date.now();
  }

  /** Listens to live output. Prefer `attach()` for a client: it adds the replay and counts the client. */
  onOutput(listener: (chunk: PtyOutputChunk) => void): Disposable {
    if (this.exitStatus) return { dispose() {} };
    return this.outputListeners.add(listener);
  }

  /** Listens for the end. On an exited session the listener is called on the next microtask. */
  onExit(listener: (exit: PtyExitStatus) => void): Disposable {
    const status = this.exitStatus;
    return status ? callSoon(() => listener(status)) : this.exitListeners.add(listener);
  }

  /** Resolves when the session has exited and its last output was delivered. */
  whenExited(): Promise<PtyExitStatus> {
    return this.exited;
  }

  /**
   * Attaches a client: returns what it missed since `since` and, from the
   * same instant, delivers live output to `onOutput`, so that replay and
   * live output form one sequence with no gap and no duplicate.
   * @throws PtySessionError INVALID_OFFSET for an offset past the output's end.
   */
  attach(options: PtyAttachOptions): PtyAttachment {
    if (typeof options?.onOutput !== 'function') throw PtySessionErrors.invalidArgument('attach options', 'an onOutput function');
    const replay = this.buffer.since(options.since);
    const output = this.onOutput(options.onOutput);
    const exit = options.onExit ? this.onExit(options.onExit) : undefined;
    this.attachedCount++;
    this.touch();
    let attached = true;
    return {
      replay,
      detach: () => {
        if (!attached) return;
        attached = false;
        output.dispose();
        exit?.dispose();
        this.attachedCount--;
        this.touch();
      },
    };
  }

  /**
   * Output held for replay: everything after `sinceOffset` that is still
   * buffered, and whether part of it was evicted.
   * @throws PtySessionError INVALID_OFFSET
   */
  getReplayBuffer(sinceOffset?: number): PtyReplaySlice {
    return this.buffer.since(sinceOffset);
  }

  /**
   * The escape sequence the output is in the middle of at `offset` (see
   * `ReplayBuffer.unfinishedSequence`): what a terminal that starts parsing
   * there needs first.
   * @internal
   */
  unfinishedSequenceAt(offset: number): { state: ScanState; bytes?: Buffer } {
    return this.buffer.unfinishedSequence(offset);
  }

  /**
   * Screen mode: the screen, scrollback and terminal modes as they are after
   * all the output so far (`snapshot.offset` is `outputOffset` at the time
   * of the call), as sequences that redraw them on a reset terminal. What an
   * attach whose offset is no longer buffered should show, followed by live
   * output from `snapshot.offset`. Works after the exit too, until the
   * manager forgets the session.
   * @throws PtySessionError SCREEN_UNAVAILABLE in raw mode, or when the emulator failed or took longer than `screen.snapshotTimeoutMs`.
   */
  async snapshot(): Promise<PtyScreenSnapshot> {
    if (!this.screen) throw PtySessionErrors.screenUnavailable(this.id, 'the session is in raw replay mode');
    try {
      return await this.screen.snapshot();
    } catch (error) {
      throw PtySessionErrors.screenUnavailable(this.id, error instanceof Error ? error.message : String(error));
    }
  }

  /** Forgets the buffered output; offsets continue from the current one. */
  clearBuffer(): void {
    this.buffer.clear();
  }

  /**
   * Ends the process and waits until it has exited: SIGHUP to its process
   * group, then SIGTERM after `hangupGracePeriodMs`, then SIGKILL after
   * `terminateGracePeriodMs`. A program that traps SIGHUP still dies, and
   * so does the rest of its terminal session (jobs, children that outlive it).
   * Idempotent: every call returns the same promise. Never rejects.
   */
  terminate(reason: PtySessionEndReason = 'closed'): Promise<PtyExitStatus> {
    if (this.terminating) return this.terminating;
    if (this.exitStatus) {
      // The program is gone; end what it left running in its terminal, if anything.
      return this.hasTerminalSessionProcesses() ? this.startEscalation() : Promise.resolve(this.exitStatus);
    }
    this.endReason = reason;
    return this.startEscalation();
  }

  /** A snapshot of the session's state. */
  toInfo(): PtySessionInfo {
    return {
      id: this.id,
      key: this.key,
      owner: this.owner,
      profile: this.profile,
      pid: this.pid,
      cols: this._cols,
      rows: this._rows,
      createdAt: this.createdAt,
      lastActivity: this._lastActivity,
      status: this.status,
      attachedClients: this.attachedCount,
      bufferedBytes: this.buffer.byteLength,
      outputOffset: this.buffer.endOffset,
      exit: this.exitStatus,
    };
  }

  /** True when nobody is attached and nothing happened for `idleTimeoutMs` (0 = never). */
  isIdle(now: number): boolean {
    return this.idleTimeoutMs > 0 && this.attachedCount === 0 && !this.exitStatus && now - this._lastActivity >= this.idleTimeoutMs;
  }

  /**
   * Called once when the manager forgets the session (closed, or exited and
   * past its retention): whoever still holds it lets go (a gateway stream
   * with a viewer too far behind to have taken the exit). On a session
   * already forgotten, the listener is called on the next microtask.
   * @internal
   */
  onRelease(listener: () => void): Disposable {
    return this.released ? callSoon(listener) : this.releaseListeners.add(listener);
  }

  /**
   * Tells `onRelease` listeners, then drops every listener; called by the
   * manager when it forgets the session.
   * @internal
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.releaseListeners.emit();
    this.releaseListeners.clear();
    this.outputListeners.clear();
    this.exitListeners.clear();
    this.screen?.dispose();
  }

  /**
   * The escalation of signals started for this session (by `terminate`, or
   * against what a program that exited left running in its terminal),
   * settled once it is over; undefined when none was started. The
   * manager's shutdown waits for it even for a session it has forgotten.
   * @internal
   */
  get pendingTermination(): Promise<PtyExitStatus> | undefined {
    return this.terminating;
  }

  /**
   * Packs the replay buffer into memory of its exact size when the program printed
   * nothing since the last call (see `ReplayBuffer.pack`): the cleanup
   * sweep calls it, so a buffer is packed after a whole sweep interval of quiet.
   * A buffer holding more than `maxBytes` is left as it is.
   * @returns the bytes packed (0 when the session was not quiet or there was nothing to gain).
   * @internal
   */
  packQuietOutput(maxBytes: number): number {
    if (this.printedSinceCheck) {
      this.printedSinceCheck = false;
      return 0;
    }
    return this.buffer.byteLength > maxBytes ? 0 : this.buffer.pack();
  }

  /** node-pty's output: Buffers (see `readPtyAsBytes`), or strings from a pty that decodes. */
  private handleOutput(output: Buffer | string): void {
    if (this.exitStatus) return;
    if (typeof output === 'string') {
      this.record(this.chars.flush()); // a character left unfinished by bytes read before
      this.record(Buffer.from(output, 'utf8'));
    } else {
      this.record(this.chars.push(output));
    }
  }

  /** A read into memory the next read overwrites (see `readPtyIntoSharedMemory`). */
  private handleRead(read: Buffer): void {
    if (this.exitStatus) return;
    const bytes = this.chars.push(read); // a view of `read`, or memory of its own
    this.record(bytes, bytes?.buffer === read.buffer);
  }

  /**
   * Output of whole, valid UTF-8 characters: into the buffer and the screen, and to the listeners.
   * Listeners get output short of OWN_MEMORY_OUTPUT_BYTES in memory of its own, longer output as the
   * buffer's copy. `transient`: the output's memory is reused once this returns, so it is never passed on.
   */
  private record(output: Buffer | undefined, transient = false): void {
    if (!output || output.length === 0) return;
    this.printedSinceCheck = true;
    const kept = this.buffer.appendKept(output);
    const bytes = output.length < OWN_MEMORY_OUTPUT_BYTES ? copyOf(output) : (kept ?? (transient ? copyOf(output) : output));
    const offset = this.buffer.endOffset - bytes.length;
    this.screen?.write(bytes);
    this._lastActivity = Date.now();
    if (this.outputListeners.size > 0) {
      this.outputListeners.emit(attachOutputText({ offset, byteLength: bytes.length }, bytes) as PtyOutputChunk);
    }
  }

  /**
   * Pauses reading the pty while any holder holds it (the program then
   * blocks on a full pty, as under a terminal that stops reading); resumes
   * when the last holder lets go. Never while the process is ending.
   * @internal
   */
  holdReading(holder: object, held: boolean): void {
    if (held && !this.processGone && !this.terminating) this.readHolds.add(holder);
    else this.readHolds.delete(holder);
    this.applyReadHolds();
  }

  private releaseReading(): void {
    this.readHolds.clear();
    this.applyReadHolds();
  }

  private applyReadHolds(): void {
    const paused = this.readHolds.size > 0;
    if (paused === this.readPaused) return;
    this.readPaused = paused;
    try {
      if (paused) this.pty.pause();
      else this.pty.resume();
    } catch (error) {
      this.logger.debug(`pause/resume of session ${this.id} ignored: ${String(error)}`);
    }
  }

  private finishExit(exitCode: number, signal: number | undefined): void {
    if (this.exitStatus) return;
    this.processGone = true;
    this.input.close();
    this.record(this.chars.flush()); // the program ended inside a character: what text would show
    this.outputTail.dispose();
    for (const subscription of this.ptySubscriptions) subscription.dispose();
    const status: PtyExitStatus = {
      exitCode,
      ...(signal ? { signal } : {}),
      reason: this.endReason ?? 'exited',
      exitedAt: Date.now(),
    };
    this.exitStatus = status;
    this._lastActivity = status.exitedAt;
    this.outputListeners.clear();
    this.settings.onExited?.();
    this.exitListeners.emit(status);
    this.exitListeners.clear();
    this.resolveExited(status);
    // A program that ended by itself may leave jobs behind (`sleep 600 &`, then `exit`): the
    // terminal is gone, nobody can reach them, so they are ended like the rest of a closed session.
    if (!this.terminating && this.hasTerminalSessionProcesses()) void this.startEscalation();
  }

  /**
   * Whether processes of the terminal session are still alive. Once it has
   * been seen empty, the answer stays no: the kernel may give the number to a
   * new session (another PtySession's child) and that one is not ours.
   */
  private hasTerminalSessionProcesses(): boolean {
    if (this.terminalSessionEmpty) return false;
    if (listSessionProcesses(this.pid).length > 0) return true;
    this.terminalSessionEmpty = true;
    return false;
  }

  private startEscalation(): Promise<PtyExitStatus> {
    // A process blocked on a full pty must be able to take its signals and write its last words.
    this.releaseReading();
    this.terminating = this.escalate();
    return this.terminating;
  }

  private async escalate(): Promise<PtyExitStatus> {
    const steps: Array<[NodeJS.Signals, number]> = [
      ['SIGHUP', this.settings.hangupGracePeriodMs],
      ['SIGTERM', this.settings.terminateGracePeriodMs],
      ['SIGKILL', this.settings.killTimeoutMs],
    ];
    for (const [signal, waitMs] of steps) {
      if (!this.processGone) signalProcessGroup(this.pid, this.startTime, signal);
      // Also what left the group (an interactive shell's jobs) or ignores the signal and outlives the leader.
      this.signalTerminalSession(signal);
      if (await this.settledWithin(waitMs, signal)) return this.exited;
    }
    if (!this.exitStatus && this.startTime !== undefined && readProcessStartTime(this.pid) !== this.startTime) {
      // It did die (its /proc entry is gone or another process's): node-pty reports that a little later.
      if (await this.settledWithin(PTY_EXIT_REPORT_GRACE_MS, 'SIGKILL')) return this.exited;
    }
    if (!this.exitStatus) {
      this.logger.error(`Session ${this.id}: pid ${this.pid} did not exit after SIGKILL; forgetting it.`);
      this.finishExit(-1, 9);
    } else {
      this.logger.error(`Session ${this.id}: processes of its terminal session survived SIGKILL: ${listSessionProcesses(this.pid).join(', ')}.`);
    }
    return this.exited;
  }

  /** Signals the rest of the terminal session (sid = the program's pid), unless it was seen empty. */
  private signalTerminalSession(signal: NodeJS.Signals): void {
    if (!this.terminalSessionEmpty) signalSessionProcesses(this.pid, signal);
  }

  /** True once the process has exited and nothing of its terminal session is left, within `ms`. */
  private async settledWithin(ms: number, signal: NodeJS.Signals): Promise<boolean> {
    const deadline = Date.now() + ms;
    if (!(await this.exitedWithin(ms))) return false;
    while (this.hasTerminalSessionProcesses()) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
      // A process forked after the last signal gets the current one too.
      this.signalTerminalSession(signal);
    }
    return true;
  }

  private exitedWithin(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

}

/** Bytes in memory of their own, of their exact size (not a slice of Node's shared pool, which a kept chunk would pin). */
function copyOf(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

/** Calls `fn` on the next microtask unless disposed first: a listener added after its event. */
function callSoon(fn: () => void): Disposable {
  let active = true;
  queueMicrotask(() => active && fn());
  return { dispose: () => (active = false) };
}
