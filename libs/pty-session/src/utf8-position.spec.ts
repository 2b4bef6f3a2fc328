import { describe, it, expect } from '@jest/globals';
import { utf8Boundary, utf8Length } from './utf8-position.js';

/** Character boundaries of `text` from `start` on, with the UTF-8 bytes before each, by encoding every code point. */
function boundaries(text: string, start: number): { index: number; bytes: number }[] {
  const out = [{ index: start, bytes: 0 }];
  let index = start;
  let bytes = 0;
  for (const char of text.slice(start)) {
    index += char.length;
    bytes += Buffer.byteLength(char);
    out.push({ index, bytes });
  }
  return out;
}

const TEXTS = [
  'plain ascii text, nothing wide',
  'a─b→c✓d é ß € 中 😀 🎉 end',
  'a'.repeat(300) + '中'.repeat(100),
  '😀'.repeat(80) + 'z'.repeat(300),
  'é'.repeat(50) + 'x'.repeat(50) + '🎉'.repeat(50) + '€'.repeat(50),
  'lone \ud800 high, lone \udc00 low, \ud800\ud83d\ude00 high then pair, \ude00\ud800',
];

describe('utf8Length', () => {
  it('counts as Buffer.byteLength does, lone surrogates as U+FFFD', () => {
    for (const text of TEXTS) expect(utf8Length(text, 0, text.length)).toBe(Buffer.byteLength(text));
  });
});

describe('utf8Boundary', () => {
  it('for every start and target: the first character boundary at least target bytes in, and its byte count', () => {
    const wrong: unknown[] = [];
    for (const text of TEXTS) {
      for (const start of boundaries(text, 0).map((b) => b.index).filter((_, i) => i % 5 === 0)) {
        const points = boundaries(text, start);
        const total = points[points.length - 1].bytes;
        for (let target = 1; target < total; target++) {
          const expected = points.find((p) => p.bytes >= target)!;
          const got = utf8Boundary(text, start, total, target);
          if (got.index !== expected.index || got.bytes !== expected.bytes) wrong.push({ text, start, target, got, expected });
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
