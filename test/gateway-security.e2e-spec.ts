/**
 * Every refusal of the Socket.IO gateway, with its error code, against a real
 * Nest application with real node-pty: authentication, origins, another
 * principal's sessions, payload checks, limits, the message size limit and a
 * host's global guard. After each refusal the same test shows that the server
 * still serves a good client (create, attach, input, echo).
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  ForbiddenException,
  Injectable,
  Logger,
  Module,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import { PtySessionManager, PtySessionModule, PTY_GATEWAY_DEFAULTS, type PtyGatewayOptions, type PtyHandshake } from 'nestjs-pty-session';
import { createGatewayApp, request, TOKENS, tokenAuth, type GatewayTestApp } from './fixtures/gateway-app.js';
import { connectError, expectServing, SessionWire } from './fixtures/gateway-host.js';
import { CHILD_ENV, PROFILES } from './fixtures/pty-app.js';
import { waitFor, withTimeout } from './fixtures/processes.js';

let host: GatewayTestApp | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

/** Creates a bash session for `socket` and attaches to it; resolves once the shell answered a command. */
async function shell(socket: Socket, extra: Record<string, unknown> = {}): Promise<SessionWire> {
  const created = await request(socket, 'create', { profile: 'bash', ...extra });
  expect(created).toMatchObject({ ok: true });
  const wire = new SessionWire(socket, created.ok ? created.session.id : undefined);
  expect(await wire.attach()).toMatchObject({ ok: true });
  await echo(wire, 'ready');
  return wire;
}

let echoCount = 0;
/** Types `echo <word>-<n>` (computed by the shell, so the echo of the line does not match) and waits for its output. */
async function echo(wire: SessionWire, word: string): Promise<void> {
  const n = ++echoCount;
  expect(await request(wire.socket, 'input', { sessionId: wire.sessionId, data: `echo ${word}-$((${n}*1000+1))\r` })).toEqual({ ok: true });
  await wire.waitForText(new RegExp(`${word}-${n * 1000 + 1}`));
}

function codeOf(answer: { ok: boolean; error?: { code: string } }): string {
  return answer.ok ? 'ok' : answer.error!.code;
}

