/**
 * Output streaming of the Socket.IO gateway, end to end with real processes:
 * fan-out of megabytes to several clients (exact content, contiguous offsets),
 * per-client flow control (a client that never acknowledges holds up nobody,
 * then catches up, with a reset when it fell out of the replay buffer),
 * processes that run with nobody attached, exit delivery, replay from an
 * offset, resize policies, keys, close, detach and disconnect.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Adapter, type BroadcastOptions } from 'socket.io-adapter';
import type { PtySessionModuleOptions, PtySpawnProfile } from 'nestjs-pty-session';
import type { PtyWireOutput } from 'nestjs-pty-session-client/protocol';
import { connectionBacklogBytes, trackedWriteBufferBytes, writeBufferBytes } from '../libs/pty-session/src/gateway/connection-backlog.js';
import { createGatewayApp, gatewayNamespace, request, TOKENS, type GatewayTestApp } from './fixtures/gateway-app.js';
import { SessionWire } from './fixtures/gateway-host.js';
import { CHILD_ENV, PROFILES } from './fixtures/pty-app.js';
import { waitFor } from './fixtures/processes.js';

/** What `seq 1 n` shows through a pty (ONLCR turns \n into \r\n). */
function seqOutput(n: number): string {
  const lines: string[] = new Array(n);
  for (let i = 1; i <= n; i++) lines[i - 1] = `${i}\r\n`;
  return lines.join('');
}

/** A bash that turns echo off, prints `ready`, waits for a line, then runs `command`: attach first, start with input. */
function gated(command: string, extra: Partial<PtySpawnProfile> = {}): PtySpawnProfile {
  return { file: '/bin/bash', args: ['-c', `stty -echo; echo ready; read line; ${command}`], env: CHILD_ENV, ...extra };
}

const BIG_LINES = 300_000; // about 2.4 MB through the pty
const BIG_OUTPUT = 'ready\r\n' + seqOutput(BIG_LINES);
const DETACHED_LINES = 500_000; // about 4.4 MB
const SHORT_LINES = 2000;
const UTF8_LINE = 'é€😀 ünï'; // 2 + 3 + 4 + 1 + 2 + 1 + 2 bytes
const UTF8_LINES = 40_000;
const UTF8_OUTPUT = 'ready\r\n' + `${UTF8_LINE}\r\n`.repeat(UTF8_LINES);
const SHORT_OUTPUT = seqOutput(SHORT_LINES);

const STREAM_PROFILES: Record<string, PtySpawnProfile> = {
  ...PROFILES,
  bigSeq: gated(`exec /usr/bin/seq 1 ${BIG_LINES}`),
  detachedSeq: { file: '/usr/bin/seq', args: ['1', String(DETACHED_LINES)], env: CHILD_ENV },
  gatedExit3: gated('echo bye; exit 3'),
  utf8Lines: gated(`/usr/bin/yes '${UTF8_LINE}' | /usr/bin/head -n ${UTF8_LINES}`, { replayBufferBytes: 4 * 1024 * 1024 }),
  // A buffer size that is no multiple of the line: eviction has to cut between characters.
  utf8LinesSmallBuffer: gated(`/usr/bin/yes '${UTF8_LINE}' | /usr/bin/head -n ${UTF8_LINES}`, { replayBufferBytes: 200_000 }),
  shortSeq: { file: '/bin/sh', args: ['-c', `/usr/bin/seq 1 ${SHORT_LINES}; exec /bin/sleep 1000`], env: CHILD_ENV },
  shortSeqSmallBuffer: { file: '/bin/sh', args: ['-c', `/usr/bin/seq 1 ${SHORT_LINES}; exec /bin/sleep 1000`], env: CHILD_ENV, replayBufferBytes: 4096 },
};

let host: GatewayTestApp | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

function start(options: PtySessionModuleOptions = {}): Promise<GatewayTestApp> {
  return createGatewayApp({ profiles: STREAM_PROFILES, ...options });
}

async function createSession(socket: Parameters<typeof request>[0], payload: Record<string, unknown>): Promise<string> {
  const answer = await request(socket, 'create', payload);
  expect(answer).toMatchObject({ ok: true, created: true });
  return answer.ok ? answer.session.id : '';
}

/** Starts a gated profile once every wire has seen `ready`. */
async function release(wires: SessionWire[]): Promise<void> {
  for (const wire of wires) await wire.waitForText(/ready\r\n/);
  expect(await request(wires[0].socket, 'input', { sessionId: wires[0].sessionId, data: 'go\r' })).toEqual({ ok: true });
}

