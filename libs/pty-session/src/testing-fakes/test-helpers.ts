import { expect } from '@jest/globals';
import { PtySessionError, type PtySessionErrorCode } from '../pty-session.errors.js';

/** Deterministic PRNG (mulberry32): the same seed gives the same test every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `fn`, expects it to throw a PtySessionError with `code`, returns the error. */
export function expectThrowsCode(fn: () => unknown, code: PtySessionErrorCode): PtySessionError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PtySessionError);
  expect((caught as PtySessionError).code).toBe(code);
  return caught as PtySessionError;
}

const ESC = '\x1b';
const BEL = '\x07';
const ST = '\x1b\\';
const CAN = '\x18';
const SUB = '\x1a';

/** A short window title with multi-byte characters. */
export function randomTitle(rand: () => number): string {
  const chars = ['t', 'i', 'T', ' ', '/', '~', 'é', '€', '😀', ';'];
  let s = '';
  const len = 1 + Math.floor(rand() * 12);
  for (let i = 0; i < len; i++) s += chars[Math.floor(rand() * chars.length)];
  return s;
}

/** One complete escape sequence of a random kind (CSI, OSC, DCS, APC, PM, SOS, ESC, aborted ones). */
export function randomSequence(rand: () => number): string {
  const n = (k: number) => Math.floor(rand() * k);
  const choices: (() => string)[] = [
    () => `${ESC}[${n(108)}m`,
    () => `${ESC}[38;5;${n(256)}m`,
    () => `${ESC}[48;2;${n(256)};${n(256)};${n(256)}m`,
    () => `${ESC}[?25${rand() < 0.5 ? 'h' : 'l'}`,
    () => `${ESC}[2J`,
    () => `${ESC}[${1 + n(50)};${1 + n(200)}H`,
    () => `${ESC}[2 q`, // CSI with an intermediate byte
    () => `${ESC}[38;5\r;${n(256)}m`, // CSI with a C0 control executed inside it
    () => `${ESC}[1\n;3${n(8)}m`,
    () => `${ESC}]0;${randomTitle(rand)}${BEL}`, // OSC, BEL-terminated
    () => `${ESC}]2;${randomTitle(rand)}${ST}`, // OSC, ST-terminated
    () => `${ESC}]8;;https://example.com/${n(1000)}${ST}`,
    () => `${ESC}Pq#0;2;0;0;0#0~~@@vv@@~~@@~~$-${ST}`, // DCS (sixel)
    () => `${ESC}_Gf=100;AAAA${ST}`, // APC
    () => `${ESC}^pm${ST}`, // PM
    () => `${ESC}Xsos${ST}`, // SOS
    () => `${ESC}(B`, // charset designation
    () => `${ESC})0`,
    () => `${ESC}#8`,
    () => `${ESC}7`,
    () => `${ESC}=`,
    () => `${ESC}M`,
    () => `${ESC}[38;5${CAN}`, // CSI aborted by CAN
    () => `${ESC}]0;${randomTitle(rand)}${SUB}`, // OSC aborted by SUB
    () => `${ESC}[38${ESC}[0m`, // CSI aborted by ESC, then a new CSI
  ];
  return choices[n(choices.length)]();
}
