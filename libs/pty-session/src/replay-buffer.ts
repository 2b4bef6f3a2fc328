import {
  MIN_REPLAY_BUFFER_BYTES,
  REPLAY_BLOCK_BYTES,
  REPLAY_BLOCK_TAIL_SHARE,
  REPLAY_FIRST_BLOCK_BYTES,
  REPLAY_PACK_MIN_UNUSED_SHARE,
} from './pty-session.constants.js';
import { PtySessionErrors } from './pty-session.errors.js';
import type { PtyReplaySlice } from './interfaces/pty-session-info.interface.js';
import { asBuffer, attachOutputText } from './output-text.js';
import { findSafeCut, isUtf8Continuation, ScanState, scanState } from './terminal-sequence-scanner.js';

/** A piece of memory output is copied into, filled from the front. */
interface Block {
  bytes: Buffer;
  /** Index of the first byte still held (what is before it was evicted). */
  start: number;
  /** Index one past the last byte written. */
  end: number;
  /** Parser state at `start`. */
  startState: ScanState;
}

const EMPTY = Buffer.alloc(0);
const ESC = 0x1b;

/**
 * The bounded record of a session's output, as UTF-8 bytes, addressed by
 * absolute byte offsets that only grow: offset N means "the N-th byte the
 * process ever wrote", whatever was evicted since.
 *
 * - `append` copies the output into blocks of memory (REPLAY_BLOCK_BYTES
 *   each, smaller while the session has printed little; a single output
 *   larger than that gets a block of its own size): O(1) amortised, a
 *   running total, eviction from the front. A block holds whole characters
 *   only (of what was appended whole).
 * - Eviction drops whole blocks; when it must cut into one, it cuts only
 *   where the output is between escape sequences and at the start of a
 *   character, so the buffer always starts at a place a terminal can start
 *   parsing.
 * - `since(offset)` answers "exactly what you missed" or, when part of it
 *   was evicted, "what remains", and says which.
 *
 * Appending text encodes it as UTF-8. Bytes appended should be valid UTF-8
 * (a session's are, see `Utf8Chunker`): the buffer counts and cuts them as
 * they are, and its slices' `data` decodes them.
 */
export class ReplayBuffer {
  private blocks: Block[] = [];
  private head = 0;
  private retainedBytes = 0;
  private start = 0;
  private end = 0;
  private endState: ScanState = ScanState.Ground;
  /**
   * Size of the next block: doubles from REPLAY_FIRST_BLOCK_BYTES up to
   * REPLAY_BLOCK_BYTES (or the capacity, if smaller), so that a session that
   * printed little holds little.
   */
  private nextBlockBytes: number;
  private readonly maxBlockBytes: number;

  constructor(readonly capacityBytes: number) {
    if (!Number.isInteger(capacityBytes) || capacityBytes < MIN_REPLAY_BUFFER_BYTES) {
      throw PtySessionErrors.invalidOptions(`replayBufferBytes must be an integer >= ${MIN_REPLAY_BUFFER_BYTES}, got ${capacityBytes}`);
    }
    this.maxBlockBytes = Math.min(REPLAY_BLOCK_BYTES, capacityBytes);
    this.nextBlockBytes = this.firstBlockBytes();
  }

  /** Offset of the first byte still held. */
  get startOffset(): number {
    return this.start;
  }

  /** Offset one past the last byte ever appended. */
  get endOffset(): number {
    return this.end;
  }

  /** Bytes currently held. */
  get byteLength(): number {
    return this.retainedBytes;
  }

  /** Records output (text is encoded as UTF-8). Returns the offset of its first byte. */
  append(output: string | Uint8Array): number {
    const offset = this.end;
    this.appendKept(typeof output === 'string' ? Buffer.from(output, 'utf8') : asBuffer(output));
    return offset;
  }

  /**
   * Records output, like `append`, and returns it as the buffer keeps it: a
   * view of the buffer's memory, which is never written again (eviction
   * only forgets it), so the caller may reuse the memory it passed. When the
   * output had to be split between two blocks, it returns undefined: the
   * caller keeps its own copy. Its offset is `endOffset - bytes.length`.
   */
  appendKept(bytes: Buffer): Buffer | undefined {
    if (bytes.length === 0) return bytes;
    const stateBefore = this.endState;
    this.endState = scanState(stateBefore, bytes);
    this.end += bytes.length;
    this.retainedBytes += bytes.length;
    const kept = this.copyIn(bytes, stateBefore);
    if (this.retainedBytes > this.capacityBytes) this.evict();
    else this.trimToStart(); // looks at the first block only: trims it only right after the buffer was emptied
    return kept;
  }

