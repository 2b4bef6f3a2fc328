import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { PtyClientError } from './pty-client-error.js';
import type { PtyClientSession } from './pty-client-session.js';
import type { PtySessionClient } from './pty-session-client.js';
import type { PtySessionClientOptions } from './pty-session-client.options.js';
import { FakeGateway, type FakeSession } from './testing/fake-gateway.js';
import { ClientPool, deferred, OutputRecorder, recordingIo, rejection, waitFor } from './testing/helpers.js';

let gateway: FakeGateway;
const pool = new ClientPool();

beforeEach(async () => {
  gateway = await FakeGateway.start();
});

afterEach(async () => {
  pool.closeAll();
  await gateway.close();
});

interface Attached {
  client: PtySessionClient;
  fake: FakeSession;
  session: PtyClientSession;
  recorder: OutputRecorder;
}

/** A client attached to a session whose first output has arrived. */
async function attached(options: Partial<PtySessionClientOptions> = {}, output = 'one;'): Promise<Attached> {
  const fake = gateway.addSession({ output });
  const client = pool.create({ url: gateway.url, ...options });
  await client.connect();
  const session = await client.attach({ sessionId: fake.id }, { cols: 80, rows: 24 });
  const recorder = new OutputRecorder(session);
  await recorder.waitForText(output);
  return { client, fake, session, recorder };
}

/** Holds the next attach's answer (the re-attach) until `release()`. */
function holdNextAttach() {
  const release = deferred();
  let arrived = false;
  gateway.interceptOnce('attach', async (_payload, context) => {
    arrived = true;
    await release.promise;
    context.reply(context.standard());
  });
  return { release: () => release.resolve(), arrived: () => waitFor(() => arrived, 'the re-attach request') };
}

