/**
 * The typed client against the real gateway: a multi-megabyte stream
 * survives repeated network cuts with every byte exactly once, a client's
 * drop does not resize a session that another client uses, a new client
 * (a page reload) resumes from a saved offset, and a paste larger than the
 * server's input limit arrives whole.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { io as socketIo } from 'socket.io-client';
import { PtySessionClient, type PtyClientOutput } from 'nestjs-pty-session-client';
import { CHILD_ENV } from './fixtures/pty-app.js';
import { createGatewayApp, TOKENS, type GatewayTestApp } from './fixtures/gateway-app.js';
import { waitFor } from './fixtures/processes.js';
import { mulberry32 } from '../libs/pty-session/src/testing-fakes/test-helpers.js';
import { recordingIo } from '../libs/pty-session-client/src/testing/helpers.js';

/** Lines of the generated output: ASCII and 2-, 3- and 4-byte characters, so offsets count real UTF-8. */
const LINE_COUNT = 120_000;
const LINES_PER_BURST = 3_000;
const lineText = (i: number) => `line ${String(i).padStart(6, '0')} é€😀 ${'x'.repeat(40)}`;

/** The program: bursts of lines with short pauses, a few seconds in all, so the cuts land mid-stream. */
const STREAM_PROFILE = {
  file: '/bin/bash',
  args: [
    '-c',
    `for ((b = 0; b < ${LINE_COUNT}; b += ${LINES_PER_BURST})); do ` +
      `awk -v b=$b 'BEGIN { for (i = b; i < b + ${LINES_PER_BURST}; i++) printf "line %06d é€😀 %s\\n", i, "${'x'.repeat(40)}" }'; ` +
      'sleep 0.02; done',
  ],
  env: CHILD_ENV,
};

/** What the terminal shows: the pty turns each \n into \r\n. */
function expectedStream(): string {
  const lines: string[] = [];
  for (let i = 0; i < LINE_COUNT; i++) lines.push(lineText(i));
  return lines.join('\r\n') + '\r\n';
}

const FAST_RECONNECT = { transports: ['websocket'], reconnectionDelay: 20, reconnectionDelayMax: 100, randomizationFactor: 0 };

let host: GatewayTestApp | undefined;
const clients: PtySessionClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await host?.close();
  host = undefined;
});

function newClient(io?: typeof socketIo): PtySessionClient {
  const client = new PtySessionClient({ url: host!.url, auth: { token: TOKENS.alice }, socketOptions: FAST_RECONNECT, ...(io ? { io } : {}) });
  clients.push(client);
  return client;
}

