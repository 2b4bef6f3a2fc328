import type { PtyWireExitEvent, PtyWireOutput } from 'nestjs-pty-session-client/protocol';
import type { Disposable, PtyExitStatus, PtyOutputChunk, PtyReplaySlice } from '../interfaces/pty-session-info.interface.js';
import { BATCH_SHARE_OF_REPLAY_BUFFER } from '../pty-session.constants.js';
import { PtySessionErrors } from '../pty-session.errors.js';
import { assertTerminalSize, type PtySession } from '../pty-session.js';
import type { ResolvedPtySessionOptions } from '../pty-session.options.js';
import type { PtyScreenSnapshot } from '../screen/screen-mirror.js';
import { stripTerminalQueryBytes } from '../terminal-queries.js';
import { ScanState } from '../terminal-sequence-scanner.js';
import { SessionViewer } from './session-viewer.js';
import { toWireBatch, toWireReplay } from './wire-mappers.js';

/** How a stream reaches its clients: by socket id, one encoded message for many sockets. */
export interface SessionStreamTransport {
  output(socketIds: readonly string[], output: PtyWireOutput): void;
  exit(socketIds: readonly string[], exit: PtyWireExitEvent): void;
}

export type SessionStreamSettings = Pick<
  ResolvedPtySessionOptions,
  'flowControl' | 'outputBatching' | 'resizePolicy' | 'maxClientsPerSession' | 'maxCols' | 'maxRows'
>;

/**
 * An attaching client's terminal size. `resume`: the client comes back
 * after its connection dropped, this is its size as before, and `resume`
 * the number of its last sizing (see `addViewer`).
 */
export interface ViewerSize {
  cols?: number;
  rows?: number;
  resume?: number;
}

/**
 * Sizings of every session's clients in this process, counted: a client's
 * `sizedAt` is the count at its last one. One count for all streams, so
 * that a number outlives its stream (all its viewers gone) and its
 * connection: a client coming back with it takes its place among the
 * sizers again (see `addViewer`).
 */
let sizings = 0;

const ignoreOutput = (): void => {};

/**
 * Put before the rest of an escape string whose start is gone (an image, a
 * clipboard copy longer than the buffer), it makes a terminal that starts
 * parsing there swallow that rest instead of printing it, up to where the
 * string would have ended: for an OSC, an OSC no terminal acts on (its
 * number is not a number), which ends at BEL or ST; for a DCS (a BEL there
 * is data), an APC, which terminals ignore up to ST.
 */
const SWALLOW_OSC = Buffer.from('\x1b]-', 'latin1');
const SWALLOW_STRING = Buffer.from('\x1b_', 'latin1');

/** The swallower for the rest of a string begun before `state`'s offset, or undefined outside strings. */
function swallowerFor(state: ScanState): Buffer | undefined {
  if (state === ScanState.OscString) return SWALLOW_OSC;
  if (state === ScanState.String) return SWALLOW_STRING;
  return undefined;
}

/** The escape sequence the output was in the middle of at `offset` (see `PtySession.unfinishedSequenceAt`). */
interface UnfinishedSequence {
  offset: number;
  state: ScanState;
  bytes?: Buffer;
}

/** A catch-up from the buffer: the slice, and its message once made (see `catchUpOutput`). */
interface CatchUp {
  /** The offset asked for, and the buffer's end and size when it was taken: while those hold, it is still the same slice. */
  from: number;
  end: number;
  buffered: number;
  slice: PtyReplaySlice;
  /** Made on first use: undefined until then, null when the slice is empty and not a reset (nothing to send). */
  output?: PtyWireOutput | null;
}

