// 1. Throughput: `cat` of a generated file of tens of MB through the gateway
// to one client that acknowledges as xterm.js does, against node-pty read
// directly in a process of its own, and against the floor of the transport:
// the same `cat` through a bare Socket.IO server with no library
// (bench/bare-socketio.mjs). Raw, floor and gateway runs alternate, so that
// a neighbour's load hits them alike.
import { PROGRAM_ENV, catProfile } from '../lib/profiles.mjs';
import { median, mibPerSecond, MiB } from '../lib/stats.mjs';
import { measureCat, startLibraryClient, startViewers } from '../lib/viewers-process.mjs';
import { FLOOR_LABEL, floorComparison, resultRow } from '../report.mjs';
import { FLOOR_BATCHES_LABEL } from '../lib/floor-batching.mjs';

const CASE = '1. Throughput';
/**
 * The application data of the second host (see host.mjs): a backend's heap
 * rather than the bare bench app's ~17 MB, with which V8 (Node 20) runs one
 * mark-compact after another through a busy stream (docs/performance.md: the host's heap).
 */
export const APP_DATA_MIB = 100;

/** Median CPU time per MiB of a series of runs (`field`: the runs' CPU milliseconds), for a note. */
const perMiB = (runs, field) => median(runs.map((r) => r[field] / (r.bytes / MiB))).toFixed(1);
/** The host's garbage collections per run (median), for a note. */
const gcText = (runs) =>
  `host GC per run (median): ${median(runs.map((r) => r.hostGc.markCompacts))} mark-compacts, ${median(runs.map((r) => r.hostGc.scavenges))} scavenges, ${median(runs.map((r) => r.hostGc.ms)).toFixed(0)} ms`;
const speeds = (runs) => runs.map((r) => mibPerSecond(r.bytes, r.ms));
/** A gateway run that delivered the whole file, with no gap and no reset. */
const complete = (file) => (run) => run.bytes === file.expectedBytes && run.lostBytes === 0 && run.resets === 0;

export default {
  name: 'throughput',
  async run(ctx) {
    const file = ctx.fixtures.big();
    const options = { profiles: { cat: catProfile(file.path) }, defaultProfile: 'cat' };
    const host = await ctx.startHost('throughput', options);
    const appHost = await ctx.startHost('throughput-app-data', options, { appDataMiB: APP_DATA_MIB });
    const raw = await ctx.raw();
    const bare = await ctx.bare();
    // Each contender's client in a process of its own, the runner's heap and
    // JIT state shared with none (the floor's JSON garbage, the other host's client).
    const client = await startLibraryClient(ctx, host, 'throughput-client');
    const appClient = await startLibraryClient(ctx, appHost, 'throughput-app-data-client');
    const floorClient = await startViewers(ctx, { kind: 'bare', url: bare.url }, { count: 1, name: 'throughput-floor-client' });
    try {
      const { gateway, direct, floor, best, appData } = await alternate(ctx, {
        direct: () => raw.call('throughput', { file: file.path, env: PROGRAM_ENV }),
        floor: () => measureCat(floorClient, bare, { file: file.path, env: PROGRAM_ENV }),
        best: () => measureCat(floorClient, bare, { file: file.path, env: PROGRAM_ENV, batched: true }),
        gateway: () => measureCat(client, host, { profile: 'cat' }),
        appData: () => measureCat(appClient, appHost, { profile: 'cat' }),
      });
      const target = { text: '≥ 0.9× raw node-pty', check: (row) => row.ratio >= 0.9 };
      const label = `cat ${(file.expectedBytes / MiB).toFixed(0)} MiB, raw mode`;
      const rows = throughputRows(CASE, label, file, gateway, direct, target, floor, best);
      rows.splice(1, 0, appDataRow(label, file, appData, direct));
      return rows;
    } finally {
      await Promise.all([client.stop(), appClient.stop(), floorClient.stop()]);
      await Promise.all([host.stop(), appHost.stop()]);
    }
  },
};

/**
 * Warm-up, then `ctx.runs` measured runs, each direct, then through the bare
 * Socket.IO floor (if `floor` is given), the same floor batching bytes (if
 * `best` is given), then through the gateway, then through the gateway of
 * the host with application data (if `appData` is given).
 */
export async function alternate(ctx, { direct, floor, best, gateway, appData }) {
  const results = { direct: [], gateway: [], ...(floor ? { floor: [] } : {}), ...(best ? { best: [] } : {}), ...(appData ? { appData: [] } : {}) };
  for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
    const d = await direct();
    const f = floor ? await floor() : undefined;
    const b = best ? await best() : undefined;
    const g = await gateway();
    const a = appData ? await appData() : undefined;
    if (i < ctx.warmup) continue;
    results.direct.push(d);
    if (f) results.floor.push(f);
    if (b) results.best.push(b);
    results.gateway.push(g);
    if (a) results.appData.push(a);
    const floorText =
      (f ? `, Socket.IO floor ${mibPerSecond(f.bytes, f.ms).toFixed(1)} MiB/s (${f.bytes} B, ${f.chunks} messages)` : '') +
      (b ? `, batched ${mibPerSecond(b.bytes, b.ms).toFixed(1)} MiB/s (${b.chunks} messages)` : '');
    const gcOf = (r) => (r.hostGc ? `, host GC ${r.hostGc.markCompacts} mark-compacts` : '');
    const appText = a ? `, host with application data ${mibPerSecond(a.bytes, a.ms).toFixed(1)} MiB/s (${a.bytes} B${gcOf(a)})` : '';
    ctx.log(`  run ${i - ctx.warmup + 1}: node-pty ${mibPerSecond(d.bytes, d.ms).toFixed(1)} MiB/s (${d.bytes} B)${floorText}, gateway ${mibPerSecond(g.bytes, g.ms).toFixed(1)} MiB/s (${g.bytes} B, ${g.chunks} messages, ${g.resets} resets${gcOf(g)})${appText}`);
  }
  return results;
}