describe('reconnect', () => {
  it('input queued while re-attaching to a session that exited meanwhile rejects with SESSION_EXITED and is not sent', async () => {
    const { fake, session } = await attached();
    const hold = holdNextAttach();
    gateway.cutConnections();
    await waitFor(() => session.state === 'reattaching', 'the drop');
    const written = session.write('ls\r');
    fake.finish(3);
    await hold.arrived();
    hold.release();
    expect((await rejection(written)).code).toBe('SESSION_EXITED');
    expect(gateway.events('input')).toEqual([]);
  });

  it('re-attaches after a network cut from its offset with its last size, and output continues exactly', async () => {
    const { client, fake, session, recorder } = await attached();
    expect(await session.resize(100, 30)).toEqual({ cols: 100, rows: 30 });
    fake.write('two;');
    await recorder.waitForText('one;two;');
    const states: string[] = [];
    session.onStateChange((state) => states.push(state));
    const firstSocket = gateway.sockets[0].id;

    gateway.cutConnections();
    fake.write('three;'); // lost with the connection: the re-attach's replay brings it back
    gateway.interceptOnce('attach', (_payload, context) => {
      const answer = context.standard();
      fake.write('four;'); // live output before the answer
      context.reply(answer);
    });
    await recorder.waitForText('one;two;three;four;');
    fake.write('five;');
    await recorder.waitForText('one;two;three;four;five;');

    const reattach = gateway.events('attach')[1];
    // Its size as before, and `resume`: the number of its last sizing (the resize's), so that the server gives it back its
    // place among the sizers instead of counting a new resize (another client may use the session meanwhile).
    expect(reattach.payload).toEqual({ sessionId: fake.id, since: 8, cols: 100, rows: 30, binary: true, smallAsText: true, resume: 2 });
    expect(reattach.socketId).not.toBe(firstSocket);
    expect(recorder.continuous).toBe(true);
    expect(recorder.outputs.some((o) => o.reset)).toBe(false);
    expect(states).toEqual(['reattaching', 'attached']);
    expect(client.state).toBe('connected');
    expect(session.offset).toBe(fake.end);
  });

  it('gets a reset when the missed output was evicted meanwhile', async () => {
    const { fake, recorder } = await attached();
    gateway.cutConnections();
    fake.append('x'.repeat(50) + 'kept');
    fake.bufferStart = fake.end - 4;
    await recorder.waitForText('kept');
    expect(recorder.outputs.at(-1)).toMatchObject({ data: 'kept', offset: fake.end - 4, byteLength: 4, reset: true, snapshot: false });
  });

  it('queues input while re-attaching and sends it in order after the answer', async () => {
    const { client, fake, session } = await attached();
    const held = holdNextAttach();
    const writes: Promise<void>[] = [];
    session.onStateChange((state) => {
      if (state === 'reattaching') writes.push(session.write('a')); // while disconnected
    });
    gateway.cutConnections();
    await held.arrived();
    expect(session.state).toBe('reattaching');
    writes.push(session.write('b'), session.write('c'));
    await client.list(); // a round trip on the new connection: input sent before it would have arrived
    expect(gateway.events('input')).toHaveLength(0);

    held.release();
    await Promise.all(writes);
    expect(fake.inputs).toEqual(['a', 'b', 'c']);
    expect(gateway.events('input').every((e) => e.socketId === gateway.sockets[0].id)).toBe(true);
  });

  it('refuses input beyond maxQueuedInputBytes (UTF-8 bytes) with INPUT_QUEUE_FULL', async () => {
    const { fake, session } = await attached({ maxQueuedInputBytes: 10 });
    const held = holdNextAttach();
    gateway.cutConnections();
    await held.arrived();
    const euros = session.write('€€€'); // 9 bytes
    const full = await rejection(session.write('é')); // 2 more: 11
    expect(full.code).toBe('INPUT_QUEUE_FULL');
    const last = session.write('a'); // 10: fits
    held.release();
    await Promise.all([euros, last]);
    expect(fake.inputs).toEqual(['€€€', 'a']);
  });

  it('detach() while the re-attach is in flight: the server attachment the re-attach makes afterwards is detached too', async () => {
    const { client, fake, session } = await attached();
    const release = deferred();
    gateway.interceptOnce('attach', async (_payload, context) => {
      await release.promise; // the server attaches only after the detach below was handled
      context.reply(context.standard());
    });
    gateway.cutConnections();
    await waitFor(() => gateway.events('attach').length === 2, 'the re-attach at the server');
    await session.detach();
    expect(session.state).toBe('detached');
    release.resolve();
    await waitFor(() => gateway.events('detach').length === 2, 'a second detach, for the late attachment');
    await client.list(); // a round trip: the detach was handled
    expect(fake.viewers.size).toBe(0);
  });

  it('a resize while the connection is down goes out with the re-attach, as a resize (no resume)', async () => {
    const { fake, session } = await attached();
    let resized: Promise<unknown> | undefined;
    session.onStateChange((state) => {
      if (state === 'reattaching') resized = session.resize(90, 20); // before the re-attach can go out
    });
    gateway.cutConnections();
    await waitFor(() => resized !== undefined, 'the drop');
    expect(await resized).toEqual({ cols: 90, rows: 20 });
    expect(gateway.events('attach')[1]!.payload).toEqual({ sessionId: fake.id, since: fake.end, cols: 90, rows: 20, binary: true, smallAsText: true });
    expect(gateway.events('resize')).toHaveLength(0); // the re-attach carried it
  });

  it('a resize while re-attaching waits for the re-attach, then applies', async () => {
    const { fake, session } = await attached();
    const held = holdNextAttach();
    gateway.cutConnections();
    await held.arrived();
    const resized = session.resize(90, 20);
    held.release();
    expect(await resized).toEqual({ cols: 90, rows: 20 });
    expect([fake.cols, fake.rows]).toEqual([90, 20]);
    expect(session.info).toMatchObject({ cols: 90, rows: 20 });
  });

  it('a session gone while away becomes lost with SESSION_NOT_FOUND, and its held input is refused', async () => {
    const { fake, session } = await attached();
    const lost = deferred<PtyClientError | undefined>();
    session.onStateChange((state, error) => {
      if (state === 'lost') lost.resolve(error);
    });
    const release = deferred();
    gateway.interceptOnce('attach', async (_payload, context) => {
      await release.promise;
      gateway.sessions.delete(fake.id); // closed or expired on the server
      context.reply(context.standard());
    });
    gateway.cutConnections();
    await waitFor(() => gateway.events('attach').length === 2, 'the re-attach');
    const held = session.write('x');
    release.resolve();

    expect((await lost.promise)?.code).toBe('SESSION_NOT_FOUND');
    expect(session.state).toBe('lost');
    expect((await rejection(held)).code).toBe('SESSION_NOT_FOUND');
    expect((await rejection(session.write('y'))).code).toBe('SESSION_NOT_FOUND');
  });

  it.each([
    ['CLIENT_LIMIT_REACHED', 'the old connection still counted on the server'],
    ['TOO_MANY_REQUESTS', 'more sessions re-attaching at once than the server answers at a time'],
  ])('a re-attach refused with %s (%s) is tried again, not given up', async (code) => {
    const { fake, session, recorder } = await attached();
    const states: string[] = [];
    session.onStateChange((state) => states.push(state));
    gateway.interceptOnce('attach', (_payload, context) => context.reply({ ok: false, error: { code, message: 'refused for now' } }));
    gateway.cutConnections();
    fake.write('two;');
    await recorder.waitForText('one;two;');
    expect(gateway.events('attach')).toHaveLength(3); // the first, the refused one, the retry
    expect(states).toEqual(['reattaching', 'attached']);
    expect(recorder.continuous).toBe(true);
  });

  it('closing the client from a state listener during a drop leaves it closed', async () => {
    const { client, session } = await attached();
    session.onStateChange((state) => {
      if (state === 'reattaching') client.close();
    });
    const clientStates: string[] = [];
    client.onStateChange((state) => clientStates.push(state));
    gateway.cutConnections();
    await waitFor(() => session.state === 'detached', 'the session to be detached');
    expect(client.state).toBe('closed');
    expect(clientStates).toEqual(['closed']);
    expect((await rejection(client.connect())).code).toBe('CLOSED');
    expect((await rejection(client.list())).code).toBe('CLOSED');
  });

  it('survives repeated cuts while output keeps coming, without loss or repeats', async () => {
    const { fake, recorder } = await attached({}, 'start;');
    for (let round = 0; round < 5; round++) {
      fake.write(`before${round};`);
      gateway.cutConnections();
      fake.write(`during${round};`);
      await waitFor(() => gateway.events('attach').length === round + 2 && fake.viewers.size === 1, `re-attach ${round + 1}`);
      fake.write(`after${round}é;`);
    }
    await recorder.waitForText(fake.text());
    expect(recorder.continuous).toBe(true);
    expect(recorder.outputs.some((o) => o.reset)).toBe(false);
  });
});

