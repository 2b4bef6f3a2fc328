/**
 * The cell budget of a screen-mode session (`screen.maxCells`). Its emulator
 * holds every cell of its screen, of its scrollback and, while a program
 * uses it, of the alternate screen: 15-18 bytes a cell of plain text and
 * 70-80 with styled underlines (an object per cell), all serialized for a
 * snapshot. A terminal of 1000x1000 with 1000 lines of scrollback was ~120
 * MiB and a 60 MB snapshot. So a screen is at most as large as leaves room,
 * within `maxCells`, for its alternate screen and a line of scrollback (a
 * larger size is lowered, rows first), and the scrollback is whatever lines
 * of its width still fit: a narrow terminal keeps `screen.scrollback` lines,
 * a very wide one fewer.
 */

/** Cells of an emulator of `cols` x `rows` with `scrollback` lines: the normal screen and its scrollback, and the alternate screen. */
export function screenCells(cols: number, rows: number, scrollback: number): number {
  return cols * (2 * rows + scrollback);
}

/**
 * A terminal size that fits `maxCells` with its alternate screen and a line
 * of scrollback: rows lowered first, then columns, never below 1.
 */
export function fitScreenSize(cols: number, rows: number, maxCells: number): { cols: number; rows: number } {
  if (screenCells(cols, rows, 1) <= maxCells) return { cols, rows };
  const fittedRows = Math.max(1, Math.min(rows, Math.floor((Math.floor(maxCells / cols) - 1) / 2)));
  return { cols: Math.max(1, Math.min(cols, Math.floor(maxCells / (2 * fittedRows + 1)))), rows: fittedRows };
}

/** Lines of scrollback an emulator of `cols` x `rows` keeps: at most `scrollback`, and within `maxCells` with its screens. */
export function scrollbackWithin(cols: number, rows: number, scrollback: number, maxCells: number): number {
  return Math.max(0, Math.min(scrollback, Math.floor(maxCells / cols) - 2 * rows));
}
