import { describe, expect, it } from '@jest/globals';
import { fitScreenSize, scrollbackWithin } from './screen-size.js';

describe('fitScreenSize', () => {
  it('keeps a size within the budget', () => {
    expect(fitScreenSize(80, 24, 80 * 24)).toEqual({ cols: 80, rows: 24 });
    expect(fitScreenSize(1000, 262, 262_144)).toEqual({ cols: 1000, rows: 262 });
  });

  it('lowers rows first, then columns, never below 1', () => {
    expect(fitScreenSize(1000, 1000, 262_144)).toEqual({ cols: 1000, rows: 262 });
    expect(fitScreenSize(200, 50, 8000)).toEqual({ cols: 200, rows: 40 });
    expect(fitScreenSize(1000, 10, 500)).toEqual({ cols: 500, rows: 1 });
  });

  it('never gives more cells than the budget, nor more than asked', () => {
    for (let i = 0; i < 2000; i++) {
      const cols = 1 + Math.floor(Math.random() * 1000);
      const rows = 1 + Math.floor(Math.random() * 1000);
      const max = 1 + Math.floor(Math.random() * 300_000);
      const fitted = fitScreenSize(cols, rows, max);
      expect(fitted.cols * fitted.rows).toBeLessThanOrEqual(Math.max(max, 1));
      expect(fitted.cols).toBeLessThanOrEqual(cols);
      expect(fitted.rows).toBeLessThanOrEqual(rows);
      expect(fitted.cols).toBeGreaterThanOrEqual(1);
      expect(fitted.rows).toBeGreaterThanOrEqual(1);
      if (cols * rows > max) expect(fitted.rows === 1 || fitted.cols === cols).toBe(true);
    }
  });
});

describe('scrollbackWithin', () => {
  it('keeps the lines of scrollback that fit beside the screen, at most the option, at least none', () => {
    expect(scrollbackWithin(80, 24, 1000, 262_144)).toBe(1000);
    expect(scrollbackWithin(320, 80, 1000, 262_144)).toBe(739);
    expect(scrollbackWithin(100, 30, 1000, 8000)).toBe(50);
    expect(scrollbackWithin(1000, 262, 1000, 262_144)).toBe(0);
    expect(scrollbackWithin(80, 24, 0, 262_144)).toBe(0);
  });
});