/** First index where two long strings differ, for a readable failure. */
function firstDifference(actual: string, expected: string): string {
  if (actual === expected) return 'identical';
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  return `differ at ${i} of ${actual.length}/${expected.length}: got ${JSON.stringify(actual.slice(i, i + 40))}, expected ${JSON.stringify(expected.slice(i, i + 40))}`;
}

function expectWholeOutput(wire: SessionWire, expected: string): void {
  const out = wire.assembled();
  expect(out.problems).toEqual([]);
  expect(out.resets).toEqual([]);
  expect(out.start).toBe(0);
  expect(out.end).toBe(Buffer.byteLength(expected));
  expect(firstDifference(out.text, expected)).toBe('identical');
  // The exit came after the last output.
  expect(wire.log.lastIndexOf('output')).toBeLessThan(wire.log.indexOf('exit'));
}

describe('fan-out', () => {
  it('two clients of one session both receive megabytes of output exactly, with contiguous offsets, then the exit', async () => {
    // A buffer larger than the output: even a client paused by flow control catches up without a reset.
    host = await start({ replayBufferBytes: 8 * 1024 * 1024 });
    const s1 = await host.connect(TOKENS.alice);
    const s2 = await host.connect(TOKENS.alice);
    const id = await createSession(s1, { profile: 'bigSeq' });
    const a = new SessionWire(s1, id);
    const b = new SessionWire(s2, id);
    expect(await a.attach({ since: 0 })).toMatchObject({ ok: true });
    expect(await b.attach()).toMatchObject({ ok: true });
    await release([a, b]);
    const [exitA, exitB] = await Promise.all([a.waitForExit(15_000), b.waitForExit(15_000)]);
    for (const exit of [exitA, exitB]) expect(exit).toMatchObject({ sessionId: id, exitCode: 0, reason: 'exited' });
    expectWholeOutput(a, BIG_OUTPUT);
    expectWholeOutput(b, BIG_OUTPUT);
    // Live output, in several messages (batched, not one message per read nor one catch-up).
    expect(a.liveBytes).toBeGreaterThan(Buffer.byteLength(BIG_OUTPUT) - 100);
    expect(a.outputs.length).toBeGreaterThan(1);
    expect(a.ackFailures).toEqual([]);
    expect(b.ackFailures).toEqual([]);
    expect(host.manager.getSession(id)!.outputOffset).toBe(Buffer.byteLength(BIG_OUTPUT));
    // After megabytes through each connection, the backlog the gateway counts (from engine.io's events) is
    // still what engine.io holds: it never drifts into dropping a client that reads.
    for (const client of [s1, s2]) {
      const onServer = gatewayNamespace(host.app).sockets.get(client.id!)!;
      expect(trackedWriteBufferBytes(onServer)).toBe(writeBufferBytes(onServer));
      await waitFor(() => connectionBacklogBytes(onServer) === 0, 5000, 'the connection to have written everything');
    }
  });

  it('sends output and the exit as local broadcasts, which a cluster adapter (Redis, ...) keeps off the other servers', async () => {
    const broadcast = jest.spyOn(Adapter.prototype, 'broadcast');
    try {
      host = await start();
      const socket = await host.connect(TOKENS.alice);
      const id = await createSession(socket, { profile: 'exit3' });
      const wire = new SessionWire(socket, id);
      expect(await wire.attach({ since: 0 })).toMatchObject({ ok: true });
      await wire.waitForExit(10_000);
      const events = broadcast.mock.calls.map(([packet, options]) => ({ event: (packet.data as unknown[])[0], local: (options as BroadcastOptions).flags?.local === true }));
      expect(events.filter((e) => e.event === 'output' || e.event === 'exit')).toEqual(expect.arrayContaining([{ event: 'exit', local: true }]));
      expect(events.filter((e) => !e.local)).toEqual([]);
    } finally {
      broadcast.mockRestore();
    }
  });
});

