// Generated output for the programs the bench runs (`cat <file>`), and the
// exact number of bytes a client must receive for each.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One line of build-log-like output, under 80 columns: plain text, colours
 * (SGR sequences) and some non-ASCII UTF-8, as terminal programs print.
 */
function line(i) {
  const n = String(i).padStart(7, '0');
  switch (i % 6) {
    case 0:
      return `\x1b[32m${n} ok\x1b[0m  src/module-${i % 97}/file-${i % 13}.ts compiled in ${i % 900} ms\n`;
    case 1:
      return `${n} ─── résumé: ${'abcdefghij'.repeat(1 + (i % 4))}\n`;
    case 2:
      return `\x1b[1;33m${n} warn\x1b[0m unused variable \`x${i % 1000}\` (größe ${i % 77})\n`;
    case 3:
      return `${n} ${'0123456789ABCDEF'.repeat(3).slice(0, 20 + (i % 40))}\n`;
    case 4:
      return `${n} → test ${i % 400} passed ✓\n`;
    default:
      return `${n} the quick brown fox jumps over the lazy dog ${i % 10}\n`;
  }
}

/**
 * Writes lines until the file holds at least `minBytes` (or exactly `lines`
 * lines). Returns `{ path, fileBytes, lines, expectedBytes }`, where
 * `expectedBytes` is what the terminal delivers: its output processing turns
 * every "\n" into "\r\n" (onlcr), one byte more per line.
 */
function writeLines(path, { minBytes = Infinity, lines = Infinity }) {
  const parts = [];
  let fileBytes = 0;
  let count = 0;
  while (fileBytes < minBytes && count < lines) {
    const text = line(count++);
    parts.push(text);
    fileBytes += Buffer.byteLength(text);
  }
  writeFileSync(path, parts.join(''));
  return { path, fileBytes, lines: count, expectedBytes: fileBytes + count };
}

/** The files of one bench run, in a temporary directory removed by `dispose()`. */
export function createFixtures(sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-pty-session-bench-'));
  const cache = new Map();
  const get = (name, make) => {
    if (!cache.has(name)) cache.set(name, make(join(dir, `${name}.txt`)));
    return cache.get(name);
  };
  return {
    dir,
    /** The throughput file (tens of MB). */
    big: () => get('big', (path) => writeLines(path, { minBytes: sizes.bigBytes })),
    /** The fan-out file (smaller: every client receives all of it). */
    fanout: () => get('fanout', (path) => writeLines(path, { minBytes: sizes.fanoutBytes })),
    /** More than a 1 MiB replay buffer holds. */
    fill: () => get('fill', (path) => writeLines(path, { minBytes: sizes.fillBytes })),
    /** 100k lines (screen snapshot). */
    lines: () => get('lines', (path) => writeLines(path, { lines: sizes.lines })),
    /** What each idle session printed before the memory measurement. */
    idle: () => get('idle', (path) => writeLines(path, { minBytes: sizes.idleBytes })),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
