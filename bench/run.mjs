#!/usr/bin/env node
// npm run bench: starts a real host app (bench/host.mjs) on loopback, drives
// it with real Socket.IO clients (the client package), measures raw node-pty
// in a process of its own (bench/raw-pty.mjs) for comparison, and the floor of
// Socket.IO + node-pty without the library (bench/bare-socketio.mjs), and prints a
// markdown table (median, min, max of the runs) plus a JSON file in
// bench-results/. Never part of `npm test`.
//
//   npm run bench                     every case, 5 measured runs after a warm-up
//   npm run bench -- --quick          fewer runs, smaller sizes (a minute or so)
//   npm run bench -- --only echo,reattach --runs 3
//   npm run bench -- --cpu-prof       also write a CPU profile of each host, viewers process and the Socket.IO floor (bench-results/cpu-profiles/)
//   npm run bench -- --help           every option
//
// Cases: throughput, echo, reattach, fanout, sessions, screen.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { startChild } from './lib/child-process.mjs';
import { createFixtures } from './lib/fixtures.mjs';
import { MiB } from './lib/stats.mjs';
import { markdownTable, naRow, writeJson } from './report.mjs';
import throughput from './cases/throughput.mjs';
import echo from './cases/echo.mjs';
import reattach from './cases/reattach.mjs';
import fanout from './cases/fanout.mjs';
import sessions from './cases/many-sessions.mjs';
import screen from './cases/screen-cost.mjs';

const CASES = [throughput, echo, reattach, fanout, sessions, screen];

/** Sizes of a full run, and of `--quick`. */
const SIZES = {
  full: {
    runs: 5,
    bigBytes: 32 * MiB,
    fanoutBytes: 8 * MiB,
    fanoutClients: [1, 10, 50],
    fillBytes: 1.5 * MiB,
    lines: 100_000,
    keystrokes: 300,
    liveSessions: 1000,
    sweepSessions: 10_000,
    idleSessions: 100,
    idleBytes: 300 * 1024,
  },
  quick: {
    runs: 2,
    bigBytes: 8 * MiB,
    fanoutBytes: 2 * MiB,
    fanoutClients: [1, 10, 50],
    fillBytes: 1.5 * MiB,
    lines: 100_000,
    keystrokes: 100,
    liveSessions: 100,
    sweepSessions: 10_000,
    idleSessions: 20,
    idleBytes: 300 * 1024,
  },
};

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const resultsDir = join(root, 'bench-results');

const USAGE = `Usage: npm run bench -- [options]   (or, after npm run build:lib: node bench/run.mjs [options])

  --quick                  fewer runs, smaller sizes (a minute or so)
  --only <cases>           some cases, comma-separated: ${CASES.map((c) => c.name).join(', ')}
  --runs <n>               measured runs per case, after one warm-up (default ${SIZES.full.runs}; --quick ${SIZES.quick.runs})
  --fanout-clients <list>  fan-out client counts, e.g. 50 (1 client is always measured: the others' baseline)
  --options '<json>'       module options laid over every host's own, one level deep (an A/B of a setting)
  --host-args='<flags>'    Node options for every host app, e.g. --host-args='--trace-gc' (write it with =)
  --cpu-prof               also write CPU profiles of the hosts, fan-out viewers and the Socket.IO floor (bench-results/cpu-profiles/)
  --help                   this text

Writes a markdown table to stdout and the JSON to bench-results/. See bench/README.md.`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      runs: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      options: { type: 'string' },
      'fanout-clients': { type: 'string' },
      /** Node options for every host app, space-separated, given as `--host-args='--trace-gc --max-semi-space-size=32'`: a probe or an A/B of V8 settings. */
      'host-args': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  console.error(`${error.message}\n\n${USAGE}`);
  process.exit(2);
}
const args = parsed.values;
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const fail = (message) => {
  console.error(message);
  process.exit(2);
};

const sizes = { ...(args.quick ? SIZES.quick : SIZES.full) };
if (args['fanout-clients'] !== undefined) {
  const counts = args['fanout-clients'].split(',').map(Number);
  if (!counts.every((n) => Number.isInteger(n) && n >= 1)) fail('--fanout-clients takes positive integers, e.g. 1,50');
  sizes.fanoutClients = [...new Set([1, ...counts])].sort((a, b) => a - b); // 1 client is the baseline of the others

}
/** Module options laid over every host's own (an A/B of a setting): one level deep, so `{ "flowControl": { "ackIntervalBytes": 65536 } }` keeps the other flowControl fields. */
let hostOptions = {};
if (args.options !== undefined) {
  try {
    hostOptions = JSON.parse(args.options);
  } catch {
    fail('--options takes a JSON object of module options');
  }
  if (typeof hostOptions !== 'object' || hostOptions === null || Array.isArray(hostOptions)) fail('--options takes a JSON object of module options');
}
const withHostOptions = (options) => {
  const merged = { ...options };
  for (const [name, value] of Object.entries(hostOptions)) {
    const nested = typeof value === 'object' && value !== null && !Array.isArray(value);
    merged[name] = nested ? { ...(merged[name] ?? {}), ...value } : value;
  }
  return merged;
};
const runs = args.runs !== undefined ? Number(args.runs) : sizes.runs;
if (!Number.isInteger(runs) || runs < 1) fail('--runs takes a positive integer');
const only = args.only?.split(',').map((name) => name.trim()).filter(Boolean);
const unknown = only?.filter((name) => !CASES.some((c) => c.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`Unknown case(s): ${unknown.join(', ')}. Cases: ${CASES.map((c) => c.name).join(', ')}`);
  process.exit(2);
}
const selected = CASES.filter((c) => !only || only.includes(c.name));