describe('multi-byte output', () => {
  it('offsets count UTF-8 bytes end to end, and `since` inside a character starts at the next one', async () => {
    host = await start();
    const socket = await host.connect(TOKENS.alice);
    const id = await createSession(socket, { profile: 'utf8Lines' });
    const expected = UTF8_OUTPUT;
    const expectedBytes = Buffer.from(expected);
    expect(expectedBytes.length).toBe(7 + 17 * UTF8_LINES);
    const wire = new SessionWire(socket, id);
    await wire.attach();
    await release([wire]);
    expect(await wire.waitForExit(15_000)).toMatchObject({ exitCode: 0, reason: 'exited' });
    expectWholeOutput(wire, expected);
    expect(host.manager.getSession(id)!.outputOffset).toBe(expectedBytes.length);

    const other = await host.connect(TOKENS.alice);
    // 'ready\r\n' is bytes 0-6; then é is 7-8, € 9-11, 😀 12-15; the last line ends with ï (2 bytes) and \r\n.
    for (const [since, start] of [[7, 7], [8, 9], [10, 12], [13, 16], [expectedBytes.length - 3, expectedBytes.length - 2], [expectedBytes.length - 1, expectedBytes.length - 1]]) {
      const answer = await request(other, 'attach', { sessionId: id, since });
      expect({ since, offset: answer.ok && answer.replay.offset }).toEqual({ since, offset: start });
      expect(answer.ok && answer.replay.byteLength).toBe(expectedBytes.length - start);
      expect(answer.ok && answer.replay.data === expectedBytes.subarray(start).toString('utf8')).toBe(true);
    }
  });
});

describe('flow control', () => {
  const flowControl = { highWaterMarkBytes: 64 * 1024, lowWaterMarkBytes: 16 * 1024, ackIntervalBytes: 8 * 1024 };
  /**
   * Most a client can be sent past its acknowledgements: the high mark plus one batch (half the high mark,
   * the default batch under a high mark given; a read that would take a batch past it starts the next).
   */
  const MAX_UNACKED = flowControl.highWaterMarkBytes + flowControl.highWaterMarkBytes / 2;

  async function runWithSilentClient(replayBufferBytes: number, profile = 'bigSeq', expected = BIG_OUTPUT) {
    host = await start({ replayBufferBytes, flowControl });
    const acking = await host.connect(TOKENS.alice);
    const silent = await host.connect(TOKENS.alice);
    const id = await createSession(acking, { profile });
    const a = new SessionWire(acking, id, true);
    const b = new SessionWire(silent, id, false);
    const answerA = await a.attach();
    expect(answerA).toMatchObject({ ok: true, flowControl: { ackIntervalBytes: flowControl.ackIntervalBytes } });
    expect(await b.attach()).toMatchObject({ ok: true });
    await release([a, b]);

    // The acking client gets everything and the exit, although the other one never acknowledged anything.
    expect(await a.waitForExit(15_000)).toMatchObject({ exitCode: 0, reason: 'exited' });
    expectWholeOutput(a, expected);
    expect(a.ackFailures).toEqual([]);
    // The silent one was stopped at about the high mark, and has no exit: a request on its socket
    // is answered after anything sent to it before, so nothing is still in flight.
    expect(await request(silent, 'list', {})).toMatchObject({ ok: true });
    expect(b.endOffset).toBeGreaterThanOrEqual(flowControl.highWaterMarkBytes);
    expect(b.liveBytes).toBeLessThanOrEqual(MAX_UNACKED);
    expect(b.exits).toEqual([]);
    expect(b.assembled().problems).toEqual([]);
    const session = host.manager.getSession(id)!;
    expect(session.status).toBe('exited');
    expect(session.outputOffset).toBe(Buffer.byteLength(expected));
    expect(session.attachedClients).toBe(1); // the silent client is still attached, waiting
    return { id, a, b, silent };
  }

  it('a client that never acknowledges does not hold up the other; once it acks, it catches up with a reset, then gets the exit', async () => {
    const replayBufferBytes = 1024 * 1024;
    const { b } = await runWithSilentClient(replayBufferBytes);
    const stoppedAt = b.endOffset;
    expect(await b.ack()).toEqual({ ok: true });
    expect(await b.waitForExit()).toMatchObject({ exitCode: 0, reason: 'exited' });
    const catchUp = b.outputs.filter((o) => o.offset >= stoppedAt || o.reset);
    expect(catchUp).toHaveLength(1);
    const [reset] = catchUp;
    // It fell out of the buffer: `reset`, and the data is the buffer's whole content, the end of the output.
    expect(reset.reset).toBe(true);
    expect(reset.offset).toBeGreaterThan(stoppedAt);
    expect(reset.offset + reset.byteLength).toBe(Buffer.byteLength(BIG_OUTPUT));
    expect(reset.byteLength).toBeLessThanOrEqual(replayBufferBytes);
    expect(reset.byteLength).toBeGreaterThan(replayBufferBytes - 64 * 1024);
    expect(firstDifference(reset.data, BIG_OUTPUT.slice(reset.offset))).toBe('identical');
    expect(b.log.slice(-2)).toEqual(['output', 'exit']);
    // The stream goes on from the reset: acks against it are accepted, older ones ignored.
    expect(b.assembled().problems).toEqual([]);
    await waitFor(() => host!.manager.getSession(b.sessionId!)!.attachedClients === 0, 5000, 'the silent client to be detached after its exit');
  });

  it('a client paused within the replay buffer catches up exactly, without a reset', async () => {
    const { b } = await runWithSilentClient(8 * 1024 * 1024);
    // `ack` without an acknowledgement callback is processed too.
    b.socket.emit('ack', { sessionId: b.sessionId, offset: b.endOffset });
    expect(await b.waitForExit()).toMatchObject({ exitCode: 0, reason: 'exited' });
    expectWholeOutput(b, BIG_OUTPUT);
  });

  it('a reset catch-up of multi-byte output starts on a character boundary and matches the bytes', async () => {
    // The profile's own 200,000-byte buffer overrides the module's.
    const { b } = await runWithSilentClient(8 * 1024 * 1024, 'utf8LinesSmallBuffer', UTF8_OUTPUT);
    const stoppedAt = b.endOffset;
    expect(await b.ack()).toEqual({ ok: true });
    expect(await b.waitForExit()).toMatchObject({ exitCode: 0 });
    const [reset] = b.outputs.filter((o) => o.offset >= stoppedAt || o.reset);
    const bytes = Buffer.from(UTF8_OUTPUT);
    expect(reset).toMatchObject({ reset: true, byteLength: bytes.length - reset.offset });
    expect(reset.byteLength).toBeLessThanOrEqual(200_000);
    expect(reset.byteLength).toBeGreaterThan(200_000 - 64 * 1024);
    expect(reset.data === bytes.subarray(reset.offset).toString('utf8')).toBe(true);
    expect(b.assembled().problems).toEqual([]);
  });

  it('an ack beyond what was sent is INVALID_OFFSET, an old one is accepted and ignored', async () => {
    host = await start();
    const socket = await host.connect(TOKENS.alice);
    const id = await createSession(socket, { profile: 'shortSeq' });
    await waitFor(() => host!.manager.getSession(id)!.outputOffset === SHORT_OUTPUT.length, 5000, 'the output of seq');
    const wire = new SessionWire(socket, id, false);
    expect(await wire.attach()).toMatchObject({ ok: true, replay: { offset: 0, byteLength: SHORT_OUTPUT.length } });
    expect(await request(socket, 'ack', { sessionId: id, offset: SHORT_OUTPUT.length + 1 })).toMatchObject({ ok: false, error: { code: 'INVALID_OFFSET' } });
    expect(await request(socket, 'ack', { sessionId: id, offset: SHORT_OUTPUT.length })).toEqual({ ok: true });
    expect(await request(socket, 'ack', { sessionId: id, offset: 10 })).toEqual({ ok: true });
  });
});

