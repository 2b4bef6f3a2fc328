/**
 * `binary: true` on attach and create: the same output, offsets and replay
 * as UTF-8 bytes (Socket.IO binary attachments) instead of strings, per
 * attachment, next to a client that takes strings; with `smallAsText`,
 * outputs under `outputBatching.busyBytes` as strings.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { PTY_SESSION_DEFAULTS } from 'nestjs-pty-session';
import type { Socket } from 'socket.io-client';
import { createGatewayApp, request, TOKENS, type GatewayTestApp } from './fixtures/gateway-app.js';

let host: GatewayTestApp | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

interface Received {
  chunks: { offset: number; byteLength: number; data: unknown }[];
  text(): string;
}

/** Every `output` event of a session on this socket, live, in arrival order. */
function collect(socket: Socket, sessionId: string): Received {
  const chunks: Received['chunks'] = [];
  socket.on('output', (o: { sessionId: string; offset: number; byteLength: number; data: unknown }) => {
    if (o.sessionId === sessionId) chunks.push(o);
  });
  const decode = (data: unknown) => (typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('utf8'));
  return { chunks, text: () => chunks.map((c) => decode(c.data)).join('') };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// 2-, 3- and 4-byte characters, printed by the shell from octal escapes (no locale involved).
const LINE = '\\303\\251\\342\\234\\223\\360\\237\\230\\200 line %d\\n';
const LINES = 3000;

describe('binary output', () => {
  it('sends the replay and every output as UTF-8 bytes to a client that asked, strings to one that did not', async () => {
    host = await createGatewayApp();
    const bytesClient = await host.connect(TOKENS.alice);
    const textClient = await host.connect(TOKENS.alice);
    const created = await request(textClient, 'create', { profile: 'bash' });
    expect(created.ok).toBe(true);
    const sessionId = (created as any).session.id as string;

    const binary = collect(bytesClient, sessionId);
    const text = collect(textClient, sessionId);
    const a1 = await request(bytesClient, 'attach', { sessionId, since: 0, binary: true });
    const a2 = await request(textClient, 'attach', { sessionId, since: 0 });
    expect(a1.ok && a2.ok).toBe(true);
    const replayBytes = (a1 as any).replay;
    const replayText = (a2 as any).replay;
    expect(Buffer.isBuffer(replayBytes.data)).toBe(true);
    expect(typeof replayText.data).toBe('string');

    await request(textClient, 'input', { sessionId, data: `printf '${LINE}' $(seq 1 ${LINES}); echo DONE-$((6*7))\r` });
    await until(() => text.text().includes('DONE-42') && binary.text().includes('DONE-42'), 'the end marker on both clients');

    // Bytes: every live chunk is a Buffer of exactly byteLength bytes, contiguous from the replay's end.
    let next = replayBytes.offset + replayBytes.byteLength;
    for (const chunk of binary.chunks) {
      expect(Buffer.isBuffer(chunk.data)).toBe(true);
      expect((chunk.data as Buffer).length).toBe(chunk.byteLength);
      expect(chunk.offset).toBe(next);
      next += chunk.byteLength;
    }
    // Same output either way, whole characters in every message.
    expect(text.chunks.every((c) => typeof c.data === 'string')).toBe(true);
    // (Both attached from 0; the prompt may have come in one's replay and in the other's live output.)
    const all = replayText.data + text.text();
    expect(replayBytes.data.toString('utf8') + binary.text()).toBe(all);
    expect(all).not.toContain('\ufffd');
    expect(all).toContain(`é✓😀 line ${LINES}\r\n`);

    // A late attach from 0 asks for bytes: the replay holds everything, as bytes.
    const late = await host.connect(TOKENS.alice);
    const a3 = await request(late, 'attach', { sessionId, since: 0, binary: true });
    const replay = (a3 as any).replay;
    expect(Buffer.isBuffer(replay.data)).toBe(true);
    expect(replay.data.toString('utf8')).toBe(all);
  });

  it('answers create with attach and binary with the replay as bytes, and the exit after it', async () => {
    host = await createGatewayApp();
    const socket = await host.connect(TOKENS.alice);
    const exited = new Promise((resolve) => socket.once('exit', resolve));
    const live: unknown[] = [];
    socket.on('output', (o: { data: unknown }) => live.push(o.data));
    const created = await request(socket, 'create', { profile: 'exit3', attach: true, binary: true });
    expect(created.ok).toBe(true);
    await exited;
    const replay = (created as any).replay;
    expect(Buffer.isBuffer(replay.data)).toBe(true);
    expect(live.every((data) => Buffer.isBuffer(data))).toBe(true);
    expect(Buffer.concat([replay.data, ...(live as Buffer[])]).toString('utf8')).toContain('bye');
  });

  it('with smallAsText, sends outputs under busyBytes as strings and the rest as bytes, to that attachment only', async () => {
    host = await createGatewayApp();
    const mixedClient = await host.connect(TOKENS.alice);
    const mixedAttachClient = await host.connect(TOKENS.alice);
    const bytesClient = await host.connect(TOKENS.alice);
    const textClient = await host.connect(TOKENS.alice);
    const created = await request(mixedClient, 'create', { profile: 'bash', attach: true, binary: true, smallAsText: true });
    expect(created.ok).toBe(true);
    const sessionId = (created as any).session.id as string;
    expect(Buffer.isBuffer((created as any).replay.data)).toBe(true); // the replay is bytes in either form
    const mixed = collect(mixedClient, sessionId);
    const mixedAttach = collect(mixedAttachClient, sessionId);
    const bytes = collect(bytesClient, sessionId);
    const text = collect(textClient, sessionId);
    const from = (created as any).replay.offset + (created as any).replay.byteLength;
    // Output between the create and these attaches (the prompt) is in their replays.
    const bytesReplay = (await request(bytesClient, 'attach', { sessionId, since: from, binary: true })) as any;
    const textReplay = (await request(textClient, 'attach', { sessionId, since: from })) as any;
    const mixedReplay = (await request(mixedAttachClient, 'attach', { sessionId, since: from, binary: true, smallAsText: true })) as any;
    expect(bytesReplay.ok && textReplay.ok && mixedReplay.ok).toBe(true);
    expect(Buffer.isBuffer(mixedReplay.replay.data)).toBe(true);

    // Keystrokes one by one (small echoes), then a burst (large batches).
    const keys = 'echo tiny'; // no key twice in a row: each wait sees its own echo
    for (const key of keys) {
      await request(mixedClient, 'input', { sessionId, data: key });
      await until(() => mixed.text().endsWith(key), `the echo of ${key}`);
    }
    await request(mixedClient, 'input', { sessionId, data: `\r printf '${LINE}' $(seq 1 ${LINES}); echo DONE-$((6*7))\r` });
    const done = (r: Received) => r.text().includes('DONE-42\r\n');
    await until(() => done(mixed) && done(mixedAttach) && done(bytes) && done(text), 'the end marker on every client');

    const busyBytes = PTY_SESSION_DEFAULTS.outputBatching.busyBytes;
    const small = mixed.chunks.filter((c) => c.byteLength < busyBytes);
    const large = mixed.chunks.filter((c) => c.byteLength >= busyBytes);
    expect(small.length).toBeGreaterThanOrEqual(keys.length);
    expect(large.length).toBeGreaterThan(0);
    expect(small.every((c) => typeof c.data === 'string')).toBe(true);
    expect(large.every((c) => Buffer.isBuffer(c.data) && (c.data as Buffer).length === c.byteLength)).toBe(true);
    // The same by attach as by create.
    expect(mixedAttach.chunks.every((c) => (c.byteLength < busyBytes ? typeof c.data === 'string' : Buffer.isBuffer(c.data)))).toBe(true);
    expect(mixedAttach.chunks.some((c) => typeof c.data === 'string')).toBe(true);
    // The other attachments keep their form, small outputs included.
    expect(bytes.chunks.some((c) => c.byteLength < busyBytes)).toBe(true);
    expect(bytes.chunks.every((c) => Buffer.isBuffer(c.data))).toBe(true);
    expect(text.chunks.every((c) => typeof c.data === 'string')).toBe(true);
    // Same output, same offsets, whatever the form.
    const all = textReplay.replay.data + text.text();
    expect(mixed.text()).toBe(all);
    expect(Buffer.from(bytesReplay.replay.data).toString('utf8') + bytes.text()).toBe(all);
    expect(Buffer.from(mixedReplay.replay.data).toString('utf8') + mixedAttach.text()).toBe(all);
    const liveFrom = textReplay.replay.offset + textReplay.replay.byteLength;
    const boundaries = (r: Received) => r.chunks.filter((c) => c.offset >= liveFrom).map((c) => [c.offset, c.byteLength]);
    expect(boundaries(mixed)).toEqual(boundaries(text));
  });

  it('switches an attachment back to strings when it attaches again without binary', async () => {
    host = await createGatewayApp();
    const socket = await host.connect(TOKENS.alice);
    const created = await request(socket, 'create', { profile: 'bash', attach: true, binary: true });
    const sessionId = (created as any).session.id as string;
    expect(Buffer.isBuffer((created as any).replay.data)).toBe(true);
    const again = await request(socket, 'attach', { sessionId });
    expect(typeof (again as any).replay.data).toBe('string');
    const received = collect(socket, sessionId);
    await request(socket, 'input', { sessionId, data: 'echo AGAIN-$((6*7))\r' });
    await until(() => received.text().includes('AGAIN-42'), 'the marker');
    expect(received.chunks.every((c) => typeof c.data === 'string')).toBe(true);
  });
});