describe('re-attaches held back in the client (more sessions than maxRequestsInFlight)', () => {
  /** `count` sessions attached by one client, and a server that holds every later attach until `release`. */
  async function manySessions(count: number) {
    const fakes = Array.from({ length: count }, () => gateway.addSession());
    const client = pool.create({ url: gateway.url, socketOptions: { reconnectionDelay: 20, reconnectionDelayMax: 50 } });
    await client.connect();
    const sessions: PtyClientSession[] = [];
    for (const fake of fakes) sessions.push(await client.attach({ sessionId: fake.id }));
    const held = deferred();
    gateway.intercept('attach', async (_payload, context) => {
      await held.promise;
      context.reply(context.standard());
    });
    return { fakes, sessions, release: () => held.resolve() };
  }
  const attachesFor = (id: string, since: number) =>
    gateway.received.slice(since).filter((r) => r.event === 'attach' && (r.payload as { sessionId?: string }).sessionId === id).length;

  it('one whose session detaches while it waits is not sent: the server is not left attached to a session nobody follows', async () => {
    const { fakes, sessions, release } = await manySessions(17);
    const before = gateway.events('attach').length;
    gateway.cutConnections();
    await waitFor(() => gateway.events('attach').length === before + 16, '16 re-attaches to reach the server');
    const last = sessions[16]!;
    const since = gateway.received.length;
    await last.detach();
    release();
    await waitFor(() => sessions.slice(0, 16).every((s) => s.state === 'attached'), 'the other 16 to re-attach');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(attachesFor(last.id, since)).toBe(0);
    expect(fakes[16]!.viewers.size).toBe(0);
  });

  it('those held back when the connection drops again are not sent twice on the next one', async () => {
    const { sessions, release } = await manySessions(18);
    const mark = gateway.events('attach').length;
    gateway.cutConnections();
    // 16 re-attaches wait on the server, 2 in the client; then this connection drops too.
    await waitFor(() => gateway.events('attach').length === mark + 16, '16 re-attaches to reach the server');
    const since = gateway.received.length;
    gateway.cutConnections();
    release();
    await waitFor(() => sessions.every((s) => s.state === 'attached'), 'every session to re-attach', 10_000);
    for (const session of sessions) expect({ id: session.id, attaches: attachesFor(session.id, since) }).toEqual({ id: session.id, attaches: 1 });
  });
});

describe("what Socket.IO buffered instead of sending (its ping had expired, as after a laptop's sleep)", () => {
  it('is not sent on the next connection: the write was already rejected with DISCONNECTED', async () => {
    const { io: recording, sockets } = recordingIo();
    const { fake, session } = await attached({ io: recording, socketOptions: { reconnectionDelay: 20, reconnectionDelayMax: 50 } });
    // Socket.IO buffers what is emitted while its engine's ping has expired, though it still says connected.
    (sockets[0]!.io.engine as unknown as { _hasPingExpired(): boolean })._hasPingExpired = () => true;
    const write = session.write('rm -rf x\r');
    gateway.cutConnections();
    expect((await rejection(write)).code).toBe('DISCONNECTED');
    await waitFor(() => session.state === 'attached', 'the session to re-attach');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.inputs).toEqual([]);
  });
});

