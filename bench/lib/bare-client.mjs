// The client side of the Socket.IO floor (bench/bare-socketio.mjs): a plain
// socket.io-client over WebSocket, and the same measurements the cases take
// through the gateway: a `cat <file>` followed until its exit is reported
// (run in a clients process of the floor's own, bench/viewers.mjs), a fan-out,
// and keystrokes into `cat` through the echo driver (in the runner).
import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { within } from './clients.mjs';
import { measureEchoLatencies } from './echo-driver.mjs';
import { cpuMs } from './stats.mjs';

const RUN_TIMEOUT_MS = 180_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** Time for `cat` to start before the first keystroke (as in the echo case). */
const START_DELAY_MS = 100;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A connected socket of its own; `close()` disconnects it. */
export async function connectBare(server) {
  const socket = io(server.url, { transports: ['websocket'], forceNew: true, reconnection: false });
  await within(
    new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    }),
    CONNECT_TIMEOUT_MS,
    'connecting to the bare Socket.IO server',
  );
  return socket;
}

/** Follows one session's output and exit on the socket; `stop()` removes the listeners. */
function follow(socket, sessionId, onData) {
  let resolveExit;
  const tally = { bytes: 0, chunks: 0, lastAt: undefined, exited: new Promise((resolve) => (resolveExit = resolve)) };
  const onOutput = (output) => {
    if (output.sessionId !== sessionId) return;
    tally.lastAt = performance.now();
    tally.chunks++;
    tally.bytes += typeof output.data === 'string' ? Buffer.byteLength(output.data) : output.data.length;
    onData?.(output.data);
  };
  const onExit = (exit) => {
    if (exit.sessionId === sessionId) resolveExit(exit);
  };
  socket.on('output', onOutput);
  socket.on('exit', onExit);
  tally.stop = () => {
    socket.off('output', onOutput);
    socket.off('exit', onExit);
  };
  return tally;
}

/**
 * One throughput run: `cat <file>` through the bare server, timed from the
 * `open` request to the last byte at the client, bytes counted until the exit
 * is reported (node-pty reports it after the last output). Also the CPU time
 * of this (client) process; the caller measures the server's around it.
 */
export async function catThroughBare(socket, { file, env, batched = false }) {
  const clientCpuStart = process.cpuUsage();
  const sessionId = randomUUID();
  const tally = follow(socket, sessionId);
  const start = performance.now();
  socket.emit('open', { sessionId, file, env, batched });
  try {
    const exit = await within(tally.exited, RUN_TIMEOUT_MS, 'cat through the bare Socket.IO server');
    const clientCpuMs = cpuMs(process.cpuUsage(clientCpuStart));
    return { clientCpuMs, ms: (tally.lastAt ?? performance.now()) - start, bytes: tally.bytes, chunks: tally.chunks, exitCode: exit.exitCode };
  } finally {
    tally.stop();
  }
}

/**
 * One fan-out run through the bare server, in two steps: every socket
 * watches one session and the first opens `cat <file>` broadcast to all of
 * them (it waits for a line of input, as the gateway's `cat-on-enter` profile
 * does); then, START_DELAY_MS later, `go()` sends that line and resolves, per
 * socket, to the bytes until the exit is reported and the time from that line
 * to its last byte. The caller measures the server's CPU around `go()`.
 * `batched`: the server batches and sends bytes (see bare-socketio.mjs).
 */
export async function prepareFanOutThroughBare(sockets, { file, env, batched = false }) {
  const sessionId = randomUUID();
  await Promise.all(sockets.map((socket) => socket.timeout(CONNECT_TIMEOUT_MS).emitWithAck('watch', { sessionId })));
  const tallies = sockets.map((socket) => follow(socket, sessionId));
  const stop = async () => {
    for (const tally of tallies) tally.stop();
    await Promise.all(sockets.map((socket) => socket.timeout(CONNECT_TIMEOUT_MS).emitWithAck('unwatch', { sessionId }).catch(() => {})));
  };
  try {
    await sockets[0].timeout(CONNECT_TIMEOUT_MS).emitWithAck('open', { sessionId, file, env, broadcast: true, batched, onEnter: true });
    await sleep(START_DELAY_MS);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    async go() {
      const start = performance.now();
      sockets[0].emit('input', { sessionId, data: '\r' });
      try {
        await within(Promise.all(tallies.map((tally) => tally.exited)), RUN_TIMEOUT_MS, 'fan-out through the bare Socket.IO server');
        return tallies.map((tally) => ({ ms: (tally.lastAt ?? performance.now()) - start, bytes: tally.bytes }));
      } finally {
        await stop();
      }
    },
  };
}

/** Keystrokes into `cat` through the bare server; the latencies of their echo, in ms. */
export async function echoThroughBare(socket, { keystrokes, env }) {
  const sessionId = randomUUID();
  const listeners = [];
  const tally = follow(socket, sessionId, (data) => listeners.forEach((listener) => listener(data)));
  await socket.timeout(CONNECT_TIMEOUT_MS).emitWithAck('open', { sessionId, env });
  await sleep(START_DELAY_MS);
  try {
    return await measureEchoLatencies({
      keystrokes,
      write: (text) => socket.emit('input', { sessionId, data: text }, () => {}),
      subscribe: (listener) => listeners.push(listener),
    });
  } finally {
    await socket.timeout(CONNECT_TIMEOUT_MS).emitWithAck('close', { sessionId }).catch(() => {});
    tally.stop();
  }
}
