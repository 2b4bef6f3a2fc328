/**
 * Review findings of the gateway, as regression tests against a real Nest
 * application with real node-pty.
 *
 * An attachment made for a connection that dropped while its request was
 * being handled (an async spawn profile in `create` with `attach: true`, or
 * a host's async global guard in front of `attach`) must not outlive the
 * connection: `handleDisconnect` has already run, so nothing would ever
 * remove it, and the session would count a client forever (no idle expiry,
 * one of `maxClientsPerSession` slots gone).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, type CanActivate } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { PtySessionModuleOptions, PtySpawnProfile } from 'nestjs-pty-session';
import { connectionBacklogBytes, trackedWriteBufferBytes, writeBufferBytes } from '../libs/pty-session/src/gateway/connection-backlog.js';
import { Manager, type Socket as ClientSocket } from 'socket.io-client';
import { PTY_SOCKET_PATH } from 'nestjs-pty-session-client/protocol';
import { createGatewayApp, gatewayNamespace, request, TOKENS, type GatewayTestApp } from './fixtures/gateway-app.js';
import { CHILD_ENV, PROFILES } from './fixtures/pty-app.js';
import { waitFor } from './fixtures/processes.js';

/** A connected client's TCP socket, to stop reading it (a slow link, or a client that never reads) and resume. */
function clientTcpSocket(client: { io: { engine: { transport: unknown } } }): { pause(): void; resume(): void; destroy(): void } {
  return (client.io.engine.transport as { ws: { _socket: { pause(): void; resume(): void; destroy(): void } } }).ws._socket;
}


const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects a socket of a Manager (its namespace) and resolves once it is in. */
function joined(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
    socket.connect();
  });
}

/** Asks for `sessionIds`' whole replays again and again, up to four rounds, until the server drops the connection. */
async function askWithoutReading(client: { emit(event: string, ...args: unknown[]): unknown }, onServer: { connected: boolean }, sessionIds: string[]): Promise<void> {
  for (let i = 0; i < 4 && onServer.connected; i++) {
    for (const id of sessionIds) client.emit('attach', { sessionId: id, since: 0, binary: true }, () => {});
    await delay(300);
  }
  await waitFor(() => !onServer.connected, 10_000, 'the server to drop the client that does not read');
}

const SLEEPER: PtySpawnProfile = { file: '/bin/sh', args: ['-c', 'exec sleep 1000'], env: CHILD_ENV };

let host: GatewayTestApp | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

/** A host guard that takes its time (a database lookup, say) before admitting every message. */
@Injectable()
class SlowGuard implements CanActivate {
  async canActivate(): Promise<boolean> {
    await delay(200);
    return true;
  }
}

describe('a connection that drops while its attach is in flight', () => {
  it('create with attach: a spawn profile that takes a while, the connection gone before it is done', async () => {
    host = await createGatewayApp({
      profiles: {
        ...PROFILES,
        // An async profile factory (credentials, a container...): the spawn completes after the disconnect.
        slow: async () => {
          await delay(300);
          return SLEEPER;
        },
      },
      idleTimeoutMs: 1000,
      cleanupIntervalMs: 100,
    });
    const socket = await host.connect(TOKENS.alice);
    socket.emit('create', { profile: 'slow', attach: true }, () => {});
    await delay(50);
    socket.disconnect();

    await waitFor(() => host!.manager.listSessions().length === 1, 5000, 'the session to be spawned');
    const [{ id }] = host.manager.listSessions();
    await delay(200);
    // Nobody is connected: nobody may count as attached.
    expect(host.manager.getSession(id)?.attachedClients).toBe(0);
    // And so the idle timeout ends it.
    await waitFor(() => host!.manager.getSession(id)?.status !== 'running', 5000, 'the idle session to be closed');
  });

  it('attach behind an async host guard, the connection gone before the handler runs', async () => {
    host = await createGatewayApp(
      { profiles: { ...PROFILES, sleeper: SLEEPER }, maxClientsPerSession: 1 },
      {},
      { providers: [{ provide: APP_GUARD, useClass: SlowGuard }] },
    );
    const owner = await host.connect(TOKENS.alice);
    const created = await request(owner, 'create', { profile: 'sleeper' });
    expect(created).toMatchObject({ ok: true });
    const sessionId = created.ok ? (created.session.id as string) : '';

    const dropped = await host.connect(TOKENS.alice);
    dropped.emit('attach', { sessionId }, () => {});
    await delay(50);
    dropped.disconnect();
    await delay(400); // the guard has admitted the attach by now

    expect(host.manager.getSession(sessionId)?.attachedClients).toBe(0);
    // The one client slot is free for the next connection.
    expect(await request(owner, 'attach', { sessionId })).toMatchObject({ ok: true });
  });
});