describe('processes without clients', () => {
  it('a program writing megabytes with nobody attached is not blocked: it exits by itself, and a later attach shows all of it', async () => {
    host = await start();
    const socket = await host.connect(TOKENS.alice);
    const id = await createSession(socket, { profile: 'detachedSeq' });
    const expected = seqOutput(DETACHED_LINES);
    const session = host.manager.getSession(id)!;
    await waitFor(() => session.status === 'exited', 15_000, () => `the program to exit (output so far ${session.outputOffset} bytes)`);
    expect(session.exit).toMatchObject({ exitCode: 0, reason: 'exited' });
    expect(session.attachedClients).toBe(0);

    const wire = new SessionWire(socket, id);
    const answer = await wire.attach();
    expect(answer).toMatchObject({ ok: true, session: { status: 'exited', outputOffset: expected.length, exit: { exitCode: 0, reason: 'exited' } } });
    // The default 256 KiB buffer holds the end of it.
    const replay = answer.ok ? (answer.replay as PtyWireOutput) : undefined; // attached without `binary`: text
    expect(replay).toMatchObject({ reset: true, sessionId: id });
    expect(replay!.offset + replay!.byteLength).toBe(expected.length);
    expect(firstDifference(replay!.data, expected.slice(replay!.offset))).toBe('identical');
    expect(await wire.waitForExit()).toMatchObject({ exitCode: 0 });
  });
});

