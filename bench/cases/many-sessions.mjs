// 5. Many sessions: 1,000 live sessions, each a real process (`sleep 600`)
// with one attached Socket.IO client (its own connection and user); the
// host's memory after garbage collection, before and after, divided by the
// count: what one idle session with its client costs the Node process (the
// children are separate processes and not counted). Then the same with the
// clients gone. And, in a second host, one cleanupExpired() sweep over
// 10,000 sessions, adopted fake ptys (the kernel allows 4,096 ptys).
import { closeClients, connectClients } from '../lib/clients.mjs';
import { waitForNoClients } from '../lib/host-sessions.mjs';
import { PROGRAM_ENV } from '../lib/profiles.mjs';
import { KiB } from '../lib/stats.mjs';
import { guarded, resultRow } from '../report.mjs';

const CASE = '5. Many sessions';
/** Sessions opened at once while filling the host. */
const CONCURRENCY = 25;
/** Time for every wrapper to have exec'd its program and every socket to be quiet. */
const SETTLE_MS = 2000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default {
  name: 'sessions',
  async run(ctx) {
    return [
      ...(await guarded(ctx, CASE, 'live sessions with clients', () => liveSessions(ctx))),
      ...(await guarded(ctx, CASE, 'cleanupExpired() sweep', () => sweep(ctx))),
    ];
  },
};

async function liveSessions(ctx) {
  const count = ctx.sizes.liveSessions;
  const host = await ctx.startHost('sessions', {
    profiles: { sleep: { file: '/bin/sleep', args: ['600'], env: { ...PROGRAM_ENV } } },
    defaultProfile: 'sleep',
    maxSessions: count + 10,
  });
  let clients = [];
  try {
    // One session opened and closed first: code paths compiled, lazy structures allocated.
    const [warm] = await connectClients(host, 1, { user: () => 'warm-up' });
    const { session } = await warm.open({ profile: 'sleep' });
    await session.close();
    warm.close();
    await waitForNoClients(host);
    await sleep(SETTLE_MS);
    const before = await host.call('memory');
    if (!before.gcExposed) throw new Error('the host runs without --expose-gc: memory readings would include garbage');

    const openStart = performance.now();
    clients = await connectClients(host, count, { concurrency: CONCURRENCY });
    for (let first = 0; first < count; first += CONCURRENCY) {
      await Promise.all(clients.slice(first, first + CONCURRENCY).map((client) => client.open({ profile: 'sleep' })));
    }
    const openSeconds = (performance.now() - openStart) / 1000;
    await sleep(SETTLE_MS);
    const attached = await host.call('memory');
    const sessions = await host.call('sessions');
    const buffered = sessions.reduce((sum, s) => sum + s.bufferedBytes, 0) / count;

    closeClients(clients);
    clients = [];
    await waitForNoClients(host);
    await sleep(SETTLE_MS);
    const detached = await host.call('memory');
    ctx.log(`  ${count} sessions opened in ${openSeconds.toFixed(1)} s; rss ${mb(before.rss)} → ${mb(attached.rss)} → ${mb(detached.rss)} MB, heap ${mb(before.heapUsed)} → ${mb(attached.heapUsed)} → ${mb(detached.heapUsed)} MB`);

    const per = (after, field) => (after[field] - before[field]) / count / KiB;
    const label = `${count.toLocaleString('en-US')} idle sessions`;
    const bufferNote = `their buffers hold ${buffered.toFixed(0)} B on average`;
    return [
      resultRow({
        caseName: CASE,
        metric: `${label}, each with a client: host RSS per session`,
        unit: 'KiB',
        values: [per(attached, 'rss')],
        target: { text: '≤ 100 KiB + buffer', check: (row) => row.median <= 100 + buffered / KiB },
        note: `${bufferNote}; one measurement (heap ${per(attached, 'heapUsed').toFixed(1)} KiB, external + array buffers ${(per(attached, 'external') + per(attached, 'arrayBuffers')).toFixed(1)} KiB per session); opening all took ${openSeconds.toFixed(1)} s`,
      }),
      resultRow({ caseName: CASE, metric: `${label}, each with a client: host JS heap per session`, unit: 'KiB', values: [per(attached, 'heapUsed')] }),
      resultRow({
        caseName: CASE,
        metric: `${label}, clients gone: host RSS per session`,
        unit: 'KiB',
        values: [per(detached, 'rss')],
        target: { text: '≤ 100 KiB + buffer', check: (row) => row.median <= 100 + buffered / KiB },
        note: `one measurement (heap ${per(detached, 'heapUsed').toFixed(1)} KiB per session); RSS rarely shrinks after a peak, so this is an upper bound`,
      }),
    ];
  } finally {
    closeClients(clients);
    await host.stop(60_000);
  }
}

async function sweep(ctx) {
  const count = ctx.sizes.sweepSessions;
  // The cleanup job is off: the sweeps are the bench's own calls.
  const host = await ctx.startHost('sweep', { maxSessions: count + 10, cleanupIntervalMs: 0 });
  try {
    const result = await host.call('sweep', { sessions: count, runs: ctx.runs });
    if (result.closed !== 0) throw new Error(`the sweep closed ${result.closed} sessions; none should have expired`);
    ctx.log(`  ${result.sessions} sessions adopted in ${(result.createMs / 1000).toFixed(1)} s; sweeps ${result.times.map((t) => t.toFixed(3)).join(', ')} ms`);
    return [
      resultRow({
        caseName: CASE,
        metric: `cleanupExpired() over ${count.toLocaleString('en-US')} sessions (none expired)`,
        unit: 'ms',
        values: result.times,
        target: { text: '< 5 ms', check: (row) => row.median < 5 },
      }),
    ];
  } finally {
    await host.stop();
  }
}

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
