import type { ScreenWorkerRequest } from './screen-worker.js';
import { scrollbackWithin } from './screen-size.js';

/** The screen of a screen-mode session at a known output offset. @publicApi */
export interface PtyScreenSnapshot {
  /**
   * Escape sequences that redraw the screen, its scrollback and its modes
   * (alternate screen, cursor, keypad, mouse, bracketed paste...) on a
   * terminal that was just reset.
   */
  data: string;
  /** The output offset the snapshot shows: live output continues from here. */
  offset: number;
  cols: number;
  rows: number;
}

/** What a mirror needs from its worker. Internal. */
export interface ScreenChannel {
  /** `transfer`: memory moved to the worker (no longer usable here). */
  post(request: ScreenWorkerRequest, transfer?: ArrayBuffer[]): void;
  forget(mirror: ScreenMirror): void;
}

export interface ScreenMirrorSettings {
  scrollback: number;
  /** Cells of screen and scrollback the emulator keeps at most: a wide screen keeps fewer lines of scrollback (see `screen-size.ts`). */
  maxCells: number;
  /** Output posted and not yet parsed above which the session's pty is paused. */
  maxLagBytes: number;
  snapshotTimeoutMs: number;
  /** Pauses (true) or resumes (false) reading the session's pty. */
  onBackpressure: (paused: boolean) => void;
}

/** Output is posted to the worker once per turn of the event loop, or as soon as this much is waiting. */
const POST_BYTES = 256 * 1024;

/**
 * A session's side of its emulator in the screen worker: output goes in
 * (batched per turn of the event loop, so a busy session costs one message
 * per turn, not one per 4 KiB read), snapshots come out, in order with the
 * output. The emulator may lag behind during a burst; when the lag passes
 * `maxLagBytes` the session's pty is paused until it has halved, which
 * bounds the memory held for it.
 */
export class ScreenMirror {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Offsets in the session's output: the end of what was posted to the worker, and of what it parsed. */
  private postedEnd = 0;
  private parsedEnd = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private paused = false;
  private nextRequest = 1;
  private readonly snapshots = new Map<number, { offset: number; resolve: (s: PtyScreenSnapshot) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  /** The latest snapshot asked for, shared by the requests after it while it is unanswered and no output or resize was posted since. */
  private pendingSnapshot?: { request: number; offset: number; promise: Promise<PtyScreenSnapshot> };
  private failure: Error | undefined;
  private disposed = false;

  constructor(
    readonly id: string,
    cols: number,
    rows: number,
    private readonly channel: ScreenChannel,
    private readonly settings: ScreenMirrorSettings,
  ) {
    channel.post({ op: 'open', id, cols, rows, scrollback: scrollbackWithin(cols, rows, settings.scrollback, settings.maxCells) });
  }

  /** Output posted to the emulator and not parsed yet, in bytes. */
  get lagBytes(): number {
    return this.postedEnd - this.parsedEnd;
  }

  /** Feeds output (UTF-8 bytes of whole characters, not modified afterwards). */
  write(bytes: Buffer): void {
    if (this.disposed || this.failure) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= POST_BYTES) this.post();
    else this.scheduled ??= setImmediate(() => this.post());
  }

  resize(cols: number, rows: number): void {
    if (this.disposed || this.failure) return;
    this.post();
    this.channel.post({ op: 'resize', id: this.id, cols, rows, scrollback: scrollbackWithin(cols, rows, this.settings.scrollback, this.settings.maxCells) });
    this.pendingSnapshot = undefined; // a snapshot asked before shows the old size
  }

  /**
   * The screen once every byte given so far is parsed.
   * @throws Error when the worker failed, the mirror was disposed, or the timeout passed.
   */
  snapshot(): Promise<PtyScreenSnapshot> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.disposed) return Promise.reject(new Error('screen disposed'));
    this.post();
    // Attaches that come together (a burst, clients of one session after a restart) share one
    // serialization while no output came in between: it would give the same screen.
    const pending = this.pendingSnapshot;
    if (pending && pending.offset === this.postedEnd && this.snapshots.has(pending.request)) return pending.promise;
    const request = this.nextRequest++;
    const offset = this.postedEnd;
    const promise = this.requestSnapshot(request, offset);
    this.pendingSnapshot = { request, offset, promise };
    return promise;
  }

  private requestSnapshot(request: number, offset: number): Promise<PtyScreenSnapshot> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.snapshots.delete(request);
        reject(new Error(`no snapshot within ${this.settings.snapshotTimeoutMs} ms (${this.lagBytes} bytes of output not parsed yet)`));
      }, this.settings.snapshotTimeoutMs);
      // Not unref'd: the worker is (it never keeps the process alive), so this timer is what keeps a
      // process that awaits a snapshot and has nothing else to do alive until the answer comes.
      this.snapshots.set(request, { offset, resolve, reject, timer });
      this.channel.post({ op: 'snapshot', id: this.id, request, scrollback: this.settings.scrollback });
    });
  }

  /** @internal From the worker: output up to `end` is parsed. */
  parsed(end: number): void {
    this.parsedEnd = end;
    if (this.paused && this.lagBytes <= this.settings.maxLagBytes / 2) this.setPaused(false);
  }

  /** @internal From the worker. */
  snapshotDone(request: number, result: { data: string; cols: number; rows: number } | { error: string }): void {
    const waiting = this.snapshots.get(request);
    if (!waiting) return;
    this.snapshots.delete(request);
    clearTimeout(waiting.timer);
    if ('error' in result) waiting.reject(new Error(`snapshot failed: ${result.error}`));
    else waiting.resolve({ data: result.data, offset: waiting.offset, cols: result.cols, rows: result.rows });
  }

  /** @internal The worker is gone: snapshots fail from now on, and the pty is never held back again. */
  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.dropPending();
    this.rejectAll(error);
    if (this.paused) this.setPaused(false);
  }

  /** Frees the emulator. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dropPending();
    this.rejectAll(new Error('screen disposed'));
    if (this.paused) this.setPaused(false);
    if (!this.failure) this.channel.post({ op: 'close', id: this.id });
    this.channel.forget(this);
  }

  private post(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.pendingBytes === 0 || this.disposed || this.failure) return;
    // Copied into memory of its own, which is moved to the worker, not cloned.
    const data = new Uint8Array(this.pendingBytes);
    let written = 0;
    for (const part of this.pending) {
      data.set(part, written);
      written += part.length;
    }
    this.postedEnd += this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.channel.post({ op: 'write', id: this.id, data, end: this.postedEnd }, [data.buffer]);
    if (!this.paused && this.lagBytes > this.settings.maxLagBytes) this.setPaused(true);
  }

  private setPaused(paused: boolean): void {
    this.paused = paused;
    this.settings.onBackpressure(paused);
  }

  private dropPending(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.pending = [];
    this.pendingBytes = 0;
  }

  private rejectAll(error: Error): void {
    for (const waiting of this.snapshots.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.snapshots.clear();
  }
}
