import { describe, expect, it } from '@jest/globals';
import { utf8ByteLength, utf8SliceFrom, utf8Split } from './utf8.js';

/** Deterministic PRNG (mulberry32): the same seed gives the same test every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// 1, 2, 3 and 4 UTF-8 bytes, and the two halves of a surrogate pair alone.
const PIECES = ['a', '\x1b', 'é', 'ß', '€', '中', '😀', '𝄞', '\ud83d', '\ude00'];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function randomText(rand: () => number, maxLength: number): string {
  let text = '';
  const length = Math.floor(rand() * maxLength);
  for (let i = 0; i < length; i++) text += PIECES[Math.floor(rand() * PIECES.length)];
  return text;
}

describe('utf8ByteLength', () => {
  it('counts what TextEncoder produces, lone surrogates included', () => {
    expect(utf8ByteLength('')).toBe(0);
    expect(utf8ByteLength('aé€😀')).toBe(1 + 2 + 3 + 4);
    expect(utf8ByteLength('\ud83d')).toBe(3);
    const rand = mulberry32(7);
    for (let i = 0; i < 500; i++) {
      const text = randomText(rand, 40);
      expect(utf8ByteLength(text)).toBe(encoder.encode(text).length);
    }
  });
});

describe('utf8SliceFrom', () => {
  it('cuts at character boundaries by bytes, as decoding the encoded tail would', () => {
    const rand = mulberry32(11);
    for (let i = 0; i < 300; i++) {
      // Well-formed text only: the wire never carries lone surrogates (they are U+FFFD by then).
      const text = randomText(rand, 30).replace(/[\ud800-\udfff]/g, '') + '😀é';
      const bytes = encoder.encode(text);
      let boundary = 0;
      for (const char of text) {
        expect(utf8SliceFrom(text, boundary)).toBe(decoder.decode(bytes.subarray(boundary)));
        boundary += encoder.encode(char).length;
      }
      expect(utf8SliceFrom(text, bytes.length)).toBe('');
    }
  });

  it('reports a cut inside a character, or past the end, as undefined', () => {
    expect(utf8SliceFrom('é', 1)).toBeUndefined();
    expect(utf8SliceFrom('a€b', 2)).toBeUndefined();
    expect(utf8SliceFrom('a€b', 3)).toBeUndefined();
    expect(utf8SliceFrom('a€b', 4)).toBe('b');
    expect(utf8SliceFrom('😀x', 2)).toBeUndefined();
    expect(utf8SliceFrom('😀x', 4)).toBe('x');
    expect(utf8SliceFrom('ab', 3)).toBeUndefined();
  });
});

describe('utf8Split', () => {
  it('cuts into pieces of at most maxBytes that join back to the text, never inside a character', () => {
    const random = mulberry32(7);
    // Well-formed text only: a lone surrogate would not survive the round trip through bytes anyway.
    const pieces = PIECES.slice(0, 8);
    for (let run = 0; run < 300; run++) {
      let text = '';
      const length = Math.floor(random() * 200);
      for (let i = 0; i < length; i++) text += pieces[Math.floor(random() * pieces.length)];
      const maxBytes = 4 + Math.floor(random() * 40);
      const parts = utf8Split(text, maxBytes);
      expect(parts.join('')).toBe(text);
      for (const part of parts) {
        expect(encoder.encode(part).length).toBeLessThanOrEqual(maxBytes);
        expect(decoder.decode(encoder.encode(part))).toBe(part); // whole characters only
      }
      // As few pieces as the limit allows: each piece plus the next character would not fit.
      for (let i = 0; i + 1 < parts.length; i++) {
        const next = String.fromCodePoint(parts[i + 1].codePointAt(0)!);
        expect(encoder.encode(parts[i] + next).length).toBeGreaterThan(maxBytes);
      }
    }
  });

  it('keeps short text whole and returns one empty piece for empty text', () => {
    expect(utf8Split('abc', 10)).toEqual(['abc']);
    expect(utf8Split('', 10)).toEqual(['']);
    expect(utf8Split('😀😀', 4)).toEqual(['😀', '😀']);
  });
});