describe('connection: authentication', () => {
  it('refuses no credentials, a wrong token and a throwing or unusable hook with UNAUTHORIZED, then serves alice', async () => {
    host = await createGatewayApp({
      authenticate: (handshake: PtyHandshake) => {
        const token = (handshake.auth as { token?: unknown }).token;
        if (token === 'throws') throw new Error('secret detail of the hook');
        if (token === 'no-id') return { id: '' } as never;
        if (token === 'long-id') return { id: 'x'.repeat(257) };
        return tokenAuth(handshake);
      },
    });
    for (const token of [undefined, 'wrong-token', TOKENS.alice + 'x', 'throws', 'no-id', 'long-id']) {
      const error = await connectError(host, token);
      expect({ token, data: error.data }).toEqual({ token, data: { code: 'UNAUTHORIZED', message: expect.any(String) } });
      // The hook's own reason stays on the server.
      expect(error.message).not.toContain('secret');
      expect(error.data!.message).not.toContain('secret');
    }
    await expectServing(host, TOKENS.alice);
    await expectServing(host, TOKENS.bob);
  });

  it('refuses every connection with UNAUTHORIZED when there is no authenticate hook and no allowAnonymous', async () => {
    host = await createGatewayApp({ authenticate: undefined });
    for (const token of [undefined, TOKENS.alice]) {
      expect((await connectError(host, token)).data).toMatchObject({ code: 'UNAUTHORIZED' });
    }
    // Nobody can connect, but the application still answers HTTP.
    const response = await fetch(`${host.baseUrl}/pty-io/?EIO=4&transport=polling`);
    expect(response.status).toBe(200);
    expect((await connectError(host, TOKENS.bob)).data).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('accepts anonymous connections with allowAnonymous, all as one principal', async () => {
    host = await createGatewayApp({ authenticate: undefined, allowAnonymous: true });
    const first = await host.connect();
    const wire = await shell(first);
    const second = await host.connect('anything');
    // Same principal "anonymous": the second connection sees and may attach to the first one's session.
    const listed = await request(second, 'list', {});
    expect(listed.ok && listed.sessions.map((s: { id: string }) => s.id)).toEqual([wire.sessionId]);
    await expectServing(host);
  });
});

describe('connection: origins', () => {
  const evil = { extraHeaders: { origin: 'http://evil.example' } };

  it('refuses a foreign Origin before the upgrade, and accepts same-origin, listed and absent origins', async () => {
    host = await createGatewayApp({ allowedOrigins: ['https://trusted.example'] });
    const port = new URL(host.baseUrl).port;
    // The gateway created the Socket.IO server: allowRequest refuses the WebSocket upgrade (HTTP 400), so no `data`.
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${Number(port) + 1}`, `http://localhost:${port}`, 'https://trusted.example.evil.example']) {
      const error = await connectError(host, TOKENS.alice, { extraHeaders: { origin } });
      expect({ origin, message: error.message }).toEqual({ origin, message: 'websocket error' });
      expect(String((error.description as { message?: string })?.message)).toMatch(/400/);
    }
    // Accepted: same origin as the Host, listed ones (any case, trailing slash), and no Origin at all.
    for (const origin of [`http://127.0.0.1:${port}`, 'https://trusted.example', 'HTTPS://Trusted.Example/', undefined]) {
      const socket = await host.connect(TOKENS.alice, origin === undefined ? {} : { extraHeaders: { origin } });
      expect(socket.connected).toBe(true);
      socket.close();
    }
    // Authentication still applies to an allowed origin.
    expect((await connectError(host, 'wrong', { extraHeaders: { origin: `http://127.0.0.1:${port}` } })).data).toMatchObject({ code: 'UNAUTHORIZED' });
    await expectServing(host);
  });

  it('refuses a foreign Origin over HTTP long-polling too (allowRequest answers the handshake with 403)', async () => {
    host = await createGatewayApp();
    const error = await connectError(host, TOKENS.alice, { ...evil, transports: ['polling'] });
    expect(error.message).toBe('xhr poll error');
    expect(String((error.description as { message?: string; status?: number })?.message ?? error.description)).toMatch(/403/);
    const polling = await host.connect(TOKENS.alice, { transports: ['polling'] });
    expect(await request(polling, 'list', {})).toEqual({ ok: true, sessions: [] });
    await expectServing(host);
  });

  it('on its own path (the default), the upgrade from a foreign Origin is refused and the gateway serves on that path only', async () => {
    host = await createGatewayApp({});
    const port = new URL(host.baseUrl).port;
    const error = await connectError(host, TOKENS.alice, evil);
    expect(error.message).toBe('websocket error');
    expect(String((error.description as { message?: string })?.message)).toMatch(/400/);
    const same = await host.connect(TOKENS.alice, { extraHeaders: { origin: `http://127.0.0.1:${port}` } });
    same.close();
    // Nothing listens on the default path.
    const response = await fetch(`${host.baseUrl}/socket.io/?EIO=4&transport=polling`);
    expect(response.status).toBe(404);
    await expectServing(host);
  });

  it("leaves the host's own gateway on Socket.IO's path its settings: cross-origin, larger messages", async () => {
    @WebSocketGateway({ cors: { origin: '*' }, maxHttpBufferSize: 5_000_000 })
    class HostGateway {
      @SubscribeMessage('ping')
      ping(_socket: unknown, body: unknown) {
        return typeof body === 'string' ? body.length : 'pong';
      }
    }
    host = await createGatewayApp({}, {}, { providers: [HostGateway] });
    for (const transports of [['websocket'], ['polling']]) {
      const socket = io(host.baseUrl, { transports, reconnection: false, forceNew: true, extraHeaders: { origin: 'https://frontend.example' } });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        });
        expect(await socket.timeout(5000).emitWithAck('ping', 'x'.repeat(2_000_000))).toBe(2_000_000);
      } finally {
        socket.close();
      }
    }
    // And the library's gateway still refuses that origin.
    expect((await connectError(host, TOKENS.alice, evil)).message).toBe('websocket error');
    await expectServing(host);
  });

  it('when it shares the Socket.IO server of a host gateway (same path), the namespace middleware refuses with ORIGIN_NOT_ALLOWED', async () => {
    @WebSocketGateway({ path: '/shared-io' })
    class HostGateway {
      @SubscribeMessage('ping')
      ping() {
        return 'pong';
      }
    }
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    try {
      host = await createGatewayApp({ allowedOrigins: (origin) => origin === 'https://predicate.example' }, { path: '/shared-io' }, { providers: [HostGateway] });
      // The host's server settings win; the library says so at boot.
      expect(warn.mock.calls.map((call) => String(call[0]))).toContainEqual(expect.stringContaining('created by another gateway'));
    } finally {
      warn.mockRestore();
    }
    const error = await connectError(host, TOKENS.alice, evil);
    expect(error.data).toEqual({ code: 'ORIGIN_NOT_ALLOWED', message: expect.stringContaining('http://evil.example') });
    // The origin is checked before authentication: a wrong token from a foreign origin learns nothing more.
    expect((await connectError(host, 'wrong', evil)).data).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
    const listed = await host.connect(TOKENS.alice, { extraHeaders: { origin: 'https://predicate.example' } });
    listed.close();
    await expectServing(host);
  });
});

describe('connection: maxConnectionsPerOwner', () => {
  it("refuses a principal's connections beyond the limit with OWNER_CONNECTION_LIMIT_REACHED, others apart; a closed one frees its place", async () => {
    host = await createGatewayApp({ maxConnectionsPerOwner: 2 });
    const first = await host.connect(TOKENS.alice);
    await host.connect(TOKENS.alice);
    expect((await connectError(host, TOKENS.alice)).data).toMatchObject({ code: 'OWNER_CONNECTION_LIMIT_REACHED' });
    const bob = await host.connect(TOKENS.bob);
    expect(await request(bob, 'list', {})).toEqual({ ok: true, sessions: [] });
    first.close();
    // The server sees the close a moment later: until then the place is taken.
    let again: Awaited<ReturnType<GatewayTestApp['connect']>> | undefined;
    await waitFor(async () => (again = await host!.connect(TOKENS.alice).catch(() => undefined)) !== undefined, 5000, 'a place to be free again');
    expect(again!.connected).toBe(true);
  });
});

