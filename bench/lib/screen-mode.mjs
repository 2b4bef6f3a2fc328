// Screen mode (`replay: 'screen'`) is being added to the library. Until it is
// there, the screen cases report "n/a" instead of failing: either the module
// refuses the option (INVALID_OPTIONS) or it ignores it, which the probe
// below notices from an attach answer.
import { connectClient, followLikeXterm, within } from './clients.mjs';
import { shellProfile } from './profiles.mjs';
import { waitForOutput } from './host-sessions.mjs';

export const SCREEN_UNAVAILABLE = 'n/a (screen mode not available)';

/** Scrollback of the screen emulator in the bench hosts (xterm.js's default). */
export const SCREEN_SCROLLBACK = 1000;

/** The smallest replay buffer the library accepts: the probe's output is evicted almost at once. */
const PROBE_BUFFER_BYTES = 1024;
const PROBE_LINES = 3000;

/**
 * Starts a host in screen mode and checks that screen replay is really on:
 * a probe session prints 3,000 lines into a 1 KiB raw buffer, and an attach
 * from offset 0 (long evicted) must answer with a snapshot (`snapshot: true`,
 * `reset: true`). Resolves to `{ host }` or `{ unavailable: reason }`.
 */
export async function startScreenHost(ctx, label, options) {
  let host;
  try {
    host = await ctx.startHost(label, {
      ...options,
      replay: 'screen',
      screen: { scrollback: SCREEN_SCROLLBACK },
      profiles: { ...options.profiles, 'screen-probe': shellProfile(`seq 1 ${PROBE_LINES}; exec sleep 600`, { replayBufferBytes: PROBE_BUFFER_BYTES }) },
    });
  } catch (error) {
    if (error?.code === 'INVALID_OPTIONS') return { unavailable: `${SCREEN_UNAVAILABLE}: ${error.message.split('\n')[0]}` };
    throw error;
  }
  const client = await connectClient(host, { user: 'screen-probe' });
  try {
    const { session: created } = await client.create({ profile: 'screen-probe' });
    const expected = Array.from({ length: PROBE_LINES }, (_, i) => `${i + 1}\r\n`).join('').length;
    await waitForOutput(host, [created.id], expected);
    const session = await client.attach({ sessionId: created.id }, { since: 0 });
    const replay = await within(followLikeXterm(session).first, 10_000, 'the screen probe replay');
    await session.close().catch(() => {});
    if (replay.reset && replay.snapshot) return { host };
    await host.stop();
    return { unavailable: `${SCREEN_UNAVAILABLE}: the attach answer carried a raw replay (${Buffer.byteLength(replay.data)} B), no snapshot` };
  } finally {
    client.close();
  }
}