/**
 * Fans one session's output out to the clients attached to it.
 *
 * Output is batched: a small output (under `outputBatching.busyBytes`, such
 * as a keystroke's echo) into a quiet stream goes out at once, and output
 * read after it in the same turn of the event loop goes out at the end of
 * that turn, together; so does any other output, except while the stream is busy:
 * output that follows a message of at least `outputBatching.busyBytes`
 * sent less than `outputBatching.windowMs` ago waits for the rest of that
 * window (a busy program's output goes out in few, large messages instead
 * of one per 4 KiB read; fast typing, whose echoes are small, never waits). Each message is
 * encoded once for every client that is in step. A client too far ahead
 * of its acknowledgements is paused, and brought back from the replay
 * buffer (with a reset if it fell out of it) once it acknowledges. While
 * no viewer can take more, the program itself is paused
 * (`flowControl.pauseProgram`, see `updateProgramHold`).
 *
 * Replays (an attach's answer, a paused client's reset) go out without
 * terminal queries (see `terminal-queries.ts`); live output is untouched.
 * In screen mode, a client whose offset is no longer buffered gets a
 * snapshot of the screen instead of what remains of the buffer.
 */
export class SessionStream {
  private readonly viewers = new Map<string, SessionViewer>();
  private readonly subscriptions: Disposable[];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Where the pending batch starts: the offset every in-step viewer was sent up to. */
  private streamOffset: number;
  /** Cancels the scheduled send, when one is scheduled. */
  private scheduled: (() => void) | undefined;
  /** When the last message of at least `busyBytes` went out (performance.now()). */
  private lastBusySentAt = -Infinity;
  private exitStatus: PtyExitStatus | undefined;
  private disposed = false;
  /** The program's pty is held paused because every viewer is (flowControl.pauseProgram). */
  private holdingProgram = false;
  /** The last catch-up made, reused by the next viewers resuming from the same offset (see `catchUpSlice`). */
  private lastCatchUp: CatchUp | undefined;
  /**
   * The largest batch: `outputBatching.maxBytes`, or half the session's buffer
   * if that is less (BATCH_SHARE_OF_REPLAY_BUFFER), so that a viewer paused at
   * a batch, which misses it, finds it in the buffer when it resumes. Only a
   * single read larger than this makes a larger batch (a pty read is ~4 KiB,
   * up to ~24 KiB; a tiny buffer's cap can be smaller, a custom spawner's
   * reads larger).
   */
  private readonly maxBatchBytes: number;