describe('connection: DNS rebinding', () => {
  it('without authentication, a page under a foreign name resolved to this server is refused; loopback names and allowedHosts pass', async () => {
    host = await createGatewayApp({ authenticate: undefined, allowAnonymous: true });
    const port = new URL(host.baseUrl).port;
    // The rebinding page: its Origin and the Host it sends are both its own name.
    const rebound = { extraHeaders: { origin: `http://evil.example:${port}`, host: `evil.example:${port}` } };
    const error = await connectError(host, undefined, rebound);
    expect(error.message).toBe('websocket error'); // refused by allowRequest before the upgrade
    const local = await host.connect(undefined, { extraHeaders: { origin: `http://localhost:${port}`, host: `localhost:${port}` } });
    expect(await request(local, 'list', {})).toEqual({ ok: true, sessions: [] });
    local.close();
    await host.close();

    host = await createGatewayApp({ authenticate: undefined, allowAnonymous: true, allowedHosts: ['term.example'] });
    const named = await host.connect(undefined, { extraHeaders: { host: `term.example:${new URL(host.baseUrl).port}` } });
    expect(named.connected).toBe(true);
    named.close();
    expect((await connectError(host, undefined, {})).message).toBe('websocket error'); // 127.0.0.1 is not listed
  });
});

describe("another principal's sessions", () => {
  it('are answered exactly like sessions that do not exist, and are left alone', async () => {
    host = await createGatewayApp();
    const alice = await host.connect(TOKENS.alice);
    const wire = await shell(alice, { key: 'alice-key' });
    const aliceId = wire.sessionId!;
    const bob = await host.connect(TOKENS.bob);
    const unknownId = randomUUID();

    /** Bob's answer for alice's session and for an unknown one: same code, same message but for the id. */
    const compare = async (event: string, payload: (id: string) => Record<string, unknown>, expectedCode: string) => {
      const forAlice = await request(bob, event, payload(aliceId));
      const forUnknown = await request(bob, event, payload(unknownId));
      expect({ event, code: codeOf(forAlice) }).toEqual({ event, code: expectedCode });
      expect({ event, code: codeOf(forUnknown) }).toEqual({ event, code: expectedCode });
      if (!forAlice.ok && !forUnknown.ok) expect(forAlice.error.message.replace(aliceId, '<id>')).toBe(forUnknown.error.message.replace(unknownId, '<id>'));
    };
    await compare('attach', (id) => ({ sessionId: id }), 'SESSION_NOT_FOUND');
    await compare('attach', (id) => ({ sessionId: id, since: 0, cols: 100, rows: 30 }), 'SESSION_NOT_FOUND');
    // An offset past the end is not an oracle either: ownership is checked first.
    await compare('attach', (id) => ({ sessionId: id, since: 10 ** 9 }), 'SESSION_NOT_FOUND');
    await compare('input', (id) => ({ sessionId: id, data: 'echo pwned-$((1+1))\r' }), 'NOT_ATTACHED');
    await compare('resize', (id) => ({ sessionId: id, cols: 20, rows: 5 }), 'NOT_ATTACHED');
    await compare('ack', (id) => ({ sessionId: id, offset: 0 }), 'NOT_ATTACHED');
    await compare('close', (id) => ({ sessionId: id }), 'SESSION_NOT_FOUND');
    await compare('detach', (id) => ({ sessionId: id }), 'ok');

    // By key: alice's key is unknown to bob, exactly like a random key.
    const byKey = await request(bob, 'attach', { key: 'alice-key' });
    const byRandomKey = await request(bob, 'attach', { key: 'no-such-key' });
    expect(codeOf(byKey)).toBe('SESSION_NOT_FOUND');
    expect(codeOf(byRandomKey)).toBe('SESSION_NOT_FOUND');
    if (!byKey.ok && !byRandomKey.ok) expect(byKey.error.message.replace('alice-key', '<key>')).toBe(byRandomKey.error.message.replace('no-such-key', '<key>'));

    // Bob's list does not show it; alice's does, without owner or pid.
    expect(await request(bob, 'list', {})).toEqual({ ok: true, sessions: [] });
    const aliceList = await request(alice, 'list', {});
    expect(aliceList.ok && aliceList.sessions.map((s: { id: string }) => s.id)).toEqual([aliceId]);
    expect(aliceList.ok && aliceList.sessions[0]).not.toHaveProperty('owner');
    expect(aliceList.ok && aliceList.sessions[0]).not.toHaveProperty('pid');

    // create with alice's key (documented: KEY_IN_USE) never hands bob alice's session.
    const squat = await request(bob, 'create', { key: 'alice-key', profile: 'bash' });
    expect(codeOf(squat)).toBe('KEY_IN_USE');

    // Nothing of bob's reached the session: still running, same size, alice still attached and served.
    const session = host.manager.getSession(aliceId)!;
    expect(session.status).toBe('running');
    expect([session.cols, session.rows]).toEqual([80, 24]);
    expect(session.attachedClients).toBe(1);
    await echo(wire, 'still-alice');
    expect(wire.text).not.toMatch(/pwned-2/);
    await expectServing(host, TOKENS.bob);
  });
});

