// 2. Echo latency: single keystrokes into `cat`, from the client's write to
// the output holding the terminal's echo, through the gateway; the same
// keystrokes on node-pty directly (the loop runs inside the raw process).
import { connectClient, followLikeXterm } from '../lib/clients.mjs';
import { measureEchoLatencies } from '../lib/echo-driver.mjs';
import { PROGRAM_ENV } from '../lib/profiles.mjs';
import { percentile } from '../lib/stats.mjs';
import { resultRow } from '../report.mjs';

const CASE = '2. Echo latency';
/** Time for `cat` to start before the first keystroke. */
const START_DELAY_MS = 100;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default {
  name: 'echo',
  async run(ctx) {
    const host = await ctx.startHost('echo', { profiles: { cat: { file: '/bin/cat', env: { ...PROGRAM_ENV } } }, defaultProfile: 'cat' });
    const raw = await ctx.raw();
    const client = await connectClient(host);
    const keystrokes = ctx.sizes.keystrokes;
    const series = { gateway: { p50: [], p99: [] }, direct: { p50: [], p99: [] } };
    try {
      for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
        const direct = await raw.call('echo', { keystrokes, env: PROGRAM_ENV });
        const gateway = await throughGateway(client, keystrokes);
        if (i < ctx.warmup) continue;
        for (const [name, latencies] of [['direct', direct], ['gateway', gateway]]) {
          series[name].p50.push(percentile(latencies, 50));
          series[name].p99.push(percentile(latencies, 99));
        }
        ctx.log(`  run ${i - ctx.warmup + 1}: p50 ${series.gateway.p50.at(-1).toFixed(3)} ms (node-pty ${series.direct.p50.at(-1).toFixed(3)}), p99 ${series.gateway.p99.at(-1).toFixed(3)} ms (node-pty ${series.direct.p99.at(-1).toFixed(3)})`);
      }
    } finally {
      client.close();
      await host.stop();
    }
    const label = `${keystrokes} keystrokes into cat, 2–5 ms apart`;
    return [
      resultRow({
        caseName: CASE,
        metric: `${label}: p50`,
        unit: 'ms',
        values: series.gateway.p50,
        rawValues: series.direct.p50,
        target: { text: '≤ 0.5 ms', check: (row) => row.median <= 0.5 },
      }),
      resultRow({
        caseName: CASE,
        metric: `${label}: p99`,
        unit: 'ms',
        values: series.gateway.p99,
        rawValues: series.direct.p99,
        target: { text: '≤ 2 ms', check: (row) => row.median <= 2 },
      }),
    ];
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
