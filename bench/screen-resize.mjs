// What a flood of resizes of a large screen-mode session costs: a probe, not a bench case.
//
//   npm run build:lib && node bench/screen-resize.mjs [resizes] [cols] [rows] [maxCells]
//
// Starts the library's manager in this process (no gateway), creates one
// screen-mode session of `cols` x `rows` (1000 x 1000 by default) running a
// program that fills its screen and scrollback with lines nearly as wide as
// the screen, waits for its snapshot, then resizes it `resizes` times (60,000),
// alternating between two widths one column apart with no output in between,
// and asks for a snapshot again. Prints the time each took, the size the
// session took, the snapshot's length, and the process's peak RSS (the
// emulators run in a worker thread of this process). `maxCells` is
// `screen.maxCells` (its default unless given; give 4000000 to see a
// 1000 x 1000 screen with its 1000 lines of scrollback).
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PtySessionManager, PtySessionModule } from 'nestjs-pty-session';

const [resizes = 60_000, cols = 1000, rows = 1000, maxCells] = process.argv.slice(2).map(Number);
const LINES = `process.stdout.write(('x'.repeat(${cols - 10}) + '\\r\\n').repeat(2200)); setInterval(() => {}, 1e6);`;
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

class ScreenResizeModule {}
Module({
  imports: [
    PtySessionModule.forRoot({
      profiles: { lines: { file: process.execPath, args: ['-e', LINES], env: { PATH: '/usr/bin:/bin' } } },
      defaultProfile: 'lines',
      replay: 'screen',
      gateway: false,
      // A long timeout: the probe waits for the snapshot however long the worker takes.
      screen: { snapshotTimeoutMs: 600_000, ...(maxCells ? { maxCells } : {}) },
    }),
  ],
})(ScreenResizeModule);
const app = await NestFactory.createApplicationContext(ScreenResizeModule, { logger: ['error'] });
const manager = app.get(PtySessionManager);
const session = await manager.createSession({ cols, rows });
while (session.outputOffset < 2200 * (cols - 8)) await new Promise((resolve) => setTimeout(resolve, 50));
let start = performance.now();
let snapshot = await session.snapshot();
console.log(`session ${session.cols}x${session.rows}: first snapshot ${(performance.now() - start).toFixed(0)} ms, ${snapshot.data.length} characters, RSS ${mib(process.memoryUsage().rss)}`);
start = performance.now();
for (let i = 0; i < resizes; i++) session.resize(cols - (i % 2 ? 0 : 1), rows);
session.resize(cols, rows);
const sent = performance.now() - start;
snapshot = await session.snapshot();
console.log(
  `${resizes} resizes: ${sent.toFixed(0)} ms to make, ${(performance.now() - start).toFixed(0)} ms with the snapshot after them (${snapshot.data.length} characters); ` +
    `RSS ${mib(process.memoryUsage().rss)}, at its peak ${mib(process.resourceUsage().maxRSS * 1024)}`,
);
await app.close();
process.exit(0);
