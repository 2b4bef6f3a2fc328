// 4. Fan-out: one session, 1, 10 and 50 attached clients. The program waits
// for a line of input, so that every client is attached before the first
// byte; then `cat` of a file. Each client follows like xterm.js; its
// throughput is the file's bytes over the time from the trigger to its last
// byte. All of a contender's clients live in one process of their own
// (bench/viewers.mjs; on a shared 2-core machine, they compete with the host
// for the CPU: a lower bound for 50 real viewers). The Socket.IO floor
// (bench/bare-socketio.mjs) broadcasts the same `cat` to as many sockets in
// another viewers process, alternating with the gateway's runs: what the
// transport alone achieves with that many viewers on this machine.
import os from 'node:os';
import { PROGRAM_ENV, catOnEnterProfile } from '../lib/profiles.mjs';
import { measureFanOut, startViewers } from '../lib/viewers-process.mjs';
import { mibPerSecond, MiB, median } from '../lib/stats.mjs';
import { FLOOR_LABEL, floorComparison, resultRow } from '../report.mjs';
import { FLOOR_BATCHES_LABEL } from '../lib/floor-batching.mjs';

const CASE = '4. Fan-out';

const availableCores = () => os.availableParallelism?.() ?? os.cpus().length;

export default {
  name: 'fanout',
  async run(ctx) {
    const file = ctx.fixtures.fanout();
    const counts = ctx.sizes.fanoutClients;
    const most = Math.max(...counts);
    const host = await ctx.startHost('fanout', {
      profiles: { 'cat-on-enter': catOnEnterProfile(file.path) },
      defaultProfile: 'cat-on-enter',
      maxClientsPerSession: most + 1,
      // All viewers are one user's (tabs, screens), plus the client that starts the program.
      maxConnectionsPerOwner: most + 2,
    });
    const raw = await ctx.raw();
    const bare = await ctx.bare();
    const viewers = [];
    const rows = [];
    try {
      const bareViewers = await startViewers(ctx, { kind: 'bare', url: bare.url }, { count: most, name: 'fanout-floor-clients' });
      viewers.push(bareViewers);
      const libraryViewers = await startViewers(ctx, { kind: 'library', url: host.url, token: host.token }, { count: most, name: 'fanout-library-clients' });
      viewers.push(libraryViewers);
      let single;
      let singleFloor;
      const direct = [];
      for (const count of counts) {
        const perRun = { median: [], slowest: [], lost: 0, resets: 0, hostCpu: [], clientCpu: [], seconds: [], messages: [], acks: [] };
        const floor = { median: [], slowest: [], hostCpu: [], clientCpu: [], seconds: [], short: 0 };
        const ideal = { slowest: [], hostCpu: [], clientCpu: [], short: 0 };
        /** Per run of the largest count: its slowest client over a single client measured just before it. */
        const paired = [];
        for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
          if (count === counts[0]) {
            const d = await raw.call('throughput', { file: file.path, env: PROGRAM_ENV });
            if (i >= ctx.warmup) direct.push(mibPerSecond(d.bytes, d.ms));
          }
          const f = await measureFanOut(bareViewers, bare, { count, file: file.path, env: PROGRAM_ENV });
          if (i >= ctx.warmup) {
            const floorRates = f.clients.map((c) => mibPerSecond(c.bytes, c.ms));
            floor.median.push(median(floorRates));
            floor.slowest.push(Math.min(...floorRates));
            floor.hostCpu.push(f.hostCpuMs / 1000);
            floor.clientCpu.push(f.clientCpuMs / 1000);
            floor.seconds.push(Math.max(...f.clients.map((c) => c.ms)) / 1000);
            floor.short += f.clients.filter((c) => c.bytes < file.expectedBytes).length;
          }
          if (count === most && count > 1) {
            const b = await measureFanOut(bareViewers, bare, { count, file: file.path, env: PROGRAM_ENV, batched: true });
            if (i >= ctx.warmup) {
              ideal.slowest.push(Math.min(...b.clients.map((c) => mibPerSecond(c.bytes, c.ms))));
              ideal.hostCpu.push(b.hostCpuMs / 1000);
              ideal.short += b.clients.filter((c) => c.bytes < file.expectedBytes).length;
              ideal.clientCpu.push(b.clientCpuMs / 1000);
            }
          }
          // The target's baseline, paired: the single-client figure of its own phase swings between runs
          // (18.5-38.7 MiB/s in one day), so each run of the largest count is set against a single client
          // measured right before it, on the same host.
          const one = count === most && count > 1 ? await measureFanOut(libraryViewers, host, { count: 1, profile: 'cat-on-enter' }) : undefined;
          const run = await measureFanOut(libraryViewers, host, { count, profile: 'cat-on-enter' });
          const results = run.clients;
          if (i < ctx.warmup) continue;
          if (one) paired.push(Math.min(...results.map((r) => mibPerSecond(r.bytes, r.ms))) / mibPerSecond(one.clients[0].bytes, one.clients[0].ms));
          perRun.hostCpu.push(run.hostCpuMs / 1000);
          perRun.clientCpu.push(run.clientCpuMs / 1000);
          perRun.seconds.push(Math.max(...results.map((r) => r.ms)) / 1000);
          const rates = results.map((r) => mibPerSecond(r.bytes, r.ms));
          perRun.median.push(median(rates));
          perRun.slowest.push(Math.min(...rates));
          perRun.lost += results.reduce((sum, r) => sum + r.lostBytes, 0);
          perRun.resets += results.reduce((sum, r) => sum + r.resets, 0);
          perRun.messages.push(median(results.map((r) => r.messages)));
          perRun.acks.push(median(results.map((r) => r.acks)));
          ctx.log(`  ${count} client(s), run ${i - ctx.warmup + 1}: median ${median(rates).toFixed(1)} MiB/s, slowest ${Math.min(...rates).toFixed(1)} MiB/s, ${median(results.map((r) => r.messages))} messages and ${median(results.map((r) => r.acks))} acks per client (median), ${results.reduce((s, r) => s + r.resets, 0)} resets; floor: median ${floor.median.at(-1)?.toFixed(1)} MiB/s, slowest ${floor.slowest.at(-1)?.toFixed(1)} MiB/s${ideal.slowest.length > 0 ? `; batched bytes floor: slowest ${ideal.slowest.at(-1).toFixed(1)} MiB/s` : ''}`);
        }
        const label = `${count} client${count > 1 ? 's' : ''}, cat ${(file.expectedBytes / MiB).toFixed(0)} MiB`;
        const cpu =
          `CPU per run (median): host ${median(perRun.hostCpu).toFixed(2)} s, the ${count} client${count > 1 ? 's' : ''} (one process) ${median(perRun.clientCpu).toFixed(2)} s, ` +
          `over ${median(perRun.seconds).toFixed(2)} s of wall time on ${availableCores()} cores; per client ${median(perRun.messages)} messages and ${median(perRun.acks)} acks (medians); host CPU per MiB delivered ${((median(perRun.hostCpu) * 1000) / ((count * file.expectedBytes) / MiB)).toFixed(1)} ms`;
        const losses = `${perRun.resets > 0 || perRun.lost > 0 ? `${perRun.resets} resets, ${perRun.lost.toLocaleString('en-US')} bytes skipped over all runs (clients paused by flow control fell out of the replay buffer)` : 'no reset and no byte skipped'}; ${cpu}`;
        const floorNote =
          `no target, a baseline: Socket.IO's own broadcast of each read, no flow control (its clients decode JSON text). CPU per run (median): server ${median(floor.hostCpu).toFixed(2)} s, ` +
          `the ${count} client${count > 1 ? 's' : ''} (one process) ${median(floor.clientCpu).toFixed(2)} s, over ${median(floor.seconds).toFixed(2)} s of wall time` +
          (floor.short > 0 ? `; ${floor.short} client runs short of the file (node-pty may lose the last few KB at exit)` : '');
        const withFloor = (row) => (row.note = row.note ? `${floorComparison(row, 'MiB/s')}; ${row.note}` : floorComparison(row, 'MiB/s'), row);
        if (count === counts[0]) {
          single = median(perRun.median);
          singleFloor = median(floor.median);
          rows.push(
            withFloor(resultRow({ caseName: CASE, metric: `${label}: throughput`, unit: 'MiB/s', values: perRun.median, rawValues: direct, floorValues: floor.median, note: losses })),
            resultRow({ caseName: CASE, metric: `${label}: throughput, ${FLOOR_LABEL}`, unit: 'MiB/s', values: floor.median, rawValues: direct, note: floorNote }),
          );
          continue;
        }
        rows.push(
          resultRow({ caseName: CASE, metric: `${label}: throughput per client (median client)`, unit: 'MiB/s', values: perRun.median, rawValues: direct, note: losses }),
          // In the table, not only in a note: a viewer slower than the others restarts from the replay
          // buffer (by design, so that it holds up nobody), and skips what fell out of it.
          resultRow({
            caseName: CASE,
            metric: `${label}: bytes skipped by clients that fell behind (resets), all clients of all runs`,
            unit: 'bytes',
            values: [perRun.lost],
            note: `${perRun.resets} resets in ${ctx.runs} runs of ${count} clients; no target (the issue's every-byte target is case 1's single client)`,
          }),
          withFloor(
            resultRow({
              caseName: CASE,
              metric: `${label}: throughput of the slowest client`,
              unit: 'MiB/s',
              values: perRun.slowest,
              rawValues: direct,
              floorValues: floor.slowest,
              ...(count === most
                ? {
                    target: {
                      text: `≥ 0.5× 1 client, run by run (median ${median(paired).toFixed(2)}×; the single-client phase: ${(single / 2).toFixed(1)} MiB/s)`,
                      check: () => paired.length > 0 && median(paired) >= 0.5,
                    },
                  }
                : {}),
            }),
          ),
          resultRow({
            caseName: CASE,
            metric: `${label}: throughput of the slowest client, ${FLOOR_LABEL}`,
            unit: 'MiB/s',
            values: floor.slowest,
            rawValues: direct,
            note: `${floorNote}; its slowest client = ${(median(floor.slowest) / singleFloor).toFixed(2)}× its single client`,
          }),
        );
        if (ideal.slowest.length > 0) {
          rows.push(
            resultRow({
              caseName: CASE,
              metric: `${label}: throughput of the slowest client, the same floor reading and sending bytes in ${FLOOR_BATCHES_LABEL} (the transport at its best)`,
              unit: 'MiB/s',
              values: ideal.slowest,
              rawValues: direct,
              note:
                `no target, a baseline: batches and binary output like the library's, without the library (no flow control, no acks, no replay). ` +
                `CPU per run (median): server ${median(ideal.hostCpu).toFixed(2)} s, the ${count} clients (one process) ${median(ideal.clientCpu).toFixed(2)} s` +
                (ideal.short > 0 ? `; ${ideal.short} client runs short of the file (node-pty may lose the last few KB at exit)` : ''),
            }),
          );
        }
      }
    } finally {
      for (const child of viewers) await child.stop().catch(() => {});
      await host.stop();
    }
    return rows;
  },
};
