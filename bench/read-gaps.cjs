// A probe, not a case: preloaded into every bench process with
//   NODE_OPTIONS="--require ./bench/read-gaps.cjs" npm run bench -- --only throughput
// it wraps node-pty's `spawn` in each process that spawns (the host apps,
// the Socket.IO floor, raw node-pty), and when a pty that printed at least
// 1 MB exits, prints to stderr how its reads were spaced: the gaps between
// two reads longer than 1, 2, 5 and 10 ms (count / total), the garbage
// collections in the run (perf_hooks, by kind: 1 scavenge, 4 mark-compact,
// 8 incremental marking) and the part of the gaps they cover, and whether
// the event loop was busy (active) or waiting (idle) during the gaps.
//
// What it shows: every read of a pty returns at most 4 KiB, and `cat` can
// only be a few reads ahead, so a process that stops reading for a
// millisecond stops `cat` too. A gap with the loop active was the process's
// own work (or the process waiting for a core); a gap with the loop idle was
// the program not writing.
'use strict';
const { readFileSync } = require('node:fs');
const { basename } = require('node:path');
const { PerformanceObserver, performance } = require('node:perf_hooks');

const MIN_BYTES = 1e6;
const GAP_LIMITS_MS = [1, 2, 5, 10];
/** Gaps longer than this are kept, to find the collections inside them. */
const KEPT_GAP_MS = GAP_LIMITS_MS[0];

const collections = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) collections.push({ start: entry.startTime, end: entry.startTime + entry.duration, kind: entry.detail?.kind });
}).observe({ entryTypes: ['gc'] });

let nodePty;
try {
  nodePty = require(require.resolve('node-pty', { paths: [process.cwd(), __dirname] }));
} catch {
  nodePty = undefined; // a process of the bench that never spawns
}

if (nodePty) {
  const spawn = nodePty.spawn;
  nodePty.spawn = function spawnWithReadGaps(...args) {
    const pty = spawn.apply(this, args);
    followReads(pty);
    return pty;
  };
}

/** The main thread's time on a core and waiting for one (ns, Linux's schedstat), or undefined elsewhere. */
function mainThreadSchedule() {
  try {
    const [onCpu, waiting] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { onCpu, waiting };
  } catch {
    return undefined;
  }
}

function followReads(pty) {
  let firstSchedule;
  let first;
  let last;
  let lastLoop;
  let reads = 0;
  let bytes = 0;
  let longest = 0;
  let loopActive = 0;
  let loopIdle = 0;
  const over = GAP_LIMITS_MS.map(() => ({ count: 0, ms: 0 }));
  const kept = [];
  pty.onData((data) => {
    const now = performance.now();
    const loop = performance.eventLoopUtilization();
    reads++;
    bytes += data.length;
    if (last === undefined) {
      first = now;
      firstSchedule = mainThreadSchedule();
    } else {
      const gap = now - last;
      longest = Math.max(longest, gap);
      GAP_LIMITS_MS.forEach((limit, i) => {
        if (gap > limit) {
          over[i].count++;
          over[i].ms += gap;
        }
      });
      if (gap > KEPT_GAP_MS) {
        kept.push({ start: last, end: now });
        loopActive += loop.active - lastLoop.active;
        loopIdle += loop.idle - lastLoop.idle;
      }
    }
    last = now;
    lastLoop = loop;
  });
  pty.onExit(() => {
    if (bytes < MIN_BYTES) return;
    const inRun = collections.filter((gc) => gc.end >= first && gc.start <= last);
    const kinds = {};
    let gcMs = 0;
    for (const gc of inRun) {
      kinds[gc.kind] = (kinds[gc.kind] ?? 0) + 1;
      gcMs += gc.end - gc.start;
    }
    let gcInGaps = 0;
    for (const gap of kept) for (const gc of inRun) gcInGaps += Math.max(0, Math.min(gap.end, gc.end) - Math.max(gap.start, gc.start));
    const span = last - first;
    const schedule = mainThreadSchedule();
    const ms = (ns) => (ns / 1e6).toFixed(0);
    const scheduleText =
      firstSchedule && schedule
        ? `; main thread: on a core ${ms(schedule.onCpu - firstSchedule.onCpu)} ms, waiting for one ${ms(schedule.waiting - firstSchedule.waiting)} ms`
        : '';
    const gaps = GAP_LIMITS_MS.map((limit, i) => `>${limit} ms ${over[i].count}/${over[i].ms.toFixed(0)} ms`).join(', ');
    process.stderr.write(
      `read gaps (${basename(process.argv[1] ?? '?')}): ${reads} reads, ${bytes} B in ${span.toFixed(0)} ms (${((span / reads) * 1000).toFixed(0)} µs a read), ` +
        `longest ${longest.toFixed(1)} ms; gaps ${gaps}; collections ${gcMs.toFixed(0)} ms ${JSON.stringify(kinds)}, ${gcInGaps.toFixed(0)} ms of them in gaps; ` +
        `event loop in gaps: active ${loopActive.toFixed(0)} ms, idle ${loopIdle.toFixed(0)} ms${scheduleText}\n`,
    );
  });
}
