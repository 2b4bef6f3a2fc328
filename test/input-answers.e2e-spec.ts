/**
 * When the gateway answers `input` (`echoWaitMs`), with real ptys and real
 * sockets: the answer waits until the session's next output has gone out,
 * so a keystroke's echo leaves the server before the answer does (one socket
 * write sooner); without output it waits at most `echoWaitMs`, and the
 * session's end lets it go at once. Only keystroke-sized input waits, one
 * answer per session at a time; errors are never held, and an answer held
 * when the application shuts down still reaches its client.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Socket } from 'socket.io-client';
import type { PtySessionModuleOptions, PtySpawnProfile } from 'nestjs-pty-session';
import type { PtyAnswer } from 'nestjs-pty-session-client/protocol';
import { createGatewayApp, gatewayOf, request, TOKENS, type GatewayTestApp } from './fixtures/gateway-app.js';
import { SessionWire } from './fixtures/gateway-host.js';
import { CHILD_ENV } from './fixtures/pty-app.js';
import { waitFor } from './fixtures/processes.js';

const PROFILES: Record<string, PtySpawnProfile> = {
  /** The terminal echoes what is typed (canonical mode, echo on). */
  cat: { file: '/bin/cat', env: CHILD_ENV },
  /** No echo and no output once ready. */
  silent: { file: '/bin/bash', args: ['-c', 'stty -echo; echo ready; exec sleep 30'], env: CHILD_ENV },
  /** No echo; ends at the first line typed, printing nothing. */
  silentUntilLine: { file: '/bin/bash', args: ['-c', 'stty -echo; echo ready; IFS= read -r line; exit 0'], env: CHILD_ENV },
};

/**
 * The longest echoWaitMs: an answer that comes sooner was let go by output
 * or exit, not by the timer (Node's timers never fire early).
 */
const LONG_WAIT_MS = 1000;

let host: GatewayTestApp | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

async function attached(options: PtySessionModuleOptions, profile: string): Promise<SessionWire> {
  host = await createGatewayApp({ profiles: PROFILES, defaultProfile: 'cat', ...options });
  const socket = await host.connect(TOKENS.alice);
  const created = await request(socket, 'create', { profile });
  if (!created.ok) throw new Error(`create failed: ${JSON.stringify(created)}`);
  const wire = new SessionWire(socket, created.session.id);
  expect(await wire.attach({ since: 0 })).toMatchObject({ ok: true });
  return wire;
}

/** Sends `input`; the answer is logged in `wire.log` (as 'input answer') the moment it arrives. */
function typeInto(wire: SessionWire, data: string, sessionId = wire.sessionId): Promise<{ answer: PtyAnswer<object>; elapsedMs: number }> {
  const socket: Socket = wire.socket;
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    socket.timeout(LONG_WAIT_MS * 2).emit('input', { sessionId, data }, (error: Error | null, answer: PtyAnswer<object>) => {
      if (error) return reject(error);
      wire.log.push('input answer');
      resolve({ answer, elapsedMs: performance.now() - startedAt });
    });
  });
}

