import { MIN_REPLAY_BUFFER_BYTES, REPLAY_CHUNK_MERGE_BYTES, REPLAY_UNPACK_CHUNK_BYTES } from './pty-session.constants.js';
import { PtySessionErrors } from './pty-session.errors.js';
import type { PtyReplaySlice } from './interfaces/pty-session-info.interface.js';
import { findSafeCut, ScanState, scanState } from './terminal-sequence-scanner.js';
import { utf8Boundary, utf8Length } from './utf8-position.js';

/** A character V8 cannot keep in a one-byte string. */
const BEYOND_LATIN1 = /[^\x00-\xff]/;

interface StoredChunk {
  data: string;
  /**
   * Characters of `data` already evicted (only the head chunk has any).
   * Eviction advances it instead of slicing the string, so that trimming a
   * few bytes at a time costs a few bytes, not a copy of the chunk.
   */
  skip: number;
  /** UTF-8 length of `data` from `skip` on (as `Buffer.byteLength` counts; eviction relies on it being exact). */
  bytes: number;
  /** `data` is all ASCII: one byte per character. */
  ascii: boolean;
  /** Parser state at `skip`. */
  startState: ScanState;
  /**
   * Index of the first ESC at or after `skip` (`data.length` when none), or
   * -1 when not known yet. Between `skip` and it, ground text stays ground,
   * so repeated small trims of plain text need no scanning at all.
   */
  nextEsc: number;
}

/**
 * The bounded record of a session's output, addressed by absolute UTF-8 byte
 * offsets that only grow: offset N means "the N-th byte the process ever
 * wrote", whatever was evicted since.
 *
 * - `append` is O(1) amortised: a running total, a deque of chunks (small
 *   chunks merge into the last one), eviction from the front.
 * - Eviction drops whole chunks; when it must cut into one, it cuts only
 *   where the text is between escape sequences and never inside a character,
 *   so the buffer always starts at a place a terminal can start parsing.
 * - `since(offset)` answers "exactly what you missed" or, when part of it
 *   was evicted, "what remains", and says which.
 */
export class ReplayBuffer {
  private chunks: StoredChunk[] = [];
  private head = 0;
  private retainedBytes = 0;
  private start = 0;
  private end = 0;
  private endState: ScanState = ScanState.Ground;
  /** While packed (see `pack`): everything held, as UTF-8; `chunks` is empty. */
  private packed: Buffer | undefined;
  /** Output beyond ASCII came since `pack` last looked (false: it has nothing to gain, without looking again). */
  private mayBeWide = false;

