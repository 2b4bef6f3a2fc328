import { describe, it, expect } from '@jest/globals';
import { isUtf8 } from 'node:buffer';
import { mulberry32 } from './testing-fakes/test-helpers.js';
import { Utf8Chunker } from './utf8-chunker.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd]); // U+FFFD

function bytes(...values: number[]): Buffer {
  return Buffer.from(values);
}

function hex(buffer: Buffer | undefined): string | undefined {
  return buffer?.toString('hex');
}

/** The bytes of the text that decoding `input` as UTF-8 in one go gives (invalid bytes become U+FFFD). */
function decodedBytes(input: Buffer): Buffer {
  return Buffer.from(Buffer.from(input).toString('utf8'), 'utf8');
}

/** Pushes every read, then flushes; returns each push's output and the flush's. */
function run(reads: Buffer[]): { outputs: (Buffer | undefined)[]; flushed: Buffer | undefined; all: Buffer } {
  const chunker = new Utf8Chunker();
  const outputs = reads.map((read) => chunker.push(read));
  const flushed = chunker.flush();
  const all = Buffer.concat([...outputs, flushed].filter((b): b is Buffer => b !== undefined));
  return { outputs, flushed, all };
}

/** Every way to cut `input` into consecutive non-empty reads (2^(n-1) of them). */
function* everySplit(input: Buffer): Generator<Buffer[]> {
  const n = input.length;
  if (n === 0) return;
  for (let mask = 0; mask < 1 << (n - 1); mask++) {
    const reads: Buffer[] = [];
    let start = 0;
    for (let i = 1; i < n; i++) {
      if (mask & (1 << (i - 1))) {
        reads.push(input.subarray(start, i));
        start = i;
      }
    }
    reads.push(input.subarray(start));
    yield reads;
  }
}

/** Byte offsets at which the characters of `text` start, plus its byte length. */
function characterBoundaries(text: string): Set<number> {
  const boundaries = new Set<number>([0]);
  let at = 0;
  for (const char of text) {
    at += Buffer.byteLength(char, 'utf8');
    boundaries.add(at);
  }
  return boundaries;
}

const CHARACTERS = ['\u0080', 'é', '\u07ff', '\u0800', '€', '中', '\uffff', '\u{10000}', '😀', '\u{10ffff}'];

// ---------------------------------------------------------------------------