  /**
   * Output from `offset` on. Without an offset: everything held, marked
   * `truncated` when the buffer no longer starts at offset 0. An offset
   * inside a character starts the answer at the next character.
   * @throws PtySessionError INVALID_OFFSET for an offset that is not an integer in [0, endOffset].
   */
  since(offset?: number): PtyReplaySlice {
    if (offset === undefined) return this.sliceFrom(this.head, this.headStart(), this.start, this.start > 0);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.end) {
      throw PtySessionErrors.invalidOffset(offset, this.end);
    }
    if (offset < this.start) return this.sliceFrom(this.head, this.headStart(), this.start, true);
    if (offset === this.end) return slice(EMPTY, offset, this.end, false);
    // Walk back from the newest block: a reconnecting client is usually near the end.
    let index = this.blocks.length - 1;
    let blockStart = this.end - held(this.blocks[index]!);
    while (blockStart > offset) {
      index--;
      blockStart -= held(this.blocks[index]!);
    }
    let block = this.blocks[index]!;
    let at = block.start + (offset - blockStart);
    let skipped = 0;
    // Not inside a character: on to its end (in the next block, if a character was appended in pieces).
    for (;;) {
      while (at < block.end && isUtf8Continuation(block.bytes[at]!)) {
        at++;
        skipped++;
      }
      if (at < block.end || index === this.blocks.length - 1) break;
      block = this.blocks[++index]!;
      at = block.start;
    }
    return this.sliceFrom(index, at, offset + skipped, false);
  }

  /**
   * The escape sequence the output is in the middle of at `offset` (between
   * `startOffset` and `endOffset`): the parser state there and, when its
   * ESC is still held, its bytes from that ESC up to `offset`. Ground (no
   * bytes) between sequences, and for an offset no longer held.
   */
  unfinishedSequence(offset: number): { state: ScanState; bytes?: Buffer } {
    if (!Number.isSafeInteger(offset) || offset < this.start || offset > this.end) return { state: ScanState.Ground };
    // The last ESC before `offset`, searched back from the newest block.
    let blockEnd = this.end;
    for (let i = this.blocks.length - 1; i >= this.head; i--) {
      const block = this.blocks[i]!;
      const blockStart = blockEnd - held(block);
      if (blockStart < offset) {
        const at = block.bytes.subarray(block.start, block.start + (Math.min(offset, blockEnd) - blockStart)).lastIndexOf(ESC);
        if (at >= 0) {
          const bytes = this.since(blockStart + at).bytes.subarray(0, offset - (blockStart + at));
          const state = scanState(ScanState.Escape, bytes, 1);
          return state === ScanState.Ground ? { state } : { state, bytes };
        }
      }
      blockEnd = blockStart;
    }
    // No ESC held before it: ground from the buffer's start on, unless nothing is held at all (a string
    // longer than the buffer evicted everything, or `clear()`): then the output is where it ended.
    return { state: this.retainedBytes === 0 ? this.endState : ScanState.Ground };
  }

  /** Drops everything held; offsets go on from where they were. */
  clear(): void {
    this.blocks = [];
    this.head = 0;
    this.retainedBytes = 0;
    this.start = this.end;
    this.nextBlockBytes = this.firstBlockBytes();
    // The next output starts wherever the process is in its sequence; keep endState.
  }

  /**
   * Moves what is held into blocks of exactly its size (REPLAY_BLOCK_BYTES
   * each, the last one smaller), when at least REPLAY_PACK_MIN_UNUSED_SHARE
   * of the blocks' memory is unused: the unwritten end of the last block,
   * the evicted start of the first. For a session gone quiet: nothing
   * observable changes, the same offsets, the same replays.
   * @returns the bytes packed (0 when there was not enough to gain).
   */
  pack(): number {
    if (this.head >= this.blocks.length) return 0;
    let allocated = 0;
    for (let i = this.head; i < this.blocks.length; i++) allocated += this.blocks[i]!.bytes.length;
    if (allocated - this.retainedBytes < allocated * REPLAY_PACK_MIN_UNUSED_SHARE) return 0;
    const held = this.sliceFrom(this.head, this.headStart(), this.start, false).bytes;
    const packed: Block[] = [];
    let state: ScanState = ScanState.Ground; // the buffer always starts between sequences
    for (let from = 0; from < held.length; ) {
      let to = Math.min(held.length, from + REPLAY_BLOCK_BYTES);
      while (to < held.length && to > from + 1 && isUtf8Continuation(held[to]!)) to--; // whole characters
      // Memory of its own, not a slice of Node's shared pool (which a small kept block would pin).
      const bytes = Buffer.allocUnsafeSlow(to - from);
      held.copy(bytes, 0, from, to);
      packed.push({ bytes, start: 0, end: bytes.length, startState: state });
      state = scanState(state, held, from, to);
      from = to;
    }
    this.blocks = packed;
    this.head = 0;
    this.nextBlockBytes = this.firstBlockBytes(); // the next output may be little again
    return held.length;
  }

  /**
   * Copies output into the last block, and a new one when it fills, each ending at a character's end
   * (see REPLAY_BLOCK_TAIL_SHARE for when the output goes to the new block whole).
   * @returns the copy when it is in one block, else undefined.
   */
  private copyIn(bytes: Buffer, stateBefore: ScanState): Buffer | undefined {
    let from = 0;
    const last = this.head < this.blocks.length ? this.blocks[this.blocks.length - 1] : undefined;
    if (last) {
      let room = last.bytes.length - last.end;
      if (room >= bytes.length) {
        const at = last.end;
        last.end += bytes.copy(last.bytes, at);
        return last.bytes.subarray(at, last.end);
      }
      if (room <= last.bytes.length * REPLAY_BLOCK_TAIL_SHARE) room = 0; // a small tail stays unused: the output, whole, goes on
      while (room > 0 && isUtf8Continuation(bytes[room]!)) room--; // leave a character whole for the next block
      if (room > 0) {
        last.end += bytes.copy(last.bytes, last.end, 0, room);
        from = room;
      }
    }
    const rest = bytes.length - from;
    const size = Math.max(rest, this.nextBlockBytes);
    this.nextBlockBytes = Math.min(this.maxBlockBytes, this.nextBlockBytes * 2);
    const startState = from === 0 ? stateBefore : scanState(stateBefore, bytes, 0, from);
    const block: Block = { bytes: Buffer.allocUnsafeSlow(size), start: 0, end: rest, startState };
    bytes.copy(block.bytes, 0, from);
    this.blocks.push(block);
    return from === 0 ? block.bytes.subarray(0, rest) : undefined;
  }

  private evict(): void {
    while (this.retainedBytes > this.capacityBytes) {
      const block = this.blocks[this.head]!;
      const excess = this.retainedBytes - this.capacityBytes;
      if (held(block) <= excess) this.dropHead();
      else this.trimHead(block.start + excess);
    }
    this.trimToStart();
  }

  /** The buffer must start between sequences and at a character's start: trims a head block that does not. */
  private trimToStart(): void {
    while (this.head < this.blocks.length) {
      const block = this.blocks[this.head]!;
      if (block.startState === ScanState.Ground && !isUtf8Continuation(block.bytes[block.start]!)) return;
      this.trimHead(block.start);
    }
  }

  /** Cuts the head block at the first safe place at or after index `from`; drops the block if there is none. */
  private trimHead(from: number): void {
    const block = this.blocks[this.head]!;
    const cut = findSafeCut(block.bytes, block.startState, from, block.start, block.end);
    if (cut >= block.end) {
      this.dropHead();
      return;
    }
    const removed = cut - block.start;
    block.start = cut;
    block.startState = ScanState.Ground;
    this.retainedBytes -= removed;
    this.start += removed;
  }

  private dropHead(): void {
    const block = this.blocks[this.head]!;
    this.blocks[this.head] = undefined as unknown as Block;
    this.head++;
    this.retainedBytes -= held(block);
    this.start += held(block);
    this.compact();
  }

  private firstBlockBytes(): number {
    return Math.min(REPLAY_FIRST_BLOCK_BYTES, this.maxBlockBytes);
  }

  /** Keeps the deque's dead prefix from growing: O(1) amortised. */
  private compact(): void {
    if (this.head > 32 && this.head * 2 > this.blocks.length) {
      this.blocks = this.blocks.slice(this.head);
      this.head = 0;
    }
  }

  private headStart(): number {
    return this.head < this.blocks.length ? this.blocks[this.head]!.start : 0;
  }

  /** Everything held from index `at` of block `index` on, starting at `offset`. */
  private sliceFrom(index: number, at: number, offset: number, truncated: boolean): PtyReplaySlice {
    if (index >= this.blocks.length) return slice(EMPTY, offset, this.end, truncated);
    const first = this.blocks[index]!;
    // One block: a view, no copy (bytes before a block's `end` are never written again).
    if (index === this.blocks.length - 1) return slice(first.bytes.subarray(at, first.end), offset, this.end, truncated);
    const joined = Buffer.allocUnsafe(this.end - offset);
    let written = first.bytes.copy(joined, 0, at, first.end);
    for (let i = index + 1; i < this.blocks.length; i++) {
      const block = this.blocks[i]!;
      written += block.bytes.copy(joined, written, block.start, block.end);
    }
    return slice(joined, offset, this.end, truncated);
  }
}

function held(block: Block): number {
  return block.end - block.start;
}

function slice(bytes: Buffer, offset: number, endOffset: number, truncated: boolean): PtyReplaySlice {
  return attachOutputText({ offset, endOffset, truncated }, bytes) as PtyReplaySlice;
}