describe('refused requests', () => {
  it('unknown profile: PROFILE_NOT_FOUND', async () => {
    host = await createGatewayApp();
    const socket = await host.connect(TOKENS.alice);
    for (const profile of ['nope', '__proto__', 'constructor', 'toString', 'BASH']) {
      expect({ profile, code: codeOf(await request(socket, 'create', { profile })) }).toEqual({ profile, code: 'PROFILE_NOT_FOUND' });
    }
    expect(host.manager.listSessions()).toEqual([]);
    await expectServing(host);
  });

  it("a start that fails tells the client no server detail: not the profiles, the program's path, or a factory's error", async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    try {
      host = await createGatewayApp({
        profiles: {
          ...PROFILES,
          'billing-db-console': { file: '/opt/internal/billing/bin/psql-wrapper', env: CHILD_ENV },
          factory: () => {
            throw new Error('connect ECONNREFUSED postgres://app:S3cr3t@10.0.0.5/prod');
          },
        },
      });
      const socket = await host.connect(TOKENS.alice);
      const answers = [];
      for (const profile of ['nope', 'billing-db-console', 'factory']) answers.push(await request(socket, 'create', { profile }));
      expect(answers.map(codeOf)).toEqual(['PROFILE_NOT_FOUND', 'SPAWN_FAILED', 'SPAWN_FAILED']);
      const told = JSON.stringify(answers);
      for (const secret of ['billing', 'psql-wrapper', '/opt/internal', 'S3cr3t', '10.0.0.5', 'bash']) expect(told).not.toContain(secret);
      // The server's log has the reasons.
      const logged = warn.mock.calls.map((call) => String(call[0])).join('\n');
      expect(logged).toContain('/opt/internal/billing/bin/psql-wrapper');
      expect(logged).toContain('ECONNREFUSED');
    } finally {
      warn.mockRestore();
    }
    await expectServing(host);
  });

  it('oversized input, counted in UTF-8 bytes: INPUT_TOO_LARGE, nothing written, and the session still works', async () => {
    host = await createGatewayApp({ maxInputBytes: 100 });
    const socket = await host.connect(TOKENS.alice);
    const wire = await shell(socket);
    const tooLarge = [
      'a'.repeat(101),
      `echo leaked-$((1+1))\r${'#'.repeat(90)}`, // a command, padded over the limit: must not run
      'é'.repeat(51), // 51 UTF-16 units, 102 bytes
      '€'.repeat(34), // 34 units, 102 bytes
      '😀'.repeat(26), // 52 units, 104 bytes
      'x'.repeat(300_000),
    ];
    for (const data of tooLarge) {
      const answer = await request(socket, 'input', { sessionId: wire.sessionId, data });
      expect({ length: data.length, code: codeOf(answer) }).toEqual({ length: data.length, code: 'INPUT_TOO_LARGE' });
    }
    // Exactly the limit is accepted (50 × 2 bytes), as is an empty string.
    expect(await request(socket, 'input', { sessionId: wire.sessionId, data: 'é'.repeat(50) })).toEqual({ ok: true });
    expect(await request(socket, 'input', { sessionId: wire.sessionId, data: '' })).toEqual({ ok: true });
    expect(await request(socket, 'input', { sessionId: wire.sessionId, data: '\x15' })).toEqual({ ok: true }); // Ctrl-U: drop the line
    await echo(wire, 'after-large');
    expect(wire.text).not.toMatch(/leaked-2/);
    await expectServing(host);
  });

  it('sizes out of range: INVALID_SIZE for resize, attach and create; the size is unchanged', async () => {
    host = await createGatewayApp({ maxCols: 500, maxRows: 200 });
    const socket = await host.connect(TOKENS.alice);
    const wire = await shell(socket);
    for (const [cols, rows] of [[0, 24], [80, 0], [100_000, 24], [80, 100_000], [-1, 24], [501, 24], [80, 201]]) {
      const answer = await request(socket, 'resize', { sessionId: wire.sessionId, cols, rows });
      expect({ cols, rows, code: codeOf(answer) }).toEqual({ cols, rows, code: 'INVALID_SIZE' });
    }
    expect(await request(socket, 'resize', { sessionId: wire.sessionId, cols: 500, rows: 200 })).toMatchObject({ ok: true, cols: 500, rows: 200 });
    for (const [cols, rows] of [[0, 24], [100_000, 24], [80, 0]]) {
      expect(codeOf(await request(socket, 'create', { profile: 'bash', cols, rows }))).toBe('INVALID_SIZE');
    }
    // A failed attach leaves the connection as it was (here: attached, so input still works).
    const other = await host.connect(TOKENS.alice);
    expect(codeOf(await request(other, 'attach', { sessionId: wire.sessionId, cols: 0, rows: 24 }))).toBe('INVALID_SIZE');
    expect(codeOf(await request(other, 'input', { sessionId: wire.sessionId, data: 'x' }))).toBe('NOT_ATTACHED');
    const session = host.manager.getSession(wire.sessionId!)!;
    expect([session.cols, session.rows, session.attachedClients]).toEqual([500, 200, 1]);
    expect(host.manager.listSessions()).toHaveLength(1);
    await echo(wire, 'sized');
    await expectServing(host);
  });

  it('input, resize and ack without attach: NOT_ATTACHED (own session, after detach, unknown id)', async () => {
    host = await createGatewayApp();
    const socket = await host.connect(TOKENS.alice);
    const created = await request(socket, 'create', { profile: 'bash' });
    const id = created.ok ? created.session.id : '';
    const requests = (sessionId: string) =>
      [
        ['input', { sessionId, data: 'echo x\r' }],
        ['resize', { sessionId, cols: 100, rows: 30 }],
        ['ack', { sessionId, offset: 0 }],
      ] as const;
    for (const sessionId of [id, randomUUID(), 'not-a-uuid']) {
      for (const [event, payload] of requests(sessionId)) {
        expect({ event, sessionId, code: codeOf(await request(socket, event, payload)) }).toEqual({ event, sessionId, code: 'NOT_ATTACHED' });
      }
    }
    const wire = new SessionWire(socket, id);
    expect(await wire.attach()).toMatchObject({ ok: true });
    expect(await request(socket, 'detach', { sessionId: id })).toEqual({ ok: true });
    for (const [event, payload] of requests(id)) {
      expect({ event, code: codeOf(await request(socket, event, payload)) }).toEqual({ event, code: 'NOT_ATTACHED' });
    }
    expect(host.manager.getSession(id)!.attachedClients).toBe(0);
    await expectServing(host);
  });

  it('limits: OWNER_SESSION_LIMIT_REACHED, SESSION_LIMIT_REACHED and CLIENT_LIMIT_REACHED', async () => {
    host = await createGatewayApp({
      maxSessionsPerOwner: 2,
      maxSessions: 3,
      maxClientsPerSession: 2,
      profiles: { ...PROFILES, sleep: { file: '/bin/sleep', args: ['1000'], env: CHILD_ENV } },
    });
    const alice = await host.connect(TOKENS.alice);
    const bob = await host.connect(TOKENS.bob);
    const a1 = await request(alice, 'create', { profile: 'sleep' });
    const a2 = await request(alice, 'create', { profile: 'sleep' });
    expect([a1.ok, a2.ok]).toEqual([true, true]);
    expect(codeOf(await request(alice, 'create', { profile: 'sleep' }))).toBe('OWNER_SESSION_LIMIT_REACHED');
    expect(codeOf(await request(bob, 'create', { profile: 'sleep' }))).toBe('ok');
    expect(codeOf(await request(bob, 'create', { profile: 'sleep' }))).toBe('SESSION_LIMIT_REACHED');
    expect(host.manager.listSessions()).toHaveLength(3);

    // Clients per session: a third connection is refused; attaching again from the same one is not counted.
    const id = a1.ok ? a1.session.id : '';
    const [c1, c2, c3] = await Promise.all([host.connect(TOKENS.alice), host.connect(TOKENS.alice), host.connect(TOKENS.alice)]);
    expect(codeOf(await request(c1, 'attach', { sessionId: id }))).toBe('ok');
    expect(codeOf(await request(c2, 'attach', { sessionId: id }))).toBe('ok');
    expect(codeOf(await request(c3, 'attach', { sessionId: id }))).toBe('CLIENT_LIMIT_REACHED');
    expect(codeOf(await request(c1, 'attach', { sessionId: id }))).toBe('ok');
    expect(host.manager.getSession(id)!.attachedClients).toBe(2);
    expect(await request(c2, 'detach', { sessionId: id })).toEqual({ ok: true });
    expect(codeOf(await request(c3, 'attach', { sessionId: id }))).toBe('ok');

    // Closing frees a slot for everyone.
    expect(codeOf(await request(alice, 'close', { sessionId: a2.ok ? a2.session.id : '' }))).toBe('ok');
    expect(codeOf(await request(alice, 'close', { sessionId: id }))).toBe('ok');
    await expectServing(host, TOKENS.bob);
    await expectServing(host, TOKENS.alice);
  });
});

