/**
 * What a session carries from one attach to the next: the number of its
 * last sizing (sent back as `resume`), and what the application processed
 * (acknowledged after an answer that does not deliver it again).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { PtyClientOutput } from './pty-session-client.options.js';
import { FakeGateway, type FakeSession } from './testing/fake-gateway.js';
import { ClientPool, OutputRecorder, waitFor } from './testing/helpers.js';

let gateway: FakeGateway;
const pool = new ClientPool();
beforeEach(async () => {
  gateway = await FakeGateway.start({ ackIntervalBytes: 1_000_000 });
});
afterEach(async () => {
  pool.closeAll();
  await gateway.close();
});

/** create with attach, answered as the gateway does (`sizedAt` when it has a size), for a keyed session. */
function createLikeGateway(fake: FakeSession, sizedAt?: number) {
  gateway.intercept('create', (payload, context) => {
    if (payload.cols !== undefined) [fake.cols, fake.rows] = [payload.cols, payload.rows];
    fake.viewers.set(context.socket.id, context.socket);
    fake.binaryViewers.add(context.socket.id);
    const replay = fake.replayFrom(undefined);
    context.reply({
      ok: true,
      created: false,
      session: fake.info(),
      ...(sizedAt !== undefined ? { sizedAt } : {}),
      replay: { ...replay, data: Buffer.from(replay.data, 'utf8') },
      flowControl: { ackIntervalBytes: 1_000_000 },
      limits: { maxInputBytes: 65536 },
    } as never);
  });
}

describe('resume', () => {
  it('open() with a size: the number in the answer goes back as resume after a drop', async () => {
    const fake = gateway.addSession({ key: 'k', output: 'hi' });
    createLikeGateway(fake, 7);
    const client = pool.create({ url: gateway.url });
    await client.connect();
    const { session } = await client.open({ key: 'k', cols: 120, rows: 40 });
    session.onOutput(() => {});
    gateway.cutConnections();
    await waitFor(() => gateway.events('attach').length === 1, 'the re-attach');
    expect(gateway.events('attach')[0]!.payload).toMatchObject({ cols: 120, rows: 40, resume: 7 });
  });

  it('a re-attach while a resize is unanswered sends no number (the one it has is older than that sizing)', async () => {
    const fake = gateway.addSession({ output: 'one;' });
    const client = pool.create({ url: gateway.url });
    await client.connect();
    const session = await client.attach({ sessionId: fake.id }, { cols: 80, rows: 24 });
    const recorder = new OutputRecorder(session);
    await recorder.waitForText('one;');
    let replyResize: (() => void) | undefined;
    gateway.interceptOnce('resize', (_payload, context) => {
      const answer = context.standard();
      replyResize = () => context.reply(answer);
    });
    const resized = session.resize(100, 30);
    await waitFor(() => replyResize, 'the resize at the server');
    fake.append('two;'); // missed: the next output has a gap, and the session re-attaches on this connection
    gateway.emitOutput({ sessionId: fake.id, offset: 8, byteLength: 6, data: 'three;' });
    await waitFor(() => gateway.events('attach').length === 2, 'the re-attach');
    replyResize!();
    await resized;
    expect(gateway.events('attach')[1]!.payload).toMatchObject({ cols: 100, rows: 30 });
    expect(gateway.events('attach')[1]!.payload.resume).toBeUndefined();
  });
});

