// 1. Throughput: `cat` of a generated file of tens of MB through the gateway
// to one client that acknowledges as xterm.js does, against node-pty read
// directly in a process of its own, and against the floor of the transport:
// the same `cat` through a bare Socket.IO server with no library
// (bench/bare-socketio.mjs). Raw, floor and gateway runs alternate, so that
// a neighbour's load hits them alike.
import { catThroughBare, connectBare } from '../lib/bare-client.mjs';
import { connectClient } from '../lib/clients.mjs';
import { catThroughGateway } from '../lib/gateway-cat.mjs';
import { PROGRAM_ENV, catProfile } from '../lib/profiles.mjs';
import { median, mibPerSecond, MiB } from '../lib/stats.mjs';
import { FLOOR_LABEL, floorComparison, resultRow } from '../report.mjs';

const CASE = '1. Throughput';

export default {
  name: 'throughput',
  async run(ctx) {
    const file = ctx.fixtures.big();
    const host = await ctx.startHost('throughput', { profiles: { cat: catProfile(file.path) }, defaultProfile: 'cat' });
    const raw = await ctx.raw();
    const bare = await ctx.bare();
    const client = await connectClient(host);
    const socket = await connectBare(bare);
    try {
      const { gateway, direct, floor, best } = await alternate(ctx, {
        direct: () => raw.call('throughput', { file: file.path, env: PROGRAM_ENV }),
        floor: () => catThroughBare(bare, socket, { file: file.path, env: PROGRAM_ENV }),
        best: () => catThroughBare(bare, socket, { file: file.path, env: PROGRAM_ENV, batched: true }),
        gateway: () => catThroughGateway(host, client, 'cat'),
      });
      const target = { text: '≥ 0.9× raw node-pty', check: (row) => row.ratio >= 0.9 };
      return throughputRows(CASE, `cat ${(file.expectedBytes / MiB).toFixed(0)} MiB, raw mode`, file, gateway, direct, target, floor, best);
    } finally {
      client.close();
      socket.close();
      await host.stop();
    }
  },
};

/**
 * Warm-up, then `ctx.runs` measured runs, each direct, then through the bare
 * Socket.IO floor (if `floor` is given), the same floor batching bytes (if
 * `best` is given), then through the gateway.
 */
export async function alternate(ctx, { direct, floor, best, gateway }) {
  const results = { direct: [], gateway: [], ...(floor ? { floor: [] } : {}), ...(best ? { best: [] } : {}) };
  for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
    const d = await direct();
    const f = floor ? await floor() : undefined;
    const b = best ? await best() : undefined;
    const g = await gateway();
    if (i < ctx.warmup) continue;
    results.direct.push(d);
    if (f) results.floor.push(f);
    if (b) results.best.push(b);
    results.gateway.push(g);
    const floorText =
      (f ? `, Socket.IO floor ${mibPerSecond(f.bytes, f.ms).toFixed(1)} MiB/s (${f.bytes} B, ${f.chunks} messages)` : '') +
      (b ? `, batched ${mibPerSecond(b.bytes, b.ms).toFixed(1)} MiB/s (${b.chunks} messages)` : '');
    ctx.log(`  run ${i - ctx.warmup + 1}: node-pty ${mibPerSecond(d.bytes, d.ms).toFixed(1)} MiB/s (${d.bytes} B)${floorText}, gateway ${mibPerSecond(g.bytes, g.ms).toFixed(1)} MiB/s (${g.bytes} B, ${g.chunks} messages, ${g.resets} resets)`);
  }
  return results;
}

/**
 * The throughput row and the every-byte row of a series of cat runs; with
 * `floor` (the same runs through bare Socket.IO + node-pty), also the floor's
 * throughput row (no target) and the gateway's ratio to it in its note.
 */
export function throughputRows(caseName, label, file, gateway, direct, target, floor, best) {
  const perMiB = (runs, field) => median(runs.map((r) => r[field] / (r.bytes / MiB))).toFixed(1);
  const speeds = (runs) => runs.map((r) => mibPerSecond(r.bytes, r.ms));
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
      `against ${perMiB(direct, 'cpuMs')} ms for the node-pty reader (cat and the kernel not counted)` +
      (resets > 0 ? `; ${resets} reset(s): the client was paused by flow control and fell out of the replay buffer` : ''),
  });
  if (floor) gatewayRow.note += `; ${floorComparison(gatewayRow, 'MiB/s')}`;
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
            metric: `${label}: throughput, the same floor sending UTF-8 bytes in 8 ms / 128 KiB batches (the transport at its best)`,
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
        check: (row) => row.values.every((bytes, i) => bytes === file.expectedBytes && gateway[i].lostBytes === 0 && gateway[i].resets === 0),
      },
    }),
  ];
}
