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
import type { PtySpawnProfile } from 'nestjs-pty-session';
import { createGatewayApp, request, TOKENS, type GatewayTestApp } from './fixtures/gateway-app.js';
import { CHILD_ENV, PROFILES } from './fixtures/pty-app.js';
import { waitFor } from './fixtures/processes.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  it('is disconnected once its unread backlog passes maxClientBacklogBytes, however it asks for data', async () => {
    const seq = { file: '/bin/bash', args: ['-c', 'seq 1 200000; exec sleep 1000'], env: CHILD_ENV };
    host = await createGatewayApp({ profiles: { ...PROFILES, seq }, maxClientBacklogBytes: 4 * 1024 * 1024 });
    const owner = await host.connect(TOKENS.alice);
    const created = await request(owner, 'create', { profile: 'seq' });
    const sessionId = created.ok ? (created.session.id as string) : '';
    // A running session whose replay buffer is full: every attach answer carries 256 KiB.
    const total = Buffer.byteLength(Array.from({ length: 200000 }, (_, i) => String(i + 1)).join('\r\n') + '\r\n');
    await waitFor(() => host!.manager.getSession(sessionId)?.outputOffset === total, 10_000, 'seq to finish');

    const greedy = await host.connect(TOKENS.alice);
    // Stop reading: the answers pile up in the kernel, then in the server.
    const raw = (greedy.io.engine.transport as unknown as { ws: { _socket: { pause(): void; destroy(): void } } }).ws._socket;
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
          dropped = (host.manager.getSession(sessionId)?.attachedClients ?? 0) === 0;
        }
      }
      await waitFor(() => host!.manager.getSession(sessionId)?.attachedClients === 0, 10_000, 'the greedy client to be dropped');
      expect(sent).toBeLessThan(1000);
      expect(host.manager.getSession(sessionId)?.status).toBe('running');
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150 * 1024 * 1024);
    } finally {
      raw.destroy(); // it would never read the server's close frame
    }
    // Everyone else is still served.
    expect(await request(owner, 'attach', { sessionId })).toMatchObject({ ok: true });
  });
});