describe('exit', () => {
  it('is delivered with its code to attached clients, and to a client attaching after the exit, after its answer', async () => {
    host = await start();
    const s1 = await host.connect(TOKENS.alice);
    const s2 = await host.connect(TOKENS.alice);
    const id = await createSession(s1, { profile: 'gatedExit3' });
    const a = new SessionWire(s1, id);
    const b = new SessionWire(s2, id);
    await a.attach();
    await b.attach();
    await release([a, b]);
    for (const wire of [a, b]) {
      expect(await wire.waitForExit()).toEqual({ sessionId: id, exitCode: 3, reason: 'exited', exitedAt: expect.any(Number) });
      expect(wire.text).toBe('ready\r\nbye\r\n');
      expect(wire.log[wire.log.length - 1]).toBe('exit');
      expect(wire.exits).toHaveLength(1);
    }
    // The server detached them: input is NOT_ATTACHED now.
    expect(await request(s1, 'input', { sessionId: id, data: 'x' })).toMatchObject({ ok: false, error: { code: 'NOT_ATTACHED' } });
    await waitFor(() => host!.manager.getSession(id)!.attachedClients === 0, 5000, 'the clients to be detached');

    // A client attaching after the exit: the answer has the exit and the final output, then an `exit` event.
    const late = new SessionWire(await host.connect(TOKENS.alice), id);
    const answer = await late.attach();
    expect(answer).toMatchObject({
      ok: true,
      session: { id, status: 'exited', exit: { exitCode: 3, reason: 'exited' } },
      replay: { offset: 0, data: 'ready\r\nbye\r\n', byteLength: 12 },
    });
    expect(await late.waitForExit()).toMatchObject({ sessionId: id, exitCode: 3, reason: 'exited' });
    expect(late.log).toEqual(['answer', 'exit']);
  });

  it('of a program that exited before anyone attached (exit3) reaches the first client after its answer', async () => {
    host = await start();
    const socket = await host.connect(TOKENS.alice);
    const id = await createSession(socket, { profile: 'exit3' });
    await waitFor(() => host!.manager.getSession(id)!.status === 'exited', 5000, 'exit3 to exit');
    const wire = new SessionWire(socket, id);
    expect(await wire.attach({ since: 0 })).toMatchObject({ ok: true, session: { exit: { exitCode: 3 } }, replay: { data: 'bye\r\n' } });
    expect(await wire.waitForExit()).toMatchObject({ exitCode: 3, reason: 'exited' });
    expect(wire.log).toEqual(['answer', 'exit']);
    // Input to it is refused: the exit detached this client.
    expect(await request(socket, 'input', { sessionId: id, data: 'x' })).toMatchObject({ ok: false, error: { code: 'NOT_ATTACHED' } });
  });
});

describe('replay', () => {
  it('attach with `since` answers exactly the bytes after it; past the end is INVALID_OFFSET', async () => {
    host = await start();
    const socket = await host.connect(TOKENS.alice);
    const id = await createSession(socket, { profile: 'shortSeq' });
    await waitFor(() => host!.manager.getSession(id)!.outputOffset === SHORT_OUTPUT.length, 5000, 'the output of seq');

    for (const since of [SHORT_OUTPUT.length + 1, 2 ** 40]) {
      expect(await request(socket, 'attach', { sessionId: id, since })).toMatchObject({ ok: false, error: { code: 'INVALID_OFFSET' } });
    }
    // The refused attaches left the connection detached.
    expect(await request(socket, 'input', { sessionId: id, data: 'x' })).toMatchObject({ ok: false, error: { code: 'NOT_ATTACHED' } });
    expect(host.manager.getSession(id)!.attachedClients).toBe(0);

    for (const since of [0, 4321, SHORT_OUTPUT.length - 1, SHORT_OUTPUT.length]) {
      const answer = await request(socket, 'attach', { sessionId: id, since });
      expect(answer).toMatchObject({ ok: true, replay: { sessionId: id, offset: since, byteLength: SHORT_OUTPUT.length - since } });
      expect(answer.ok && answer.replay.data).toBe(SHORT_OUTPUT.slice(since));
      expect(answer.ok && answer.replay).not.toHaveProperty('reset');
    }
    // Attaching again from the same connection replaced the previous attachment.
    expect(host.manager.getSession(id)!.attachedClients).toBe(1);
  });

  it('without `since`, a session whose buffer evicted output answers reset: true and the most recent output', async () => {
    host = await start();
    const socket = await host.connect(TOKENS.alice);
    const id = await createSession(socket, { profile: 'shortSeqSmallBuffer' });
    await waitFor(() => host!.manager.getSession(id)!.outputOffset === SHORT_OUTPUT.length, 5000, 'the output of seq');
    for (const payload of [{}, { since: 0 }, { since: 100 }]) {
      const answer = await request(socket, 'attach', { sessionId: id, ...payload });
      expect(answer).toMatchObject({ ok: true, replay: { reset: true } });
      const replay = answer.ok ? answer.replay : undefined;
      expect(replay!.byteLength).toBeLessThanOrEqual(4096);
      expect(replay!.byteLength).toBeGreaterThan(4000);
      expect(replay!.offset + replay!.byteLength).toBe(SHORT_OUTPUT.length);
      expect(replay!.data).toBe(SHORT_OUTPUT.slice(replay!.offset));
    }
    // Within the buffer: exact, no reset.
    const since = SHORT_OUTPUT.length - 100;
    const answer = await request(socket, 'attach', { sessionId: id, since });
    expect(answer).toMatchObject({ ok: true, replay: { offset: since, byteLength: 100, data: SHORT_OUTPUT.slice(since) } });
    expect(answer.ok && answer.replay).not.toHaveProperty('reset');
  });
});

