import { describe, it, expect } from '@jest/globals';
import { mulberry32, randomSequence } from './testing-fakes/test-helpers.js';
import { findSafeCut, ScanState, scanState } from './terminal-sequence-scanner.js';

const ESC = '\x1b';
const BEL = '\x07';
const ST = '\x1b\\';
const CAN = '\x18';
const SUB = '\x1a';

// ---------------------------------------------------------------------------
// Test helpers: a seeded PRNG and an oracle that knows where sequences are
// because the test builds the text from tokens ("text" or "sequence") rather
// than by parsing it. A position is "between sequences" when it is a token
// boundary, or lies inside a text token at a character boundary (not between
// the two halves of a surrogate pair).
// ---------------------------------------------------------------------------


type Token = { kind: 'text' | 'seq'; s: string };

interface Corpus {
  text: string;
  /** allowed[i]: UTF-16 index i is between sequences and not inside a surrogate pair. Length text.length + 1. */
  allowed: boolean[];
  /** ground[i]: UTF-16 index i is between sequences (surrogate halves included). Length text.length + 1. */
  ground: boolean[];
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function buildCorpus(tokens: Token[]): Corpus {
  let text = '';
  const allowed: boolean[] = [];
  const ground: boolean[] = [];
  for (const token of tokens) {
    for (let i = 0; i < token.s.length; i++) {
      if (token.kind === 'seq') {
        allowed.push(i === 0);
        ground.push(i === 0);
      } else {
        allowed.push(!isLowSurrogate(token.s.charCodeAt(i)));
        ground.push(true);
      }
    }
    text += token.s;
  }
  // Every token is complete, so the end is between sequences.
  allowed.push(true);
  ground.push(true);
  return { text, allowed, ground };
}

/** Smallest allowed index >= from (text.length when none). */
function oracleSafeCut(corpus: Corpus, from: number): number {
  for (let i = from; i < corpus.allowed.length; i++) if (corpus.allowed[i]) return i;
  return corpus.text.length;
}

const TEXT_CHARS = ['a', 'b', 'Z', '0', ' ', '\r', '\n', '\t', BEL, '\b', 'é', '€', '中', '😀', '🎉', '\u009b', '\u0085'];

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

/** Folds scanState one UTF-16 unit at a time (no shortcut possible). */
function scanOneByOne(state: ScanState, text: string): ScanState {
  for (const unit of text.split('')) state = scanState(state, unit);
  return state;
}

// ---------------------------------------------------------------------------

describe('scanState', () => {
  it('stays in ground for plain text, C0 controls, non-ASCII and 8-bit C1 characters', () => {
    expect(scanState(ScanState.Ground, '')).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, 'hello world\r\n\t\b' + BEL)).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, 'é€中😀')).toBe(ScanState.Ground);
    // 8-bit CSI (U+009B) is documented as not starting a sequence.
    expect(scanState(ScanState.Ground, '\u009b31m')).toBe(ScanState.Ground);
  });

  it('is in Escape right after ESC, also when ESC follows plain text', () => {
    expect(scanState(ScanState.Ground, ESC)).toBe(ScanState.Escape);
    expect(scanState(ScanState.Ground, 'abc' + ESC)).toBe(ScanState.Escape);
    // A C0 control after ESC executes without ending the escape sequence.
    expect(scanState(ScanState.Ground, ESC + '\n')).toBe(ScanState.Escape);
  });

  it("is in Csi after 'ESC [' and while parameters follow, and in ground after the final byte", () => {
    expect(scanState(ScanState.Ground, ESC + '[')).toBe(ScanState.Csi);
    expect(scanState(ScanState.Ground, 'abc' + ESC + '[38;5')).toBe(ScanState.Csi);
    expect(scanState(ScanState.Ground, ESC + '[38;5;196')).toBe(ScanState.Csi);
    expect(scanState(ScanState.Ground, ESC + '[38;5;196m')).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + '[38;5;196mtext')).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + '[?25h')).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + '[2 ')).toBe(ScanState.Csi); // intermediate byte
    expect(scanState(ScanState.Ground, ESC + '[2 q')).toBe(ScanState.Ground);
  });

  it('continues a CSI across calls from the state given', () => {
    const afterFirst = scanState(ScanState.Ground, 'abc' + ESC + '[38;5');
    expect(afterFirst).toBe(ScanState.Csi);
    expect(scanState(afterFirst, ';1')).toBe(ScanState.Csi);
    expect(scanState(afterFirst, ';196m')).toBe(ScanState.Ground);
    expect(scanState(afterFirst, ';196mtext')).toBe(ScanState.Ground);
    // The same text from ground is just text.
    expect(scanState(ScanState.Ground, ';1')).toBe(ScanState.Ground);
  });

  it('keeps a CSI open across an embedded C0 control', () => {
    expect(scanState(ScanState.Ground, ESC + '[38;5\r')).toBe(ScanState.Csi);
    expect(scanState(ScanState.Ground, ESC + '[38;5\r;196')).toBe(ScanState.Csi);
    expect(scanState(ScanState.Ground, ESC + '[38;5\r;196m')).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + '[1\n')).toBe(ScanState.Csi);
  });

  it('restarts at ESC inside a CSI (ESC aborts it)', () => {
    expect(scanState(ScanState.Ground, ESC + '[38' + ESC)).toBe(ScanState.Escape);
    expect(scanState(ScanState.Ground, ESC + '[38' + ESC + '[0')).toBe(ScanState.Csi);
    expect(scanState(ScanState.Ground, ESC + '[38' + ESC + '[0m')).toBe(ScanState.Ground);
  });

  it('stays inside an OSC string until BEL', () => {
    expect(scanState(ScanState.Ground, ESC + ']')).toBe(ScanState.String);
    expect(scanState(ScanState.Ground, ESC + ']0;some long title')).toBe(ScanState.String);
    // Printable text, ';', 'm' and other would-be final bytes do not end a string.
    expect(scanState(ScanState.String, ' still the title;m[]é😀')).toBe(ScanState.String);
    expect(scanState(ScanState.Ground, ESC + ']0;some long title' + BEL)).toBe(ScanState.Ground);
    expect(scanState(ScanState.String, 'end of title' + BEL)).toBe(ScanState.Ground);
    expect(scanState(ScanState.String, 'end of title' + BEL + 'text')).toBe(ScanState.Ground);
  });

  it('ends an OSC / DCS / SOS / PM / APC string at ST (ESC backslash)', () => {
    expect(scanState(ScanState.Ground, ESC + ']0;title' + ESC)).toBe(ScanState.Escape);
    expect(scanState(ScanState.Ground, ESC + ']0;title' + ST)).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + 'Pq#0;2;0;0;0#0~~@@')).toBe(ScanState.String);
    expect(scanState(ScanState.Ground, ESC + 'Pq#0;2;0;0;0#0~~@@' + ST)).toBe(ScanState.Ground);
    for (const introducer of ['X', '^', '_']) {
      expect(scanState(ScanState.Ground, ESC + introducer + 'payload')).toBe(ScanState.String);
      expect(scanState(ScanState.Ground, ESC + introducer + 'payload' + ST)).toBe(ScanState.Ground);
    }
    // ST split across calls.
    expect(scanState(ScanState.String, 'more' + ESC)).toBe(ScanState.Escape);
    expect(scanState(ScanState.Escape, '\\')).toBe(ScanState.Ground);
  });

  it('returns to ground on CAN or SUB from any state', () => {
    expect(scanState(ScanState.Ground, ESC + '[38;5' + CAN)).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + '[38;5' + SUB)).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + ']0;title' + CAN)).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + ']0;title' + SUB)).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + CAN)).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + '(' + SUB)).toBe(ScanState.Ground);
    // Without an ESC in the text, from a non-ground start state.
    expect(scanState(ScanState.String, 'abc' + CAN)).toBe(ScanState.Ground);
    expect(scanState(ScanState.Csi, '1;2' + SUB + 'more')).toBe(ScanState.Ground);
  });

  it('handles charset designation ESC ( B through EscapeIntermediate', () => {
    expect(scanState(ScanState.Ground, ESC + '(')).toBe(ScanState.EscapeIntermediate);
    expect(scanState(ScanState.Ground, ESC + '(B')).toBe(ScanState.Ground);
    expect(scanState(ScanState.EscapeIntermediate, 'B')).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + '( ')).toBe(ScanState.EscapeIntermediate); // more intermediates
    expect(scanState(ScanState.Ground, ESC + '#8')).toBe(ScanState.Ground);
    // Two-character escapes end at once.
    expect(scanState(ScanState.Ground, ESC + '7')).toBe(ScanState.Ground);
    expect(scanState(ScanState.Ground, ESC + '\\')).toBe(ScanState.Ground);
  });

  it('gives the same state whether the text is scanned whole, split anywhere, or one unit at a time', () => {
    const mismatches: unknown[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const { text } = randomCorpus(seed, 40);
      const whole = scanState(ScanState.Ground, text);
      expect(scanOneByOne(ScanState.Ground, text)).toBe(whole);
      for (let i = 0; i <= text.length; i++) {
        const head = text.slice(0, i);
        const tail = text.slice(i);
        const mid = scanState(ScanState.Ground, head);
        const midOneByOne = scanOneByOne(ScanState.Ground, head);
        const end = scanState(mid, tail);
        if (mid !== midOneByOne || end !== whole) mismatches.push({ seed, i, mid, midOneByOne, end, whole });
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('is in ground exactly at the positions the token oracle calls between sequences', () => {
    const mismatches: unknown[] = [];
    let checked = 0;
    for (let seed = 100; seed < 120; seed++) {
      const corpus = randomCorpus(seed, 40);
      let state: ScanState = ScanState.Ground;
      for (let i = 0; i <= corpus.text.length; i++) {
        checked++;
        if ((state === ScanState.Ground) !== corpus.ground[i]) mismatches.push({ seed, i, state, text: JSON.stringify(corpus.text.slice(Math.max(0, i - 10), i + 10)) });
        if (i < corpus.text.length) state = scanState(state, corpus.text[i]);
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(mismatches).toEqual([]);
  });
});

describe('findSafeCut', () => {
  it('returns `from` itself in plain ground text', () => {
    const text = 'hello world';
    for (let from = 0; from <= text.length; from++) {
      expect(findSafeCut(text, ScanState.Ground, from)).toBe(from);
    }
  });

  it('moves a cut inside an SGR sequence to just after it, for every position in the sequence', () => {
    const seq = ESC + '[38;5;196m';
    const text = 'ab' + seq + 'cd';
    const seqStart = 2;
    const seqEnd = seqStart + seq.length;
    for (let from = 0; from <= text.length; from++) {
      const expected = from > seqStart && from < seqEnd ? seqEnd : from;
      expect({ from, cut: findSafeCut(text, ScanState.Ground, from) }).toEqual({ from, cut: expected });
    }
    // The cut at the ESC itself is allowed (the text then starts with a whole sequence).
    expect(text.slice(findSafeCut(text, ScanState.Ground, seqStart))).toBe(seq + 'cd');
  });

  it('moves a cut inside an OSC title to after its BEL, and inside a DCS to after its ST', () => {
    const osc = ESC + ']0;some long title' + BEL;
    const dcs = ESC + 'Pq#0;2;0;0;0#0~~@@vv@@~~$-' + ST;
    for (const seq of [osc, dcs]) {
      const text = 'xy' + seq + 'z';
      for (let from = 3; from < 2 + seq.length; from++) {
        expect({ from, cut: findSafeCut(text, ScanState.Ground, from) }).toEqual({ from, cut: 2 + seq.length });
      }
    }
  });

  it('moves a cut inside a CSI that contains a C0 control to after its final byte', () => {
    const seq = ESC + '[38;5\r\n;196m';
    const text = 'ab' + seq + 'cd';
    for (let from = 3; from < 2 + seq.length; from++) {
      expect({ from, cut: findSafeCut(text, ScanState.Ground, from) }).toEqual({ from, cut: 2 + seq.length });
    }
  });

  it('uses the state at index 0 for text that starts inside a sequence', () => {
    expect(findSafeCut(';196mtext', ScanState.Csi, 0)).toBe(5);
    expect(findSafeCut(';196mtext', ScanState.Ground, 0)).toBe(0);
    expect(findSafeCut('le' + BEL + 'text', ScanState.String, 0)).toBe(3);
    expect(findSafeCut('\\text', ScanState.Escape, 0)).toBe(1);
    expect(findSafeCut('Btext', ScanState.EscapeIntermediate, 0)).toBe(1);
    expect(findSafeCut('title' + CAN + 'x', ScanState.String, 2)).toBe(6);
  });

  it('returns text.length when the text ends before a safe place', () => {
    expect(findSafeCut(ESC + ']0;unterminated title', ScanState.Ground, 1)).toBe(ESC.length + ']0;unterminated title'.length);
    expect(findSafeCut('still inside', ScanState.String, 0)).toBe('still inside'.length);
    expect(findSafeCut('abc', ScanState.Ground, 3)).toBe(3);
  });

  it('never returns an index between the two halves of a surrogate pair', () => {
    const text = 'a😀😀b🎉';
    // indices: a=0, 😀=1-2, 😀=3-4, b=5, 🎉=6-7, end=8
    const expected = [0, 1, 3, 3, 5, 5, 6, 8, 8];
    for (let from = 0; from <= text.length; from++) {
      expect({ from, cut: findSafeCut(text, ScanState.Ground, from) }).toEqual({ from, cut: expected[from] });
    }
    // After a sequence that ends right before an emoji, and with a start state inside a sequence.
    expect(findSafeCut(ESC + '[1m😀x', ScanState.Ground, 2)).toBe(4);
    expect(findSafeCut('m😀', ScanState.Csi, 0)).toBe(1);
    expect(findSafeCut('😀', ScanState.Ground, 1)).toBe(2);
  });

  it('agrees with the token oracle for every `from`, from ground and from every mid-text state', () => {
    const mismatches: unknown[] = [];
    let checked = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const corpus = randomCorpus(seed, 30);
      const { text } = corpus;
      for (let from = 0; from <= text.length; from++) {
        const cut = findSafeCut(text, ScanState.Ground, from);
        const expected = oracleSafeCut(corpus, from);
        checked++;
        if (cut !== expected) mismatches.push({ seed, from, cut, expected });
      }
      // Start the text at an arbitrary index (possibly inside a sequence), given the right state there.
      for (let start = 0; start <= text.length; start += 7) {
        if (isLowSurrogate(text.charCodeAt(start))) continue;
        const state = scanState(ScanState.Ground, text.slice(0, start));
        const rest = text.slice(start);
        for (let from = 0; from <= rest.length; from += 3) {
          const cut = findSafeCut(rest, state, from);
          const expected = oracleSafeCut(corpus, start + from) - start;
          checked++;
          if (cut !== expected) mismatches.push({ seed, start, from, cut, expected });
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(mismatches).toEqual([]);
  });
});
