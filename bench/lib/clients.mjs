// The bench's clients: the client package, connected over WebSocket to the
// host on loopback, consuming output the way xterm.js does.
import { PtySessionClient } from 'nestjs-pty-session-client';

/** Generous: a request answered behind 50 MB of output to other clients may wait. */
const ANSWER_TIMEOUT_MS = 120_000;

/** A connected client (one Socket.IO connection of its own), logged in as `user`. */
export async function connectClient(host, { user = 'bench' } = {}) {
  const client = new PtySessionClient({
    url: host.url,
    auth: { token: host.token, user },
    ackMode: 'manual',
    answerTimeoutMs: ANSWER_TIMEOUT_MS,
    socketOptions: { transports: ['websocket'], forceNew: true, reconnection: false },
  });
  await client.connect();
  // Counted for the fan-out case's notes: each ack is a message from the client that wakes the host.
  // (The client package keeps its socket to itself; the bench reads it.)
  client.acksSent = 0;
  client['socket'].onAnyOutgoing((event) => {
    if (event === 'ack') client.acksSent++;
  });
  return client;
}

/** `count` connected clients, `concurrency` connecting at a time. */
export async function connectClients(host, count, { concurrency = 50, user = (i) => `user-${i}` } = {}) {
  const clients = new Array(count);
  for (let first = 0; first < count; first += concurrency) {
    const batch = [];
    for (let i = first; i < Math.min(count, first + concurrency); i++) {
      batch.push(connectClient(host, { user: user(i) }).then((client) => (clients[i] = client)));
    }
    await Promise.all(batch);
  }
  return clients;
}

export function closeClients(clients) {
  for (const client of clients) client?.close();
}

/**
 * Follows a session's output like a terminal: every output is "written",
 * and acknowledged once processed, after a setImmediate, as xterm.js's
 * `write(data, callback)` calls back after parsing (the client package sends
 * an `ack` every `ackIntervalBytes` of the attach answer). Takes each output
 * as bytes (`output.bytes`, what xterm.js's `term.write(Uint8Array)` takes:
 * no decoding in the client) and counts them itself; the text is decoded
 * only for `onData` and where a case reads it. Notes resets and gaps. (A replay
 * may leave terminal queries out of `data`; the bench's output has none, so
 * the bytes received must add up to the output's length.)
 *
 * Returns the live tally: `{ bytes, chunks, resets, lostBytes, firstAt,
 * lastAt, end, first, exited }` (`first`: a promise of the first output,
 * the replay after an attach, with its arrival time `at`; `exited`: a
 * promise of the exit event).
 */
export function followLikeXterm(session, { expectFrom = 0, onData } = {}) {
  let resolveFirst;
  const tally = { bytes: 0, chunks: 0, resets: 0, lostBytes: 0, firstAt: undefined, lastAt: undefined, end: expectFrom };
  tally.first = new Promise((resolve) => (resolveFirst = resolve));
  session.onOutput((output) => {
    const { offset, byteLength, reset, snapshot } = output;
    const now = performance.now();
    const bytes = output.bytes;
    if (tally.firstAt === undefined) {
      tally.firstAt = now;
      resolveFirst({ bytes, offset, byteLength, reset, snapshot: snapshot === true, at: now, get data() { return output.data; } });
    }
    tally.lastAt = now;
    tally.chunks++;
    if (reset) tally.resets++;
    if (offset > tally.end) tally.lostBytes += offset - tally.end;
    tally.end = offset + byteLength;
    tally.bytes += bytes.length;
    onData?.(output.data, { offset, byteLength, reset, snapshot: snapshot === true, at: now });
    setImmediate(() => session.ack(offset + byteLength));
  });
  tally.exited = new Promise((resolve) => session.onExit(resolve));
  return tally;
}

/** Rejects after `ms` with `what` in the message; for waits that must not hang the bench. */
export function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}
