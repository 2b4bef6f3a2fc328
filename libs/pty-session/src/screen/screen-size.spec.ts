import { describe, expect, it } from '@jest/globals';
import { fitScreenSize, screenCells, scrollbackWithin } from './screen-size.js';

describe('fitScreenSize', () => {
  it('keeps a size that fits with its alternate screen and a line of scrollback', () => {
    expect(fitScreenSize(80, 24, 80 * 49)).toEqual({ cols: 80, rows: 24 });
    expect(fitScreenSize(1000, 130, 262_144)).toEqual({ cols: 1000, rows: 130 });
  });

  it('lowers rows first, then columns, never below 1', () => {
    expect(fitScreenSize(1000, 1000, 262_144)).toEqual({ cols: 1000, rows: 130 });
    expect(fitScreenSize(200, 50, 8000)).toEqual({ cols: 200, rows: 19 });
    expect(fitScreenSize(1000, 10, 500)).toEqual({ cols: 166, rows: 1 });
  });

  it('never gives more cells than the budget (screens and a line of scrollback), nor more than asked', () => {
    for (let i = 0; i < 2000; i++) {
      const cols = 1 + Math.floor(Math.random() * 1000);
      const rows = 1 + Math.floor(Math.random() * 1000);
      const max = 3 + Math.floor(Math.random() * 300_000);
      const fitted = fitScreenSize(cols, rows, max);
      expect(screenCells(fitted.cols, fitted.rows, 1)).toBeLessThanOrEqual(max);
      expect(scrollbackWithin(fitted.cols, fitted.rows, 1000, max)).toBeGreaterThanOrEqual(1);
      expect(fitted.cols).toBeLessThanOrEqual(cols);
      expect(fitted.rows).toBeLessThanOrEqual(rows);
      expect(fitted.cols).toBeGreaterThanOrEqual(1);
      expect(fitted.rows).toBeGreaterThanOrEqual(1);
      if (screenCells(cols, rows, 1) > max) expect(fitted.rows === 1 || fitted.cols === cols).toBe(true);
      else expect(fitted).toEqual({ cols, rows });
    }
  });
});

describe('scrollbackWithin', () => {
  it('keeps the lines of scrollback that fit beside the two screens, at most the option, at least none', () => {
    expect(scrollbackWithin(80, 24, 1000, 262_144)).toBe(1000);
    expect(scrollbackWithin(320, 80, 1000, 262_144)).toBe(659);
    expect(scrollbackWithin(100, 30, 1000, 8000)).toBe(20);
    expect(scrollbackWithin(1000, 131, 1000, 262_144)).toBe(0);
    expect(scrollbackWithin(80, 24, 0, 262_144)).toBe(0);
  });
});
