// 2. Echo latency: single keystrokes into `cat`, from the client's write to
// the output holding the terminal's echo, through the gateway; the same
// keystrokes on node-pty directly (the loop runs inside the raw process), and
// through a bare Socket.IO server with no library (the transport's floor,
// bench/bare-socketio.mjs). The three alternate in each run.
import { connectBare, echoThroughBare } from '../lib/bare-client.mjs';
import { connectClient, followLikeXterm } from '../lib/clients.mjs';
import { measureEchoLatencies } from '../lib/echo-driver.mjs';
import { PROGRAM_ENV } from '../lib/profiles.mjs';
import { percentile } from '../lib/stats.mjs';
import { FLOOR_LABEL, floorComparison, resultRow } from '../report.mjs';

const CASE = '2. Echo latency';
/** Time for `cat` to start before the first keystroke. */
const START_DELAY_MS = 100;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default {
  name: 'echo',
  async run(ctx) {
    const host = await ctx.startHost('echo', { profiles: { cat: { file: '/bin/cat', env: { ...PROGRAM_ENV } } }, defaultProfile: 'cat' });
    const raw = await ctx.raw();
    const bare = await ctx.bare();
    const client = await connectClient(host);
    const socket = await connectBare(bare);
    const keystrokes = ctx.sizes.keystrokes;
    const series = { gateway: { p50: [], p99: [] }, direct: { p50: [], p99: [] }, floor: { p50: [], p99: [] } };
    try {
      for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
        const direct = await raw.call('echo', { keystrokes, env: PROGRAM_ENV });
        const floor = await echoThroughBare(socket, { keystrokes, env: PROGRAM_ENV });
        const gateway = await throughGateway(client, keystrokes);
        if (i < ctx.warmup) continue;
        for (const [name, latencies] of [['direct', direct], ['floor', floor], ['gateway', gateway]]) {
          series[name].p50.push(percentile(latencies, 50));
          series[name].p99.push(percentile(latencies, 99));
        }
        const last = (name, p) => series[name][p].at(-1).toFixed(3);
        ctx.log(
          `  run ${i - ctx.warmup + 1}: p50 ${last('gateway', 'p50')} ms (node-pty ${last('direct', 'p50')}, Socket.IO floor ${last('floor', 'p50')}), ` +
            `p99 ${last('gateway', 'p99')} ms (node-pty ${last('direct', 'p99')}, Socket.IO floor ${last('floor', 'p99')})`,
        );
      }
    } finally {
      client.close();
      socket.close();
      await host.stop();
    }
    const label = `${keystrokes} keystrokes into cat, 2–5 ms apart`;
    const targets = { p50: { text: '≤ 0.5 ms', check: (row) => row.median <= 0.5 }, p99: { text: '≤ 2 ms', check: (row) => row.median <= 2 } };
    const rows = [];
    for (const p of ['p50', 'p99']) {
      const gatewayRow = resultRow({
        caseName: CASE,
        metric: `${label}: ${p}`,
        unit: 'ms',
        values: series.gateway[p],
        rawValues: series.direct[p],
        floorValues: series.floor[p],
        target: targets[p],
      });
      gatewayRow.note = floorComparison(gatewayRow, 'ms');
      rows.push(gatewayRow);
    }
    for (const p of ['p50', 'p99']) {
      rows.push(
        resultRow({
          caseName: CASE,
          metric: `${label}: ${p}, ${FLOOR_LABEL}`,
          unit: 'ms',
          values: series.floor[p],
          rawValues: series.direct[p],
          note: "no target, a baseline: the transport's own latency",
        }),
      );
    }
    return rows;
  },
};

async function throughGateway(client, keystrokes) {
  const { session } = await client.open({ profile: 'cat' });
  const listeners = [];
  followLikeXterm(session, { onData: (data) => listeners.forEach((listener) => listener(data)) });
  await sleep(START_DELAY_MS);
  try {
    return await measureEchoLatencies({
      keystrokes,
      write: (text) => void session.write(text).catch(() => {}),
      subscribe: (listener) => listeners.push(listener),
    });
  } finally {
    await session.close().catch(() => {});
  }
}