describe('malformed payloads', () => {
  const huge = 'x'.repeat(300_000);

  /** [payload, or NO_PAYLOAD for an emit with only the acknowledgement] */
  const NO_PAYLOAD = Symbol('no payload');
  const EXTRA_ARGS = Symbol('two payloads');
  type Case = unknown;
  const notObjects: Case[] = ['a string', 42, true, [], [{ sessionId: 'x' }], null, NO_PAYLOAD, EXTRA_ARGS];

  /** Per event: wrong types, missing fields, huge strings (`id` is a real session of the caller). */
  const fieldCases = (id: string): Record<string, Case[]> => ({
    create: [
      { profile: 5 }, { profile: '' }, { profile: huge }, { profile: ['bash'] },
      { key: 5 }, { key: '' }, { key: huge }, { key: 'k'.repeat(257) }, { key: { a: 1 } },
      { cols: 80 }, { rows: 24 }, { cols: '80', rows: 24 }, { cols: 80.5, rows: 24 }, { cols: 1e300, rows: 24 }, { cols: null, rows: 24 },
    ],
    attach: [
      {}, { sessionId: id, key: 'k' }, { sessionId: 5 }, { sessionId: '' }, { sessionId: huge }, { key: huge }, { key: 7 },
      { sessionId: id, since: -1 }, { sessionId: id, since: '0' }, { sessionId: id, since: 1.5 }, { sessionId: id, since: null },
      { sessionId: id, cols: 80 }, { sessionId: id, cols: 'x', rows: 24 },
    ],
    input: [
      { sessionId: id }, { data: 'x' }, { sessionId: id, data: 5 }, { sessionId: id, data: null }, { sessionId: id, data: { a: 1 } },
      { sessionId: id, data: ['x'] }, { sessionId: huge, data: 'x' }, { sessionId: 5, data: 'x' }, { sessionId: id, data: Buffer.from('echo binary\r') },
    ],
    resize: [
      { sessionId: id }, { sessionId: id, cols: 80 }, { sessionId: id, cols: '80', rows: '24' }, { sessionId: id, cols: 80.5, rows: 24 },
      { cols: 80, rows: 24 }, { sessionId: huge, cols: 80, rows: 24 }, { sessionId: [id], cols: 80, rows: 24 },
    ],
    ack: [
      { sessionId: id }, { offset: 0 }, { sessionId: id, offset: -1 }, { sessionId: id, offset: '0' }, { sessionId: id, offset: 1.5 },
      { sessionId: id, offset: 2 ** 60 }, { sessionId: huge, offset: 0 }, { sessionId: null, offset: 0 },
    ],
    detach: [{}, { sessionId: 5 }, { sessionId: '' }, { sessionId: huge }, { sessionId: { id } }],
    close: [{}, { sessionId: 5 }, { sessionId: '' }, { sessionId: huge }, { sessionId: [id] }],
    list: ['a string', 42, true, [], [{}]],
  });

  function send(socket: Socket, event: string, payload: Case) {
    const client = socket.timeout(3000);
    if (payload === NO_PAYLOAD) return client.emitWithAck(event);
    if (payload === EXTRA_ARGS) return client.emitWithAck(event, { sessionId: 'a' }, { sessionId: 'b' });
    return client.emitWithAck(event, payload);
  }

  function describeCase(payload: Case): string {
    if (typeof payload === 'symbol') return payload.description!;
    const text = Buffer.isBuffer(payload) ? '<Buffer>' : JSON.stringify(payload);
    return text.length > 80 ? `${text.slice(0, 60)}…(${text.length} chars)` : text;
  }

  it('of every event are answered with INVALID_ARGUMENT, and the connection and the server keep working', async () => {
    host = await createGatewayApp();
    const socket = await host.connect(TOKENS.alice);
    const wire = await shell(socket);
    const events = ['create', 'attach', 'input', 'resize', 'ack', 'detach', 'close', 'list'];
    const cases: Array<[string, Case]> = [];
    for (const event of events) {
      // `list` takes nothing: null and no payload at all are fine for it.
      for (const payload of notObjects) if (!(event === 'list' && (payload === null || payload === NO_PAYLOAD))) cases.push([event, payload]);
    }
    for (const [event, payloads] of Object.entries(fieldCases(wire.sessionId!))) for (const payload of payloads) cases.push([event, payload]);

    // All at once: every one must be answered (a missing answer rejects after 3 s).
    const answers = await Promise.all(cases.map(([event, payload]) => send(socket, event, payload).then(codeOf, (e: Error) => `no answer: ${e.message}`)));
    const results = cases.map(([event, payload], i) => `${event} ${describeCase(payload)} -> ${answers[i]}`);
    expect(results).toEqual(cases.map(([event, payload]) => `${event} ${describeCase(payload)} -> INVALID_ARGUMENT`));

    // Valid edge cases of `list`.
    for (const payload of [null, NO_PAYLOAD, {}, { junk: 1 }]) {
      const answer = await send(socket, 'list', payload);
      expect({ payload: describeCase(payload), answer }).toEqual({ payload: describeCase(payload), answer: { ok: true, sessions: [expect.objectContaining({ id: wire.sessionId })] } });
    }
    // Nothing was created, closed or detached by the barrage, and the same connection still works.
    expect(host.manager.listSessions().map((s) => s.id)).toEqual([wire.sessionId]);
    expect(host.manager.getSession(wire.sessionId!)!.attachedClients).toBe(1);
    expect(socket.connected).toBe(true);
    await echo(wire, 'after-barrage');
    expect(wire.text).not.toMatch(/binary/);
    await expectServing(host);
  });

  it('a message larger than maxHttpBufferSize closes that connection only', async () => {
    host = await createGatewayApp({}, { maxHttpBufferSize: 20_000 });
    const bystander = await host.connect(TOKENS.alice);
    const bystanderWire = await shell(bystander);
    const offender = await host.connect(TOKENS.alice);
    const offenderWire = await shell(offender);
    const disconnected = new Promise<string>((resolve) => offender.once('disconnect', resolve));
    offender.emit('input', { sessionId: offenderWire.sessionId, data: 'x'.repeat(30_000) }, () => {});
    expect(await withTimeout(disconnected, 5000, () => 'the oversized message to close the connection')).toMatch(/transport (close|error)/);
    expect(offender.connected).toBe(false);
    // Its session lives on, detached; the other connection is untouched.
    await waitFor(() => host!.manager.getSession(offenderWire.sessionId!)!.attachedClients === 0, 5000, 'the offender to be detached');
    expect(host.manager.getSession(offenderWire.sessionId!)!.status).toBe('running');
    expect(bystander.connected).toBe(true);
    await echo(bystanderWire, 'bystander');
    // Just under the limit is fine.
    expect(await request(bystander, 'input', { sessionId: bystanderWire.sessionId, data: '#'.repeat(19_000) })).toEqual({ ok: true });
    expect(await request(bystander, 'input', { sessionId: bystanderWire.sessionId, data: '\x15' })).toEqual({ ok: true });
    await echo(bystanderWire, 'bystander-again');
    await expectServing(host);
  });
});

