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
