/**
 * The cell budget of a screen-mode session (`screen.maxCells`). Its emulator
 * holds every cell of its screen and of its scrollback, 12 bytes each and
 * ~60 with styled underlines (an object per cell), and serializes them all
 * for a snapshot: a terminal of 1000x1000 with 1000 lines of scrollback was
 * ~120 MiB and a 60 MB snapshot. So the screen is at most `maxCells` cells
 * (a larger size is lowered, rows first), and the scrollback is whatever
 * lines of its width still fit: a narrow terminal keeps `screen.scrollback`
 * lines, a very wide one fewer.
 */

/** A terminal size of at most `maxCells` cells: rows lowered first, then columns, never below 1. */
export function fitScreenSize(cols: number, rows: number, maxCells: number): { cols: number; rows: number } {
  if (cols * rows <= maxCells) return { cols, rows };
  const fittedRows = Math.max(1, Math.min(rows, Math.floor(maxCells / cols)));
  return { cols: Math.max(1, Math.min(cols, Math.floor(maxCells / fittedRows))), rows: fittedRows };
}

/** Lines of scrollback an emulator of `cols` x `rows` keeps: at most `scrollback`, and within `maxCells` with its screen. */
export function scrollbackWithin(cols: number, rows: number, scrollback: number, maxCells: number): number {
  return Math.max(0, Math.min(scrollback, Math.floor(maxCells / cols) - rows));
}
