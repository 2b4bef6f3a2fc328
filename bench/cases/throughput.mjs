// 1. Throughput: `cat` of a generated file of tens of MB through the gateway
// to one client that acknowledges as xterm.js does, against node-pty read
// directly in a process of its own. Raw and gateway runs alternate, so that
// a neighbour's load hits both alike.
import { connectClient } from '../lib/clients.mjs';
import { catThroughGateway } from '../lib/gateway-cat.mjs';
import { PROGRAM_ENV, catProfile } from '../lib/profiles.mjs';
import { median, mibPerSecond, MiB } from '../lib/stats.mjs';
import { resultRow } from '../report.mjs';

const CASE = '1. Throughput';

export default {
  name: 'throughput',
  async run(ctx) {
    const file = ctx.fixtures.big();
    const host = await ctx.startHost('throughput', { profiles: { cat: catProfile(file.path) }, defaultProfile: 'cat' });
    const raw = await ctx.raw();
    const client = await connectClient(host);
    try {
      const { gateway, direct } = await alternate(ctx, {
        direct: () => raw.call('throughput', { file: file.path, env: PROGRAM_ENV }),
        gateway: () => catThroughGateway(host, client, 'cat'),
      });
      return throughputRows(CASE, `cat ${(file.expectedBytes / MiB).toFixed(0)} MiB, raw mode`, file, gateway, direct, {
        text: '≥ 0.9× raw node-pty',
        check: (row) => row.ratio >= 0.9,
      });
    } finally {
      client.close();
      await host.stop();
    }
  },
};

/** Warm-up, then `ctx.runs` measured runs, each direct then through the gateway. */
export async function alternate(ctx, { direct, gateway }) {
  const results = { direct: [], gateway: [] };
  for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
    const d = await direct();
    const g = await gateway();
    if (i < ctx.warmup) continue;
    results.direct.push(d);
    results.gateway.push(g);
    ctx.log(`  run ${i - ctx.warmup + 1}: node-pty ${mibPerSecond(d.bytes, d.ms).toFixed(1)} MiB/s (${d.bytes} B), gateway ${mibPerSecond(g.bytes, g.ms).toFixed(1)} MiB/s (${g.bytes} B, ${g.chunks} messages, ${g.resets} resets)`);
  }
  return results;
}

/** The throughput row and the every-byte row of a series of cat runs. */
export function throughputRows(caseName, label, file, gateway, direct, target) {
  const perMiB = (runs, field) => median(runs.map((r) => r[field] / (r.bytes / MiB))).toFixed(1);
  const resets = gateway.reduce((sum, r) => sum + r.resets, 0);
  return [
    resultRow({
      caseName,
      metric: `${label}: throughput`,
      unit: 'MiB/s',
      values: gateway.map((r) => mibPerSecond(r.bytes, r.ms)),
      rawValues: direct.map((r) => mibPerSecond(r.bytes, r.ms)),
      target,
      note:
        `CPU per MiB (median): host ${perMiB(gateway, 'hostCpuMs')} ms + client ${perMiB(gateway, 'clientCpuMs')} ms, ` +
        `against ${perMiB(direct, 'cpuMs')} ms for the node-pty reader (cat and the kernel not counted)` +
        (resets > 0 ? `; ${resets} reset(s): the client was paused by flow control and fell out of the replay buffer` : ''),
    }),
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
