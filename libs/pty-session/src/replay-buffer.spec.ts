import { describe, it, expect } from '@jest/globals';
import { mulberry32, randomSequence } from './testing-fakes/test-helpers.js';
import { ReplayBuffer } from './replay-buffer.js';
import { ScanState } from './terminal-sequence-scanner.js';
import { PtySessionError } from './pty-session.errors.js';
import { MIN_REPLAY_BUFFER_BYTES, REPLAY_BLOCK_BYTES, REPLAY_BLOCK_TAIL_SHARE, REPLAY_FIRST_BLOCK_BYTES } from './pty-session.constants.js';

const ESC = '\x1b';
const BEL = '\x07';
const ST = '\x1b\\';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------


function randInt(rand: () => number, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectPtyError(fn: () => unknown, code: string): void {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(PtySessionError);
  expect((error as PtySessionError).code).toBe(code);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The text is well-formed: no replacement character, no lone surrogate, survives a UTF-8 round trip. */
function isWellFormed(text: string): boolean {
  return !text.includes('\uFFFD') && !LONE_SURROGATE.test(text) && Buffer.from(text, 'utf8').toString('utf8') === text;
}

/**
 * What `since(k)` should answer, computed from the UTF-8 bytes of everything
 * appended: the bytes from k to `end`, with k moved forward past any UTF-8
 * continuation bytes (a k inside a character starts at the next one).
 */
function expectedFrom(all: Buffer, k: number, end = all.length): { data: string; offset: number } {
  let at = k;
  while (at < end && (all[at] & 0xc0) === 0x80) at++;
  return { data: all.subarray(at, end).toString('utf8'), offset: at };
}

const WIDE_CHARS = ['a', 'b', 'c', ' ', '\n', 'é', 'ß', '€', '中', '😀', '🎉'];

function randomWideText(rand: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += WIDE_CHARS[Math.floor(rand() * WIDE_CHARS.length)];
  return s;
}

/**
 * Terminal output built from tokens, so that the test knows where sequences
 * are without parsing: a byte offset is "between sequences" when it is a
 * token boundary or a character boundary inside a text token. `safe[p]` says
 * so for every byte offset p in [0, byteLength].
 */
type Token = { kind: 'text' | 'seq'; s: string };

interface Stream {
  text: string;
  bytes: Buffer;
  safe: boolean[];
  /** insideSequence[p]: byte p is part of a sequence and not its first byte. */
  insideSequence: boolean[];
}

function buildStream(tokens: Token[]): Stream {
  const safe: boolean[] = [];
  const insideSequence: boolean[] = [];
  for (const token of tokens) {
    if (token.kind === 'seq') {
      const n = Buffer.byteLength(token.s);
      for (let i = 0; i < n; i++) {
        safe.push(i === 0);
        insideSequence.push(i > 0);
      }
    } else {
      for (const ch of token.s) {
        const n = Buffer.byteLength(ch);
        for (let i = 0; i < n; i++) {
          safe.push(i === 0);
          insideSequence.push(false);
        }
      }
    }
  }
  // All tokens are complete.
  safe.push(true);
  insideSequence.push(false);
  const text = tokens.map((t) => t.s).join('');
  return { text, bytes: Buffer.from(text, 'utf8'), safe, insideSequence };
}

/** Smallest safe offset p with from <= p <= end; `end` when there is none. */
function firstSafe(stream: Stream, from: number, end: number): number {
  for (let p = Math.max(0, from); p <= end; p++) if (stream.safe[p]) return p;
  return end;
}



/** Splits text into pieces of random length, never between the halves of a surrogate pair. */
function randomPieces(rand: () => number, text: string, pickLength: () => number): string[] {
  const pieces: string[] = [];
  let i = 0;
  while (i < text.length) {
    let j = Math.min(text.length, i + pickLength());
    const code = text.charCodeAt(j);
    if (j < text.length && code >= 0xdc00 && code <= 0xdfff) j++;
    pieces.push(text.slice(i, j));
    i = j;
  }
  return pieces;
}

// ---------------------------------------------------------------------------

describe('ReplayBuffer', () => {
  describe('constructor', () => {
    it('accepts the minimum capacity and starts empty at offset 0', () => {
      expect(MIN_REPLAY_BUFFER_BYTES).toBe(1024);
      const buffer = new ReplayBuffer(1024);
      expect(buffer.capacityBytes).toBe(1024);
      expect(buffer.startOffset).toBe(0);
      expect(buffer.endOffset).toBe(0);
      expect(buffer.byteLength).toBe(0);
      expect(buffer.since()).toEqual({ data: '', offset: 0, endOffset: 0, truncated: false });
      expect(buffer.since(0)).toEqual({ data: '', offset: 0, endOffset: 0, truncated: false });
    });

    it('rejects a capacity below 1024 or not an integer with INVALID_OPTIONS', () => {
      for (const capacity of [1023, 0, -1, -2048, 1024.5, 2047.9, NaN, Infinity, '2048' as unknown as number, undefined as unknown as number]) {
        expectPtyError(() => new ReplayBuffer(capacity), 'INVALID_OPTIONS');
      }
    });
  });

  describe('offsets', () => {
    it('append returns the offset of its first byte and endOffset grows by the UTF-8 byte length', () => {
      const buffer = new ReplayBuffer(1024);
      expect('😀'.length).toBe(2); // a surrogate pair in JS, 4 bytes in UTF-8

      expect(buffer.append('abc')).toBe(0);
      expect(buffer.endOffset).toBe(3);
      expect(buffer.append('é')).toBe(3);
      expect(buffer.endOffset).toBe(5);
      expect(buffer.append('€')).toBe(5);
      expect(buffer.endOffset).toBe(8);
      expect(buffer.append('😀')).toBe(8);
      expect(buffer.endOffset).toBe(12);
      expect(buffer.append('aé€😀')).toBe(12);
      expect(buffer.endOffset).toBe(22);

      expect(buffer.startOffset).toBe(0);
      expect(buffer.byteLength).toBe(22);
      expect(buffer.since()).toEqual({ data: 'abcé€😀aé€😀', offset: 0, endOffset: 22, truncated: false });
    });

    it('an empty append returns endOffset and changes nothing', () => {
      const buffer = new ReplayBuffer(1024);
      expect(buffer.append('')).toBe(0);
      buffer.append('x€');
      expect(buffer.append('')).toBe(4);
      expect(buffer.endOffset).toBe(4);
      expect(buffer.byteLength).toBe(4);
      expect(buffer.since()).toEqual({ data: 'x€', offset: 0, endOffset: 4, truncated: false });
    });

    it('startOffset stays 0 until the first eviction', () => {
      const buffer = new ReplayBuffer(1024);
      for (let i = 0; i < 10; i++) {
        buffer.append('0123456789'.repeat(10));
        expect(buffer.startOffset).toBe(0);
        expect(buffer.byteLength).toBe(buffer.endOffset);
      }
      buffer.append('x'.repeat(24)); // exactly full
      expect(buffer.startOffset).toBe(0);
      expect(buffer.byteLength).toBe(1024);
      expect(buffer.since().truncated).toBe(false);

      buffer.append('y'); // one byte over
      expect(buffer.startOffset).toBe(1);
      expect(buffer.byteLength).toBe(1024);
      expect(buffer.endOffset).toBe(1025);
    });

    it('keeps byteLength <= capacity and startOffset + byteLength === endOffset after every append (seeded random sizes)', () => {
      const problems: unknown[] = [];
      let appends = 0;
      let evicting = 0;
      for (const [seed, capacity] of [
        [1, 1024],
        [2, 1025],
        [3, 1500],
        [4, 4096],
        [5, 5000],
        [6, 12000],
      ] as const) {
        const rand = mulberry32(seed);
        const buffer = new ReplayBuffer(capacity);
        let all = Buffer.alloc(0);
        for (let n = 0; n < 300; n++) {
          const roll = rand();
          const length = roll < 0.6 ? randInt(rand, 1, 40) : roll < 0.9 ? randInt(rand, 40, 2000) : randInt(rand, capacity, 3 * capacity);
          const text = randomWideText(rand, length);
          const before = buffer.endOffset;
          const returned = buffer.append(text);
          all = Buffer.concat([all, Buffer.from(text, 'utf8')]);
          appends++;
          if (buffer.startOffset > 0) evicting++;
          const held = buffer.since();
          const expected = all.subarray(buffer.startOffset).toString('utf8');
          const ok =
            returned === before &&
            buffer.endOffset === all.length &&
            buffer.byteLength <= capacity &&
            buffer.startOffset + buffer.byteLength === buffer.endOffset &&
            held.data === expected &&
            held.offset === buffer.startOffset &&
            Buffer.byteLength(held.data) === buffer.byteLength &&
            isWellFormed(held.data);
          if (!ok && problems.length < 10) problems.push({ seed, capacity, n, returned, before, start: buffer.startOffset, end: buffer.endOffset, held: buffer.byteLength });
        }
      }
      expect(appends).toBe(1800);
      expect(evicting).toBeGreaterThan(1000); // the loop really exercised eviction
      expect(problems).toEqual([]);
    });
  });

  describe('since()', () => {
    it('since(endOffset) is empty and not truncated, before and after eviction', () => {
      const buffer = new ReplayBuffer(1024);
      buffer.append('hello €');
      expect(buffer.since(buffer.endOffset)).toEqual({ data: '', offset: 9, endOffset: 9, truncated: false });
      buffer.append('x'.repeat(3000));
      expect(buffer.startOffset).toBeGreaterThan(0);
      expect(buffer.since(buffer.endOffset)).toEqual({ data: '', offset: 3009, endOffset: 3009, truncated: false });
    });

    it('since(k) returns exactly the suffix of everything appended, for every k, across several chunks', () => {
      const rand = mulberry32(42);
      const buffer = new ReplayBuffer(64 * 1024);
      const texts = [
        'A'.repeat(5000), // a chunk of its own (bigger than the merge size)
        ...Array.from({ length: 60 }, () => randomWideText(rand, randInt(rand, 1, 30))), // merged small appends
        '€'.repeat(2000), // 6000 bytes: its own chunk
        'é😀'.repeat(300),
        ...Array.from({ length: 30 }, () => randomWideText(rand, randInt(rand, 1, 60))),
      ];
      for (const text of texts) buffer.append(text);
      const all = Buffer.from(texts.join(''), 'utf8');
      expect(buffer.endOffset).toBe(all.length);
      expect(buffer.startOffset).toBe(0);

      const problems: unknown[] = [];
      for (let k = 0; k <= all.length; k++) {
        const got = buffer.since(k);
        const want = { ...expectedFrom(all, k), endOffset: all.length, truncated: false };
        if (got.data !== want.data || got.offset !== want.offset || got.endOffset !== want.endOffset || got.truncated !== false) {
          if (problems.length < 10) problems.push({ k, gotOffset: got.offset, wantOffset: want.offset, gotLength: got.data.length, wantLength: want.data.length });
        }
      }
      expect(all.length).toBeGreaterThan(14000);
      expect(problems).toEqual([]);
    });

    it('after eviction: exact suffix for k in [startOffset, endOffset], everything held and truncated for k < startOffset', () => {
      const rand = mulberry32(7);
      const buffer = new ReplayBuffer(2048);
      let all = Buffer.alloc(0);
      const problems: unknown[] = [];
      let truncatedChecks = 0;
      for (let n = 0; n < 400; n++) {
        const text = randomWideText(rand, rand() < 0.8 ? randInt(rand, 1, 50) : randInt(rand, 500, 3000));
        buffer.append(text);
        all = Buffer.concat([all, Buffer.from(text, 'utf8')]);
        const start = buffer.startOffset;
        const end = buffer.endOffset;
        const ks = [start, start + 1, end - 1, end, randInt(rand, start, end), randInt(rand, start, end)].filter((k) => k >= start && k <= end);
        for (const k of ks) {
          const got = buffer.since(k);
          const want = expectedFrom(all, k);
          if (got.data !== want.data || got.offset !== want.offset || got.endOffset !== end || got.truncated) {
            if (problems.length < 10) problems.push({ n, k, start, end, got: { ...got, data: got.data.length }, want: { ...want, data: want.data.length } });
          }
        }
        if (start > 0) {
          const held = all.subarray(start).toString('utf8');
          for (const k of [0, start - 1, randInt(rand, 0, start - 1)]) {
            truncatedChecks++;
            const got = buffer.since(k);
            if (got.data !== held || got.offset !== start || got.endOffset !== end || got.truncated !== true) {
              if (problems.length < 10) problems.push({ n, k, start, end, truncatedCase: true, got: { ...got, data: got.data.length } });
            }
          }
        }
      }
      expect(truncatedChecks).toBeGreaterThan(500);
      expect(problems).toEqual([]);
    });

    it('since() without an offset returns all held data, truncated false before eviction and true after', () => {
      const buffer = new ReplayBuffer(1024);
      buffer.append('first line\r\n');
      buffer.append('€'.repeat(100));
      expect(buffer.since()).toEqual({ data: 'first line\r\n' + '€'.repeat(100), offset: 0, endOffset: 312, truncated: false });

      buffer.append('z'.repeat(1001));
      const all = Buffer.from('first line\r\n' + '€'.repeat(100) + 'z'.repeat(1001), 'utf8');
      const slice = buffer.since();
      expect(slice.truncated).toBe(true);
      expect(slice.offset).toBe(buffer.startOffset);
      expect(slice.offset).toBeGreaterThan(0);
      expect(slice.endOffset).toBe(1313);
      expect(slice.data).toBe(all.subarray(slice.offset).toString('utf8'));
      // 1313 - 1024 = 289 falls inside a '€' (they take bytes 12..311, 3 each): the next one starts at 291.
      expect(slice.offset).toBe(291);
      expect(slice.data).toBe('€'.repeat(7) + 'z'.repeat(1001));
    });

    it('rejects invalid offsets with a PtySessionError INVALID_OFFSET', () => {
      const buffer = new ReplayBuffer(1024);
      expectPtyError(() => buffer.since(1), 'INVALID_OFFSET'); // empty buffer: only 0 is valid
      buffer.append('hello');
      for (const bad of [-1, -0.5, 6, 1000, 1.5, NaN, Infinity, -Infinity, '3' as unknown as number, null as unknown as number, 2 ** 53]) {
        expectPtyError(() => buffer.since(bad), 'INVALID_OFFSET');
      }
      // The valid bounds do not throw.
      expect(buffer.since(0).data).toBe('hello');
      expect(buffer.since(5).data).toBe('');
      // Still invalid after eviction, where startOffset > 0: only (> endOffset) and non-integers are errors.
      buffer.append('x'.repeat(2000));
      expectPtyError(() => buffer.since(buffer.endOffset + 1), 'INVALID_OFFSET');
      expectPtyError(() => buffer.since(buffer.startOffset + 0.5), 'INVALID_OFFSET');
      expect(buffer.since(0).truncated).toBe(true);
    });
  });

  describe('offsets inside a multi-byte character', () => {
    it('starts the answer at the next character boundary and reports that offset', () => {
      const buffer = new ReplayBuffer(1024);
      buffer.append('a€b😀c'); // a=0, €=1..3, b=4, 😀=5..8, c=9, end=10
      expect(buffer.since(1)).toEqual({ data: '€b😀c', offset: 1, endOffset: 10, truncated: false });
      expect(buffer.since(2)).toEqual({ data: 'b😀c', offset: 4, endOffset: 10, truncated: false });
      expect(buffer.since(3)).toEqual({ data: 'b😀c', offset: 4, endOffset: 10, truncated: false });
      expect(buffer.since(5)).toEqual({ data: '😀c', offset: 5, endOffset: 10, truncated: false });
      for (const k of [6, 7, 8]) {
        expect(buffer.since(k)).toEqual({ data: 'c', offset: 9, endOffset: 10, truncated: false });
      }
    });

    it('moves to the next chunk when the offset is inside the last character of a chunk', () => {
      const buffer = new ReplayBuffer(64 * 1024);
      buffer.append('€'.repeat(2000)); // 6000 bytes, one chunk
      buffer.append('x'.repeat(5000)); // too big to merge: a second chunk
      buffer.append('ß'.repeat(2100)); // 4200 bytes: a third chunk ending in a 2-byte character
      for (const k of [5998, 5999]) {
        expect(buffer.since(k)).toEqual({ data: 'x'.repeat(5000) + 'ß'.repeat(2100), offset: 6000, endOffset: 15200, truncated: false });
      }
      // Inside the very last character: nothing left, offset at the end.
      expect(buffer.since(15199)).toEqual({ data: '', offset: 15200, endOffset: 15200, truncated: false });
    });

    it('never returns a broken character, for every offset of multi-byte text, also after eviction', () => {
      const rand = mulberry32(99);
      const buffer = new ReplayBuffer(3000);
      let all = Buffer.alloc(0);
      for (let n = 0; n < 40; n++) {
        const text = randomWideText(rand, randInt(rand, 1, 400));
        buffer.append(text);
        all = Buffer.concat([all, Buffer.from(text, 'utf8')]);
      }
      expect(buffer.startOffset).toBeGreaterThan(0);
      const problems: unknown[] = [];
      let insideChar = 0;
      for (let k = buffer.startOffset; k <= buffer.endOffset; k++) {
        const got = buffer.since(k);
        const want = expectedFrom(all, k);
        if (got.offset > k) insideChar++;
        const ok =
          got.offset >= k &&
          got.offset - k <= 3 &&
          got.offset === want.offset &&
          got.data === want.data &&
          isWellFormed(got.data) &&
          Buffer.byteLength(got.data) === buffer.endOffset - got.offset &&
          !got.truncated;
        if (!ok && problems.length < 10) problems.push({ k, offset: got.offset, wantOffset: want.offset });
      }
      expect(insideChar).toBeGreaterThan(500); // many offsets really were inside a character
      expect(problems).toEqual([]);
    });
  });

  describe('eviction at chunk boundaries', () => {
    it('drops whole chunks: startOffset is the sum of the dropped chunk sizes', () => {
      expect(5000).toBeGreaterThan(REPLAY_FIRST_BLOCK_BYTES);
      const buffer = new ReplayBuffer(15000);
      const letters = 'ABCDEFGHIJ';
      for (let n = 0; n < letters.length; n++) {
        expect(buffer.append(letters[n].repeat(5000))).toBe(5000 * n);
        const dropped = Math.max(0, n + 1 - 3);
        expect(buffer.startOffset).toBe(5000 * dropped);
        expect(buffer.byteLength).toBe(5000 * Math.min(n + 1, 3));
        expect(buffer.since().data).toBe(
          letters
            .slice(dropped, n + 1)
            .split('')
            .map((l) => l.repeat(5000))
            .join(''),
        );
      }
    });

    it('drops a whole chunk when it has no place to cut (each chunk is one long OSC title)', () => {
      const buffer = new ReplayBuffer(12000);
      const chunks = 'ABCDEF'.split('').map((l) => `${ESC}]0;${l.repeat(4995)}${BEL}`);
      expect(Buffer.byteLength(chunks[0])).toBe(5000);
      for (let n = 0; n < chunks.length; n++) {
        buffer.append(chunks[n]);
        // 3 chunks = 15000 > 12000: a cut at 3000 would fall inside the first title, so the whole chunk goes.
        const dropped = Math.max(0, n + 1 - 2);
        expect(buffer.startOffset).toBe(n < 2 ? 0 : 5000 * dropped);
        const held = n < 2 ? chunks.slice(0, n + 1) : chunks.slice(dropped, n + 1);
        expect(buffer.since().data).toBe(held.join(''));
        expect(buffer.since().data.startsWith(ESC + ']0;')).toBe(true);
        expect(buffer.byteLength).toBeLessThanOrEqual(12000);
      }
    });

    it('small appends merge, and eviction still cuts at the exact byte in ASCII', () => {
      const buffer = new ReplayBuffer(1024);
      let all = '';
      for (let n = 0; n < 1000; n++) {
        const text = String(n).padStart(10, '.');
        all += text;
        buffer.append(text);
        expect(buffer.byteLength).toBe(Math.min(all.length, 1024));
      }
      expect(buffer.startOffset).toBe(all.length - 1024);
      expect(buffer.since().data).toBe(all.slice(-1024));
    });
  });

  describe('eviction inside one big chunk', () => {
    it('ASCII: keeps exactly the last capacity bytes', () => {
      const input = Array.from({ length: 10000 }, (_, i) => String.fromCharCode(33 + (i % 90))).join('');
      const buffer = new ReplayBuffer(1024);
      expect(buffer.append(input)).toBe(0);
      expect(buffer.byteLength).toBe(1024);
      expect(buffer.startOffset).toBe(10000 - 1024);
      expect(buffer.endOffset).toBe(10000);
      expect(buffer.since().data).toBe(input.slice(-1024));
    });

    it('3-byte characters: keeps the longest suffix of whole characters that fits', () => {
      for (let capacity = 1024; capacity <= 1032; capacity++) {
        const buffer = new ReplayBuffer(capacity);
        buffer.append('€'.repeat(5000));
        const kept = capacity - (capacity % 3);
        const data = buffer.since().data;
        expect({ capacity, bytes: buffer.byteLength }).toEqual({ capacity, bytes: kept });
        expect(data).toBe('€'.repeat(kept / 3));
        expect(isWellFormed(data)).toBe(true);
        expect(buffer.startOffset + buffer.byteLength).toBe(buffer.endOffset);
        expect(buffer.endOffset).toBe(15000);
      }
    });

    it('4-byte characters (surrogate pairs): no lone surrogate, no broken character', () => {
      for (let capacity = 1024; capacity <= 1032; capacity++) {
        for (const emoji of ['😀', '🎉']) {
          const buffer = new ReplayBuffer(capacity);
          buffer.append(emoji.repeat(3000));
          const kept = capacity - (capacity % 4);
          const data = buffer.since().data;
          expect({ capacity, bytes: buffer.byteLength }).toEqual({ capacity, bytes: kept });
          expect(data).toBe(emoji.repeat(kept / 4));
          expect(data.length).toBe(kept / 2);
          expect(LONE_SURROGATE.test(data)).toBe(false);
          expect(data.includes('\uFFFD')).toBe(false);
          expect(Buffer.from(data, 'utf8').toString('utf8')).toBe(data);
          expect(buffer.startOffset + buffer.byteLength).toBe(buffer.endOffset);
        }
      }
    });

    it('mixed 1-4 byte characters: the kept data is the longest character-aligned suffix that fits', () => {
      const rand = mulberry32(2024);
      for (let round = 0; round < 60; round++) {
        const capacity = randInt(rand, 1024, 1100);
        const input = randomWideText(rand, randInt(rand, 1500, 4000));
        const buffer = new ReplayBuffer(capacity);
        // Sometimes a few small appends come first, so that the big one is not the first chunk.
        const small = round % 2 === 0 ? randomWideText(rand, 20) : '';
        if (small) buffer.append(small);
        buffer.append(input);

        // Independent expectation: walk whole code points back from the end.
        const codePoints = Array.from(small + input);
        let suffix = '';
        let bytes = 0;
        for (let i = codePoints.length - 1; i >= 0; i--) {
          const n = Buffer.byteLength(codePoints[i]);
          if (bytes + n > capacity) break;
          bytes += n;
          suffix = codePoints[i] + suffix;
        }
        const data = buffer.since().data;
        expect({ round, bytes: buffer.byteLength }).toEqual({ round, bytes });
        expect(data).toBe(suffix);
        expect(isWellFormed(data)).toBe(true);
        expect(buffer.startOffset + buffer.byteLength).toBe(buffer.endOffset);
      }
    });
    it('multi-byte characters crowded at one end of a chunk: every cut keeps the longest whole-character suffix', () => {
      // The cut's char index is found from a guess at the average bytes per character:
      // text whose wide characters sit at one end makes that guess as wrong as it gets.
      const shapes = ['a'.repeat(500) + '中'.repeat(150), '😀'.repeat(110) + 'a'.repeat(500), 'é'.repeat(200) + 'b'.repeat(300) + '🎉'.repeat(30)];
      for (const shape of shapes) {
        for (let extra = 1; extra <= 1100; extra += 7) {
          const buffer = new ReplayBuffer(1024);
          buffer.append(shape);
          buffer.append('x'.repeat(extra)); // merges into the chunk, or follows it: the cut lands anywhere in `shape`
          const codePoints = Array.from(shape + 'x'.repeat(extra));
          let suffix = '';
          let bytes = 0;
          for (let i = codePoints.length - 1; i >= 0; i--) {
            const n = Buffer.byteLength(codePoints[i]);
            if (bytes + n > 1024) break;
            bytes += n;
            suffix = codePoints[i] + suffix;
          }
          expect({ extra, bytes: buffer.byteLength }).toEqual({ extra, bytes });
          expect(buffer.since().data).toBe(suffix);
          expect(buffer.startOffset + buffer.byteLength).toBe(buffer.endOffset);
        }
      }
    });

    it('a lone surrogate counts as U+FFFD (3 bytes), as Buffer.byteLength does: offsets stay those of the UTF-8 bytes', () => {
      const piece = 'ab\ud800é\udc00中\ud83d\ud83d\ude00x'; // lone high before a 2-byte char, lone low, high + pair
      const all: Buffer[] = [];
      const buffer = new ReplayBuffer(1024);
      for (let i = 0; i < 40; i++) {
        const data = piece.repeat(1 + (i % 7));
        buffer.append(data);
        all.push(Buffer.from(data, 'utf8'));
        const bytes = Buffer.concat(all);
        const held = buffer.since();
        expect(buffer.endOffset).toBe(bytes.length);
        expect(Buffer.from(held.data, 'utf8').equals(bytes.subarray(buffer.startOffset))).toBe(true);
        expect(Buffer.byteLength(held.data)).toBe(buffer.byteLength);
      }
    });
  });

  describe('eviction at escape-sequence boundaries', () => {
    const SEQUENCES: [string, string][] = [
      ['an SGR sequence', `${ESC}[38;5;196m`],
      ['a truecolor SGR sequence', `${ESC}[48;2;10;20;30m`],
      ['an OSC title ended by BEL', `${ESC}]0;some long title${BEL}`],
      ['an OSC title with multi-byte text', `${ESC}]2;café € 😀 ok${BEL}`],
      ['an OSC hyperlink ended by ST', `${ESC}]8;;https://example.com/x${ST}`],
      ['a DCS string ended by ST', `${ESC}Pq#0;2;0;0;0#0~~@@vv@@~~$-${ST}`],
      ['a CSI with C0 controls inside', `${ESC}[38;5\r\n;196m`],
      ['a charset designation ESC ( B', `${ESC}(B`],
      ['a CSI aborted by CAN', `${ESC}[38;5\x18`],
    ];

    // 1700 x '€' + 10 x 'p' = 5110 bytes: bigger than the merge size, ends in ASCII.
    const PREFIX = '€'.repeat(1700) + 'p'.repeat(10);
    const PREFIX_BYTES = 5110;

    /**
     * Builds PREFIX + seq + suffix so that endOffset - capacity lands at byte
     * j of the sequence (j from -3 to past its end), appends it in the given
     * pieces, and checks where the buffer starts.
     */
    function sweep(seq: string, capacity: number, split: (seq: string, suffix: string) => string[][]): { cases: number; problems: unknown[] } {
      const seqBytes = Buffer.byteLength(seq);
      const problems: unknown[] = [];
      let cases = 0;
      for (let j = -3; j <= seqBytes + 3; j++) {
        const suffix = 'q'.repeat(capacity + j - seqBytes);
        const stream = buildStream([
          { kind: 'text', s: PREFIX },
          { kind: 'seq', s: seq },
          { kind: 'text', s: suffix },
        ]);
        const end = stream.bytes.length;
        expect(end - capacity).toBe(PREFIX_BYTES + j);
        const expectedStart = firstSafe(stream, end - capacity, end);
        // Independent of the oracle: inside the sequence the buffer must start right after it.
        const expectedByHand = j > 0 && j < seqBytes ? PREFIX_BYTES + seqBytes : PREFIX_BYTES + j;
        expect(expectedStart).toBe(expectedByHand);
        const expectedData = stream.bytes.subarray(expectedStart).toString('utf8');

        for (const pieces of split(seq, suffix)) {
          cases++;
          expect(pieces.join('')).toBe(stream.text);
          const buffer = new ReplayBuffer(capacity);
          for (const piece of pieces) buffer.append(piece);
          const data = buffer.since().data;
          const start = buffer.startOffset;
          const firstChar = data[0];
          const ok =
            start === expectedStart &&
            stream.safe[start] &&
            buffer.byteLength <= capacity &&
            data === expectedData &&
            (j > 0 && j < seqBytes ? firstChar === 'q' : true) &&
            (j === 0 ? firstChar === ESC : true);
          if (!ok && problems.length < 10) {
            problems.push({ j, pieces: pieces.length, start, expectedStart, head: JSON.stringify(data.slice(0, 12)) });
          }
        }
      }
      return { cases, problems };
    }

    it.each(SEQUENCES)('never starts inside %s: single append, cut swept over every byte of it', (_name, seq) => {
      for (const capacity of [1024, 1500, 8192]) {
        const { cases, problems } = sweep(seq, capacity, (s, suffix) => [[PREFIX + s + suffix]]);
        expect(cases).toBe(Buffer.byteLength(seq) + 7);
        expect(problems).toEqual([]);
      }
    });

    it.each(SEQUENCES)(
      'never starts inside %s: the sequence split across two chunks at every index, cut swept over every byte',
      (_name, seq) => {
        // Capacity 8192 keeps the 5110-byte first chunk whole until the second append,
        // so the second chunk really begins in the middle of the sequence.
        const { cases, problems } = sweep(seq, 8192, (s, suffix) => {
          const splits: string[][] = [];
          for (let k = 1; k < s.length; k++) {
            const code = s.charCodeAt(k);
            if (code >= 0xdc00 && code <= 0xdfff) continue;
            splits.push([PREFIX + s.slice(0, k), s.slice(k) + suffix]);
          }
          return splits;
        });
        expect(cases).toBeGreaterThan(0);
        expect(problems).toEqual([]);
      },
    );

    it.each(SEQUENCES)('never starts inside %s: the sequence appended one character at a time', (_name, seq) => {
      for (const capacity of [1024, 8192]) {
        const { problems } = sweep(seq, capacity, (s, suffix) => [[PREFIX, ...Array.from(s), suffix]]);
        expect(problems).toEqual([]);
      }
    });

    it("a chunk that begins mid-sequence: after the chunk before it is evicted, the buffer does not start with ';196m'", () => {
      // The brief's literal case: small appends (they merge into one chunk).
      const small = new ReplayBuffer(1024);
      small.append('abc' + ESC + '[38;5');
      small.append(';196mtext');
      small.append('z'.repeat(1015)); // 1033 bytes: the cut at byte 9 falls inside the SGR
      expect(small.since().data.startsWith(';196m')).toBe(false);
      expect(small.startOffset).toBe(14);
      expect(small.since().data).toBe('text' + 'z'.repeat(1015));

      // Separate chunks: the first (5000 bytes) ends mid-SGR, the second (5000 bytes) begins mid-SGR.
      const big = new ReplayBuffer(5000);
      big.append('x'.repeat(4991) + 'abc' + ESC + '[38;5');
      expect(big.startOffset).toBe(0);
      big.append(';196mtext' + 'y'.repeat(4991));
      // Dropping exactly the first chunk would leave ';196mtext...': the buffer moves past the sequence.
      expect(big.since().data.startsWith(';196m')).toBe(false);
      expect(big.startOffset).toBe(5005);
      expect(big.since().data).toBe('text' + 'y'.repeat(4991));
      expect(big.since()).toMatchObject({ offset: 5005, endOffset: 10000, truncated: true });

      // The same with an OSC title split across the chunks.
      const osc = new ReplayBuffer(5000);
      osc.append('x'.repeat(4991) + 'ab' + ESC + ']0;tit');
      expect(osc.endOffset).toBe(5000);
      osc.append('le' + BEL + '$ ' + 'y'.repeat(4995));
      expect(osc.since().data).toBe('$ ' + 'y'.repeat(4995));
      expect(osc.startOffset).toBe(5003);
    });

    it('random text and sequences, random appends and capacities: the buffer starts exactly at the first safe offset', () => {
      const problems: unknown[] = [];
      let appends = 0;
      let midSequenceCutsAvoided = 0;
      for (let seed = 1; seed <= 16; seed++) {
        const rand = mulberry32(seed);
        const capacity = [1024, 1100, 2048, 4096, 5000, 9000][seed % 6];
        const tokens: Token[] = [];
        for (let i = 0; i < 3000; i++) {
          tokens.push(rand() < 0.5 ? { kind: 'text', s: randomWideText(rand, randInt(rand, 0, 30)) } : { kind: 'seq', s: randomSequence(rand) });
        }
        const stream = buildStream(tokens);
        const pieces = randomPieces(rand, stream.text, () => {
          const roll = rand();
          return roll < 0.6 ? randInt(rand, 1, 10) : roll < 0.9 ? randInt(rand, 10, 300) : randInt(rand, 300, 6000);
        });
        const buffer = new ReplayBuffer(capacity);
        let start = 0; // the model
        for (const piece of pieces) {
          const before = buffer.endOffset;
          const returned = buffer.append(piece);
          appends++;
          const end = before + Buffer.byteLength(piece);
          if (end - start > capacity) {
            const next = firstSafe(stream, end - capacity, end);
            if (stream.insideSequence[end - capacity]) midSequenceCutsAvoided++;
            start = next;
          }
          const held = buffer.since();
          const k = randInt(rand, buffer.startOffset, end);
          const fromK = buffer.since(k);
          const wantK = expectedFrom(stream.bytes, k, end);
          const ok =
            returned === before &&
            buffer.endOffset === end &&
            buffer.startOffset === start &&
            stream.safe[buffer.startOffset] &&
            buffer.byteLength <= capacity &&
            held.data === stream.bytes.subarray(start, end).toString('utf8') &&
            held.offset === start &&
            held.truncated === start > 0 &&
            fromK.data === wantK.data &&
            fromK.offset === wantK.offset;
          if (!ok && problems.length < 10) {
            problems.push({ seed, capacity, appends, start: buffer.startOffset, modelStart: start, end, head: JSON.stringify(held.data.slice(0, 16)) });
          }
        }
      }
      expect(appends).toBeGreaterThan(1000);
      expect(midSequenceCutsAvoided).toBeGreaterThan(50); // the natural cut really fell inside sequences
      expect(problems).toEqual([]);
    });

    it('a sequence longer than the capacity: output after it does not start inside it', () => {
      const cases = [
        { name: 'OSC title', head: 'hello' + ESC + ']0;' + 'T'.repeat(3000), rest: 'TTT' + BEL, after: '$ ' },
        { name: 'DCS sixel image', head: 'img:' + ESC + 'Pq' + '#0~~@@vv@@~~'.repeat(300), rest: '$-' + ST, after: 'done\r\n' },
        { name: 'OSC 52 clipboard', head: ESC + ']52;c;' + 'QUJD'.repeat(1000), rest: 'QUJD' + BEL, after: 'ok' },
      ];
      const results = cases.map(({ name, head, rest, after }) => {
        const buffer = new ReplayBuffer(1024);
        buffer.append(head);
        // Nothing of the unterminated sequence can be kept, and nothing before it fits.
        const afterHead = { bytes: buffer.byteLength, startIsEnd: buffer.startOffset === buffer.endOffset };
        buffer.append(rest + after);
        const slice = buffer.since();
        return { name, afterHead, data: slice.data, offset: slice.offset, endOffset: slice.endOffset };
      });
      expect(results).toEqual(
        cases.map(({ name, head, rest, after }) => {
          const end = Buffer.byteLength(head + rest + after);
          return { name, afterHead: { bytes: 0, startIsEnd: true }, data: after, offset: end - Buffer.byteLength(after), endOffset: end };
        }),
      );
    });
  });

  describe('pack()', () => {
    /** Random terminal output: wide characters and escape sequences, in random pieces. */
    function randomOutput(rand: () => number, pieces: number): string[] {
      const out: string[] = [];
      for (let i = 0; i < pieces; i++) {
        const roll = rand();
        if (roll < 0.3) out.push(randomSequence(rand));
        else if (roll < 0.9) out.push(randomWideText(rand, randInt(rand, 1, 300)));
        else out.push('plain ascii '.repeat(randInt(rand, 1, 40)));
      }
      // Cut anywhere between characters, sequences included, as reads do.
      return randomPieces(rand, out.join(''), () => randInt(rand, 1, 2500));
    }

    it('changes nothing observable: a buffer packed at random moments answers like one never packed (seeded)', () => {
      for (const [seed, capacity] of [
        [1, 1024],
        [2, 4096],
        [3, 16 * 1024],
        [4, 64 * 1024],
        [5, 256 * 1024], // packed into several blocks
      ] as const) {
        const rand = mulberry32(seed);
        const plain = new ReplayBuffer(capacity);
        const packed = new ReplayBuffer(capacity);
        let packs = 0;
        for (const piece of randomOutput(rand, 400)) {
          plain.append(piece);
          packed.append(piece);
          if (rand() < 0.3 && packed.pack() > 0) packs++;
          expect([packed.startOffset, packed.endOffset, packed.byteLength]).toEqual([plain.startOffset, plain.endOffset, plain.byteLength]);
          if (rand() < 0.2) {
            const offset = randInt(rand, 0, plain.endOffset);
            expect(packed.since(offset)).toEqual(plain.since(offset));
            expect(packed.since()).toEqual(plain.since());
            if (rand() < 0.5 && packed.pack() > 0) packs++;
          }
        }
        expect(packs).toBeGreaterThan(4);
        expect(packed.since()).toEqual(plain.since());
      }
    });

    it('after packing, eviction still never starts inside a sequence that spanned two blocks', () => {
      // An OSC title that starts before the end of the third block (1 + 2 + 4 KiB) and ends well after it.
      const text = '─'.repeat(2000) + `${ESC}]0;` + 'T'.repeat(3000) + BEL + 'after-the-title '.repeat(2500);
      const plain = new ReplayBuffer(64 * 1024);
      const packed = new ReplayBuffer(64 * 1024);
      for (const piece of randomPieces(mulberry32(9), text, () => 100)) for (const buffer of [plain, packed]) buffer.append(piece);
      expect(packed.pack()).toBe(packed.byteLength);
      // Evict the title's start and ~1,000 bytes more: the plain buffer cuts after the title's BEL.
      const more = 'x'.repeat(64 * 1024 - plain.byteLength + Buffer.byteLength('─'.repeat(2000)) + 1000);
      for (const buffer of [plain, packed]) buffer.append(more);
      expect(plain.since().data.startsWith('after-the-title ')).toBe(true);
      expect(packed.since()).toEqual(plain.since());
    });

    it('packs into blocks of exactly the size held when an eighth of their memory or more is unused; then has nothing to gain', () => {
      expect(new ReplayBuffer(1024).pack()).toBe(0);
      const small = new ReplayBuffer(1024);
      small.append('héllo ─ → ✓ 😀 \x1b[1mworld\x1b[0m'); // in a first block of REPLAY_FIRST_BLOCK_BYTES
      const before = small.since();
      expect(small.pack()).toBe(small.byteLength);
      expect(small.pack()).toBe(0); // already packed
      expect(small.since()).toEqual(before);
      expect(small.since().bytes.equals(before.bytes)).toBe(true);
      // Exactly a first block's worth: no memory beyond what is held.
      const full = new ReplayBuffer(REPLAY_FIRST_BLOCK_BYTES);
      full.append('x'.repeat(REPLAY_FIRST_BLOCK_BYTES));
      expect(full.pack()).toBe(0);
      // Its evicted start is memory beyond what is held, too.
      full.append('y'.repeat(10));
      expect(full.pack()).toBe(REPLAY_FIRST_BLOCK_BYTES);
      expect(full.since().data).toBe('x'.repeat(REPLAY_FIRST_BLOCK_BYTES - 10) + 'y'.repeat(10));
      // Little unused memory (a few bytes at the end of the last block): not worth a copy.
      const tight = new ReplayBuffer(256 * 1024);
      tight.append('z'.repeat(20_000)); // a block of its own size
      tight.append('0123456789'); // a fresh 2 KiB block: 2 KiB unused of 22 KiB
      expect(tight.pack()).toBe(0);
      // An evicted start and a partly filled end: packed, into blocks of REPLAY_BLOCK_BYTES at most.
      const lines: string[] = [];
      const evicted = new ReplayBuffer(20_000);
      for (let i = 0; i < 100; i++) {
        lines.push('line ' + String(i).padStart(994, '.') + '\n');
        evicted.append(lines[i]!);
      }
      expect(evicted.byteLength).toBe(20_000);
      const unpacked = evicted.since();
      expect(evicted.pack()).toBe(20_000);
      expect(evicted.since()).toEqual(unpacked);
      expect(evicted.since(evicted.startOffset + REPLAY_BLOCK_BYTES - 1).data).toBe(lines.join('').slice(-(20_000 - REPLAY_BLOCK_BYTES + 1)));
      // Eviction goes on through the packed blocks: the oldest is freed first.
      evicted.append('x'.repeat(REPLAY_BLOCK_BYTES));
      expect(evicted.since().data).toBe((lines.join('') + 'x'.repeat(REPLAY_BLOCK_BYTES)).slice(-20_000));
    });

    it('a surrogate pair appended in halves is two U+FFFD, as encoding each half as UTF-8 gives', () => {
      const buffer = new ReplayBuffer(1024);
      buffer.append('é\ud83d');
      buffer.append('\ude00');
      expect(buffer.endOffset).toBe(2 + 3 + 3);
      expect(buffer.since().data).toBe('é\ufffd\ufffd');
      expect(buffer.pack()).toBe(8);
      expect(buffer.since().data).toBe('é\ufffd\ufffd');
    });

    it('after clear(), pack has nothing to do and offsets go on', () => {
      const buffer = new ReplayBuffer(1024);
      buffer.append('abc─');
      expect(buffer.pack()).toBe(6);
      buffer.clear();
      expect(buffer.append('ü')).toBe(6);
      expect(buffer.since()).toEqual({ data: 'ü', offset: 6, endOffset: 8, truncated: true });
    });
  });

  describe('bytes', () => {
    it('takes Buffers and Uint8Arrays as they are, and answers with the same bytes (not enumerable) and their text', () => {
      const buffer = new ReplayBuffer(4096);
      const text = 'héllo \x1b[31m─ → ✓ 😀\x1b[0m\r\n';
      const bytes = Buffer.from(text, 'utf8');
      expect(buffer.append(bytes)).toBe(0);
      expect(buffer.append(new Uint8Array(bytes))).toBe(bytes.length);
      const slice = buffer.since();
      expect(slice.bytes.equals(Buffer.concat([bytes, bytes]))).toBe(true);
      expect(slice.data).toBe(text + text);
      expect(Object.keys(slice).sort()).toEqual(['data', 'endOffset', 'offset', 'truncated']);
      expect(JSON.parse(JSON.stringify(slice))).toEqual({ data: text + text, offset: 0, endOffset: 2 * bytes.length, truncated: false });
      expect({ ...slice }).not.toHaveProperty('bytes');
    });

    it('copies what it is given: changing the appended bytes afterwards changes nothing held', () => {
      const buffer = new ReplayBuffer(1024);
      const bytes = Buffer.from('abc');
      buffer.append(bytes);
      bytes.fill(0x7a);
      expect(buffer.since().data).toBe('abc');
    });

    it('a character appended byte by byte, across block boundaries: every offset answers whole characters', () => {
      const text = '€😀é'.repeat(3000); // 9 bytes a repeat: characters straddle every block boundary
      const all = Buffer.from(text, 'utf8');
      const buffer = new ReplayBuffer(16 * 1024);
      for (let i = 0; i < all.length; i += 7) buffer.append(all.subarray(i, Math.min(all.length, i + 7)));
      expect(buffer.endOffset).toBe(all.length);
      expect(isWellFormed(buffer.since().data)).toBe(true);
      for (let k = buffer.startOffset; k <= buffer.endOffset; k += 5) {
        const answer = buffer.since(k);
        const expected = expectedFrom(all, k);
        expect({ k, offset: answer.offset, data: answer.data }).toEqual({ k, ...expected });
      }
    });
  });

  describe('appendKept()', () => {
    it('returns the bytes as held, in memory of the buffer that is never written again: the caller may reuse its own', () => {
      const rand = mulberry32(7);
      const buffer = new ReplayBuffer(64 * 1024);
      const reused = Buffer.alloc(4096); // like a read into memory shared by every read
      const kept: Buffer[] = [];
      const expected: Buffer[] = [];
      for (let i = 0; i < 400; i++) {
        const length = randInt(rand, 1, reused.length);
        for (let j = 0; j < length; j++) reused[j] = 0x20 + randInt(rand, 0, 0x5e); // printable ASCII
        const bytes = reused.subarray(0, length);
        const endBefore = buffer.endOffset;
        const held = buffer.appendKept(bytes);
        expect(buffer.endOffset).toBe(endBefore + length);
        expected.push(Buffer.from(bytes));
        kept.push(held ?? Buffer.from(bytes));
        if (held) expect(held.buffer).not.toBe(reused.buffer);
      }
      reused.fill(0);
      // Everything kept is intact, including what was evicted since (the buffer holds 64 KiB of ~800 KiB).
      expect(Buffer.concat(kept).equals(Buffer.concat(expected))).toBe(true);
      expect(buffer.since().bytes.equals(Buffer.concat(expected).subarray(buffer.startOffset))).toBe(true);
      buffer.pack();
      expect(Buffer.concat(kept).equals(Buffer.concat(expected))).toBe(true);
    });

    it('is a view when the output fits in one block, and undefined when it is split between two', () => {
      const buffer = new ReplayBuffer(1024 * 1024);
      const tail = REPLAY_FIRST_BLOCK_BYTES * REPLAY_BLOCK_TAIL_SHARE;
      const first = 'x'.repeat(REPLAY_FIRST_BLOCK_BYTES - tail - 10);
      expect(buffer.appendKept(Buffer.from(first))?.toString()).toBe(first);
      // More room left than the tail share: filled, and the rest goes to the next block.
      expect(buffer.appendKept(Buffer.from('y'.repeat(tail + 30)))).toBeUndefined();
      // The first block is full, the second (twice the size) holds 20 bytes. Up to its tail share, then a
      // character that does not fit goes to the next block whole: a view.
      const second = 2 * REPLAY_FIRST_BLOCK_BYTES;
      const fill = 'z'.repeat(second - 20 - 2 * tail);
      expect(buffer.appendKept(Buffer.from(fill))?.toString()).toBe(fill);
      const big = '€'.repeat(Math.ceil((2 * tail + 1) / 3)); // does not fit in the room left (2 × tail)
      expect(buffer.appendKept(Buffer.from(big))?.toString()).toBe(big);
      expect(buffer.appendKept(Buffer.alloc(0))?.length).toBe(0);
      expect(buffer.since().data).toBe(first + 'y'.repeat(tail + 30) + fill + big);
      expect(buffer.endOffset).toBe(Buffer.byteLength(first + 'y'.repeat(tail + 30) + fill + big));
    });

    it('a small tail of a block stays unused rather than split a read (REPLAY_BLOCK_TAIL_SHARE)', () => {
      const buffer = new ReplayBuffer(1024 * 1024);
      const read = 4095; // what a Linux pty read gives in a busy stream
      const reads = Array.from({ length: 40 }, (_, i) => Buffer.alloc(read, 0x41 + (i % 26)));
      const kept = reads.map((bytes) => buffer.appendKept(bytes));
      // Once blocks are REPLAY_BLOCK_BYTES, four reads fill one to 4 bytes short: no read is split.
      expect(kept.slice(8).filter((view) => view === undefined)).toEqual([]);
      expect(buffer.since().bytes.equals(Buffer.concat(reads))).toBe(true);
      expect(REPLAY_BLOCK_BYTES - 4 * read).toBeLessThanOrEqual(REPLAY_BLOCK_BYTES * REPLAY_BLOCK_TAIL_SHARE);
    });

    it('output larger than the buffer: a block of its own, kept whole although only its end is held', () => {
      const buffer = new ReplayBuffer(MIN_REPLAY_BUFFER_BYTES);
      const big = Buffer.from('0123456789'.repeat(1000));
      const held = buffer.appendKept(big);
      expect(held?.equals(big)).toBe(true);
      expect(buffer.byteLength).toBeLessThanOrEqual(MIN_REPLAY_BUFFER_BYTES);
      expect(buffer.since().bytes.equals(big.subarray(big.length - buffer.byteLength))).toBe(true);
    });
  });

  describe('unfinishedSequence()', () => {
    it('is ground between sequences, and for an offset no longer held or beyond the end', () => {
      const buffer = new ReplayBuffer(MIN_REPLAY_BUFFER_BYTES);
      buffer.append(`plain ${ESC}[31mred${ESC}[0m`);
      expect(buffer.unfinishedSequence(buffer.endOffset)).toEqual({ state: ScanState.Ground });
      expect(buffer.unfinishedSequence(3)).toEqual({ state: ScanState.Ground });
      buffer.append('x'.repeat(2 * MIN_REPLAY_BUFFER_BYTES));
      expect(buffer.unfinishedSequence(0)).toEqual({ state: ScanState.Ground });
      expect(buffer.unfinishedSequence(buffer.endOffset + 1)).toEqual({ state: ScanState.Ground });
    });

    it('gives the bytes of a sequence cut at the offset, from its ESC (at the end, or at an earlier offset)', () => {
      const buffer = new ReplayBuffer(64 * 1024);
      buffer.append(`中文 ${ESC}[9`);
      const cut = buffer.endOffset;
      buffer.append(`6mRED ${ESC}]0;title ✓`);
      expect(buffer.unfinishedSequence(cut)).toEqual({ state: ScanState.Csi, bytes: Buffer.from(`${ESC}[9`) });
      expect(buffer.unfinishedSequence(buffer.endOffset)).toEqual({ state: ScanState.OscString, bytes: Buffer.from(`${ESC}]0;title ✓`) });
      expect(buffer.unfinishedSequence(cut + 2)).toEqual({ state: ScanState.Ground }); // after `6m`
    });

    it('finds an ESC several blocks back (a long string still held)', () => {
      const buffer = new ReplayBuffer(256 * 1024);
      buffer.append('start ');
      const esc = buffer.endOffset;
      buffer.append(`${ESC}Pq`);
      for (let i = 0; i < 40; i++) buffer.append('#0;2;0;0;0' + '~'.repeat(990));
      const { state, bytes } = buffer.unfinishedSequence(buffer.endOffset);
      expect(state).toBe(ScanState.String);
      expect(bytes?.length).toBe(buffer.endOffset - esc);
      expect(bytes?.subarray(0, 3).toString()).toBe(`${ESC}Pq`);
    });

    it('inside a string longer than the buffer (nothing held), gives the state without bytes', () => {
      const buffer = new ReplayBuffer(MIN_REPLAY_BUFFER_BYTES);
      buffer.append(`before${ESC}]52;c;`);
      for (let i = 0; i < 10; i++) buffer.append('QUJD'.repeat(100));
      expect(buffer.byteLength).toBe(0);
      expect(buffer.unfinishedSequence(buffer.endOffset)).toEqual({ state: ScanState.OscString });
      buffer.append(BEL + 'after');
      expect(buffer.unfinishedSequence(buffer.endOffset)).toEqual({ state: ScanState.Ground });
    });
  });

  describe('clear()', () => {
    it('drops everything; offsets continue from where they were', () => {
      const buffer = new ReplayBuffer(1024);
      buffer.append('hello ');
      buffer.append('€');
      buffer.clear();
      expect(buffer.byteLength).toBe(0);
      expect(buffer.startOffset).toBe(9);
      expect(buffer.endOffset).toBe(9);
      expect(buffer.since()).toEqual({ data: '', offset: 9, endOffset: 9, truncated: true });
      expect(buffer.since(9)).toEqual({ data: '', offset: 9, endOffset: 9, truncated: false });
      expect(buffer.since(0)).toEqual({ data: '', offset: 9, endOffset: 9, truncated: true });
      expectPtyError(() => buffer.since(10), 'INVALID_OFFSET');

      expect(buffer.append('next')).toBe(9);
      expect(buffer.endOffset).toBe(13);
      expect(buffer.byteLength).toBe(4);
      expect(buffer.since()).toEqual({ data: 'next', offset: 9, endOffset: 13, truncated: true });
      expect(buffer.since(9)).toEqual({ data: 'next', offset: 9, endOffset: 13, truncated: false });
      expect(buffer.since(11)).toEqual({ data: 'xt', offset: 11, endOffset: 13, truncated: false });
      expect(buffer.since(3)).toEqual({ data: 'next', offset: 9, endOffset: 13, truncated: true });
    });

    it('on an empty buffer keeps offset 0 and nothing truncated', () => {
      const buffer = new ReplayBuffer(1024);
      buffer.clear();
      expect(buffer.since()).toEqual({ data: '', offset: 0, endOffset: 0, truncated: false });
      expect(buffer.append('a')).toBe(0);
      expect(buffer.since()).toEqual({ data: 'a', offset: 0, endOffset: 1, truncated: false });
    });

    it('after clear, eviction keeps working with the continued offsets', () => {
      const buffer = new ReplayBuffer(1024);
      buffer.append('x'.repeat(5000));
      buffer.append('€'.repeat(10));
      buffer.clear();
      expect(buffer.startOffset).toBe(5030);
      let all = '';
      for (let n = 0; n < 50; n++) {
        const text = `line ${n} é€😀\r\n`;
        expect(buffer.append(text)).toBe(5030 + Buffer.byteLength(all));
        all += text;
        expect(buffer.byteLength).toBeLessThanOrEqual(1024);
        expect(buffer.startOffset + buffer.byteLength).toBe(buffer.endOffset);
      }
      const bytes = Buffer.from(all, 'utf8');
      expect(buffer.endOffset).toBe(5030 + bytes.length);
      expect(buffer.since().data).toBe(bytes.subarray(buffer.startOffset - 5030).toString('utf8'));
      expect(isWellFormed(buffer.since().data)).toBe(true);
    });

    it('after clear in the middle of a sequence, the buffer does not start with the rest of that sequence', () => {
      const buffer = new ReplayBuffer(1024);
      buffer.append('abc' + ESC + '[38;5');
      buffer.clear();
      buffer.append(';196mtext');
      const slice = buffer.since();
      // A client that resets its screen (truncated: true) and writes this must not print ';196m'.
      expect(slice.truncated).toBe(true);
      expect(slice.data.startsWith(';196m')).toBe(false);
      expect(slice.data).toBe('text');
      expect(slice.offset).toBe(14);
    });
  });

  describe('many appends (structure only, no timing)', () => {
    it('100k single-byte appends with eviction: offsets and data stay exact', () => {
      const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
      const buffer = new ReplayBuffer(1024);
      let wrongOffsets = 0;
      for (let i = 0; i < 100_000; i++) {
        if (buffer.append(alphabet[i % 36]) !== i) wrongOffsets++;
      }
      expect(wrongOffsets).toBe(0);
      expect(buffer.endOffset).toBe(100_000);
      expect(buffer.startOffset).toBe(100_000 - 1024);
      expect(buffer.byteLength).toBe(1024);
      let expected = '';
      for (let i = 100_000 - 1024; i < 100_000; i++) expected += alphabet[i % 36];
      expect(buffer.since().data).toBe(expected);
      expect(buffer.since(99_990).data).toBe(expected.slice(-10));
      expect(buffer.since(50).truncated).toBe(true);
    });

    it('inside a string longer than the capacity (a sixel image), each read drops a block: the deque of blocks stays small', () => {
      const buffer = new ReplayBuffer(1024);
      buffer.append(`${ESC}P` + 'q'.repeat(2000));
      for (let i = 0; i < 10_000; i++) buffer.append('A'.repeat(100));
      expect(buffer.byteLength).toBe(0); // still inside the DCS: nothing a terminal could start from
      expect((buffer as unknown as { blocks: unknown[] }).blocks.length).toBeLessThan(100);
      buffer.append(`${ST}after`);
      expect(buffer.since().data).toBe('after');
    });

    it('100k single-byte appends without eviction: everything is kept', () => {
      const buffer = new ReplayBuffer(256 * 1024);
      let expected = '';
      for (let i = 0; i < 100_000; i++) {
        const ch = String.fromCharCode(97 + (i % 26));
        buffer.append(ch);
        expected += ch;
      }
      expect(buffer.startOffset).toBe(0);
      expect(buffer.byteLength).toBe(100_000);
      expect(buffer.since().data).toBe(expected);
      for (const k of [0, 1, 4095, 4096, 4097, 8191, 8192, 50_000, 99_999, 100_000]) {
        expect(buffer.since(k).data).toBe(expected.slice(k));
      }
    });

    it('thousands of whole-chunk drops (front of the deque): offsets and data stay exact', () => {
      const buffer = new ReplayBuffer(10000);
      for (let n = 0; n < 3000; n++) {
        const text = String(n % 10).repeat(5000);
        expect(buffer.append(text)).toBe(5000 * n);
        expect(buffer.startOffset).toBe(Math.max(0, 5000 * (n - 1)));
      }
      expect(buffer.since().data).toBe('8'.repeat(5000) + '9'.repeat(5000));
      expect(buffer.since(buffer.endOffset - 5001).data).toBe('8' + '9'.repeat(5000));
      expect(buffer.since(buffer.endOffset - 5000).data).toBe('9'.repeat(5000));
    });
  });
});
