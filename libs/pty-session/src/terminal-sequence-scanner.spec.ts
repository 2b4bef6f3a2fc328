import { describe, it, expect } from '@jest/globals';
import { mulberry32, randomSequence } from './testing-fakes/test-helpers.js';
import { findSafeCut, isUtf8Continuation, ScanState, scanState } from './terminal-sequence-scanner.js';

const ESC = '\x1b';
const BEL = '\x07';
const ST = '\x1b\\';
const CAN = '\x18';
const SUB = '\x1a';

/** The UTF-8 bytes of `text`. */
function b(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** The byte index in UTF-8 `text` of its UTF-16 index `charIndex`. */
function byteIndex(text: string, charIndex: number): number {
  return Buffer.byteLength(text.slice(0, charIndex), 'utf8');
}

/** State after `text` from `state`: the common case of scanning a whole buffer. */
function scan(state: ScanState, text: string): ScanState {
  return scanState(state, b(text));
}

/** Safe cut in the whole of `text`, as a byte index. */
function cut(text: string, state: ScanState, from: number): number {
  return findSafeCut(b(text), state, from);
}

// ---------------------------------------------------------------------------
// Test helpers: a seeded PRNG and an oracle that knows where sequences are
// because the test builds the bytes from tokens ("text" or "sequence") rather
// than by parsing them. A byte index is "between sequences" when it is a token
// boundary, or lies inside a text token; it is an allowed cut when, in
// addition, it is at the first byte of a character (each character is encoded
// on its own to know where its bytes start, not by looking at the bytes).
// ---------------------------------------------------------------------------

type Token = { kind: 'text' | 'seq'; s: string };

interface Corpus {
  bytes: Buffer;
  /** allowed[i]: byte index i is between sequences and at the first byte of a character. Length bytes.length + 1. */
  allowed: boolean[];
  /** ground[i]: byte index i is between sequences (inside multi-byte characters too). Length bytes.length + 1. */
  ground: boolean[];
}

function buildCorpus(tokens: Token[]): Corpus {
  const parts: Buffer[] = [];
  const allowed: boolean[] = [];
  const ground: boolean[] = [];
  for (const token of tokens) {
    let first = true;
    for (const char of token.s) {
      const charBytes = b(char);
      for (let k = 0; k < charBytes.length; k++) {
        if (token.kind === 'seq') {
          allowed.push(first);
          ground.push(first);
        } else {
          allowed.push(k === 0);
          ground.push(true);
        }
        first = false;
      }
      parts.push(charBytes);
    }
  }
  // Every token is complete, so the end is between sequences.
  allowed.push(true);
  ground.push(true);
  return { bytes: Buffer.concat(parts), allowed, ground };
}

/** Smallest allowed index in [max(from, start), end) (end when none). */
function oracleSafeCut(corpus: Corpus, from: number, start = 0, end = corpus.bytes.length): number {
  for (let i = Math.max(from, start); i < end; i++) if (corpus.allowed[i]) return i;
  return end;
}

const TEXT_CHARS = ['a', 'b', 'Z', '0', ' ', '\r', '\n', '\t', BEL, '\b', 'é', '€', '中', '😀', '🎉', '\u009b', '\u0085', '\u{10ffff}'];

function randomText(rand: () => number, maxLen: number): string {
  const len = Math.floor(rand() * (maxLen + 1));
  let s = '';
  for (let i = 0; i < len; i++) s += TEXT_CHARS[Math.floor(rand() * TEXT_CHARS.length)];
  return s;
}

function randomCorpus(seed: number, tokenCount: number): Corpus {
  const rand = mulberry32(seed);
  const tokens: Token[] = [];
  for (let i = 0; i < tokenCount; i++) {
    tokens.push(rand() < 0.5 ? { kind: 'text', s: randomText(rand, 12) } : { kind: 'seq', s: randomSequence(rand) });
  }
  return buildCorpus(tokens);
}

/** Folds scanState over `bytes[from, to)` one byte at a time, each byte a buffer of its own (no shortcut possible). */
function scanOneByOne(state: ScanState, bytes: Uint8Array, from = 0, to = bytes.length): ScanState {
  for (let i = from; i < to; i++) state = scanState(state, Uint8Array.of(bytes[i]!));
  return state;
}

// ---------------------------------------------------------------------------

describe('isUtf8Continuation', () => {
  it('is true exactly for the bytes 0x80-0xBF', () => {
    for (let byte = 0; byte <= 0xff; byte++) {
      expect({ byte, continuation: isUtf8Continuation(byte) }).toEqual({ byte, continuation: byte >= 0x80 && byte <= 0xbf });
    }
  });

  it('is false for the first byte of every character and true for the others, for 1- to 4-byte characters', () => {
    for (const char of ['A', '\x1b', '\x7f', '\u0080', 'é', '\u07ff', '\u0800', '€', '中', '\uffff', '\u{10000}', '😀', '\u{10ffff}']) {
      const bytes = b(char);
      expect({ char, flags: [...bytes].map(isUtf8Continuation) }).toEqual({ char, flags: [...bytes].map((_, k) => k > 0) });
    }
  });
});

describe('scanState', () => {
  it('stays in ground for plain text, C0 controls, non-ASCII and 8-bit C1 characters', () => {
    expect(scan(ScanState.Ground, '')).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, 'hello world\r\n\t\b' + BEL)).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, 'é€中😀')).toBe(ScanState.Ground);
    // 8-bit CSI (U+009B, bytes C2 9B) is documented as not starting a sequence.
    expect(scan(ScanState.Ground, '\u009b31m')).toBe(ScanState.Ground);
  });

  it('is in Escape right after ESC, also when ESC follows plain text', () => {
    expect(scan(ScanState.Ground, ESC)).toBe(ScanState.Escape);
    expect(scan(ScanState.Ground, 'abc' + ESC)).toBe(ScanState.Escape);
    expect(scan(ScanState.Ground, 'é😀' + ESC)).toBe(ScanState.Escape);
    // A C0 control after ESC executes without ending the escape sequence.
    expect(scan(ScanState.Ground, ESC + '\n')).toBe(ScanState.Escape);
  });

  it("is in Csi after 'ESC [' and while parameters follow, and in ground after the final byte", () => {
    expect(scan(ScanState.Ground, ESC + '[')).toBe(ScanState.Csi);
    expect(scan(ScanState.Ground, 'abc' + ESC + '[38;5')).toBe(ScanState.Csi);
    expect(scan(ScanState.Ground, ESC + '[38;5;196')).toBe(ScanState.Csi);
    expect(scan(ScanState.Ground, ESC + '[38;5;196m')).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + '[38;5;196mtext')).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + '[?25h')).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + '[2 ')).toBe(ScanState.Csi); // intermediate byte
    expect(scan(ScanState.Ground, ESC + '[2 q')).toBe(ScanState.Ground);
  });

  it('leaves a CSI, an escape and an escape with intermediates at the first byte of a multi-byte character', () => {
    for (const char of ['é', '€', '😀']) {
      expect(scan(ScanState.Ground, ESC + '[38;5' + char)).toBe(ScanState.Ground);
      expect(scan(ScanState.Ground, ESC + char)).toBe(ScanState.Ground);
      expect(scan(ScanState.Ground, ESC + '(' + char)).toBe(ScanState.Ground);
      // The lead byte alone already ends it.
      expect(scanState(ScanState.Csi, b(char).subarray(0, 1))).toBe(ScanState.Ground);
    }
  });

  it('continues a CSI across calls from the state given', () => {
    const afterFirst = scan(ScanState.Ground, 'abc' + ESC + '[38;5');
    expect(afterFirst).toBe(ScanState.Csi);
    expect(scan(afterFirst, ';1')).toBe(ScanState.Csi);
    expect(scan(afterFirst, ';196m')).toBe(ScanState.Ground);
    expect(scan(afterFirst, ';196mtext')).toBe(ScanState.Ground);
    // The same bytes from ground are just text.
    expect(scan(ScanState.Ground, ';1')).toBe(ScanState.Ground);
  });

  it('keeps a CSI open across an embedded C0 control', () => {
    expect(scan(ScanState.Ground, ESC + '[38;5\r')).toBe(ScanState.Csi);
    expect(scan(ScanState.Ground, ESC + '[38;5\r;196')).toBe(ScanState.Csi);
    expect(scan(ScanState.Ground, ESC + '[38;5\r;196m')).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + '[1\n')).toBe(ScanState.Csi);
  });

  it('keeps a sequence open across DEL, which terminals ignore inside one', () => {
    expect(scan(ScanState.Ground, ESC + '[38;5\x7f')).toBe(ScanState.Csi);
    expect(scan(ScanState.Ground, ESC + '[38;5\x7f;196m')).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + '\x7f')).toBe(ScanState.Escape);
    expect(scan(ScanState.Ground, ESC + '(\x7f')).toBe(ScanState.EscapeIntermediate);
    expect(cut(ESC + '[38;5\x7f;196mok', ScanState.Ground, 3)).toBe(12);
  });

  it('restarts at ESC inside a CSI (ESC aborts it)', () => {
    expect(scan(ScanState.Ground, ESC + '[38' + ESC)).toBe(ScanState.Escape);
    expect(scan(ScanState.Ground, ESC + '[38' + ESC + '[0')).toBe(ScanState.Csi);
    expect(scan(ScanState.Ground, ESC + '[38' + ESC + '[0m')).toBe(ScanState.Ground);
  });

  it('stays inside an OSC string until BEL', () => {
    expect(scan(ScanState.Ground, ESC + ']')).toBe(ScanState.OscString);
    expect(scan(ScanState.Ground, ESC + ']0;some long title')).toBe(ScanState.OscString);
    // Printable text, ';', 'm', other would-be final bytes and the bytes of multi-byte characters do not end a string.
    expect(scan(ScanState.OscString, ' still the title;m[]é😀')).toBe(ScanState.OscString);
    expect(scan(ScanState.Ground, ESC + ']0;中文 title 😀')).toBe(ScanState.OscString);
    expect(scan(ScanState.Ground, ESC + ']0;some long title' + BEL)).toBe(ScanState.Ground);
    expect(scan(ScanState.OscString, 'end of title' + BEL)).toBe(ScanState.Ground);
    expect(scan(ScanState.OscString, 'end of title' + BEL + 'text')).toBe(ScanState.Ground);
    expect(scan(ScanState.OscString, 'tïtle 😀' + BEL)).toBe(ScanState.Ground);
  });

  it('stays inside a DCS, SOS, PM or APC string across a BEL, which is data there (xterm.js ends them at ST only)', () => {
    expect(scan(ScanState.Ground, ESC + 'P$q' + BEL + 'more')).toBe(ScanState.String);
    expect(scan(ScanState.String, 'data' + BEL + 'more')).toBe(ScanState.String);
    expect(scan(ScanState.String, 'data' + BEL + ESC + '\\text')).toBe(ScanState.Ground);
    expect(cut('data' + BEL + 'more' + ESC + '\\text', ScanState.String, 0)).toBe(11);
  });

  it('ends an OSC / DCS / SOS / PM / APC string at ST (ESC backslash)', () => {
    expect(scan(ScanState.Ground, ESC + ']0;title' + ESC)).toBe(ScanState.Escape);
    expect(scan(ScanState.Ground, ESC + ']0;title' + ST)).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + 'Pq#0;2;0;0;0#0~~@@')).toBe(ScanState.String);
    expect(scan(ScanState.Ground, ESC + 'Pq#0;2;0;0;0#0~~@@' + ST)).toBe(ScanState.Ground);
    for (const introducer of ['X', '^', '_']) {
      expect(scan(ScanState.Ground, ESC + introducer + 'payload')).toBe(ScanState.String);
      expect(scan(ScanState.Ground, ESC + introducer + 'payload' + ST)).toBe(ScanState.Ground);
    }
    // ST split across calls.
    expect(scan(ScanState.String, 'more' + ESC)).toBe(ScanState.Escape);
    expect(scan(ScanState.Escape, '\\')).toBe(ScanState.Ground);
  });

  it('returns to ground on CAN or SUB from any state', () => {
    expect(scan(ScanState.Ground, ESC + '[38;5' + CAN)).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + '[38;5' + SUB)).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + ']0;title' + CAN)).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + ']0;title' + SUB)).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + CAN)).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + '(' + SUB)).toBe(ScanState.Ground);
    // Without an ESC in the bytes, from a non-ground start state.
    expect(scan(ScanState.String, 'abc' + CAN)).toBe(ScanState.Ground);
    expect(scan(ScanState.Csi, '1;2' + SUB + 'more')).toBe(ScanState.Ground);
  });

  it('handles charset designation ESC ( B through EscapeIntermediate', () => {
    expect(scan(ScanState.Ground, ESC + '(')).toBe(ScanState.EscapeIntermediate);
    expect(scan(ScanState.Ground, ESC + '(B')).toBe(ScanState.Ground);
    expect(scan(ScanState.EscapeIntermediate, 'B')).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + '( ')).toBe(ScanState.EscapeIntermediate); // more intermediates
    expect(scan(ScanState.Ground, ESC + '#8')).toBe(ScanState.Ground);
    // Two-character escapes end at once.
    expect(scan(ScanState.Ground, ESC + '7')).toBe(ScanState.Ground);
    expect(scan(ScanState.Ground, ESC + '\\')).toBe(ScanState.Ground);
  });

  it('accepts a plain Uint8Array, not only a Buffer', () => {
    expect(scanState(ScanState.Ground, new Uint8Array(b('abc' + ESC + '[38;5')))).toBe(ScanState.Csi);
    expect(scanState(ScanState.Csi, new Uint8Array(b(';196m')))).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, new Uint8Array(b(ESC + ']0;tïtle')), 2)).toBe(ScanState.Ground);
  });

  describe('range [from, to)', () => {
    it('ignores an ESC before `from`', () => {
      const bytes = b(ESC + '[38;5abc');
      expect(scanState(ScanState.Ground, bytes)).toBe(ScanState.Ground); // 'a' ends the CSI
      expect(scanState(ScanState.Ground, bytes, 0, 5)).toBe(ScanState.Csi);
      // Starting after the ESC, the state given is the one used.
      expect(scanState(ScanState.Ground, bytes, 1, 5)).toBe(ScanState.Ground);
      expect(scanState(ScanState.Csi, bytes, 2, 5)).toBe(ScanState.Csi);
      expect(scanState(ScanState.String, bytes, 1)).toBe(ScanState.String);
      const osc = b(ESC + ']0;title');
      expect(scanState(ScanState.Ground, osc, 1)).toBe(ScanState.Ground);
      expect(scanState(ScanState.String, osc, 1)).toBe(ScanState.String);
    });

    it('ignores an ESC at or after `to`', () => {
      const bytes = b('abc' + ESC + '[1');
      expect(scanState(ScanState.Ground, bytes)).toBe(ScanState.Csi);
      expect(scanState(ScanState.Ground, bytes, 0, 3)).toBe(ScanState.Ground);
      expect(scanState(ScanState.Ground, bytes, 0, 4)).toBe(ScanState.Escape);
      expect(scanState(ScanState.Ground, bytes, 1, 3)).toBe(ScanState.Ground);
      // A sequence open before the range's end stays open: the BEL after `to` does not count.
      const osc = b(ESC + ']0;title' + BEL + 'x');
      expect(scanState(ScanState.Ground, osc, 0, osc.length - 2)).toBe(ScanState.OscString);
      expect(scanState(ScanState.Ground, osc, 0, osc.length - 1)).toBe(ScanState.Ground);
      expect(scanState(ScanState.OscString, osc, 3, osc.length - 2)).toBe(ScanState.OscString);
      // The final byte after `to` does not end a CSI.
      const csi = b(ESC + '[1mtext');
      expect(scanState(ScanState.Ground, csi, 0, 3)).toBe(ScanState.Csi);
      expect(scanState(ScanState.Csi, csi, 2, 3)).toBe(ScanState.Csi);
    });

    it('ignores ESCs on both sides of the range', () => {
      const bytes = b(ESC + '[1' + ';2;3' + ESC + ']');
      const from = 3;
      const to = 7;
      expect(bytes.subarray(from, to).toString()).toBe(';2;3');
      expect(scanState(ScanState.Ground, bytes, from, to)).toBe(ScanState.Ground);
      expect(scanState(ScanState.Csi, bytes, from, to)).toBe(ScanState.Csi);
      expect(scanState(ScanState.String, bytes, from, to)).toBe(ScanState.String);
    });

    it('returns the state given for an empty range', () => {
      const bytes = b(ESC + '[1m' + BEL + CAN);
      for (const state of Object.values(ScanState)) {
        for (let at = 0; at <= bytes.length; at++) {
          expect({ state, at, result: scanState(state, bytes, at, at) }).toEqual({ state, at, result: state });
        }
      }
    });

    it('gives for every range of a random stream the state of that range scanned on its own', () => {
      const mismatches: unknown[] = [];
      let checked = 0;
      for (let seed = 200; seed < 210; seed++) {
        const { bytes } = randomCorpus(seed, 20);
        const rand = mulberry32(seed);
        for (let k = 0; k < 300; k++) {
          const from = Math.floor(rand() * (bytes.length + 1));
          const to = from + Math.floor(rand() * (bytes.length - from + 1));
          const state = Math.floor(rand() * 5) as ScanState;
          const inRange = scanState(state, bytes, from, to);
          const alone = scanState(state, Buffer.from(bytes.subarray(from, to)));
          const oneByOne = scanOneByOne(state, bytes, from, to);
          checked++;
          if (inRange !== alone || inRange !== oneByOne) mismatches.push({ seed, from, to, state, inRange, alone, oneByOne });
        }
      }
      expect(checked).toBe(3000);
      expect(mismatches).toEqual([]);
    });
  });

  it('gives the same state whether the bytes are scanned whole, split anywhere, or one byte at a time', () => {
    const mismatches: unknown[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const { bytes } = randomCorpus(seed, 40);
      const whole = scanState(ScanState.Ground, bytes);
      expect(scanOneByOne(ScanState.Ground, bytes)).toBe(whole);
      for (let i = 0; i <= bytes.length; i++) {
        const head = bytes.subarray(0, i);
        const tail = bytes.subarray(i);
        const mid = scanState(ScanState.Ground, head);
        const midOneByOne = scanOneByOne(ScanState.Ground, head);
        const midInRange = scanState(ScanState.Ground, bytes, 0, i);
        const end = scanState(mid, tail);
        const endInRange = scanState(mid, bytes, i);
        if (mid !== midOneByOne || mid !== midInRange || end !== whole || endInRange !== whole) {
          mismatches.push({ seed, i, mid, midOneByOne, midInRange, end, endInRange, whole });
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('is in ground exactly at the positions the token oracle calls between sequences', () => {
    const mismatches: unknown[] = [];
    let checked = 0;
    for (let seed = 100; seed < 120; seed++) {
      const corpus = randomCorpus(seed, 40);
      const { bytes } = corpus;
      let state: ScanState = ScanState.Ground;
      for (let i = 0; i <= bytes.length; i++) {
        checked++;
        if ((state === ScanState.Ground) !== corpus.ground[i]) {
          mismatches.push({ seed, i, state, bytes: JSON.stringify(bytes.subarray(Math.max(0, i - 10), i + 10).toString('latin1')) });
        }
        if (i < bytes.length) state = scanState(state, bytes, i, i + 1);
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(mismatches).toEqual([]);
  });
});

describe('findSafeCut', () => {
  it('returns `from` itself in plain ASCII ground text', () => {
    const text = 'hello world';
    for (let from = 0; from <= text.length; from++) {
      expect(cut(text, ScanState.Ground, from)).toBe(from);
    }
  });

  it('moves a cut inside an SGR sequence to just after it, for every position in the sequence', () => {
    const seq = ESC + '[38;5;196m';
    const text = 'ab' + seq + 'cd';
    const bytes = b(text);
    const seqStart = 2;
    const seqEnd = seqStart + seq.length;
    for (let from = 0; from <= bytes.length; from++) {
      const expected = from > seqStart && from < seqEnd ? seqEnd : from;
      expect({ from, cut: findSafeCut(bytes, ScanState.Ground, from) }).toEqual({ from, cut: expected });
    }
    // The cut at the ESC itself is allowed (the bytes then start with a whole sequence).
    expect(bytes.subarray(findSafeCut(bytes, ScanState.Ground, seqStart)).toString()).toBe(seq + 'cd');
  });

  it('moves a cut inside an SGR sequence after non-ASCII text to just after it (byte indexes)', () => {
    const before = 'é€😀';
    const seq = ESC + '[1;31m';
    const text = before + seq + '中';
    const bytes = b(text);
    const seqStart = byteIndex(text, before.length);
    expect(seqStart).toBe(9);
    const seqEnd = seqStart + seq.length;
    for (let from = seqStart + 1; from < seqEnd; from++) {
      expect({ from, cut: findSafeCut(bytes, ScanState.Ground, from) }).toEqual({ from, cut: seqEnd });
    }
    expect(findSafeCut(bytes, ScanState.Ground, seqStart)).toBe(seqStart);
    expect(bytes.subarray(findSafeCut(bytes, ScanState.Ground, seqStart + 1)).toString()).toBe('中');
  });

  it('moves a cut inside an OSC title to after its BEL, and inside a DCS to after its ST', () => {
    const osc = ESC + ']0;some long title' + BEL;
    const oscUtf8 = ESC + ']0;tïtle 中 😀' + BEL;
    const dcs = ESC + 'Pq#0;2;0;0;0#0~~@@vv@@~~$-' + ST;
    for (const seq of [osc, oscUtf8, dcs]) {
      const bytes = b('xy' + seq + 'z');
      const seqEnd = 2 + Buffer.byteLength(seq);
      for (let from = 3; from < seqEnd; from++) {
        expect({ seq, from, cut: findSafeCut(bytes, ScanState.Ground, from) }).toEqual({ seq, from, cut: seqEnd });
      }
    }
  });

  it('moves a cut inside a CSI that contains a C0 control to after its final byte', () => {
    const seq = ESC + '[38;5\r\n;196m';
    const bytes = b('ab' + seq + 'cd');
    for (let from = 3; from < 2 + seq.length; from++) {
      expect({ from, cut: findSafeCut(bytes, ScanState.Ground, from) }).toEqual({ from, cut: 2 + seq.length });
    }
  });

  it('cuts after a multi-byte character that aborts a CSI, not inside it', () => {
    // ESC [ 1 € x: € (E2 82 AC) at bytes 3-5 aborts the CSI; x at 6.
    const bytes = b(ESC + '[1€x');
    expect(bytes.length).toBe(7);
    for (let from = 1; from <= 6; from++) {
      expect({ from, cut: findSafeCut(bytes, ScanState.Ground, from) }).toEqual({ from, cut: 6 });
    }
    expect(findSafeCut(b('😀x'), ScanState.Csi, 0)).toBe(4);
  });

  it('uses the state at index 0 for bytes that start inside a sequence', () => {
    expect(cut(';196mtext', ScanState.Csi, 0)).toBe(5);
    expect(cut(';196mtext', ScanState.Ground, 0)).toBe(0);
    expect(cut('le' + BEL + 'text', ScanState.OscString, 0)).toBe(3);
    expect(cut('\\text', ScanState.Escape, 0)).toBe(1);
    expect(cut('Btext', ScanState.EscapeIntermediate, 0)).toBe(1);
    expect(cut('title' + CAN + 'x', ScanState.String, 2)).toBe(6);
    expect(cut('tï😀le' + BEL + 'é', ScanState.OscString, 0)).toBe(byteIndex('tï😀le' + BEL, 7));
  });

  it('returns bytes.length when the bytes end before a safe place', () => {
    expect(cut(ESC + ']0;unterminated title', ScanState.Ground, 1)).toBe(ESC.length + ']0;unterminated title'.length);
    expect(cut(ESC + ']0;tïtle 😀', ScanState.Ground, 1)).toBe(Buffer.byteLength(ESC + ']0;tïtle 😀'));
    expect(cut('still inside', ScanState.String, 0)).toBe('still inside'.length);
    expect(cut('abc', ScanState.Ground, 3)).toBe(3);
  });

  it('never returns an index inside a 2-, 3- or 4-byte character', () => {
    const text = 'aé€😀b🎉';
    // bytes: a=0, é=1-2, €=3-5, 😀=6-9, b=10, 🎉=11-14, end=15
    const bytes = b(text);
    expect(bytes.length).toBe(15);
    const expected = [0, 1, 3, 3, 6, 6, 6, 10, 10, 10, 10, 11, 15, 15, 15, 15];
    for (let from = 0; from <= bytes.length; from++) {
      expect({ from, cut: findSafeCut(bytes, ScanState.Ground, from) }).toEqual({ from, cut: expected[from] });
    }
    // After a sequence that ends right before an emoji, and with a start state inside a sequence.
    expect(cut(ESC + '[1m😀x', ScanState.Ground, 2)).toBe(4);
    expect(cut(ESC + '[1m😀x', ScanState.Ground, 5)).toBe(8);
    expect(cut('m😀', ScanState.Csi, 0)).toBe(1);
    expect(cut('😀', ScanState.Ground, 1)).toBe(4);
    expect(cut('é', ScanState.Ground, 1)).toBe(2);
    expect(cut('中', ScanState.Ground, 1)).toBe(3);
    expect(cut('中', ScanState.Ground, 2)).toBe(3);
  });

  it('cuts at the start of every character of every length and inside none of them', () => {
    for (const char of ['\u0080', 'é', '\u07ff', '\u0800', '€', '\uffff', '\u{10000}', '😀', '\u{10ffff}']) {
      const bytes = b('x' + char + char + 'y');
      const n = Buffer.byteLength(char);
      for (let k = 1; k < n; k++) {
        expect({ char, k, cut: findSafeCut(bytes, ScanState.Ground, 1 + k) }).toEqual({ char, k, cut: 1 + n });
        expect({ char, k, cut: findSafeCut(bytes, ScanState.Ground, 1 + n + k) }).toEqual({ char, k, cut: 1 + 2 * n });
      }
      expect(findSafeCut(bytes, ScanState.Ground, 1)).toBe(1);
      expect(findSafeCut(bytes, ScanState.Ground, 1 + n)).toBe(1 + n);
    }
  });

  describe('range [start, end)', () => {
    it('ignores bytes before `start`, using the state given for `start`', () => {
      // ESC [ 1 2 a b c: from 0 the CSI ends at 'a' (4), so 4 is not safe but 5 is.
      const bytes = b(ESC + '[12abc');
      expect(findSafeCut(bytes, ScanState.Ground, 4)).toBe(5);
      expect(findSafeCut(bytes, ScanState.Ground, 4, 4)).toBe(4);
      expect(findSafeCut(bytes, ScanState.Ground, 4, 2)).toBe(4);
      expect(findSafeCut(bytes, ScanState.Csi, 4, 2)).toBe(5);
      expect(findSafeCut(bytes, ScanState.String, 3, 1)).toBe(bytes.length);
      // The ESC before `start` does not count; the state given does.
      const osc = b(ESC + ']0;title' + BEL + 'x');
      expect(findSafeCut(osc, ScanState.Ground, 3, 1)).toBe(3);
      expect(findSafeCut(osc, ScanState.OscString, 3, 1)).toBe(osc.length - 1);
    });

    it('uses an ESC between `start` and `from`', () => {
      const bytes = b('ab' + ESC + '[1;2mcd');
      expect(findSafeCut(bytes, ScanState.String, 5, 1)).toBe(8);
      expect(findSafeCut(bytes, ScanState.Ground, 5, 2)).toBe(8);
    });

    it('never returns an index below `start`', () => {
      const bytes = b('abcdef');
      expect(findSafeCut(bytes, ScanState.Ground, 0, 3)).toBe(3);
      expect(findSafeCut(bytes, ScanState.Ground, 1, 3)).toBe(3);
      expect(findSafeCut(bytes, ScanState.Csi, 0, 3)).toBe(4);
      const utf8 = b('x€y');
      expect(findSafeCut(utf8, ScanState.Ground, 0, 2)).toBe(4); // start inside €: the next character
    });

    it('ignores bytes at or after `end`, and returns `end` when [from, end) holds no safe place', () => {
      const bytes = b('ab' + ESC + '[1mcd');
      // The cut would be 6 ('c'), but it is not before `end`.
      expect(findSafeCut(bytes, ScanState.Ground, 3)).toBe(6);
      expect(findSafeCut(bytes, ScanState.Ground, 3, 0, 5)).toBe(5);
      expect(findSafeCut(bytes, ScanState.Ground, 3, 0, 6)).toBe(6);
      expect(findSafeCut(bytes, ScanState.Ground, 3, 0, 7)).toBe(6);
      // A safe place before `end` is still found.
      expect(findSafeCut(bytes, ScanState.Ground, 1, 0, 3)).toBe(1);
      expect(findSafeCut(bytes, ScanState.Ground, 2, 0, 3)).toBe(2);
      // `from` at `end`.
      expect(findSafeCut(bytes, ScanState.Ground, 4, 0, 4)).toBe(4);
      // Inside a character that `end` cuts.
      const utf8 = b('a😀b');
      expect(findSafeCut(utf8, ScanState.Ground, 2, 0, 4)).toBe(4);
      expect(findSafeCut(utf8, ScanState.Ground, 2, 0, 6)).toBe(5);
      // A BEL after `end` does not end the string.
      const osc = b('t' + BEL + 'x');
      expect(findSafeCut(osc, ScanState.String, 0, 0, 1)).toBe(1);
      expect(findSafeCut(osc, ScanState.String, 0, 0, 2)).toBe(2);
    });

    it('works on a window [start, end) of a larger buffer as on that window copied out', () => {
      const outside = ESC + ']0;';
      const window = 'é' + ESC + '[1mx😀';
      const bytes = b(outside + window + ESC + '[');
      const start = Buffer.byteLength(outside);
      const end = start + Buffer.byteLength(window);
      const copy = b(window);
      for (const state of [ScanState.Ground, ScanState.String, ScanState.Csi]) {
        for (let from = start; from <= end; from++) {
          const inWindow = findSafeCut(bytes, state, from, start, end);
          expect({ state, from, cut: inWindow - start }).toEqual({ state, from, cut: findSafeCut(copy, state, from - start) });
        }
      }
    });
  });

  it('accepts a plain Uint8Array, not only a Buffer', () => {
    expect(findSafeCut(new Uint8Array(b('ab' + ESC + '[1mcd')), ScanState.Ground, 3)).toBe(6);
    expect(findSafeCut(new Uint8Array(b('a😀b')), ScanState.Ground, 2)).toBe(5);
  });

  it('agrees with the token oracle for every `from`, from ground and from every mid-stream state, in any window', () => {
    const mismatches: unknown[] = [];
    let checked = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const corpus = randomCorpus(seed, 30);
      const { bytes } = corpus;
      for (let from = 0; from <= bytes.length; from++) {
        const got = findSafeCut(bytes, ScanState.Ground, from);
        const expected = oracleSafeCut(corpus, from);
        checked++;
        if (got !== expected) mismatches.push({ seed, from, got, expected });
      }
      // Start at an arbitrary index (possibly inside a sequence or a character), given the right state there.
      for (let start = 0; start <= bytes.length; start += 7) {
        const state = scanOneByOne(ScanState.Ground, bytes, 0, start);
        const rest = bytes.subarray(start);
        for (let from = 0; from <= rest.length; from += 3) {
          const expected = oracleSafeCut(corpus, start + from);
          const sliced = findSafeCut(rest, state, from) + start;
          const inPlace = findSafeCut(bytes, state, start + from, start);
          checked++;
          if (sliced !== expected || inPlace !== expected) mismatches.push({ seed, start, from, sliced, inPlace, expected });
        }
      }
      // Random windows [start, end) and `from` anywhere (also before `start`).
      const rand = mulberry32(seed * 7919);
      for (let k = 0; k < 200; k++) {
        const start = Math.floor(rand() * (bytes.length + 1));
        const end = start + Math.floor(rand() * (bytes.length - start + 1));
        const from = Math.floor(rand() * (end + 1));
        const state = scanOneByOne(ScanState.Ground, bytes, 0, start);
        const got = findSafeCut(bytes, state, from, start, end);
        const expected = oracleSafeCut(corpus, from, start, end);
        checked++;
        if (got !== expected) mismatches.push({ seed, start, end, from, got, expected });
      }
    }
    expect(checked).toBeGreaterThan(5000);
    expect(mismatches).toEqual([]);
  });
});