describe('resize policies', () => {
  let marker = 0;
  /** The size the program sees, from `stty size` inside the session. */
  async function sttySize(wire: SessionWire): Promise<string> {
    const n = ++marker;
    await request(wire.socket, 'input', { sessionId: wire.sessionId, data: `stty size; echo END$((${n}+1000))\r` });
    const match = await wire.waitForText(new RegExp(`(\\d+) (\\d+)\\r\\nEND${n + 1000}`));
    return `${match[2]}x${match[1]}`;
  }

  function sizeOf(id: string): string {
    const session = host!.manager.getSession(id)!;
    return `${session.cols}x${session.rows}`;
  }

  it("'latest': the latest client's size wins", async () => {
    host = await start({ resizePolicy: 'latest' });
    const s1 = await host.connect(TOKENS.alice);
    const s2 = await host.connect(TOKENS.alice);
    const id = await createSession(s1, { profile: 'bash', cols: 80, rows: 24 });
    const a = new SessionWire(s1, id);
    const b = new SessionWire(s2, id);
    expect(await a.attach({ cols: 100, rows: 30 })).toMatchObject({ ok: true, session: { cols: 100, rows: 30 } });
    expect(sizeOf(id)).toBe('100x30');
    expect(await b.attach({ cols: 90, rows: 20 })).toMatchObject({ ok: true, session: { cols: 90, rows: 20 } });
    expect(await sttySize(a)).toBe('90x20');
    expect(await request(s1, 'resize', { sessionId: id, cols: 120, rows: 40 })).toMatchObject({ ok: true, cols: 120, rows: 40 });
    expect(sizeOf(id)).toBe('120x40');
    expect(await sttySize(b)).toBe('120x40');
    expect(await request(s2, 'resize', { sessionId: id, cols: 70, rows: 25 })).toMatchObject({ ok: true, cols: 70, rows: 25 });
    expect(await sttySize(a)).toBe('70x25');
    // The client whose size the session has leaves: the one that sized it before takes over
    // (a small window closed must not leave the others at its size until they resize).
    expect(await request(s2, 'detach', { sessionId: id })).toEqual({ ok: true });
    expect(sizeOf(id)).toBe('120x40');
    expect(await sttySize(a)).toBe('120x40');
    // A client leaving whose size is not the session's changes nothing.
    expect(await b.attach({ cols: 60, rows: 20 })).toMatchObject({ ok: true, session: { cols: 60, rows: 20 } });
    expect(await request(s1, 'resize', { sessionId: id, cols: 110, rows: 35 })).toMatchObject({ ok: true });
    expect(await request(s2, 'detach', { sessionId: id })).toEqual({ ok: true });
    expect(sizeOf(id)).toBe('110x35');
  });

  it("'smallest': the smallest columns and rows of the attached clients; a client leaving lets it grow", async () => {
    host = await start({ resizePolicy: 'smallest' });
    const [s1, s2, s3] = await Promise.all([host.connect(TOKENS.alice), host.connect(TOKENS.alice), host.connect(TOKENS.alice)]);
    const id = await createSession(s1, { profile: 'bash' });
    const a = new SessionWire(s1, id);
    const b = new SessionWire(s2, id);
    expect(await a.attach({ cols: 120, rows: 40 })).toMatchObject({ ok: true, session: { cols: 120, rows: 40 } });
    expect(await b.attach({ cols: 80, rows: 50 })).toMatchObject({ ok: true, session: { cols: 80, rows: 40 } });
    expect(await sttySize(a)).toBe('80x40');
    // A grows past the other: the session stays at the minimum; shrinking below it wins.
    expect(await request(s1, 'resize', { sessionId: id, cols: 200, rows: 60 })).toMatchObject({ ok: true, cols: 80, rows: 50 });
    expect(await request(s1, 'resize', { sessionId: id, cols: 100, rows: 30 })).toMatchObject({ ok: true, cols: 80, rows: 30 });
    expect(await sttySize(b)).toBe('80x30');
    // B detaches: the session takes A's size.
    expect(await request(s2, 'detach', { sessionId: id })).toEqual({ ok: true });
    expect(sizeOf(id)).toBe('100x30');
    expect(await sttySize(a)).toBe('100x30');
    // A small client that disconnects without detaching: the size grows back as well.
    const c = new SessionWire(s3, id);
    expect(await c.attach({ cols: 60, rows: 20 })).toMatchObject({ ok: true, session: { cols: 60, rows: 20 } });
    s3.disconnect();
    await waitFor(() => sizeOf(id) === '100x30', 5000, () => `the size to grow back to 100x30 (is ${sizeOf(id)})`);
    expect(await sttySize(a)).toBe('100x30');
    // A client attached without a size does not count.
    expect(await b.attach()).toMatchObject({ ok: true, session: { cols: 100, rows: 30 } });
  });
});