describe("a host's global guard", () => {
  /** Decides by the client's `auth.guard`: allow (none), deny (false), or throw a given exception. */
  @Injectable()
  class HostGuard implements CanActivate {
    canActivate(context: ExecutionContext): boolean {
      if (context.getType() !== 'ws') return true;
      const mode = (context.switchToWs().getClient<{ handshake: { auth: { guard?: string } } }>().handshake.auth.guard) ?? 'allow';
      switch (mode) {
        case 'deny':
          return false;
        case 'forbidden':
          throw new ForbiddenException('no terminals for you');
        case 'unauthorized':
          throw new UnauthorizedException('log in again');
        case 'ws':
          throw new WsException('refused by the host');
        case 'error':
          throw new Error('guard bug');
        default:
          return true;
      }
    }
  }

  // Nest 11's WebSocket module builds its guard, pipe and interceptor contexts without the
  // application's config: app-wide enhancers never see gateway messages there (Nest 12 applies them).
  const websocketsMajor = Number(
    JSON.parse(readFileSync(new URL('../node_modules/@nestjs/websockets/package.json', import.meta.url), 'utf8')).version.split('.')[0],
  );

  it('that refuses a message is answered FORBIDDEN (or its own code) through the acknowledgement on Nest 12, and is not consulted on Nest 11 (on Nest 12, not for `ack` either)', async () => {
    if (websocketsMajor === 11) {
      host = await createGatewayApp({}, {}, { providers: [{ provide: APP_GUARD, useClass: HostGuard }] });
      const notGuarded = await host.connect(TOKENS.alice, { auth: { token: TOKENS.alice, guard: 'deny' } });
      expect(await request(notGuarded, 'create', { profile: 'bash' })).toMatchObject({ ok: true, created: true });
      expect(await request(notGuarded, 'list', {})).toMatchObject({ ok: true });
      await expectServing(host);
      return;
    }
    host = await createGatewayApp({}, {}, { providers: [{ provide: APP_GUARD, useClass: HostGuard }] });
    const alice = await host.connect(TOKENS.alice);
    const wire = await shell(alice);
    const expected: Record<string, { code: string; message?: string }> = {
      deny: { code: 'FORBIDDEN' },
      forbidden: { code: 'FORBIDDEN', message: 'no terminals for you' },
      unauthorized: { code: 'UNAUTHORIZED' },
      ws: { code: 'FORBIDDEN', message: 'refused by the host' },
      error: { code: 'INTERNAL_ERROR' },
    };
    for (const [mode, error] of Object.entries(expected)) {
      const refused = await host.connect(TOKENS.alice, { auth: { token: TOKENS.alice, guard: mode } });
      for (const [event, payload] of [
        ['create', { profile: 'bash' }],
        ['attach', { sessionId: wire.sessionId }],
        ['input', { sessionId: wire.sessionId, data: 'echo guarded-$((2+2))\r' }],
        ['resize', { sessionId: wire.sessionId, cols: 10, rows: 5 }],
        ['detach', { sessionId: wire.sessionId }],
        ['close', { sessionId: wire.sessionId }],
        ['list', {}],
      ] as const) {
        const answer = await request(refused, event, payload, 3000);
        expect({ mode, event, answer }).toEqual({ mode, event, answer: { ok: false, error: { code: error.code, message: error.message ?? expect.any(String) } } });
      }
      // `ack` skips Nest's pipeline (flow control, sent by every client of a busy session): no guard sees it,
      // and it paces only output the connection attached to, which the guard refused.
      expect(await request(refused, 'ack', { sessionId: wire.sessionId, offset: 0 }, 3000)).toMatchObject({ ok: false, error: { code: 'NOT_ATTACHED' } });
      refused.close();
    }
    // Nothing the refused clients sent took effect.
    expect(host.manager.listSessions().map((s) => s.id)).toEqual([wire.sessionId]);
    const session = host.manager.getSession(wire.sessionId!)!;
    expect([session.status, session.cols, session.attachedClients]).toEqual(['running', 80, 1]);
    await echo(wire, 'guarded-alice');
    expect(wire.text).not.toMatch(/guarded-4/);
    await expectServing(host);
  });
});