describe('a client that does not read its socket', () => {
  /** A host with these options and alice's running session whose replay buffer is full: every attach answer carries 256 KiB. */
  async function fullSession(options: PtySessionModuleOptions) {
    const seq = { file: '/bin/bash', args: ['-c', 'seq 1 200000; exec sleep 1000'], env: CHILD_ENV };
    host = await createGatewayApp({ profiles: { ...PROFILES, seq }, ...options });
    const owner = await host.connect(TOKENS.alice);
    const created = await request(owner, 'create', { profile: 'seq' });
    const sessionId = created.ok ? (created.session.id as string) : '';
    const total = Buffer.byteLength(Array.from({ length: 200000 }, (_, i) => String(i + 1)).join('\r\n') + '\r\n');
    await waitFor(() => host!.manager.getSession(sessionId)?.outputOffset === total, 10_000, 'seq to finish');
    return { app: host, owner, sessionId };
  }

  it('is disconnected once its unread backlog passes maxClientBacklogBytes, however it asks for data', async () => {
    const { app, owner, sessionId } = await fullSession({ maxClientBacklogBytes: 4 * 1024 * 1024 });

    const greedy = await app.connect(TOKENS.alice);
    // Stop reading: the answers pile up in the kernel, then in the server.
    const raw = clientTcpSocket(greedy);
    raw.pause();
    try {
      const rssBefore = process.memoryUsage().rss;
      let sent = 0;
      let dropped = false;
      // 1000 x 256 KiB = 250 MiB if the server kept every answer.
      for (; sent < 1000 && !dropped; sent++) {
        greedy.emit('attach', { sessionId, since: 0 }, () => {});
        if (sent % 50 === 49) {
          await delay(20); // let the server answer
          dropped = (app.manager.getSession(sessionId)?.attachedClients ?? 0) === 0;
        }
      }
      await waitFor(() => app.manager.getSession(sessionId)?.attachedClients === 0, 10_000, 'the greedy client to be dropped');
      expect(sent).toBeLessThan(1000);
      expect(app.manager.getSession(sessionId)?.status).toBe('running');
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150 * 1024 * 1024);
    } finally {
      raw.destroy(); // it would never read the server's close frame
    }
    // Everyone else is still served.
    expect(await request(owner, 'attach', { sessionId })).toMatchObject({ ok: true });
  });

  it('answers at most maxRequestsInFlight attaches of one connection at a time: a burst sent at once is refused, not answered with a replay each', async () => {
    // A backlog limit high enough that this client, which reads, is never dropped for being slow on a loaded machine.
    const { app, owner, sessionId } = await fullSession({ maxClientBacklogBytes: 512 * 1024 * 1024 });
    const burst = await app.connect(TOKENS.alice);
    // 1000 attaches in one go, each of which would be answered with the whole 256 KiB buffer.
    const answers = await Promise.all(
      Array.from({ length: 1000 }, () =>
        burst
          .timeout(30_000)
          .emitWithAck('attach', { sessionId, since: 0 })
          .catch((error: Error) => ({ ok: false, error: { code: `no answer: ${error.message}` } })),
      ),
    );
    const codes = new Map<string, number>();
    for (const a of answers as Array<{ ok: boolean; error?: { code: string } }>) {
      const code = a.ok ? 'ok' : a.error!.code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    const ok = codes.get('ok') ?? 0;
    expect({ ok, refused: codes.get('TOO_MANY_REQUESTS'), total: ok + (codes.get('TOO_MANY_REQUESTS') ?? 0) }).toMatchObject({ total: 1000 });
    expect(ok).toBeGreaterThanOrEqual(1);
    // Each read of the socket brings hundreds of requests, of which 16 are answered.
    expect(ok).toBeLessThan(300);
    // Once answered, the connection may ask again.
    expect(await request(burst, 'attach', { sessionId, since: 0 })).toMatchObject({ ok: true });
    expect(await request(owner, 'list', {})).toMatchObject({ ok: true });
  });

  for (const rejoined of [false, true]) {
    it(`is dropped once an answer on its way passes maxClientBacklogBytes, not only at its next request or output${rejoined ? ': also after leaving the namespace and joining again on the same connection' : ''}`, async () => {
      // A buffer of NULs: a text attach answer carries it JSON-escaped, six bytes for each (\u0000), far beyond
      // the limit: the option, what the connection has outstanding (that replay) and the largest buffer.
      const nuls = { file: '/bin/bash', args: ['-c', 'head -c 2100000 /dev/zero; exec sleep 1000'], env: CHILD_ENV };
      host = await createGatewayApp({ maxClientBacklogBytes: 256 * 1024, replayBufferBytes: 2 * 1024 * 1024, profiles: { ...PROFILES, nuls } });
      const owner = await host.connect(TOKENS.alice);
      const created = await request(owner, 'create', { profile: 'nuls' });
      const sessionId = created.ok ? (created.session.id as string) : '';
      await waitFor(() => host!.manager.getSession(sessionId)!.outputOffset >= 2_100_000, 10_000, 'the output');
      // One engine.io connection; its root namespace keeps it open while the client leaves the library's and
      // joins it again (a new socket on a connection whose backlog was counted since the first).
      const manager = new Manager(host.baseUrl, { path: PTY_SOCKET_PATH, transports: ['websocket'], reconnection: false });
      const root = manager.socket('/');
      const greedy = manager.socket('/pty', { auth: { token: TOKENS.alice } });
      await Promise.all([joined(root), joined(greedy)]);
      if (rejoined) {
        greedy.disconnect();
        await delay(100);
        await joined(greedy);
      }
      const onServer = gatewayNamespace(host.app).sockets.get(greedy.id!)!;
      const raw = clientTcpSocket(greedy);
      raw.pause();
      try {
        // One request, checked before its answer was written; then silence: no request, and no output.
        greedy.emit('attach', { sessionId, since: 0 }, () => {});
        await waitFor(() => !onServer.connected, 5000, 'the server to drop the client once the answer passed the limit');
      } finally {
        raw.destroy();
        manager.engine.close();
      }
      expect(await request(owner, 'list', {})).toMatchObject({ ok: true });
    });
  }

  it('answers at most maxRequestsInFlight closes of one connection at a time: a close waits for the process, and a flood of them is refused', async () => {
    // A program that ignores SIGHUP and SIGTERM: each close waits through both grace periods for SIGKILL.
    host = await createGatewayApp({ hangupGracePeriodMs: 500, terminateGracePeriodMs: 500 });
    const owner = await host.connect(TOKENS.alice);
    const created = await request(owner, 'create', { profile: 'trapHupTerm' });
    const sessionId = created.ok ? (created.session.id as string) : '';
    await waitFor(() => host!.manager.getSession(sessionId)!.outputOffset > 0, 5000, 'the trap to be in place');
    const flood = await host.connect(TOKENS.alice);
    const answers = (await Promise.all(
      Array.from({ length: 200 }, () => flood.timeout(20_000).emitWithAck('close', { sessionId }).catch((error: Error) => ({ ok: false, error: { code: `no answer: ${error.message}` } }))),
    )) as Array<{ ok: boolean; error?: { code: string } }>;
    const ok = answers.filter((a) => a.ok).length;
    // Each read of the socket brings many of them, of which 16 wait for the process; the rest are refused at once.
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok).toBeLessThan(100);
    expect(answers.filter((a) => !a.ok).map((a) => a.error!.code)).toEqual(Array(200 - ok).fill('TOO_MANY_REQUESTS'));
    expect(host.manager.getSession(sessionId)?.status ?? 'gone').not.toBe('running');
    expect(await request(owner, 'list', {})).toMatchObject({ ok: true });
  });

  it('is not dropped while a replay larger than maxClientBacklogBytes waits to be read (a big buffer over a slow link), and is past twice the buffer', async () => {
    const MiB = 1024 * 1024;
    const big = { file: '/bin/bash', args: ['-c', 'head -c 18000000 /dev/zero | tr "\\0" x; exec sleep 1000'], env: CHILD_ENV };
    const ticker = { file: '/bin/bash', args: ['-c', 'while :; do echo tick; sleep 0.02; done'], env: CHILD_ENV };
    // The default maxClientBacklogBytes (8 MiB), and a buffer twice as large.
    host = await createGatewayApp({ replayBufferBytes: 16 * MiB, profiles: { ...PROFILES, big, ticker } });
    const owner = await host.connect(TOKENS.alice);
    const bigId = ((await request(owner, 'create', { profile: 'big' })) as { session: { id: string } }).session.id;
    const tickerId = ((await request(owner, 'create', { profile: 'ticker' })) as { session: { id: string } }).session.id;
    await waitFor(() => host!.manager.getSession(bigId)!.outputOffset >= 18_000_000, 20_000, 'the big output');

    const slow = await host.connect(TOKENS.alice);
    const onServer = gatewayNamespace(host.app).sockets.get(slow.id!)!;
    expect(await request(slow, 'attach', { sessionId: tickerId })).toMatchObject({ ok: true });
    const raw = clientTcpSocket(slow);
    raw.pause(); // a slow link: the 16 MiB replay stays in the server's buffers, past maxClientBacklogBytes
    try {
      let replayBytes = -1;
      slow.emit('attach', { sessionId: bigId, since: 0, binary: true }, (answer: { ok: boolean; replay?: { data: Buffer } }) => {
        replayBytes = answer.ok ? answer.replay!.data.length : 0;
      });
      await delay(1000); // ~50 ticks of the other session went to this client meanwhile, each a check of its backlog
      expect(onServer.connected).toBe(true);
      raw.resume();
      await waitFor(() => replayBytes >= 0, 20_000, 'the replay to arrive');
      expect(replayBytes).toBe(16 * MiB);
      expect(onServer.connected).toBe(true);

      // A client that asks again and again without reading is still dropped, past twice the buffer.
      raw.pause();
      await askWithoutReading(slow, onServer, [bigId]);
    } finally {
      raw.destroy();
    }
    expect(await request(owner, 'list', {})).toMatchObject({ ok: true });
  });

  it('is not dropped while the replays of several terminals wait to be read (their buffers add up), and is once it asks for more without reading', async () => {
    const MiB = 1024 * 1024;
    const TERMINALS = 8;
    const full = { file: '/bin/bash', args: ['-c', 'head -c 4300000 /dev/zero | tr "\\0" y; exec sleep 1000'], env: CHILD_ENV };
    const ticker = { file: '/bin/bash', args: ['-c', 'while :; do echo tick; sleep 0.02; done'], env: CHILD_ENV };
    // Eight full 4 MiB buffers: far more than twice the largest and a high mark (9 MiB, the limit when only
    // the largest session counted) once the kernel's socket buffers are full, within what it has outstanding.
    host = await createGatewayApp({ replayBufferBytes: 4 * MiB, profiles: { ...PROFILES, full, ticker } });
    const owner = await host.connect(TOKENS.alice);
    const ids: string[] = [];
    for (let i = 0; i < TERMINALS; i++) ids.push(((await request(owner, 'create', { profile: 'full' })) as { session: { id: string } }).session.id);
    const tickerId = ((await request(owner, 'create', { profile: 'ticker' })) as { session: { id: string } }).session.id;
    for (const id of ids) await waitFor(() => host!.manager.getSession(id)!.outputOffset >= 4_300_000, 20_000, 'the output');

    const slow = await host.connect(TOKENS.alice);
    const onServer = gatewayNamespace(host.app).sockets.get(slow.id!)!;
    expect(await request(slow, 'attach', { sessionId: tickerId })).toMatchObject({ ok: true });
    const raw = clientTcpSocket(slow);
    raw.pause(); // a slow link, as after a reconnect: every terminal's replay waits in the server's buffers
    try {
      const replays: number[] = [];
      for (const id of ids) {
        slow.emit('attach', { sessionId: id, since: 0, binary: true }, (answer: { ok: boolean; replay?: { data: Buffer } }) => {
          replays.push(answer.ok ? answer.replay!.data.length : 0);
        });
      }
      await delay(1000); // ~50 ticks went to this client meanwhile, each a check of its backlog
      expect(onServer.connected).toBe(true);
      expect(connectionBacklogBytes(onServer)).toBeGreaterThan(9 * MiB);
      raw.resume();
      await waitFor(() => replays.length === TERMINALS, 20_000, 'the replays to arrive');
      expect(replays).toEqual(Array.from({ length: TERMINALS }, () => 4 * MiB));
      expect(onServer.connected).toBe(true);

      // A client that asks again and again without reading is still dropped: a re-attach replaces what it had outstanding.
      raw.pause();
      await askWithoutReading(slow, onServer, ids);
    } finally {
      raw.destroy();
    }
    expect(await request(owner, 'list', {})).toMatchObject({ ok: true });
  });

  it('attached to ten quiet terminals, asking for replay after replay without reading gains nothing from them: dropped past the option, a replay and a buffer', async () => {
    const MiB = 1024 * 1024;
    const full = { file: '/bin/bash', args: ['-c', 'head -c 1100000 /dev/zero | tr "\\0" y; exec sleep 1000'], env: CHILD_ENV };
    host = await createGatewayApp({ profiles: { ...PROFILES, full } }); // maxClientBacklogBytes 8 MiB, 1 MiB buffers
    const owner = await host.connect(TOKENS.alice);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(((await request(owner, 'create', { profile: 'full' })) as { session: { id: string } }).session.id);
    for (const id of ids) await waitFor(() => host!.manager.getSession(id)!.outputOffset >= 1_100_000, 20_000, 'the output');

    const greedy = await host.connect(TOKENS.alice);
    // Attached to all ten at their ends: nothing outstanding, and none prints anything more.
    for (const id of ids) expect(await request(greedy, 'attach', { sessionId: id, since: host.manager.getSession(id)!.outputOffset, binary: true })).toMatchObject({ ok: true });
    const onServer = gatewayNamespace(host.app).sockets.get(greedy.id!)!;
    const raw = clientTcpSocket(greedy);
    raw.pause();
    let peak = 0;
    try {
      // Re-attaches of one session since 0, 16 at a time (maxRequestsInFlight): each answer a whole 1 MiB replay.
      for (let round = 0; round < 40 && onServer.connected; round++) {
        for (let i = 0; i < 16; i++) greedy.emit('attach', { sessionId: ids[0], since: 0, binary: true }, () => {});
        await delay(100);
        if (onServer.connected) peak = Math.max(peak, connectionBacklogBytes(onServer));
      }
      await waitFor(() => !onServer.connected, 10_000, 'the server to drop the client that does not read');
    } finally {
      raw.destroy();
    }
    // 8 MiB, its one outstanding replay and the largest buffer, plus one burst of 16 answers: not ten high marks
    // and batches of terminals that print nothing (26 MiB before the burst, when each attached session counted them).
    expect(peak).toBeLessThanOrEqual(8 * MiB + 2 * MiB + 16 * MiB);
    expect(await request(owner, 'list', {})).toMatchObject({ ok: true });
  });

  it('is disconnected by any request once over maxClientBacklogBytes: small `list` requests with large answers', async () => {
    const LIMIT = 1024 * 1024;
    host = await createGatewayApp({ maxClientBacklogBytes: LIMIT, profiles: { ...PROFILES, sleeper: SLEEPER } });
    const owner = await host.connect(TOKENS.alice);
    // Ten sessions with long keys: each ~20-byte `list` request is answered with ~4 KB.
    for (let i = 0; i < 10; i++) expect(await request(owner, 'create', { profile: 'sleeper', key: `k${i}-${'x'.repeat(250)}` })).toMatchObject({ ok: true });
    const greedy = await host.connect(TOKENS.alice);
    const onServer = gatewayNamespace(host.app).sockets.get(greedy.id!)!;
    expect(onServer.connected).toBe(true);
    const raw = clientTcpSocket(greedy);
    raw.pause();
    try {
      // ~4 KB answers, and the refusals of the requests past maxRequestsInFlight in each burst: far
      // more than the limit if the server kept them all.
      for (let sent = 0; sent < 20_000 && onServer.connected; sent++) {
        greedy.emit('list', {}, () => {});
        if (sent % 250 === 249) await delay(20);
      }
      await waitFor(() => !onServer.connected, 5000, 'the server to drop the client that does not read');
    } finally {
      raw.destroy();
    }
    expect(await request(owner, 'list', {})).toMatchObject({ ok: true });
  });
  it('is disconnected when it acknowledges output it never read: flow control keeps sending, and the backlog passes the limit', async () => {
    const LIMIT = 2 * 1024 * 1024;
    const stream = { file: '/bin/sh', args: ['-c', 'exec yes 0123456789abcdefghijklmnopqrstuvwxyz'], env: CHILD_ENV };
    host = await createGatewayApp({ maxClientBacklogBytes: LIMIT, profiles: { ...PROFILES, stream } });
    const owner = await host.connect(TOKENS.alice);
    const created = await request(owner, 'create', { profile: 'stream' });
    const sessionId = created.ok ? (created.session.id as string) : '';
    const session = host.manager.getSession(sessionId)!;
    const greedy = await host.connect(TOKENS.alice);
    expect(await request(greedy, 'attach', { sessionId, binary: true })).toMatchObject({ ok: true });
    const onServer = gatewayNamespace(host.app).sockets.get(greedy.id!)!;
    const raw = clientTcpSocket(greedy);
    raw.pause();
    const rssBefore = process.memoryUsage().rss;
    let acks = 0;
    try {
      // Acknowledges what the session printed without reading any of it: without the backlog check, flow
      // control would never pause this client. Where what was sent to it ends is not known to it, so it
      // tries the output's end and points short of it (an ack beyond what was sent is refused, and harmless).
      while (onServer.connected && acks < 5000) {
        greedy.emit('ack', { sessionId, offset: Math.max(0, session.outputOffset - (acks % 4) * 256 * 1024) });
        acks++;
        await delay(5);
      }
      expect(onServer.connected).toBe(false);
      // What flow control let it have outstanding (a high mark and a batch), the limit and a buffer at most, with slack for the kernel.
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
    } finally {
      raw.destroy();
    }
    expect(session.status).toBe('running');
    expect(await request(owner, 'list', {})).toMatchObject({ ok: true });
  });
  it('is dropped however small the packets it leaves unread: the backlog is counted as they come and go, not summed at every check', async () => {
    // Summed packet by packet at every request, output and acknowledgement, the backlog check walked every
    // waiting message each time: thousands of small ones, from a client that stopped reading while its
    // sessions printed a byte at a time (or that sends small requests), held the host's event loop at 100%
    // for seconds (docs/performance.md: what one client can cost the host).
    host = await createGatewayApp({ maxClientBacklogBytes: 256 * 1024, profiles: { ...PROFILES, sleeper: SLEEPER } });
    const owner = await host.connect(TOKENS.alice);
    for (let i = 0; i < 10; i++) expect(await request(owner, 'create', { profile: 'sleeper', key: `k${i}-${'x'.repeat(250)}` })).toMatchObject({ ok: true });
    const greedy = await host.connect(TOKENS.alice);
    const onServer = gatewayNamespace(host.app).sockets.get(greedy.id!)!;
    const engine = onServer.conn as unknown as { writeBuffer: unknown[]; transport?: { socket?: { bufferedAmount?: number } } };
    // What the gateway checks is what engine.io holds, counted as packets come and go: its write buffer,
    // packet by packet, and the socket's.
    const countedRight = () => {
      expect(trackedWriteBufferBytes(onServer)).toBe(writeBufferBytes(onServer));
      expect(connectionBacklogBytes(onServer)).toBe(writeBufferBytes(onServer) + (engine.transport?.socket?.bufferedAmount ?? 0));
    };
    const raw = clientTcpSocket(greedy);
    raw.pause();
    let most = 0;
    try {
      // ~4 KB answers until the kernel holds all it takes and engine.io starts queueing.
      for (let burst = 0; engine.writeBuffer.length === 0 && burst < 2000; burst++) {
        for (let i = 0; i < 8; i++) greedy.emit('list', {}, () => {});
        await delay(2);
        countedRight();
      }
      expect(engine.writeBuffer.length).toBeGreaterThan(0);
      // Then small requests with small answers, each one checked against the limit, until it is passed.
      for (const deadline = Date.now() + 20_000; onServer.connected && Date.now() < deadline; ) {
        for (let i = 0; i < 500; i++) greedy.emit('detach', { sessionId: 'none' }, () => {});
        await delay(5);
        most = Math.max(most, engine.writeBuffer.length);
        if (onServer.connected) countedRight();
      }
      expect(onServer.connected).toBe(false);
    } finally {
      raw.destroy();
    }
    expect(most).toBeGreaterThan(1000); // the case at stake: thousands of small messages waiting
    expect(await request(owner, 'list', {})).toMatchObject({ ok: true });
  });
});