describe('Utf8Chunker', () => {
  describe('valid input', () => {
    it('passes each read through as the very same Buffer when nothing is carried', () => {
      const chunker = new Utf8Chunker();
      for (const text of ['hello', ' world\r\n', '\x1b[1mé€中😀\x1b[0m', 'a', '\u{10ffff}']) {
        const read = Buffer.from(text, 'utf8');
        expect(chunker.push(read)).toBe(read);
      }
      expect(chunker.flush()).toBeUndefined();
    });

    it('passes through a read that is a view into a larger buffer as that same view', () => {
      const backing = Buffer.from('xxé😀yy', 'utf8');
      const read = backing.subarray(2, backing.length - 2);
      const out = new Utf8Chunker().push(read);
      expect(out).toBe(read);
      expect(out!.toString('utf8')).toBe('é😀');
    });

    it('passes reads through as the same Buffer again once a split character has been completed', () => {
      const chunker = new Utf8Chunker();
      const euro = Buffer.from('€', 'utf8');
      expect(chunker.push(Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]))!.toString()).toBe('a');
      const completed = chunker.push(euro.subarray(1));
      expect(completed!.toString()).toBe('€');
      const next = Buffer.from('next 😀', 'utf8');
      expect(chunker.push(next)).toBe(next);
    });

    it('returns undefined for an empty read', () => {
      const chunker = new Utf8Chunker();
      expect(chunker.push(Buffer.alloc(0))).toBeUndefined();
      expect(chunker.flush()).toBeUndefined();
    });

    it('returns undefined for a read that is only part of a character, and the whole character once it is complete', () => {
      for (const char of CHARACTERS) {
        const encoded = Buffer.from(char, 'utf8');
        const chunker = new Utf8Chunker();
        for (let k = 0; k < encoded.length - 1; k++) {
          expect({ char, k, out: chunker.push(encoded.subarray(k, k + 1)) }).toEqual({ char, k, out: undefined });
        }
        expect({ char, out: hex(chunker.push(encoded.subarray(encoded.length - 1))) }).toEqual({ char, out: encoded.toString('hex') });
        expect(chunker.flush()).toBeUndefined();
      }
    });

    it('holds back only the unfinished character and sends what comes before it at once', () => {
      const chunker = new Utf8Chunker();
      const smile = Buffer.from('😀', 'utf8');
      expect(hex(chunker.push(Buffer.concat([Buffer.from('ab'), smile.subarray(0, 3)])))).toBe(Buffer.from('ab').toString('hex'));
      expect(hex(chunker.push(Buffer.concat([smile.subarray(3), Buffer.from('c€'), Buffer.from('€').subarray(0, 2)])))).toBe(
        Buffer.from('😀c€').toString('hex'),
      );
      expect(hex(chunker.push(Buffer.from('€').subarray(2)))).toBe(Buffer.from('€').toString('hex'));
      expect(chunker.flush()).toBeUndefined();
    });

    it('brings out a 2-, 3- or 4-byte character split into two, three or four reads whole, at every split point', () => {
      let splits = 0;
      for (const char of CHARACTERS) {
        for (const input of [Buffer.from(char, 'utf8'), Buffer.from('a' + char + 'b', 'utf8'), Buffer.from(char + char, 'utf8')]) {
          const boundaries = characterBoundaries(input.toString('utf8'));
          for (const reads of everySplit(input)) {
            splits++;
            const { outputs, flushed, all } = run(reads);
            expect(hex(all)).toBe(hex(input));
            expect(flushed).toBeUndefined();
            // After each read, exactly the whole characters read so far are out.
            let readSoFar = 0;
            let outSoFar = 0;
            outputs.forEach((out, k) => {
              readSoFar += reads[k]!.length;
              let wholeEnd = readSoFar;
              while (!boundaries.has(wholeEnd)) wholeEnd--;
              const expected = wholeEnd > outSoFar ? input.subarray(outSoFar, wholeEnd) : undefined;
              expect({ reads: reads.map(hex), k, out: hex(out) }).toEqual({ reads: reads.map(hex), k, out: hex(expected) });
              outSoFar = wholeEnd;
            });
          }
        }
      }
      expect(splits).toBe(766); // 2^(n-1) ways to cut n bytes, summed over the inputs
    });

    it('keeps its own copy of the carried bytes: the caller may reuse the read buffer', () => {
      const chunker = new Utf8Chunker();
      const read = Buffer.concat([Buffer.from('a'), Buffer.from('😀').subarray(0, 2)]);
      expect(chunker.push(read)!.toString()).toBe('a');
      read.fill(0x7a);
      expect(chunker.push(Buffer.from('😀').subarray(2))!.toString()).toBe('😀');
    });
  });

  describe('invalid input', () => {
    const cases: { name: string; input: Buffer; expected: string }[] = [
      { name: 'a lone continuation byte 0x80', input: bytes(0x80), expected: 'efbfbd' },
      { name: 'the byte 0xff', input: bytes(0xff), expected: 'efbfbd' },
      { name: 'an overlong C0 80', input: bytes(0xc0, 0x80), expected: 'efbfbdefbfbd' },
      { name: 'a truncated sequence followed by ASCII (E2 41)', input: bytes(0xe2, 0x41), expected: 'efbfbd41' },
      { name: 'a truncated sequence E2 82 followed by ASCII', input: bytes(0xe2, 0x82, 0x41), expected: 'efbfbd41' },
      { name: 'an encoded surrogate ED A0 80', input: bytes(0xed, 0xa0, 0x80), expected: 'efbfbdefbfbdefbfbd' },
      { name: 'a code point beyond U+10FFFF (F4 90 80 80)', input: bytes(0xf4, 0x90, 0x80, 0x80), expected: 'efbfbd'.repeat(4) },
      { name: 'an overlong E0 80 80', input: bytes(0xe0, 0x80, 0x80), expected: 'efbfbd'.repeat(3) },
      { name: 'a truncated 4-byte sequence followed by a whole character', input: bytes(0xf0, 0x9f, 0x98, 0xe2, 0x82, 0xac), expected: 'efbfbde282ac' },
      { name: 'a 5-byte lead F8', input: bytes(0xf8, 0x88, 0x80), expected: 'efbfbd'.repeat(3) },
    ];

    for (const { name, input, expected } of cases) {
      it(`turns ${name} into U+FFFD as decoding would, in one read and split at every point, with text around it`, () => {
        // The expectation is also what decoding gives: the test checks both.
        expect(hex(decodedBytes(input))).toBe(expected);
        for (const stream of [input, Buffer.concat([Buffer.from('a'), input, Buffer.from('€')]), Buffer.concat([input, input])]) {
          const want = decodedBytes(stream);
          for (const reads of everySplit(stream)) {
            const { outputs, flushed, all } = run(reads);
            expect({ reads: reads.map(hex), all: hex(all) }).toEqual({ reads: reads.map(hex), all: hex(want) });
            for (const out of [...outputs, flushed]) {
              if (out !== undefined) {
                expect(out.length).toBeGreaterThan(0);
                expect({ reads: reads.map(hex), out: hex(out), valid: isUtf8(out) }).toEqual({ reads: reads.map(hex), out: hex(out), valid: true });
              }
            }
          }
        }
      });
    }

    it('holds back no byte that cannot start a character, nor an unfinished sequence that ASCII already ended', () => {
      const inputs = [
        bytes(0x80),
        bytes(0xbf),
        bytes(0xc0),
        bytes(0xc1),
        bytes(0xf5),
        bytes(0xff),
        bytes(0x61, 0xc0),
        bytes(0x61, 0xc1, 0x80),
        bytes(0xe2, 0x41),
        bytes(0xf0, 0x9f, 0x41),
        bytes(0xf0, 0x41, 0x42),
      ];
      for (const input of inputs) {
        const chunker = new Utf8Chunker();
        expect({ input: hex(input), out: hex(chunker.push(input)) }).toEqual({ input: hex(input), out: hex(decodedBytes(input)) });
        expect({ input: hex(input), flushed: chunker.flush() }).toEqual({ input: hex(input), flushed: undefined });
      }
    });

    it('gives the decoded bytes of a single invalid read at once, with nothing carried', () => {
      const chunker = new Utf8Chunker();
      expect(hex(chunker.push(bytes(0x61, 0x80, 0x62)))).toBe('61efbfbd62');
      expect(hex(chunker.push(bytes(0xff)))).toBe('efbfbd');
      expect(hex(chunker.push(bytes(0xc0, 0x80)))).toBe('efbfbdefbfbd');
      expect(chunker.flush()).toBeUndefined();
    });
  });

  describe('flush', () => {
    it('returns an unfinished character as U+FFFD, then undefined', () => {
      for (const char of CHARACTERS) {
        const encoded = Buffer.from(char, 'utf8');
        for (let k = 1; k < encoded.length; k++) {
          const chunker = new Utf8Chunker();
          expect(hex(chunker.push(Buffer.concat([Buffer.from('x'), encoded.subarray(0, k)])))).toBe('78');
          expect({ char, k, flushed: hex(chunker.flush()) }).toEqual({ char, k, flushed: hex(REPLACEMENT) });
          expect(chunker.flush()).toBeUndefined();
        }
      }
    });

    it('returns undefined when nothing is carried', () => {
      const chunker = new Utf8Chunker();
      expect(chunker.flush()).toBeUndefined();
      chunker.push(Buffer.from('abc €'));
      expect(chunker.flush()).toBeUndefined();
    });

    it('returns carried bytes that can never be a character as decoding them would (F4 90)', () => {
      const chunker = new Utf8Chunker();
      expect(chunker.push(bytes(0xf4, 0x90))).toBeUndefined();
      const flushed = chunker.flush();
      expect(hex(flushed)).toBe(hex(decodedBytes(bytes(0xf4, 0x90))));
      expect(hex(flushed)).toBe('efbfbdefbfbd');
      expect(chunker.flush()).toBeUndefined();
    });

    it('forgets what it flushed: the next read starts afresh', () => {
      const chunker = new Utf8Chunker();
      const euro = Buffer.from('€');
      expect(chunker.push(euro.subarray(0, 2))).toBeUndefined();
      expect(hex(chunker.flush())).toBe(hex(REPLACEMENT));
      // The rest of the character no longer completes anything: it is invalid on its own.
      expect(hex(chunker.push(euro.subarray(2)))).toBe(hex(REPLACEMENT));
      const next = Buffer.from('ok');
      expect(chunker.push(next)).toBe(next);
    });
  });

  describe('random streams', () => {
    const VALID_CHARS = ['a', 'Z', ' ', '\n', '\x1b', '\x7f', ...CHARACTERS, '中', '😀', '🎉'];

    function randomValid(rand: () => number, maxChars: number): Buffer {
      const n = Math.floor(rand() * (maxChars + 1));
      let text = '';
      for (let i = 0; i < n; i++) text += VALID_CHARS[Math.floor(rand() * VALID_CHARS.length)];
      return Buffer.from(text, 'utf8');
    }

    function randomInvalidPiece(rand: () => number): Buffer {
      const n = (k: number) => Math.floor(rand() * k);
      const pieces: (() => Buffer)[] = [
        () => bytes(n(256)), // any byte
        () => bytes(0x80 + n(64)), // a stray continuation byte
        () => bytes(0xc0 + n(64)), // a lead byte alone
        () => Buffer.from(VALID_CHARS[n(VALID_CHARS.length)]!, 'utf8').subarray(0, 1 + n(3)), // possibly truncated
        () => bytes(0xed, 0xa0 + n(32), 0x80 + n(64)), // a surrogate
        () => bytes(0xc0 + n(2), 0x80 + n(64)), // overlong 2-byte
        () => bytes(0xe0, 0x80 + n(32), 0x80 + n(64)), // overlong 3-byte
        () => bytes(0xf4, 0x90 + n(48), 0x80, 0x80), // beyond U+10FFFF
        () => bytes(0xf5 + n(11)), // never a lead byte
      ];
      return pieces[n(pieces.length)]!();
    }

    function cutIntoReads(rand: () => number, input: Buffer): Buffer[] {
      const reads: Buffer[] = [];
      let at = 0;
      while (at < input.length) {
        const length = rand() < 0.05 ? 0 : 1 + Math.floor(rand() * 9);
        reads.push(input.subarray(at, Math.min(input.length, at + length)));
        at += length;
      }
      return reads;
    }

    it('gives back exactly the input for valid streams, passing reads through uncopied whenever nothing is carried', () => {
      const mismatches: unknown[] = [];
      let sameObject = 0;
      for (let seed = 1; seed <= 300; seed++) {
        const rand = mulberry32(seed);
        const input = randomValid(rand, 60);
        const boundaries = characterBoundaries(input.toString('utf8'));
        const reads = cutIntoReads(rand, input);
        const chunker = new Utf8Chunker();
        const outputs: Buffer[] = [];
        let readSoFar = 0;
        let outSoFar = 0;
        for (const read of reads) {
          const carried = readSoFar > outSoFar;
          const out = chunker.push(read);
          readSoFar += read.length;
          if (out !== undefined) {
            outputs.push(out);
            outSoFar += out.length;
            if (!isUtf8(out)) mismatches.push({ seed, invalidOutput: hex(out) });
          }
          if (!boundaries.has(outSoFar)) mismatches.push({ seed, outSoFar, reason: 'output ends inside a character' });
          if (!carried && read.length > 0 && boundaries.has(readSoFar)) {
            if (out !== read) mismatches.push({ seed, read: hex(read), reason: 'copied though nothing was carried' });
            else sameObject++;
          }
        }
        const flushed = chunker.flush();
        if (flushed !== undefined) mismatches.push({ seed, flushed: hex(flushed) });
        const all = Buffer.concat(outputs);
        if (!all.equals(input)) mismatches.push({ seed, input: hex(input), all: hex(all) });
      }
      expect(sameObject).toBeGreaterThan(100);
      expect(mismatches).toEqual([]);
    });

    it('gives the bytes of the decoded text for streams with invalid bytes, and only valid UTF-8 outputs', () => {
      const mismatches: unknown[] = [];
      let invalidStreams = 0;
      for (let seed = 1000; seed < 1500; seed++) {
        const rand = mulberry32(seed);
        const parts: Buffer[] = [];
        const pieces = 1 + Math.floor(rand() * 12);
        for (let i = 0; i < pieces; i++) parts.push(rand() < 0.5 ? randomValid(rand, 6) : randomInvalidPiece(rand));
        const input = Buffer.concat(parts);
        if (!isUtf8(input)) invalidStreams++;
        const reads = cutIntoReads(rand, input);
        const { outputs, flushed, all } = run(reads);
        for (const out of [...outputs, flushed]) {
          if (out !== undefined && (out.length === 0 || !isUtf8(out))) mismatches.push({ seed, badOutput: hex(out) });
        }
        const want = decodedBytes(Buffer.concat(reads));
        if (!all.equals(want)) mismatches.push({ seed, reads: reads.map(hex), all: hex(all), want: hex(want) });
        if (isUtf8(input) && !all.equals(input)) mismatches.push({ seed, input: hex(input), all: hex(all) });
      }
      expect(invalidStreams).toBeGreaterThan(300);
      expect(mismatches).toEqual([]);
    });
  });
});