const log = (message) => process.stderr.write(`${message}\n`);
const children = new Set();
let rawChild;
let bareChild;
const cpuProfileDir = join(resultsDir, 'cpu-profiles');

const ctx = {
  runs,
  warmup: 1,
  quick: args.quick,
  sizes,
  fixtures: createFixtures(sizes),
  log,
  /** Parts of cases that failed (their rows say so too). */
  failures: [],
  /**
   * Starts a host app with these module options, in a child process; resolves to `{ url, token, pid, call, stop }`.
   * `appDataMiB`: the host also keeps this much application data of its own (see host.mjs).
   */
  async startHost(label, options, { appDataMiB } = {}) {
    const token = randomBytes(16).toString('hex');
    const execArgv = ['--expose-gc', ...(args['host-args']?.split(' ').filter(Boolean) ?? [])];
    execArgv.push(...ctx.profileArgs(`host-${label}`));
    const child = await startChild(join(here, 'host.mjs'), { config: { token, options: withHostOptions(options), appDataMiB }, execArgv, label: `host (${label})` });
    children.add(child);
    return {
      url: child.info.url,
      token,
      pid: child.pid,
      call: child.call,
      stop: async () => {
        children.delete(child);
        await child.stop();
      },
    };
  },
  /** With `--cpu-prof`, the Node options that make a child process write its CPU profile as `<name>-<time>.cpuprofile`. */
  profileArgs(name) {
    return args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
  },
  /** The raw node-pty process (one for the whole bench). */
  async raw() {
    rawChild ??= startChild(join(here, 'raw-pty.mjs'), { label: 'raw node-pty' });
    return rawChild;
  },
  /** The bare Socket.IO + node-pty server, the floor (one for the whole bench); resolves to `{ info: { url }, call, stop }`. */
  async bare() {
    bareChild ??= startChild(join(here, 'bare-socketio.mjs'), { label: 'bare Socket.IO + node-pty', execArgv: ctx.profileArgs('floor-server') });
    const child = await bareChild;
    return { url: child.info.url, pid: child.pid, call: child.call };
  },
};

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

const startedAt = new Date().toISOString();
const loadBefore = loadavg();
const startTime = performance.now();
const rows = [];
const failures = ctx.failures;
log(`nestjs-pty-session bench: ${selected.map((c) => c.name).join(', ')}; ${runs} runs after ${ctx.warmup} warm-up${args.quick ? ' (quick)' : ''}`);

try {
  for (const benchCase of selected) {
    log(`\n== ${benchCase.name}`);
    const caseStart = performance.now();
    try {
      rows.push(...(await benchCase.run(ctx)));
    } catch (error) {
      log(`  ${benchCase.name} failed: ${error?.stack ?? error}`);
      failures.push({ case: benchCase.name, error: String(error?.message ?? error) });
      rows.push(naRow(benchCase.name, 'the case failed', `failed: ${String(error?.message ?? error).split('\n')[0]}`));
    }
    log(`  (${((performance.now() - caseStart) / 1000).toFixed(1)} s)`);
  }
} finally {
  for (const child of children) await child.stop().catch(() => {});
  if (rawChild) await (await rawChild).stop().catch(() => {});
  if (bareChild) await (await bareChild).stop().catch(() => {});
  ctx.fixtures.dispose();
}

const result = {
  startedAt,
  durationSeconds: (performance.now() - startTime) / 1000,
  commit: gitCommit(),
  machine: {
    node: process.version,
    platform: `${process.platform} ${release()}`,
    cpu: cpus()[0]?.model,
    cpus: cpus().length,
    memoryGiB: +(totalmem() / 1024 ** 3).toFixed(1),
    loadavgBefore: loadBefore,
    loadavgAfter: loadavg(),
  },
  settings: { quick: args.quick, runs, warmup: ctx.warmup, sizes, only: only ?? null, hostOptions },
  rows,
  failures,
};
const jsonPath = writeJson(resultsDir, result);

const machine = result.machine;
console.log(`\n## nestjs-pty-session bench (${startedAt.slice(0, 10)}, ${result.commit ?? 'no commit'})\n`);
console.log(`${machine.cpu}, ${machine.cpus} cores, Node ${machine.node}, ${machine.platform}; load ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${machine.loadavgAfter.map((l) => l.toFixed(2)).join(' ')} after; ${runs} runs after a warm-up${args.quick ? ', --quick' : ''}${args.options !== undefined ? `; host options ${JSON.stringify(hostOptions)}` : ''}; ${result.durationSeconds.toFixed(0)} s.\n`);
console.log(markdownTable(rows));
const notes = rows.filter((row) => row.note).map((row) => `- ${row.case}, ${row.metric}: ${row.note}`);
if (notes.length > 0) console.log(`\n${notes.join('\n')}`);
console.log(`\nJSON: ${jsonPath}`);
process.exitCode = failures.length > 0 ? 1 : 0;