describe('a viewer paused by flow control (it reads, never acknowledges) when its session is forgotten', () => {
  it('gets the exit, and holds no closed session in memory', async () => {
    const burst = { file: '/bin/bash', args: ['-c', 'head -c 200000 /dev/zero | tr "\\0" x; exec sleep 1000'], env: CHILD_ENV };
    host = await createGatewayApp({
      profiles: { ...PROFILES, burst },
      replayBufferBytes: 64 * 1024,
      maxSessionsPerOwner: 2,
      flowControl: { highWaterMarkBytes: 16 * 1024, lowWaterMarkBytes: 8 * 1024, ackIntervalBytes: 4 * 1024 },
    });
    const socket = await host.connect(TOKENS.alice);
    const exits: string[] = [];
    socket.on('exit', (exit: { sessionId: string }) => exits.push(exit.sessionId));
    let sent = 0;
    socket.on('output', (output: { byteLength: number }) => (sent += output.byteLength)); // read, never acknowledged
    const sessions: WeakRef<object>[] = [];
    for (let i = 0; i < 4; i++) {
      const created = await request(socket, 'create', { profile: 'burst', attach: true });
      expect(created).toMatchObject({ ok: true });
      const id = created.ok ? (created.session.id as string) : '';
      sessions.push(new WeakRef(host.manager.getSession(id)!));
      // Past its high mark: the stream pauses it (and, as it is the only viewer, the program).
      const before = sent;
      await waitFor(() => sent - before >= 16 * 1024, 5000, 'output up to the high mark');
      expect(await request(socket, 'close', { sessionId: id })).toMatchObject({ ok: true });
      await waitFor(() => exits.includes(id), 5000, `the exit of closed session ${i + 1}, to the paused viewer`);
    }
    expect(host.manager.listSessions()).toEqual([]);
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc).toBeDefined(); // npm run test:jest runs node --expose-gc
    for (let i = 0; i < 3; i++) {
      gc!();
      await delay(20);
    }
    expect(sessions.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });
});