  constructor(
    readonly session: PtySession,
    private readonly transport: SessionStreamTransport,
    private readonly settings: SessionStreamSettings,
    /** Called when a viewer leaves by the stream's own decision (after its exit was sent). */
    private readonly onViewerRemoved: (socketId: string, stream: SessionStream) => void,
    /** Called once when the last viewer left and the stream released the session. */
    private readonly onEmpty: (stream: SessionStream) => void,
  ) {
    this.streamOffset = session.outputOffset;
    this.maxBatchBytes = Math.min(settings.outputBatching.maxBytes, Math.max(1, Math.floor(session.replayBufferBytes * BATCH_SHARE_OF_REPLAY_BUFFER)));
    this.subscriptions = [
      session.onOutput((chunk) => this.enqueue(chunk)),
      session.onExit((exit) => {
        this.exitStatus = exit;
        this.schedule();
      }),
      session.onRelease(() => this.release()),
    ];
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Bytes sent to this client (replay, catch-ups, live output) that it has not acknowledged; 0 if not attached. */
  unacknowledgedOf(socketId: string): number {
    return this.viewers.get(socketId)?.unacknowledged ?? 0;
  }

  hasViewer(socketId: string): boolean {
    return this.viewers.has(socketId);
  }

  /**
   * Attaches a client (again, replacing its previous place) and returns what
   * it missed: the buffered output since `since`, or in screen mode, when
   * that is no longer all buffered, a snapshot (a promise: the emulator runs
   * in a worker). Live output follows from the replay's end, in the next
   * batch, and may reach the client before a snapshot's answer. A size is
   * a resize by the resize policy, except a `resume`'s under `'latest'`:
   * the client takes back its place among the sizers (the number of its
   * last sizing, from an earlier answer), and the session its size only if
   * no client attached now sized it since; so a client coming back after a
   * network drop neither takes the size from the one used meanwhile nor
   * loses it when it was the one in use. `acked` (at most `since`): what the
   * client has processed of the output up to `since`; the rest counts as
   * sent and not acknowledged (see `creditBack`).
   * @throws PtySessionError CLIENT_LIMIT_REACHED, INVALID_OFFSET, INVALID_SIZE
   */
  addViewer(socketId: string, since: number | undefined, size: ViewerSize, acked?: number): PtyWireOutput | Promise<PtyWireOutput> {
    if (!this.viewers.has(socketId) && this.viewers.size >= this.settings.maxClientsPerSession) {
      throw PtySessionErrors.clientLimit(this.session.id, this.settings.maxClientsPerSession);
    }
    if (size.cols !== undefined) assertTerminalSize(size.cols, size.rows, this.settings.maxCols, this.settings.maxRows);
    // Everyone else gets the pending batch first, so the replay ends exactly where the stream continues.
    this.flush();
    const attachment = this.session.attach({ since, onOutput: ignoreOutput });
    const previous = this.viewers.get(socketId);
    previous?.attachment.detach();
    const viewer = new SessionViewer(socketId, attachment);
    if (acked !== undefined && !attachment.replay.truncated) this.creditBack(viewer, acked);
    this.viewers.set(socketId, viewer);
    this.updateProgramHold();
    if (size.cols !== undefined && size.resume !== undefined && this.settings.resizePolicy === 'latest') {
      viewer.cols = size.cols;
      viewer.rows = size.rows;
      // Not a new sizing: its place as before (a number from the future would make it the latest for ever),
      // or the place this connection has if later (a resize of it whose answer had not come back).
      viewer.sizedAt = Math.max(Math.min(size.resume, sizings), previous?.cols !== undefined ? previous.sizedAt : 0);
      viewer.sizeResumed = true;
      if (this.latestSizer() === viewer) this.session.resize(size.cols, size.rows!);
    } else if (size.cols !== undefined) {
      this.resizeFor(viewer, size.cols, size.rows!);
    } else if (previous?.cols !== undefined) {
      // Attaching again without a size keeps the size this client had, and its place among the sizers.
      viewer.cols = previous.cols;
      viewer.rows = previous.rows;
      viewer.sizedAt = previous.sizedAt;
      viewer.sizeResumed = previous.sizeResumed;
    }
    // An exited session's status goes out after the answer, like live output.
    if (this.exitStatus) this.schedule();
    const replay = attachment.replay;
    const raw = () => toWireReplay(this.session.id, replay, this.resumable(replay, stripTerminalQueryBytes(replay.bytes)));
    if (!replay.truncated || this.session.replayMode !== 'screen') return raw();
    // The snapshot shows the screen at the replay's end, where live output continues; it covers no bytes to acknowledge.
    viewer.ackedOffset = replay.endOffset;
    const sequence = this.unfinishedSequence();
    return this.session.snapshot().then(
      (snapshot) => this.snapshotOutput(snapshot, sequence),
      () => {
        viewer.ackedOffset = Math.min(viewer.ackedOffset, replay.offset);
        return raw();
      },
    );
  }

  /**
   * A client coming back (its connection dropped) with output it received
   * and has not processed yet, still in its terminal's queue: that output
   * counts as sent and not acknowledged, as it did before the drop, so that
   * a slow terminal gains no credit by reconnecting. Counted at most as far
   * back as flow control could have let it be (a high mark and a buffer's
   * catch-up): a client cannot raise its backlog allowance by claiming more.
   */
  private creditBack(viewer: SessionViewer, acked: number): void {
    const furthest = viewer.ackedOffset - (this.settings.flowControl.highWaterMarkBytes + this.session.replayBufferBytes);
    viewer.ackedOffset = Math.max(Math.min(acked, viewer.ackedOffset), furthest, 0);
  }

  /** Detaches a client; the session keeps running. Idempotent. */
  removeViewer(socketId: string): void {
    const viewer = this.viewers.get(socketId);
    if (!viewer) return;
    this.viewers.delete(socketId);
    viewer.attachment.detach();
    this.updateProgramHold();
    if (viewer.cols !== undefined && this.viewers.size > 0) {
      if (this.settings.resizePolicy === 'smallest') this.applySmallestSize();
      else if (viewer.sizedAt >= (this.latestSizer()?.sizedAt ?? -1)) this.applyLatestSize();
    }
    if (this.viewers.size === 0) this.dispose();
  }

  /**
   * A client processed output up to `offset`; a paused client under the low
   * mark is caught up.
   * @throws PtySessionError NOT_ATTACHED, INVALID_OFFSET
   */
  acknowledge(socketId: string, offset: number): void {
    const viewer = this.requireViewer(socketId);
    if (!viewer.acknowledge(offset)) throw PtySessionErrors.ackBeyondSent(offset, viewer.sentOffset);
    if (viewer.paused && !viewer.awaitingSnapshot && viewer.unacknowledged <= this.settings.flowControl.lowWaterMarkBytes) this.catchUp(viewer);
    else if (this.holdingProgram) this.updateProgramHold();
  }

  /**
   * Records a client's size and resizes the session by the resize policy.
   * @returns the session's size afterwards, and the number of this sizing (see `sizedAtOf`).
   * @throws PtySessionError NOT_ATTACHED, INVALID_SIZE
   */
  resize(socketId: string, cols: number, rows: number): { cols: number; rows: number; sizedAt: number } {
    const viewer = this.requireViewer(socketId);
    assertTerminalSize(cols, rows, this.settings.maxCols, this.settings.maxRows);
    this.resizeFor(viewer, cols, rows);
    return { cols: this.session.cols, rows: this.session.rows, sizedAt: viewer.sizedAt };
  }

  /**
   * Sends, now, whatever is waiting for its batch window (and the exit, if
   * the session ended). `includingPaused` (at shutdown) also catches up the
   * clients paused by flow control, so that they too get the last output and the exit.
   */
  drain(options: { includingPaused?: boolean } = {}): void {
    if (this.disposed) return;
    this.scheduled?.();
    this.scheduled = undefined;
    this.flush();
    if (options.includingPaused) {
      // No time to wait for a snapshot: what the buffer holds.
      for (const viewer of [...this.viewers.values()]) if (viewer.paused && !this.disposed) this.catchUp(viewer, { snapshot: false });
    }
    if (this.exitStatus && !this.disposed) this.sendExit();
  }

  /** Detaches everyone and stops listening to the session. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.lastCatchUp = undefined;
    this.scheduled?.();
    this.scheduled = undefined;
    for (const viewer of this.viewers.values()) viewer.attachment.detach();
    this.viewers.clear();
    this.updateProgramHold();
    for (const subscription of this.subscriptions) subscription.dispose();
    this.onEmpty(this);
  }

  /**
   * The manager forgot the session (closed, or past its retention): a
   * viewer paused by flow control, which would otherwise keep the session
   * and its buffer alive for as long as it stays connected, gets what the
   * buffer still holds and the exit now, like everyone at shutdown; then
   * the stream lets go of the session.
   */
  private release(): void {
    if (this.disposed) return;
    this.exitStatus ??= this.session.exit;
    this.drain({ includingPaused: true });
    // Anyone left (no exit to send) is detached all the same: the session is gone.
    for (const socketId of [...this.viewers.keys()]) {
      this.removeViewer(socketId);
      this.onViewerRemoved(socketId, this);
    }
    this.dispose();
  }

  private requireViewer(socketId: string): SessionViewer {
    const viewer = this.viewers.get(socketId);
    if (!viewer) throw PtySessionErrors.notAttached(this.session.id);
    return viewer;
  }

  private enqueue(chunk: PtyOutputChunk): void {
    this.lastCatchUp = undefined;
    // A read that would take the batch past its cap starts the next one: a batch holds at most
    // maxBatchBytes (a single larger read alone excepted), so one missed batch is always still buffered.
    if (this.pendingBytes > 0 && this.pendingBytes + chunk.byteLength > this.maxBatchBytes) this.flush();
    if (this.pendingBytes === 0) this.streamOffset = chunk.offset;
    this.pending.push(chunk.bytes);
    this.pendingBytes += chunk.byteLength;
    if (this.pendingBytes >= this.maxBatchBytes) {
      this.flush();
    } else if (!this.scheduled && this.isEchoSized(chunk.byteLength)) {
      // A keystroke's echo into a quiet stream: out now, not on the next turn (~0.05 ms less per keystroke).
      // The turn is still scheduled, so that more output read in this same turn is gathered into one message.
      this.flush();
      this.schedule();
    } else {
      this.schedule();
    }
  }

  /** Output small enough (under `busyBytes`) to be an echo, arriving after the busy window closed. */
  private isEchoSized(byteLength: number): boolean {
    const { busyBytes, windowMs } = this.settings.outputBatching;
    return byteLength < busyBytes && performance.now() >= this.lastBusySentAt + windowMs;
  }

  private schedule(): void {
    if (this.scheduled || this.disposed) return;
    const run = () => {
      this.scheduled = undefined;
      this.flush();
      if (this.exitStatus) this.sendExit();
    };
    const wait = this.lastBusySentAt + this.settings.outputBatching.windowMs - performance.now();
    if (wait <= 0) {
      const immediate = setImmediate(run);
      this.scheduled = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(run, wait);
      this.scheduled = () => clearTimeout(timer);
    }
  }

  /** Sends the pending batch to every viewer in step and under its high mark. */
  private flush(): void {
    if (this.pendingBytes === 0) return;
    const parts = this.pending;
    const offset = this.streamOffset;
    const byteLength = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.streamOffset = offset + byteLength;

    const high = this.settings.flowControl.highWaterMarkBytes;
    const recipients: string[] = [];
    let outOfStep: SessionViewer[] | undefined;
    let pausedSome = false;
    for (const viewer of this.viewers.values()) {
      if (viewer.paused) continue;
      if (viewer.unacknowledged >= high) {
        viewer.paused = true;
        pausedSome = true;
      } else if (viewer.sentOffset !== offset) {
        // Not expected (attach and catch-up both join at the stream's offset); repair rather than skip data.
        (outOfStep ??= []).push(viewer);
      } else {
        viewer.sentOffset = offset + byteLength;
        recipients.push(viewer.socketId);
      }
    }
    if (recipients.length > 0) {
      this.transport.output(recipients, toWireBatch(this.session.id, offset, byteLength, parts));
      if (byteLength >= this.settings.outputBatching.busyBytes) this.lastBusySentAt = performance.now();
    }
    // After a send: a client just filled up to its high mark may be the last one able to take more.
    if (pausedSome || recipients.length > 0) this.updateProgramHold();
    for (const viewer of outOfStep ?? []) if (!this.disposed) this.catchUp(viewer);
  }

  /**
   * Sends a paused viewer what it missed since it paused, from the buffer,
   * and puts it back in step; in screen mode, when that fell out of the
   * buffer, a snapshot first.
   */
  private catchUp(viewer: SessionViewer, options: { snapshot?: boolean } = {}): void {
    viewer.awaitingSnapshot = false;
    this.flush();
    const catchUp = this.catchUpSlice(Math.min(viewer.sentOffset, this.session.outputOffset));
    const { slice } = catchUp;
    if (slice.truncated && options.snapshot !== false && this.session.replayMode === 'screen') {
      this.catchUpFromScreen(viewer);
      return;
    }
    viewer.paused = false;
    viewer.sentOffset = slice.endOffset;
    if (slice.truncated) viewer.ackedOffset = slice.offset;
    // With what it is sent counted: a catch-up can take a viewer past its high mark (it carries
    // what the buffer holds), and then it is no reason to read the program again.
    this.updateProgramHold();
    const output = this.catchUpOutput(catchUp);
    if (output) this.transport.output([viewer.socketId], output);
    // Kept only while a viewer may still resume: a quiet session holds no second copy of its buffer.
    if (!this.anyViewerPaused()) this.lastCatchUp = undefined;
    if (this.exitStatus) this.sendExit();
  }

  private anyViewerPaused(): boolean {
    for (const viewer of this.viewers.values()) if (viewer.paused) return true;
    return false;
  }

  /**
   * What a viewer resuming from `from` gets from the buffer. Viewers paused
   * together resume from the same offset, one acknowledgement after the
   * other, while the program (held while all were paused) has printed
   * nothing new: they share one message, so the buffer is joined, stripped
   * and encoded once for all of them instead of once each (with 50 viewers
   * of a busy session, 483 catch-ups came from 34 distinct slices).
   */
  private catchUpSlice(from: number): CatchUp {
    const end = this.session.outputOffset;
    const buffered = this.session.bufferedBytes;
    const last = this.lastCatchUp;
    if (last && last.from === from && last.end === end && last.buffered === buffered) return last;
    this.lastCatchUp = { from, end, buffered, slice: this.session.getReplayBuffer(from) };
    return this.lastCatchUp;
  }

  /** A catch-up's message, made once (not at all when a snapshot replaces it); null when there is nothing to send. */
  private catchUpOutput(catchUp: CatchUp): PtyWireOutput | null {
    if (catchUp.output !== undefined) return catchUp.output;
    const { slice } = catchUp;
    catchUp.output =
      slice.endOffset > slice.offset || slice.truncated
        ? // A reset is a replay: no terminal queries. The continuation of a stream is left as it was.
          toWireReplay(this.session.id, slice, slice.truncated ? this.resumable(slice, stripTerminalQueryBytes(slice.bytes)) : slice.bytes)
        : null;
    return catchUp.output;
  }

  /** The viewer stays paused until the snapshot comes, then continues from its offset (from the buffer, if output went on meanwhile). */
  private catchUpFromScreen(viewer: SessionViewer): void {
    viewer.paused = true;
    viewer.awaitingSnapshot = true;
    const current = () => !this.disposed && viewer.awaitingSnapshot && this.viewers.get(viewer.socketId) === viewer;
    const sequence = this.unfinishedSequence();
    this.session.snapshot().then(
      (snapshot) => {
        if (!current()) return;
        viewer.sentOffset = viewer.ackedOffset = snapshot.offset;
        this.transport.output([viewer.socketId], this.snapshotOutput(snapshot, sequence));
        this.catchUp(viewer);
      },
      () => {
        if (current()) this.catchUp(viewer, { snapshot: false });
      },
    );
  }

  /**
   * While no viewer can take more output (each is paused, or at its high
   * mark), the program is paused too: its pty is not read, so it blocks on
   * its output as under a local terminal that cannot keep up, and a client
   * too slow for the program loses nothing. Deciding at the high mark, not
   * at the next batch, keeps what a paused client misses to what was
   * already read. With a viewer able to take more, the program runs at that
   * viewer's pace, and the others fall back on the replay buffer.
   */
  private updateProgramHold(): void {
    if (!this.settings.flowControl.pauseProgram && !this.holdingProgram) return;
    const high = this.settings.flowControl.highWaterMarkBytes;
    let all = this.settings.flowControl.pauseProgram && !this.disposed && this.viewers.size > 0;
    if (all) {
      for (const viewer of this.viewers.values()) {
        if (!viewer.paused && viewer.unacknowledged < high) {
          all = false;
          break;
        }
      }
    }
    if (all === this.holdingProgram) return;
    this.holdingProgram = all;
    this.session.holdReading(this, all);
  }

  /**
   * A snapshot shows the screen at its offset, and the client's terminal
   * parses what follows from scratch: if the program is in the middle of an
   * escape sequence there, the sequence's start goes after the screen (it
   * changes nothing on it until it ends), or the rest of it would show as
   * text (`96mRED` for a colour cut between two reads).
   */
  private snapshotOutput(snapshot: PtyScreenSnapshot, sequence: UnfinishedSequence): PtyWireOutput {
    // Taken when the snapshot was asked for, at the offset it shows: the buffer may have moved on since.
    const { state, bytes } = sequence.offset === snapshot.offset ? sequence : this.session.unfinishedSequenceAt(snapshot.offset);
    const start = bytes ?? swallowerFor(state);
    const data = start ? snapshot.data + start.toString('utf8') : snapshot.data;
    return { sessionId: this.session.id, offset: snapshot.offset, byteLength: 0, data, reset: true, snapshot: true };
  }

  /** The escape sequence unfinished at the session's output offset now: where a snapshot asked for now will end. */
  private unfinishedSequence(): UnfinishedSequence {
    const offset = this.session.outputOffset;
    return { offset, ...this.session.unfinishedSequenceAt(offset) };
  }

  /**
   * A replay that is a reset starts where the buffer starts, between
   * sequences, so it holds the start of any sequence unfinished at its end;
   * but when a string longer than the buffer evicted everything, that start
   * is gone, and the client would print the rest of the string: it is told
   * to swallow it (`swallowerFor`).
   */
  private resumable(slice: PtyReplaySlice, bytes: Buffer): Buffer {
    if (!slice.truncated || bytes.length > 0) return bytes;
    const { state, bytes: held } = this.session.unfinishedSequenceAt(slice.endOffset);
    return (!held && swallowerFor(state)) || bytes;
  }

  /** The exit goes to every viewer that has all the output; they are then detached. */
  private sendExit(): void {
    const exit = this.exitStatus!;
    const recipients: string[] = [];
    for (const viewer of this.viewers.values()) {
      if (viewer.paused || viewer.exitSent) continue;
      viewer.exitSent = true;
      recipients.push(viewer.socketId);
    }
    if (recipients.length === 0) return;
    this.transport.exit(recipients, { sessionId: this.session.id, ...exit });
    for (const socketId of recipients) {
      this.removeViewer(socketId);
      this.onViewerRemoved(socketId, this);
    }
  }

  private resizeFor(viewer: SessionViewer, cols: number, rows: number): void {
    viewer.cols = cols;
    viewer.rows = rows;
    viewer.sizedAt = ++sizings;
    viewer.sizeResumed = false;
    if (this.settings.resizePolicy === 'smallest') this.applySmallestSize();
    else this.session.resize(cols, rows);
  }

  /**
   * 'latest', when the client whose size the session has leaves: the size of
   * the client that sized it last before (a window closed must not leave the
   * others at its size until they resize).
   */
  private applyLatestSize(): void {
    const latest = this.latestSizer();
    if (latest) this.session.resize(latest.cols!, latest.rows!);
  }

  /** The attached client with a size that sized the session last (a resumed one that never resized here included). */
  private latestSizer(): SessionViewer | undefined {
    let latest: SessionViewer | undefined;
    for (const viewer of this.viewers.values()) {
      if (viewer.cols === undefined) continue;
      // On a tie (a resumed number equal to a sizing made here), the sizing made here.
      if (!latest || viewer.sizedAt > latest.sizedAt || (viewer.sizedAt === latest.sizedAt && latest.sizeResumed && !viewer.sizeResumed)) latest = viewer;
    }
    return latest;
  }

  /** The number of this client's last sizing, for its answers (it sends it back as `resume` after a drop); undefined without a size. */
  sizedAtOf(socketId: string): number | undefined {
    const viewer = this.viewers.get(socketId);
    return viewer?.cols !== undefined ? viewer.sizedAt : undefined;
  }

  private applySmallestSize(): void {
    let cols = Infinity;
    let rows = Infinity;
    for (const viewer of this.viewers.values()) {
      if (viewer.cols === undefined) continue;
      cols = Math.min(cols, viewer.cols);
      rows = Math.min(rows, viewer.rows!);
    }
    if (cols !== Infinity) this.session.resize(cols, rows);
  }
}