describe('configuration', () => {
  @Injectable()
  class AuthService {
    /** A host's own user lookup, async like a database call. */
    async verify(token: unknown): Promise<{ id: string } | null> {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return token === 'hosted-token' ? { id: 'hosted-user' } : null;
    }
  }
  @Module({ providers: [AuthService], exports: [AuthService] })
  class AuthModule {}

  async function start(gateway: PtyGatewayOptions | false) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        PtySessionModule.forRootAsync({
          imports: [AuthModule],
          inject: [AuthService],
          useFactory: (auth: AuthService) => ({
            profiles: PROFILES,
            defaultProfile: 'bash',
            authenticate: (handshake) => auth.verify((handshake.auth as { token?: unknown }).token),
          }),
          gateway,
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    return { app, baseUrl: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
  }

  function connect(url: string, token: string) {
    const socket = io(url, { path: PTY_GATEWAY_DEFAULTS.path, transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
    return new Promise<{ socket: Socket; error?: Error & { data?: { code: string } } }>((resolve) => {
      socket.once('connect', () => resolve({ socket }));
      socket.once('connect_error', (error) => resolve({ socket, error }));
    });
  }

  it('forRootAsync: authenticate from an injected service, on the namespace the extras choose', async () => {
    const { app, baseUrl } = await start({ namespace: '/terminals' });
    const opened: Socket[] = [];
    try {
      const good = await connect(`${baseUrl}/terminals`, 'hosted-token');
      opened.push(good.socket);
      expect(good.error).toBeUndefined();
      const created = await request(good.socket, 'create', { profile: 'exit3' });
      expect(created).toMatchObject({ ok: true, created: true });
      const bad = await connect(`${baseUrl}/terminals`, 'wrong');
      opened.push(bad.socket);
      expect(bad.error?.data?.code).toBe('UNAUTHORIZED');
      // Nothing is served on the default namespace.
      const elsewhere = await connect(`${baseUrl}/pty`, 'hosted-token');
      opened.push(elsewhere.socket);
      expect(elsewhere.error?.message).toMatch(/Invalid namespace/);
    } finally {
      for (const socket of opened) socket.close();
      await app.close();
    }
  });

  it('refuses to boot with the gateway mounted twice on one namespace (the module imported twice), which would spawn twice per create', async () => {
    // Options that differ (Nest merges two imports of identical dynamic modules into one).
    @Module({ imports: [PtySessionModule.forRoot({ profiles: PROFILES, defaultProfile: 'bash', maxSessions: 5, allowAnonymous: true })] })
    class FeatureA {}
    @Module({ imports: [PtySessionModule.forRoot({ profiles: PROFILES, defaultProfile: 'bash', maxSessions: 6, allowAnonymous: true })] })
    class FeatureB {}
    const moduleRef = await Test.createTestingModule({ imports: [FeatureA, FeatureB] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await expect(app.listen(0, '127.0.0.1')).rejects.toThrow(/mounted twice on the Socket.IO namespace "\/pty"/);
    } finally {
      await app.close();
    }
  });

  it("warns at boot of profiles that run as the server's own user, naming them; not of those with a uid", async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    try {
      host = await createGatewayApp({ profiles: { bash: PROFILES.bash, asNobody: { ...PROFILES.bash, uid: 65534, gid: 65534 } } });
      const warnings = warn.mock.calls.map((call) => String(call[0])).filter((text) => text.includes("server's own user"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('Profile "bash" run');
      expect(warnings[0]).not.toContain('asNobody');
    } finally {
      warn.mockRestore();
    }
  });

  it('gateway: false mounts no gateway (the manager only)', async () => {
    const { app, baseUrl } = await start(false);
    try {
      for (const path of ['/pty-io', '/socket.io']) expect((await fetch(`${baseUrl}${path}/?EIO=4&transport=polling`)).status).toBe(404);
      expect(app.get(PtySessionManager)).toBeInstanceOf(PtySessionManager);
    } finally {
      await app.close();
    }
  });
});
