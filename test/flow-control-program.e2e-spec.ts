/**
 * flowControl.pauseProgram with a real process, the real gateway and the
 * client package: a lone client slower than its program loses nothing
 * (the program waits for it, as under a local terminal), where without the
 * pause the same client is reset past what the buffer kept.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { PtySessionClient, type PtyClientOutput } from 'nestjs-pty-session-client';
import type { PtySessionModuleOptions } from 'nestjs-pty-session';
import { CHILD_ENV } from './fixtures/pty-app.js';
import { createGatewayApp, TOKENS, type GatewayTestApp } from './fixtures/gateway-app.js';
import { PidTracker, waitFor } from './fixtures/processes.js';

const LINES = 60_000;
/** `seq 1 60000` through a pty: each line ends in \r\n. */
const EXPECTED = Array.from({ length: LINES }, (_, i) => `${i + 1}\r\n`).join('');
const PROFILES = { seq: { file: '/usr/bin/seq', args: ['1', String(LINES)], env: CHILD_ENV } };
/** Far smaller than the output, and than what a slow client falls behind by. */
const BUFFER_BYTES = 64 * 1024;
const FLOW = { highWaterMarkBytes: 16 * 1024, lowWaterMarkBytes: 8 * 1024, ackIntervalBytes: 2 * 1024 };

let host: GatewayTestApp | undefined;
let client: PtySessionClient | undefined;
const pids = new PidTracker();
afterEach(async () => {
  client?.close();
  client = undefined;
  await host?.close();
  host = undefined;
  expect(pids.killLeftovers()).toEqual([]);
});

/** A client that processes output slowly: it acknowledges each piece 20 ms after it arrived. */
async function runSlowClient(options: PtySessionModuleOptions) {
  host = await createGatewayApp({ profiles: PROFILES, defaultProfile: 'seq', replayBufferBytes: BUFFER_BYTES, ...options });
  client = new PtySessionClient({ url: host.url, auth: { token: TOKENS.alice }, ackMode: 'manual', socketOptions: { transports: ['websocket'] } });
  await client.connect();
  const { session } = await client.open({ profile: 'seq' });
  pids.add(host.manager.getSession(session.id)!.pid);
  const outputs: PtyClientOutput[] = [];
  let exited = false;
  session.onOutput((output) => {
    outputs.push(output);
    setTimeout(() => session.ack(output.offset + output.byteLength), 20);
  });
  session.onExit(() => (exited = true));
  await waitFor(() => exited, 30_000, () => `the exit (${outputs.length} outputs so far)`);
  return outputs;
}

describe('flowControl.pauseProgram', () => {
  it('(default) a lone slow client gets every byte, in order, without a reset', async () => {
    const outputs = await runSlowClient({ flowControl: FLOW });
    expect(outputs.filter((o) => o.reset)).toEqual([]);
    const text = outputs.map((o) => o.data).join('');
    expect(text.length).toBe(EXPECTED.length);
    expect(text === EXPECTED).toBe(true);
  });

  it('(false) the same client is reset past what the buffer kept: the control of the test above', async () => {
    const outputs = await runSlowClient({ flowControl: { ...FLOW, pauseProgram: false } });
    expect(outputs.filter((o) => o.reset).length).toBeGreaterThan(0);
    expect(outputs.map((o) => o.data).join('').length).toBeLessThan(EXPECTED.length);
  });
});
