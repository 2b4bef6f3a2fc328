import { writeSync } from 'node:fs';
import type { IPty } from 'node-pty';
import { PTY_INPUT_CHUNK_BYTES, PTY_INPUT_RETRY_MAX_MS, PTY_INPUT_RETRY_MIN_MS } from './pty-session.constants.js';
import { PtySessionErrors } from './pty-session.errors.js';

/** What a node-pty 1.x Unix pty has that direct writes need (internals, feature-detected). */
interface WritablePty {
  /** The master descriptor. */
  fd: number;
  /** node-pty's read stream of that descriptor: once destroyed, the descriptor is closed (and its number free for reuse). */
  _socket: { destroyed: boolean };
}

function directTarget(pty: IPty): WritablePty | undefined {
  const candidate = pty as unknown as Partial<WritablePty>;
  if (typeof candidate.fd !== 'number' || typeof candidate._socket?.destroyed !== 'boolean') return undefined;
  return candidate as WritablePty;
}

/** Waiting input: bytes [start, end) of `buffer`. The last chunk takes small inputs while it has room (up to its length). */
interface InputChunk {
  buffer: Buffer;
  start: number;
  end: number;
}

/** Chunks written out are dropped from the front of the queue in bulk, once this many have been (see `retry`). */
const WRITTEN_CHUNKS_BEFORE_COMPACTION = 64;

/** With node-pty's XON/XOFF handling (`handleFlowControl`, an adopted pty's), these inputs pause and resume it: not bytes for the program. */
function isFlowControlCommand(pty: IPty, data: string): boolean {
  const internals = pty as unknown as { handleFlowControl?: unknown; _flowControlPause?: unknown; _flowControlResume?: unknown };
  return internals.handleFlowControl === true && (data === internals._flowControlPause || data === internals._flowControlResume);
}

/**
 * Writes a session's input to its pty, in order, with a bound on what waits.
 *
 * node-pty 1.1.0 queues input the pty cannot take yet without limit, and
 * retries on every turn of the event loop (a core spent while a program in
 * raw mode does not read), with asynchronous writes on libuv's thread pool.
 * It keeps retrying after the process exited and the master descriptor was
 * closed: the number, reused by the next socket or pty the server opens,
 * received one user's input in another's connection (issue 5's review).
 *
 * Here every write is synchronous, so none is in flight when the descriptor
 * closes, and none is made once node-pty's read stream is destroyed (which
 * closes it). The descriptor is non-blocking (node-pty sets it so): what
 * the kernel does not take at once waits here, retried on a timer from
 * PTY_INPUT_RETRY_MIN_MS, doubling to PTY_INPUT_RETRY_MAX_MS while the
 * program takes nothing. At most `maxBacklogBytes` wait: more input is
 * refused with INPUT_BACKLOG_FULL (an input is never refused while nothing
 * waits, whatever its size), and so is all input after a refusal until
 * what waits has been taken: a paste refused is never followed by its
 * Enter, the program gets a prefix of the input, not one with a hole. A
 * pty of another kind (a fake, Windows) gets `pty.write` as before; node-pty's
 * XON/XOFF commands (`handleFlowControl`) go to node-pty, as before.
 */
export class PtyInputWriter {
  private readonly target: WritablePty | undefined;
  /** Waiting input, oldest first, from `head` on (before it: written, and let go). */
  private queue: Array<InputChunk | undefined> = [];
  private head = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private retryMs = PTY_INPUT_RETRY_MIN_MS;
  private closed = false;
  /** Input was refused: more is, until what waits has been taken. */
  private refusing = false;

  constructor(
    private readonly pty: IPty,
    private readonly sessionId: string,
    private readonly maxBacklogBytes: number,
  ) {
    this.target = directTarget(pty);
  }

  /** Bytes of input written by the caller that the program's pty has not taken yet. */
  get backlogBytes(): number {
    return this.queuedBytes;
  }

  /**
   * Writes `data` (UTF-8) now, or as much of it as the pty takes, the rest after what already waits.
   * @throws PtySessionError INPUT_BACKLOG_FULL when input already waits and this would make more than `maxBacklogBytes`.
   */
  write(data: string): void {
    if (this.closed) return;
    if (!this.target || isFlowControlCommand(this.pty, data)) {
      this.pty.write(data);
      return;
    }
    const bytes = Buffer.from(data, 'utf8');
    if (this.refusing || (this.queuedBytes > 0 && this.queuedBytes + bytes.length > this.maxBacklogBytes)) {
      this.refusing = true;
      throw PtySessionErrors.inputBacklogFull(this.sessionId, this.queuedBytes, this.maxBacklogBytes);
    }
    if (this.queuedBytes === 0) {
      const written = this.writeNow(bytes);
      if (written === bytes.length || this.closed) return;
      this.enqueue(bytes.subarray(written));
      this.retryMs = PTY_INPUT_RETRY_MIN_MS;
      this.schedule();
    } else {
      this.enqueue(bytes);
    }
  }

  /** Drops what waits and writes nothing more (the process ended, or its pty is closing). Idempotent. */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Input after what already waits. Small input fills what room the last chunk has and goes on in a new one
   * (PTY_INPUT_CHUNK_BYTES), so chunks are full and what waits takes about its size in memory; large input
   * waits as it is, with no room for more.
   */
  private enqueue(bytes: Buffer): void {
    this.queuedBytes += bytes.length;
    if (bytes.length >= PTY_INPUT_CHUNK_BYTES) {
      this.queue.push({ buffer: bytes, start: 0, end: bytes.length });
      return;
    }
    const last = this.queue.length > this.head ? this.queue[this.queue.length - 1]! : undefined;
    const copied = last ? bytes.copy(last.buffer, last.end) : 0;
    if (last) last.end += copied;
    if (copied === bytes.length) return;
    const buffer = Buffer.allocUnsafe(PTY_INPUT_CHUNK_BYTES);
    this.queue.push({ buffer, start: 0, end: bytes.copy(buffer, 0, copied) });
  }

  /** Bytes the kernel took; closes the writer when the pty is gone. */
  private writeNow(bytes: Buffer): number {
    if (this.target!._socket.destroyed) {
      this.close();
      return 0;
    }
    try {
      return writeSync(this.target!.fd, bytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      this.close(); // EIO, EBADF: the pty is going away, its exit follows
      return 0;
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.retry(), this.retryMs);
    this.timer.unref?.();
  }

  private retry(): void {
    this.timer = undefined;
    let progressed = false;
    while (this.head < this.queue.length && !this.closed) {
      const chunk = this.queue[this.head]!;
      const written = this.writeNow(chunk.buffer.subarray(chunk.start, chunk.end));
      if (written > 0) progressed = true;
      this.queuedBytes -= written;
      chunk.start += written;
      if (chunk.start < chunk.end) break;
      this.queue[this.head++] = undefined; // its memory goes now, not when the queue is next compacted
    }
    // Written chunks leave the queue in bulk: shift() one at a time would move all the others each time.
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= WRITTEN_CHUNKS_BEFORE_COMPACTION) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.queue.length === 0) this.refusing = false;
    if (this.closed || this.queue.length === 0) return;
    this.retryMs = progressed ? PTY_INPUT_RETRY_MIN_MS : Math.min(PTY_INPUT_RETRY_MAX_MS, this.retryMs * 2);
    this.schedule();
  }
}