  constructor(readonly capacityBytes: number) {
    if (!Number.isInteger(capacityBytes) || capacityBytes < MIN_REPLAY_BUFFER_BYTES) {
      throw PtySessionErrors.invalidOptions(`replayBufferBytes must be an integer >= ${MIN_REPLAY_BUFFER_BYTES}, got ${capacityBytes}`);
    }
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

  /**
   * Records output. `bytes` is `Buffer.byteLength(data)`, passed in because
   * the caller needs it too. Returns the offset of the data's first byte.
   */
  append(data: string, bytes = Buffer.byteLength(data)): number {
    const offset = this.end;
    if (bytes === 0) return offset;
    this.unpack();
    const startState = this.endState;
    this.endState = scanState(startState, data);
    this.end += bytes;
    this.retainedBytes += bytes;

    const ascii = bytes === data.length;
    if (!ascii) this.mayBeWide = true;
    const last = this.head < this.chunks.length ? this.chunks[this.chunks.length - 1] : undefined;
    // A trimmed chunk takes no more text: its evicted prefix would never be freed.
    if (last !== undefined && last.skip === 0 && last.bytes + bytes <= REPLAY_CHUNK_MERGE_BYTES) {
      last.data += data;
      last.bytes += bytes;
      last.ascii &&= ascii;
    } else {
      this.chunks.push({ data, skip: 0, bytes, ascii, startState, nextEsc: -1 });
    }
    if (this.retainedBytes > this.capacityBytes) this.evict();
    else if (this.chunks[this.head].startState !== ScanState.Ground) this.trimToGround(); // only right after the buffer was emptied
    return offset;
  }

  /**
   * Output from `offset` on. Without an offset: everything held, marked
   * `truncated` when the buffer no longer starts at offset 0.
   * @throws PtySessionError INVALID_OFFSET for an offset that is not an integer in [0, endOffset].
   */
  since(offset?: number): PtyReplaySlice {
    this.unpack();
    if (offset === undefined) {
      return { data: this.joinFrom(this.head), offset: this.start, endOffset: this.end, truncated: this.start > 0 };
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.end) {
      throw PtySessionErrors.invalidOffset(offset, this.end);
    }
    if (offset < this.start) {
      return { data: this.joinFrom(this.head), offset: this.start, endOffset: this.end, truncated: true };
    }
    if (offset === this.end) {
      return { data: '', offset, endOffset: this.end, truncated: false };
    }
    // Walk back from the newest chunk: a reconnecting client is usually near the end.
    let index = this.chunks.length - 1;
    let chunkStart = this.end - this.chunks[index].bytes;
    while (chunkStart > offset) {
      index--;
      chunkStart -= this.chunks[index].bytes;
    }
    const { text, skipped } = sliceBytes(this.chunks[index], offset - chunkStart);
    const parts = [text];
    for (let i = index + 1; i < this.chunks.length; i++) parts.push(this.chunks[i].data);
    return { data: parts.join(''), offset: offset + skipped, endOffset: this.end, truncated: false };
  }

  /** Drops everything held; offsets go on from where they were. */
  clear(): void {
    this.packed = undefined;
    this.mayBeWide = false;
    this.chunks = [];
    this.head = 0;
    this.retainedBytes = 0;
    this.start = this.end;
    // The next output starts wherever the process is in its sequence; keep endState.
  }

  /**
   * Stores what is held as one UTF-8 Buffer until it is needed again (the
   * next append or replay decodes it back), when that takes less memory.
   * For a session gone quiet: V8 keeps a string with any character beyond
   * Latin-1 as UTF-16, two bytes per unit, so box drawing, arrows or emoji
   * in mostly ASCII output cost about twice their UTF-8 size. Strings within
   * Latin-1 take one byte per character, and CJK text takes two per
   * character against three in UTF-8: those stay as they are. Nothing
   * observable changes: the same offsets, the same replays.
   * @returns the bytes packed (0 when there was nothing to gain).
   */
  pack(): number {
    if (this.packed || !this.mayBeWide || this.head >= this.chunks.length) return 0;
    this.mayBeWide = false; // looked: until output beyond ASCII comes again
    let heapBytes = 0;
    for (let i = this.head; i < this.chunks.length; i++) {
      const { data, ascii } = this.chunks[i];
      heapBytes += ascii || !BEYOND_LATIN1.test(data) ? data.length : 2 * data.length;
    }
    if (this.retainedBytes >= heapBytes) return 0;
    const text = this.joinFrom(this.head);
    // Its own memory, not a slice of Node's shared pool (which a small kept slice would pin).
    const packed = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
    packed.write(text, 'utf8');
    // Halves of a surrogate pair appended apart were counted as two characters (3 + 3 bytes);
    // joined they are one (4): the offsets would no longer match. Keep such text as it is.
    if (packed.length !== this.retainedBytes) return 0;
    this.packed = packed;
    this.chunks = [];
    this.head = 0;
    return packed.length;
  }

  /**
   * Back to text, in chunks of about REPLAY_UNPACK_CHUNK_BYTES cut before a
   * character's first byte, each with the parser state at its start (the
   * buffer itself starts between sequences, as it always does).
   */
  private unpack(): void {
    const packed = this.packed;
    if (!packed) return;
    this.packed = undefined;
    this.mayBeWide = true; // worth packing again when quiet again
    this.chunks = [];
    this.head = 0;
    let state: ScanState = ScanState.Ground;
    for (let start = 0; start < packed.length; ) {
      let end = Math.min(packed.length, start + REPLAY_UNPACK_CHUNK_BYTES);
      while (end < packed.length && (packed[end] & 0xc0) === 0x80) end--; // not inside a character
      const data = packed.toString('utf8', start, end);
      this.chunks.push({ data, skip: 0, bytes: end - start, ascii: data.length === end - start, startState: state, nextEsc: -1 });
      state = scanState(state, data);
      start = end;
    }
  }

  private evict(): void {
    while (this.retainedBytes > this.capacityBytes) {
      const chunk = this.chunks[this.head];
      const excess = this.retainedBytes - this.capacityBytes;
      if (chunk.bytes <= excess) {
        this.dropHead();
      } else if (chunk.ascii) {
        this.trimHead(chunk.skip + excess, excess); // one byte per character: nothing to count
      } else {
        // The char index comes with its byte count, so trimHead counts only what the safe cut adds.
        const boundary = utf8Boundary(chunk.data, chunk.skip, chunk.bytes, excess);
        this.trimHead(boundary.index, boundary.bytes);
      }
    }
    this.trimToGround();
    this.compact();
  }

  /** The buffer must start between sequences: trims a head that begins inside one. */
  private trimToGround(): void {
    while (this.head < this.chunks.length && this.chunks[this.head].startState !== ScanState.Ground) {
      const chunk = this.chunks[this.head];
      this.trimHead(chunk.skip, 0);
    }
  }

  /**
   * Cuts the head chunk at the first safe place at or after char `from`
   * (a character boundary `fromBytes` UTF-8 bytes past `skip`); drops the
   * chunk if there is none.
   */
  private trimHead(from: number, fromBytes: number): void {
    const chunk = this.chunks[this.head];
    let cut: number;
    if (chunk.startState === ScanState.Ground) {
      if (chunk.nextEsc < chunk.skip) {
        const esc = chunk.data.indexOf('\x1b', chunk.skip);
        chunk.nextEsc = esc === -1 ? chunk.data.length : esc;
      }
      // No ESC between skip and from: still ground at `from`, so only a surrogate pair can move the cut.
      cut = findSafeCut(chunk.data, ScanState.Ground, from, chunk.nextEsc >= from ? from : chunk.skip);
    } else {
      cut = findSafeCut(chunk.data, chunk.startState, from, chunk.skip);
    }
    if (cut >= chunk.data.length) {
      this.dropHead();
      return;
    }
    // The cut moves past `from` only to leave a sequence or a surrogate pair: usually a few characters to count.
    const removed = fromBytes + (chunk.ascii ? cut - from : utf8Length(chunk.data, from, cut));
    chunk.skip = cut;
    chunk.bytes -= removed;
    chunk.startState = ScanState.Ground;
    this.retainedBytes -= removed;
    this.start += removed;
  }

  private dropHead(): void {
    const chunk = this.chunks[this.head];
    this.chunks[this.head] = undefined as unknown as StoredChunk;
    this.head++;
    this.retainedBytes -= chunk.bytes;
    this.start += chunk.bytes;
  }

  /** Keeps the deque's dead prefix from growing: O(1) amortised. */
  private compact(): void {
    if (this.head > 32 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  private joinFrom(index: number): string {
    if (index >= this.chunks.length) return '';
    if (index === this.chunks.length - 1) return retainedText(this.chunks[index]);
    const parts: string[] = new Array(this.chunks.length - index);
    for (let i = index; i < this.chunks.length; i++) parts[i - index] = retainedText(this.chunks[i]);
    return parts.join('');
  }
}

function retainedText(chunk: StoredChunk): string {
  return chunk.skip === 0 ? chunk.data : chunk.data.slice(chunk.skip);
}

/** The chunk's text from byte `skip` on; a cut inside a character moves to the next character. */
function sliceBytes(chunk: StoredChunk, skip: number): { text: string; skipped: number } {
  if (skip === 0) return { text: retainedText(chunk), skipped: 0 };
  if (chunk.ascii) return { text: chunk.data.slice(chunk.skip + skip), skipped: 0 };
  const encoded = Buffer.from(retainedText(chunk), 'utf8');
  let at = skip;
  while (at < encoded.length && (encoded[at] & 0xc0) === 0x80) at++; // continuation bytes
  return { text: encoded.subarray(at).toString('utf8'), skipped: at - skip };
}