describe('acknowledgements across attaches', () => {
  /** A gateway acknowledged every 50 bytes, and a manual-ack client attached to a session of 100 bytes, its replay received. */
  async function manualClientOf100Bytes() {
    await gateway.close();
    gateway = await FakeGateway.start({ ackIntervalBytes: 50 });
    const fake = gateway.addSession({ output: 'x'.repeat(100) });
    const client = pool.create({ url: gateway.url, ackMode: 'manual' });
    await client.connect();
    const session = await client.attach({ sessionId: fake.id });
    const seen: PtyClientOutput[] = [];
    session.onOutput((output) => seen.push(output));
    await waitFor(() => seen.length === 1, 'the replay');
    return { fake, client, session, seen };
  }

  it('manual mode: what the application processed is acknowledged after an answer that repeats it, not before a reset it must redraw', async () => {
    const fake = gateway.addSession({ key: 'k', output: 'x'.repeat(100) });
    createLikeGateway(fake);
    const client = pool.create({ url: gateway.url, ackMode: 'manual' });
    await client.connect();
    const { session } = await client.open({ key: 'k' });
    const seen: PtyClientOutput[] = [];
    let processing = true;
    session.onOutput((output) => {
      seen.push(output);
      if (processing) session.ack(output.offset + output.byteLength);
    });
    await waitFor(() => seen.length === 1, 'the first replay');

    // Opened again with nothing new: the answer repeats the 100 bytes processed, and they are acknowledged at once.
    await client.open({ key: 'k' });
    await waitFor(() => gateway.events('ack').length === 1, 'the acknowledgement of what was processed');
    expect(gateway.events('ack')[0]!.payload).toMatchObject({ offset: 100 });
    expect(seen).toHaveLength(1);

    // The buffer evicts its start and output goes on: opened again, the answer is a reset the application
    // redraws, and nothing of it is acknowledged before the application says so.
    processing = false;
    fake.bufferStart = 50;
    fake.append('y'.repeat(30));
    await client.open({ key: 'k' });
    await waitFor(() => seen.length === 2, 'the reset');
    await client.list(); // a round trip: an acknowledgement sent with the answer would be at the server
    expect(gateway.events('ack')).toHaveLength(1);
  });

  it('manual mode: a re-attach after a drop says what the terminal had not processed yet (acked), and acknowledges from there', async () => {
    const { session } = await manualClientOf100Bytes();
    session.ack(40); // the terminal parsed 40 of the 100 bytes: under the interval, nothing sent
    expect(gateway.events('ack')).toHaveLength(0);

    gateway.cutConnections();
    await waitFor(() => gateway.events('attach').length === 2 && session.state === 'attached', 'the re-attach');
    // The server counts the 60 bytes still in the terminal's queue as unacknowledged, as before the drop.
    expect(gateway.events('attach')[1]!.payload).toMatchObject({ since: 100, acked: 40 });
    session.ack(100); // 60 past what the server counts: over the interval
    await waitFor(() => gateway.events('ack').length === 1, 'the acknowledgement');
    expect(gateway.events('ack')[0]!.payload).toMatchObject({ offset: 100 });
  });

  it('manual mode: output before a live reset counts as processed (it is gone), and a re-attach answered with a reset acknowledges from the reset', async () => {
    const { fake, client, session, seen } = await manualClientOf100Bytes();
    session.ack(100);
    // The client fell behind: 100..250 skipped, a reset from 250 that the terminal has not parsed yet.
    fake.append('y'.repeat(200));
    gateway.emitOutput({ sessionId: fake.id, offset: 250, byteLength: 50, data: fake.text(250, 300), reset: true });
    await waitFor(() => seen.length === 2, 'the reset');
    gateway.cutConnections();
    await waitFor(() => gateway.events('attach').length === 2 && session.state === 'attached', 'the re-attach');
    expect(gateway.events('attach')[1]!.payload).toMatchObject({ since: 300, acked: 250 });

    // Cut again; meanwhile the buffer evicts past 300: the answer is a reset from 350, which the server counts as acknowledged.
    fake.append('z'.repeat(100));
    fake.bufferStart = 350;
    gateway.cutConnections();
    await waitFor(() => gateway.events('attach').length === 3 && session.state === 'attached', 'the second re-attach');
    expect(gateway.events('attach')[2]!.payload).toMatchObject({ since: 300, acked: 250 });
    await waitFor(() => seen.at(-1)!.reset && seen.at(-1)!.offset === 350, 'the reset replay');
    const acks = gateway.events('ack').length;
    session.ack(370); // 20 past the reset's start: under the interval
    await client.list(); // a round trip: an acknowledgement sent before it would be at the server
    expect(gateway.events('ack')).toHaveLength(acks);
    session.ack(400);
    await waitFor(() => gateway.events('ack').length === acks + 1, 'the acknowledgement');
    expect(gateway.events('ack').at(-1)!.payload).toMatchObject({ offset: 400 });
  });

  it('a session attached from `since`, all processed, re-attaches without acked: nothing before `since` is waiting', async () => {
    const fake = gateway.addSession({ output: 'x'.repeat(100) });
    const client = pool.create({ url: gateway.url, ackMode: 'manual' });
    await client.connect();
    const session = await client.attach({ sessionId: fake.id }, { since: 100 });
    gateway.cutConnections();
    await waitFor(() => gateway.events('attach').length === 2 && session.state === 'attached', 'the re-attach');
    expect(gateway.events('attach')[1]!.payload).toMatchObject({ since: 100 });
    expect(gateway.events('attach')[1]!.payload).not.toHaveProperty('acked');
  });
});