describe('keys', () => {
  it('create with a key twice answers the same session, created: false the second time; attach by key works', async () => {
    host = await start();
    const socket = await host.connect(TOKENS.alice);
    const first = await request(socket, 'create', { profile: 'bash', key: 'task-1' });
    expect(first).toMatchObject({ ok: true, created: true, session: { key: 'task-1', profile: 'bash', status: 'running' } });
    const id = first.ok ? first.session.id : '';
    const second = await request(socket, 'create', { profile: 'bash', key: 'task-1' });
    expect(second).toMatchObject({ ok: true, created: false, session: { id, key: 'task-1' } });
    expect(host.manager.listSessions()).toHaveLength(1);

    const wire = new SessionWire(await host.connect(TOKENS.alice));
    expect(await wire.attach({ key: 'task-1' })).toMatchObject({ ok: true, session: { id, key: 'task-1' } });
    expect(wire.sessionId).toBe(id);
    await request(wire.socket, 'input', { sessionId: id, data: 'echo by-key-$((40+2))\r' });
    await wire.waitForText(/by-key-42/);
    // Another key is another session.
    expect(await request(socket, 'create', { profile: 'bash', key: 'task-2' })).toMatchObject({ ok: true, created: true, session: { key: 'task-2' } });
    expect(host.manager.listSessions()).toHaveLength(2);
  });

  // Regression: `created` once came from comparing getSessionByKey before and after, true for every racer.
  it('two concurrent creates of one key start one session, and only one of them answers created: true', async () => {
    host = await start();
    const socket = await host.connect(TOKENS.alice);
    const answers = await Promise.all([1, 2, 3].map(() => request(socket, 'create', { profile: 'bash', key: 'raced' })));
    const ids = new Set(answers.map((a) => (a.ok ? a.session.id : a.error.code)));
    expect(ids.size).toBe(1);
    expect(host.manager.listSessions()).toHaveLength(1);
    expect(answers.map((a) => a.ok && a.created).sort()).toEqual([false, false, true]);
  });
});