describe('the client resumes exactly after network cuts', () => {
  it('a multi-megabyte stream cut at random points ends with exactly what the process wrote', async () => {
    host = await createGatewayApp({ profiles: { stream: STREAM_PROFILE }, defaultProfile: 'stream', replayBufferBytes: 8 * 1024 * 1024 });
    const { io, sockets } = recordingIo();
    const client = newClient(io);
    const { session: info } = await client.create({ profile: 'stream' });
    const session = await client.attach({ sessionId: info.id }, { since: 0 });

    const received: string[] = [];
    const outputs: PtyClientOutput[] = [];
    session.onOutput((output) => {
      outputs.push(output);
      received.push(output.data);
    });
    const exited = new Promise((resolve) => session.onExit(resolve));
    let reconnects = 0;
    client.onStateChange((state, previous) => {
      if (state === 'connected' && previous === 'reconnecting') reconnects++;
    });

    // Cut the network a few times while output flows, at seeded random moments.
    const random = mulberry32(2026);
    const cuts: number[] = [];
    for (let cut = 0; cut < 5; cut++) {
      const target = session.offset + 200_000 + Math.floor(random() * 600_000);
      await waitFor(() => session.offset >= target || session.exit !== undefined, 20_000, `output past ${target}`);
      if (session.exit) break;
      cuts.push(session.offset);
      sockets.at(-1)!.io.engine.close(); // like a dropped network: the client sees "transport close"
      await waitFor(() => client.state === 'connected' && session.state === 'attached', 10_000, 'the client to re-attach');
    }
    await exited;

    const expected = expectedStream();
    const text = received.join('');
    expect(cuts.length).toBeGreaterThanOrEqual(3);
    expect(reconnects).toBe(cuts.length);
    expect(outputs.filter((o) => o.reset)).toEqual([]);
    // Contiguous offsets from 0 to the end: no gap, no duplicate, no reordering.
    let next = 0;
    for (const output of outputs) {
      expect(output.offset).toBe(next);
      next = output.offset + output.byteLength;
    }
    expect(next).toBe(Buffer.byteLength(expected));
    expect(text.length).toBe(expected.length);
    expect(text === expected).toBe(true); // (a toBe on 8 MB strings would print them)
    expect(session.exit).toMatchObject({ exitCode: 0, reason: 'exited' });
  });

  it("a client's network drop does not move the session's size away from the client in use (resize policy 'latest')", async () => {
    host = await createGatewayApp({});
    const recordedA = recordingIo();
    const a = newClient(recordedA.io);
    const recordedB = recordingIo();
    const b = newClient(recordedB.io);
    const { session: inUse } = await a.open({ profile: 'bash', cols: 120, rows: 40 });
    const background = await b.attach({ sessionId: inUse.id }, { cols: 80, rows: 24 });
    const server = host.manager.getSession(inUse.id)!;
    await inUse.resize(132, 43); // the user works in A: it sized the session last
    expect([server.cols, server.rows]).toEqual([132, 43]);

    recordedB.sockets.at(-1)!.io.engine.close(); // B's connection drops
    await waitFor(() => background.state === 'reattaching', 5_000, 'B to notice the drop');
    await waitFor(() => background.state === 'attached', 10_000, 'B to re-attach');
    expect([server.cols, server.rows]).toEqual([132, 43]);

    // A's connection drops: B's size meanwhile, A's again once A is back.
    recordedA.sockets.at(-1)!.io.engine.close();
    await waitFor(() => inUse.state === 'reattaching', 5_000, 'A to notice the drop');
    await waitFor(() => inUse.state === 'attached', 10_000, 'A to re-attach');
    expect([server.cols, server.rows]).toEqual([132, 43]);

    // B resizing is a resize as ever.
    expect(await background.resize(100, 30)).toEqual({ cols: 100, rows: 30 });
    expect([server.cols, server.rows]).toEqual([100, 30]);
  });

  it('opening a session it follows again (by key), with more buffered than the high mark, does not stall its output', async () => {
    const MiB = 1024 * 1024;
    // 3 MiB at once, then a line every 50 ms; a 4 MiB buffer, so the second open's replay repeats 3 MiB the client has.
    const printer = { file: '/bin/bash', args: ['-c', `head -c ${3 * MiB} /dev/zero | tr "\\0" x; while :; do echo tick; sleep 0.05; done`], env: CHILD_ENV };
    host = await createGatewayApp({ replayBufferBytes: 4 * MiB, profiles: { printer }, defaultProfile: 'printer' });
    const client = newClient();
    const { session } = await client.open({ profile: 'printer', key: 'k' });
    const outputs: PtyClientOutput[] = [];
    session.onOutput((output) => outputs.push(output));
    await waitFor(() => outputs.some((output) => output.data.includes('tick')), 20_000, 'the first ticks');
    const again = await client.open({ key: 'k' });
    expect(again.session).toBe(session);
    // The new attachment counted the replay's start as acknowledged: without the client's acknowledgement of
    // what it had processed, the server held it (and the program) past its high mark.
    const offset = session.offset;
    await waitFor(() => session.offset >= offset + 5 * 'tick\r\n'.length, 5_000, 'more ticks after the second open');
  });

  it('a new client (a reloaded page) resumes from the offset the old one saved', async () => {
    host = await createGatewayApp({ profiles: { stream: STREAM_PROFILE }, defaultProfile: 'stream', replayBufferBytes: 8 * 1024 * 1024 });
    const first = newClient();
    const { session: info } = await first.create({ profile: 'stream' });
    const before = await first.attach({ sessionId: info.id });
    let text = '';
    before.onOutput((o) => (text += o.data));
    await waitFor(() => before.offset > 500_000, 20_000, 'some output');
    const saved = before.offset; // what the page would keep in sessionStorage
    first.close();

    const second = newClient();
    const after = await second.attach({ sessionId: info.id }, { since: saved });
    const resets: boolean[] = [];
    after.onOutput((o) => {
      resets.push(o.reset);
      text += o.data;
    });
    await new Promise((resolve) => after.onExit(resolve));
    expect(resets.every((reset) => !reset)).toBe(true);
    expect(text === expectedStream()).toBe(true);
  });
});