describe('input answers wait for the echo (echoWaitMs)', () => {
  it("a keystroke's echo arrives before its answer, which the echo lets go (not the timer)", async () => {
    const wire = await attached({ echoWaitMs: LONG_WAIT_MS }, 'cat');
    for (const key of ['a', 'b', 'c']) {
      wire.log.length = 0;
      const outputsBefore = wire.outputs.length;
      const { answer, elapsedMs } = await typeInto(wire, key);
      expect(answer).toEqual({ ok: true });
      expect(wire.log[0]).toBe('output');
      expect(wire.outputs[outputsBefore]?.data).toBe(key);
      expect(wire.log.indexOf('input answer')).toBeGreaterThan(0);
      expect(elapsedMs).toBeLessThan(LONG_WAIT_MS);
    }
  });

  it('without output the answer comes after echoWaitMs', async () => {
    const wire = await attached({ echoWaitMs: 300 }, 'silent');
    await wire.waitForText(/ready/);
    const outputsBefore = wire.outputs.length;
    const { answer, elapsedMs } = await typeInto(wire, 'x');
    expect(answer).toEqual({ ok: true });
    expect(elapsedMs).toBeGreaterThanOrEqual(295); // Node's timers never fire early; the 5 ms are the clocks' rounding
    expect(wire.outputs.length).toBe(outputsBefore);
  });

  it("the session's end lets a held answer go at once", async () => {
    const wire = await attached({ echoWaitMs: LONG_WAIT_MS }, 'silentUntilLine');
    await wire.waitForText(/ready/);
    const { answer, elapsedMs } = await typeInto(wire, 'go\r');
    expect(answer).toEqual({ ok: true });
    expect(wire.exits).toHaveLength(1);
    expect(wire.log.slice(-2)).toEqual(['exit', 'input answer']);
    expect(elapsedMs).toBeLessThan(LONG_WAIT_MS);
  });

  it('a refused input is answered at once', async () => {
    const wire = await attached({ echoWaitMs: LONG_WAIT_MS, maxInputBytes: 8 }, 'cat');
    const tooLarge = await typeInto(wire, 'x'.repeat(9));
    expect(tooLarge.answer).toMatchObject({ ok: false, error: { code: 'INPUT_TOO_LARGE' } });
    const notAttached = await typeInto(wire, 'x', 'no-such-session');
    expect(notAttached.answer).toMatchObject({ ok: false });
    expect(Math.max(tooLarge.elapsedMs, notAttached.elapsedMs)).toBeLessThan(LONG_WAIT_MS);
  });

  it('only one answer per session waits: a second input while one waits is answered at once', async () => {
    const wire = await attached({ echoWaitMs: LONG_WAIT_MS }, 'silent');
    await wire.waitForText(/ready/);
    const first = typeInto(wire, 'a');
    const second = await typeInto(wire, 'b');
    expect(second.answer).toEqual({ ok: true });
    expect(second.elapsedMs).toBeLessThan(LONG_WAIT_MS);
    expect(wire.log.filter((entry) => entry === 'input answer')).toHaveLength(1);
    const held = await first;
    expect(held.answer).toEqual({ ok: true });
    expect(held.elapsedMs).toBeGreaterThanOrEqual(LONG_WAIT_MS - 5);
  });

  it('input of outputBatching.busyBytes characters or more (a paste, or a piece of one) is answered at once', async () => {
    const wire = await attached({ echoWaitMs: LONG_WAIT_MS, outputBatching: { busyBytes: 64 } }, 'silent');
    await wire.waitForText(/ready/);
    const paste = await typeInto(wire, 'p'.repeat(64));
    expect(paste.answer).toEqual({ ok: true });
    expect(paste.elapsedMs).toBeLessThan(LONG_WAIT_MS);
    const keystroke = await typeInto(wire, 'p'.repeat(63)); // under busyBytes: held until the timer (no output)
    expect(keystroke.elapsedMs).toBeGreaterThanOrEqual(LONG_WAIT_MS - 5);
  });

  it('an answer held when the application shuts down reaches its client, after the exit and before the disconnect', async () => {
    const wire = await attached({ echoWaitMs: LONG_WAIT_MS }, 'silent');
    await wire.waitForText(/ready/);
    const events: string[] = [];
    wire.socket.on('exit', (exit: { reason: string }) => events.push(`exit:${exit.reason}`));
    wire.socket.on('disconnect', () => events.push('disconnect'));
    wire.socket.emit('input', { sessionId: wire.sessionId, data: 'x' }, (answer: PtyAnswer<object>) => events.push(`answer:${String(answer.ok)}`));
    await new Promise((resolve) => setTimeout(resolve, 200)); // received and held: no output comes, the timer is 1 s
    expect(events).toEqual([]);
    const app = host!;
    host = undefined;
    // The manager ends every session before the gateway's shutdown hook, and the session's exit would let the
    // answer go on a timer turn of its own, racing the server's close: only the shutdown's release is left.
    (gatewayOf(app.app) as unknown as { inputAnswers: { outputSent(sessionId: string): void } }).inputAnswers.outputSent = () => {};
    await app.app.close(); // the application alone: its clients stay connected until the server ends
    await waitFor(() => events.includes('disconnect'), 5000, () => `a disconnect (got ${events.join(', ')})`);
    expect(events).toEqual(['exit:shutdown', 'answer:true', 'disconnect']);
    wire.socket.close();
  });
});