describe('close, detach and disconnect', () => {
  it('close answers the exit status once the process is gone, and attached clients get `exit`', async () => {
    host = await start();
    const [s1, s2] = await Promise.all([host.connect(TOKENS.alice), host.connect(TOKENS.alice)]);
    const id = await createSession(s1, { profile: 'bash' });
    const pid = host.manager.getSession(id)!.pid;
    const a = new SessionWire(s1, id);
    const b = new SessionWire(s2, id);
    await a.attach();
    await b.attach();
    const closed = await request(s1, 'close', { sessionId: id });
    expect(closed).toEqual({ ok: true, exit: { exitCode: expect.any(Number), signal: expect.any(Number), reason: 'closed', exitedAt: expect.any(Number) } });
    expect(() => process.kill(pid, 0)).toThrow();
    for (const wire of [a, b]) {
      const exit = await wire.waitForExit();
      expect(exit).toEqual({ sessionId: id, ...(closed.ok ? closed.exit : {}) });
    }
    // Closed sessions are forgotten.
    expect(await request(s1, 'list', {})).toEqual({ ok: true, sessions: [] });
    expect(await request(s1, 'close', { sessionId: id })).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    expect(await request(s2, 'attach', { sessionId: id })).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
  });

  it('detach is idempotent and stops the output; the session keeps running', async () => {
    host = await start();
    const [s1, s2] = await Promise.all([host.connect(TOKENS.alice), host.connect(TOKENS.alice)]);
    const id = await createSession(s1, { profile: 'bash' });
    const a = new SessionWire(s1, id);
    const b = new SessionWire(s2, id);
    await a.attach();
    await b.attach();
    expect(host.manager.getSession(id)!.attachedClients).toBe(2);
    for (let i = 0; i < 3; i++) expect(await request(s2, 'detach', { sessionId: id })).toEqual({ ok: true });
    expect(await request(s2, 'detach', { sessionId: 'never-attached' })).toEqual({ ok: true });
    expect(host.manager.getSession(id)!.attachedClients).toBe(1);
    const before = b.outputs.length;
    await request(s1, 'input', { sessionId: id, data: 'echo after-detach-$((1+1))\r' });
    await a.waitForText(/after-detach-2/);
    // b's socket answers a request after anything sent to it before: it got no output after detaching.
    await request(s2, 'list', {});
    expect(b.outputs.length).toBe(before);
    expect(b.text).not.toMatch(/after-detach-2/);
    expect(host.manager.getSession(id)!.status).toBe('running');
  });

  it('after a disconnect the session keeps running, attachedClients drops, and a new client resumes with `since`', async () => {
    host = await start();
    const s1 = await host.connect(TOKENS.alice);
    const id = await createSession(s1, { profile: 'bash' });
    const a = new SessionWire(s1, id);
    await a.attach();
    await request(s1, 'input', { sessionId: id, data: 'echo before-$((2+3))\r' });
    await a.waitForText(/before-5/);
    const resumeAt = a.endOffset;
    expect(host.manager.getSession(id)!.attachedClients).toBe(1);
    s1.disconnect();
    await waitFor(() => host!.manager.getSession(id)!.attachedClients === 0, 5000, 'attachedClients to drop');
    expect(host.manager.getSession(id)!.status).toBe('running');

    const s2 = await host.connect(TOKENS.alice);
    const listed = await request(s2, 'list', {});
    expect(listed).toMatchObject({ ok: true, sessions: [{ id, status: 'running', attachedClients: 0 }] });
    const b = new SessionWire(s2, id);
    expect(await b.attach({ since: resumeAt })).toMatchObject({ ok: true, replay: { offset: resumeAt }, session: { attachedClients: 1 } });
    await request(s2, 'input', { sessionId: id, data: 'echo after-$((3+4))\r' });
    await b.waitForText(/after-7/);
    expect(b.text).not.toMatch(/before-5/);
    expect(b.assembled().problems).toEqual([]);
  });
});

describe('server shutdown', () => {
  // Regression: the gateway once dropped its streams in onModuleDestroy, before the manager's shutdown exits.
  it("attached clients get `exit` with reason 'shutdown' before the connection closes", async () => {
    const app = (host = await start());
    const socket = await app.connect(TOKENS.alice);
    const id = await createSession(socket, { profile: 'bash' });
    const wire = new SessionWire(socket, id);
    await wire.attach();
    await request(socket, 'input', { sessionId: id, data: 'echo up-$((1+1))\r' });
    await wire.waitForText(/up-2/);
    const exitsAtDisconnect: unknown[][] = [];
    socket.on('disconnect', () => exitsAtDisconnect.push([...wire.exits]));
    host = undefined; // closed here, not in afterEach (whose host.close() would close the clients first)
    try {
      await app.app.close();
      await waitFor(() => exitsAtDisconnect.length > 0, 5000, 'the server to close the connection');
    } finally {
      socket.close();
    }
    expect(exitsAtDisconnect[0]).toEqual([expect.objectContaining({ sessionId: id, reason: 'shutdown' })]);
  });
});