describe('flow control across network cuts', () => {
  it('a terminal still parsing what it received (manual acks) gains no credit by reconnecting, and resumes once it acknowledges', async () => {
    const flowControl = { highWaterMarkBytes: 64 * 1024, lowWaterMarkBytes: 32 * 1024, ackIntervalBytes: 8 * 1024 };
    // Prints as many bytes as each line of input asks for: output comes only when the test asks.
    const printer = { file: '/bin/sh', args: ['-c', 'while read n; do head -c "$n" /dev/zero | tr "\\0" x; done'], env: CHILD_ENV };
    host = await createGatewayApp({ profiles: { printer }, defaultProfile: 'printer', flowControl });
    const { io, sockets } = recordingIo();
    const client = new PtySessionClient({ url: host.url, auth: { token: TOKENS.alice }, socketOptions: FAST_RECONNECT, io, ackMode: 'manual' });
    clients.push(client);
    const { session } = await client.open({ profile: 'printer' });
    let received = 0;
    session.onOutput((output) => (received += output.byteLength)); // the terminal parses nothing yet
    /** What has arrived once nothing more comes (the server paused this client at its high mark). */
    const settled = async () => {
      let last = -1;
      while (received !== last) {
        last = received;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      return received;
    };
    await session.write('100000\r');
    await waitFor(() => received >= flowControl.highWaterMarkBytes, 10_000, 'output up to the high mark');
    const paused = await settled();
    expect(paused).toBeGreaterThanOrEqual(flowControl.highWaterMarkBytes);
    expect(paused).toBeLessThan(100_000);
    for (let cut = 0; cut < 3; cut++) {
      sockets.at(-1)!.io.engine.close();
      await waitFor(() => client.state === 'connected' && session.state === 'attached', 10_000, 'the client to re-attach');
      // The answer's replay carries what the program printed meanwhile; then, with everything still
      // unprocessed, the client is at its high mark: new output waits (a fresh start would get a high mark more).
      const afterReplay = await settled();
      await session.write('100000\r');
      expect(await settled()).toBe(afterReplay);
    }
    // Once the terminal catches up and acknowledges, output flows again: a high mark's worth (the server may
    // stop at exactly that many bytes past the acknowledgement), and, as the terminal goes on acknowledging,
    // all the rest: four requests of 100,000 bytes, each echoed as "100000\r\n".
    const before = received;
    session.ack(session.offset);
    await waitFor(() => received >= before + flowControl.highWaterMarkBytes, 10_000, 'a high mark of output after the acknowledgement');
    session.onOutput(() => session.ack(session.offset));
    session.ack(session.offset);
    const everything = 4 * (100_000 + '100000\r\n'.length);
    await waitFor(() => received === everything, 10_000, () => `all ${everything} bytes (${received} so far)`);
  });
});

describe('input through the client', () => {
  it('a paste larger than maxInputBytes is split at character boundaries and arrives whole', async () => {
    const counter = { file: '/bin/bash', args: ['-c', 'stty -echo; echo ready; wc -c; echo done'], env: CHILD_ENV };
    host = await createGatewayApp({ profiles: { counter }, defaultProfile: 'counter', maxInputBytes: 16 * 1024 });
    const client = newClient();
    const { session: info } = await client.create({ profile: 'counter' });
    const session = await client.attach({ sessionId: info.id });
    let text = '';
    session.onOutput((o) => (text += o.data));
    await waitFor(() => text.includes('ready'), 5000, 'the counter to start');

    // ~80 KB of short lines (a terminal line holds at most 4 KiB), with multi-byte characters.
    let paste = '';
    for (let i = 0; paste.length < 60_000; i++) paste += `${i} añadir 中文 😀\n`;
    const bytes = Buffer.byteLength(paste);
    expect(bytes).toBeGreaterThan(4 * 16 * 1024); // five or more input messages
    await session.write(paste);
    await session.write('\x04'); // end of input: wc prints the count
    await waitFor(() => text.includes('done'), 10_000, 'the count');
    expect(Number(text.match(/(\d+)\s+done/)?.[1])).toBe(bytes);
  });
});

describe('open: create and attach in one request', () => {
  it("a fast program's output is complete from its first byte, and opening the key again finds the same session", async () => {
    const burst = { file: '/usr/bin/seq', args: ['1', '30000'], env: CHILD_ENV };
    const shell = { file: '/bin/bash', args: ['--norc', '--noprofile'], env: CHILD_ENV };
    host = await createGatewayApp({ profiles: { burst, shell }, defaultProfile: 'shell' });
    const client = newClient();

    const { session, created } = await client.open({ profile: 'burst', cols: 100, rows: 30 });
    expect(created).toBe(true);
    let text = '';
    const resets: boolean[] = [];
    session.onOutput((o) => {
      resets.push(o.reset);
      text += o.data;
    });
    const exit = await new Promise((resolve) => session.onExit(resolve));
    const expected = Array.from({ length: 30000 }, (_, i) => String(i + 1)).join('\r\n') + '\r\n';
    expect(resets).not.toContain(true);
    expect(text === expected).toBe(true);
    expect(exit).toMatchObject({ exitCode: 0 });
    expect(host.manager.getSession(session.id)!.cols).toBe(100);

    const first = await client.open({ profile: 'shell', key: 'task-7' });
    const again = await newClient().open({ profile: 'shell', key: 'task-7' });
    expect([first.created, again.created]).toEqual([true, false]);
    expect(again.session.id).toBe(first.session.id);
    expect(host.manager.getSession(first.session.id)!.attachedClients).toBe(2);
  });
});