/** The gateway on a host that also holds application data: no target (the target is for the bare host), its bytes checked in the note. */
function appDataRow(label, file, runs, direct) {
  return resultRow({
    caseName: CASE,
    metric: `${label}: throughput, host also holding ${APP_DATA_MIB} MiB of application data (docs/performance.md: the host's heap)`,
    unit: 'MiB/s',
    values: speeds(runs),
    rawValues: speeds(direct),
    note:
      `no target, the same library in a host with a backend's heap. CPU per MiB (median): host ${perMiB(runs, 'hostCpuMs')} ms + client ${perMiB(runs, 'clientCpuMs')} ms; ${gcText(runs)}; ` +
      (runs.every(complete(file)) ? `every byte at the client in every run (${file.expectedBytes.toLocaleString('en-US')} B)` : `bytes MISSING at the client: ${runs.map((r) => r.bytes).join(', ')} B of ${file.expectedBytes} B`),
  });
}

/**
 * The library against the transport at its best (the batched floor), run by
 * run: the runs alternate, so each pair met the same load on the machine.
 */
function bestComparison(gateway, best) {
  const bestSpeeds = speeds(best);
  const ratios = speeds(gateway).map((speed, i) => speed / bestSpeeds[i]);
  return `the library = ${median(ratios).toFixed(2)}× the transport at its best, run by run (median; ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
}

/**
 * The throughput row and the every-byte row of a series of cat runs; with
 * `floor` (the same runs through bare Socket.IO + node-pty), also the floor's
 * throughput row (no target) and the gateway's ratio to it in its note.
 */
export function throughputRows(caseName, label, file, gateway, direct, target, floor, best) {
  const resets = gateway.reduce((sum, r) => sum + r.resets, 0);
  const gatewayRow = resultRow({
    caseName,
    metric: `${label}: throughput`,
    unit: 'MiB/s',
    values: speeds(gateway),
    rawValues: speeds(direct),
    floorValues: floor && speeds(floor),
    target,
    note:
      `CPU per MiB (median): host ${perMiB(gateway, 'hostCpuMs')} ms + client ${perMiB(gateway, 'clientCpuMs')} ms, ` +
      `against ${perMiB(direct, 'cpuMs')} ms for the node-pty reader (cat and the kernel not counted); ${gcText(gateway)}` +
      (resets > 0 ? `; ${resets} reset(s): the client was paused by flow control and fell out of the replay buffer` : ''),
  });
  if (floor) gatewayRow.note += `; ${floorComparison(gatewayRow, 'MiB/s')}`;
  if (best) gatewayRow.note += `; ${bestComparison(gateway, best)}`;
  return [
    gatewayRow,
    ...(floor
      ? [
          resultRow({
            caseName,
            metric: `${label}: throughput, ${FLOOR_LABEL}`,
            unit: 'MiB/s',
            values: speeds(floor),
            rawValues: speeds(direct),
            note:
              `no target, a baseline: the transport's own cost. CPU per MiB (median): server ${perMiB(floor, 'hostCpuMs')} ms + client ${perMiB(floor, 'clientCpuMs')} ms; ` +
              `bytes at the client ${Math.min(...floor.map((r) => r.bytes)).toLocaleString('en-US')}–${Math.max(...floor.map((r) => r.bytes)).toLocaleString('en-US')} B ` +
              `(the file: ${file.expectedBytes.toLocaleString('en-US')} B; node-pty may lose the last few KB at exit)`,
          }),
        ]
      : []),
    ...(best
      ? [
          resultRow({
            caseName,
            metric: `${label}: throughput, the same floor reading and sending bytes in ${FLOOR_BATCHES_LABEL} (the transport at its best)`,
            unit: 'MiB/s',
            values: speeds(best),
            rawValues: speeds(direct),
            note:
              `no target, a baseline: batches and binary output like the library's, without the library (no flow control, no acks, no replay, no buffer). ` +
              `CPU per MiB (median): server ${perMiB(best, 'hostCpuMs')} ms + client ${perMiB(best, 'clientCpuMs')} ms`,
          }),
        ]
      : []),
    resultRow({
      caseName,
      metric: `${label}: bytes at the client (node-pty: bytes read before its exit)`,
      unit: 'bytes',
      values: gateway.map((r) => r.bytes),
      rawValues: direct.map((r) => r.bytes),
      target: {
        text: `= ${file.expectedBytes.toLocaleString('en-US')} B in every run`,
        check: () => gateway.every(complete(file)),
      },
    }),
  ];
}
