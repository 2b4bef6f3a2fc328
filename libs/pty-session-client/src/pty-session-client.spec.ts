import { afterEach, describe, expect, it } from '@jest/globals';
import { PtyClientError } from './pty-client-error.js';
import { PtySessionClient } from './pty-session-client.js';
import type { PtyClientState } from './pty-session-client.options.js';
import { FakeGateway } from './testing/fake-gateway.js';
import { ClientPool, deferred, OutputRecorder, rejection, waitFor } from './testing/helpers.js';

const gateways: FakeGateway[] = [];
const pool = new ClientPool();

async function startGateway(options?: Parameters<typeof FakeGateway.start>[0]): Promise<FakeGateway> {
  const gateway = await FakeGateway.start(options);
  gateways.push(gateway);
  return gateway;
}

/** A gateway with `count` sessions whose attaches wait for `release`, counting the most answered at once. */
async function heldAttaches(count: number) {
  const gateway = await startGateway();
  const sessions = Array.from({ length: count }, () => gateway.addSession());
  let inFlight = 0;
  let most = 0;
  const release = deferred();
  gateway.intercept('attach', async (_payload, context) => {
    most = Math.max(most, ++inFlight);
    await release.promise;
    inFlight--;
    context.reply(context.standard());
  });
  return { gateway, sessions, release, most: () => most };
}

afterEach(async () => {
  pool.closeAll();
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

describe('PtySessionClient: connection', () => {
  it('with reconnection off, a dropped connection closes the client (DISCONNECTED) instead of waiting for ever', async () => {
    const gateway = await startGateway();
    const fake = gateway.addSession();
    const client = pool.create({ url: gateway.url, socketOptions: { reconnection: false } });
    await client.connect();
    const session = await client.attach({ sessionId: fake.id });
    let sessionError: PtyClientError | undefined;
    session.onStateChange((_state, error) => (sessionError = error));
    const errors: string[] = [];
    client.onError((error) => errors.push(error.code));
    gateway.cutConnections();
    await waitFor(() => client.state === 'closed', 'the client to close');
    expect(errors).toEqual(['DISCONNECTED']);
    expect(session.state).toBe('detached');
    expect(sessionError?.code).toBe('DISCONNECTED');
    expect((await rejection(client.connect())).code).toBe('CLOSED');
  });

  it('with reconnection off, a failed connect closes the client: a second connect() settles too', async () => {
    const gateway = await startGateway();
    await gateway.close();
    const client = pool.create({ url: gateway.url, socketOptions: { reconnection: false } });
    expect((await rejection(client.connect())).code).toBe('CONNECT_FAILED');
    expect(client.state).toBe('closed');
    expect((await rejection(client.connect())).code).toBe('CLOSED');
  });

  it('connects on connect(), reports its states, and answers create and list', async () => {
    const gateway = await startGateway();
    const client = pool.create({ url: gateway.url });
    const states: PtyClientState[] = [];
    client.onStateChange((state) => states.push(state));
    expect(client.state).toBe('idle');
    await client.connect();
    await client.connect(); // at once when connected

    const { session, created } = await client.create({ key: 'main', cols: 100, rows: 30 });
    expect(created).toBe(true);
    expect(session).toMatchObject({ key: 'main', cols: 100, rows: 30, status: 'running' });
    expect(await client.create({ key: 'main' })).toMatchObject({ created: false, session: { id: session.id } });
    expect((await client.list()).map((s) => s.id)).toEqual([session.id]);

    client.close();
    expect(states).toEqual(['connecting', 'connected', 'closed']);
    expect((await rejection(client.list())).code).toBe('CLOSED');
    expect((await rejection(client.connect())).code).toBe('CLOSED');
  });

  it('maps a refused connection to the server code (UNAUTHORIZED) and closes', async () => {
    const gateway = await startGateway({
      authorize: (auth) => (auth.token === 'good' ? undefined : { code: 'UNAUTHORIZED', message: 'Bad token.' }),
    });
    const refused = pool.create({ url: gateway.url, auth: { token: 'bad' } });
    const errors: PtyClientError[] = [];
    refused.onError((error) => errors.push(error));
    const error = await rejection(refused.connect());
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toContain('Bad token.');
    expect(errors.map((e) => e.code)).toEqual(['UNAUTHORIZED']);
    expect(refused.state).toBe('closed');
    expect((await rejection(refused.list())).code).toBe('CLOSED');

    const accepted = pool.create({ url: gateway.url, auth: { token: 'good' } });
    await accepted.connect();
    expect(accepted.state).toBe('connected');
  });

  it('refuses options out of range: maxRequestsInFlight, limitRetry, and the Socket.IO options that change answers', () => {
    for (const bad of [
      { maxRequestsInFlight: 0 },
      { limitRetry: { firstDelayMs: 0 } },
      { limitRetry: { giveUpAfterMs: 2 ** 31 } },
      { socketOptions: { ackTimeout: 1000 } },
      { socketOptions: { retries: 3 } },
    ]) {
      expect(() => new PtySessionClient({ url: 'http://127.0.0.1:1/pty', ...bad })).toThrow(PtyClientError);
    }
  });

  it("a reconnection refused for the principal's connection limit (its old connection still counted) is tried again; a first connect is not", async () => {
    let refuse = 0;
    const gateway = await startGateway({
      authorize: () => (refuse-- > 0 ? { code: 'OWNER_CONNECTION_LIMIT_REACHED', message: 'This principal already has 32 connections open.' } : undefined),
    });
    const fake = gateway.addSession({ output: 'one;' });
    const client = pool.create({
      url: gateway.url,
      socketOptions: { reconnectionDelay: 20, reconnectionDelayMax: 50 },
      limitRetry: { firstDelayMs: 50, maxDelayMs: 100 },
    });
    await client.connect();
    const session = await client.attach({ sessionId: fake.id });
    const errors: string[] = [];
    client.onError((error) => errors.push(error.code));
    refuse = 2;
    gateway.cutConnections();
    await waitFor(() => refuse < 0 && client.state === 'connected' && session.state === 'attached', 'the client to get back in', 10_000);
    expect(errors).toEqual(['OWNER_CONNECTION_LIMIT_REACHED', 'OWNER_CONNECTION_LIMIT_REACHED']);

    refuse = 1;
    const another = pool.create({ url: gateway.url });
    expect((await rejection(another.connect())).code).toBe('OWNER_CONNECTION_LIMIT_REACHED');
    expect(another.state).toBe('closed');
  }, 20_000);

  it('rejects connect() with CONNECT_FAILED when nothing listens, and keeps retrying', async () => {
    const gateway = await startGateway();
    await gateway.close();
    const client = pool.create({ url: gateway.url });
    const error = await rejection(client.connect());
    expect(error.code).toBe('CONNECT_FAILED');
    expect(client.state).toBe('connecting');
  });

  it('closes with CONNECT_FAILED once reconnection gives up', async () => {
    const gateway = await startGateway();
    const client = pool.create({ url: gateway.url, socketOptions: { reconnectionAttempts: 2 } });
    const errors: string[] = [];
    client.onError((error) => errors.push(error.code));
    await client.connect();
    await gateway.close();
    await waitFor(() => client.state === 'closed', 'the client to give up');
    expect(errors.at(-1)).toBe('CONNECT_FAILED');
  });

  it('times out a request that gets no answer, and ignores the late answer', async () => {
    const gateway = await startGateway();
    const late = deferred();
    let replied = false;
    gateway.interceptOnce('list', async (_payload, context) => {
      await late.promise;
      context.reply(context.standard());
      replied = true;
    });
    const client = pool.create({ url: gateway.url, answerTimeoutMs: 100 });
    await client.connect();
    const error = await rejection(client.list());
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain('"list"');

    late.resolve();
    await waitFor(() => replied, 'the late answer');
    expect(await client.list()).toEqual([]);
  });

  it('has at most 16 create/attach/list requests waiting for answers at once (what the server answers at a time); the rest go in order as answers come', async () => {
    const { gateway, sessions, release, most } = await heldAttaches(20);
    const client = pool.create({ url: gateway.url });
    await client.connect();
    const attaches = sessions.map((fake) => client.attach({ sessionId: fake.id }));
    await waitFor(() => gateway.events('attach').length === 16, '16 attaches to reach the server');
    const list = client.list(); // behind the 4 held back
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(gateway.events('attach')).toHaveLength(16);
    expect(gateway.events('list')).toHaveLength(0);
    release.resolve();
    const attached = await Promise.all(attaches);
    expect(attached.map((session) => session.id)).toEqual(sessions.map((fake) => fake.id));
    expect(await list).toHaveLength(20);
    expect(most()).toBe(16);
    expect(gateway.events('attach').map((event) => (event.payload as { sessionId: string }).sessionId)).toEqual(sessions.map((fake) => fake.id));
  });

  it('counts closes among them (the server answers one once its process has ended): at most 16 at once', async () => {
    const gateway = await startGateway();
    const fakes = Array.from({ length: 17 }, () => gateway.addSession());
    const client = pool.create({ url: gateway.url });
    await client.connect();
    const sessions = [];
    for (const fake of fakes) sessions.push(await client.attach({ sessionId: fake.id }));
    const release = deferred();
    gateway.intercept('close', async (_payload, context) => {
      await release.promise;
      context.reply(context.standard());
    });
    const closes = sessions.map((session) => session.close());
    await waitFor(() => gateway.events('close').length === 16, '16 closes to reach the server');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(gateway.events('close')).toHaveLength(16);
    release.resolve();
    await Promise.all(closes);
    expect(gateway.events('close')).toHaveLength(17);
  });

  it('a request held back gets its whole answerTimeoutMs once sent: a close behind sixteen slow ones does not time out unsent', async () => {
    const gateway = await startGateway();
    const fakes = Array.from({ length: 17 }, () => gateway.addSession());
    const client = pool.create({ url: gateway.url, answerTimeoutMs: 1500 });
    await client.connect();
    const sessions = [];
    for (const fake of fakes) sessions.push(await client.attach({ sessionId: fake.id }));
    // Each close takes the server 1 s (a program that ignores SIGHUP and SIGTERM): the 17th is sent after
    // ~1 s and answered after ~2 s, past 1.5 s from its call but well within 1.5 s from its sending.
    gateway.intercept('close', async (_payload, context) => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      context.reply(context.standard());
    });
    const closes = await Promise.allSettled(sessions.map((session) => session.close()));
    expect(closes.map((result) => result.status)).toEqual(new Array(17).fill('fulfilled'));
    expect(gateway.events('close')).toHaveLength(17);
  });

  it('a large request that timed out keeps its place until its late answer: the server never has more than 16 from this client', async () => {
    const { gateway, sessions, release, most } = await heldAttaches(32);
    const client = pool.create({ url: gateway.url, answerTimeoutMs: 1000 });
    await client.connect();
    const first = sessions.slice(0, 16).map((fake) => rejection(client.attach({ sessionId: fake.id })));
    expect((await Promise.all(first)).map((error) => error.code)).toEqual(new Array(16).fill('TIMEOUT'));
    const second = sessions.slice(16).map((fake) => client.attach({ sessionId: fake.id }).catch(() => undefined));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(gateway.events('attach')).toHaveLength(16); // the 16 that timed out are still being answered
    release.resolve();
    await Promise.all(second);
    expect(gateway.events('attach')).toHaveLength(32);
    expect(most()).toBe(16);
  });

  it('a request Socket.IO cannot encode fails alone (INVALID_ARGUMENT), held back or not, and takes no place', async () => {
    const gateway = await startGateway();
    const release = deferred();
    gateway.intercept('list', async (_payload, context) => {
      await release.promise;
      context.reply(context.standard());
    });
    const client = pool.create({ url: gateway.url });
    await client.connect();
    expect((await rejection(client.create({ profile: 1n as unknown as string }))).code).toBe('INVALID_ARGUMENT');
    const lists = Array.from({ length: 16 }, () => client.list());
    const held = rejection(client.create({ profile: 1n as unknown as string })); // behind the 16
    release.resolve();
    expect(await Promise.all(lists)).toHaveLength(16);
    expect((await held).code).toBe('INVALID_ARGUMENT');
    expect(await client.list()).toEqual([]);
    // Thousands of them held back in a row fail one by one, without a stack overflow, and an answer
    // that frees the place in front of them still settles its request.
    const later = deferred();
    gateway.intercept('list', async (_payload, context) => {
      await later.promise;
      context.reply(context.standard());
    });
    const blockers = Array.from({ length: 16 }, () => client.list());
    const unencodable = { toJSON: () => { throw Object.create(null); } } as unknown as string;
    const many = Array.from({ length: 5000 }, () => rejection(client.create({ profile: unencodable })));
    later.resolve();
    expect(await Promise.all(blockers)).toHaveLength(16);
    expect(new Set((await Promise.all(many)).map((error) => error.code))).toEqual(new Set(['INVALID_ARGUMENT']));
    expect(await client.list()).toEqual([]);
  });

  it('places held by requests the server never answers are freed a while after their timeout', async () => {
    const gateway = await startGateway();
    let answer = false;
    gateway.intercept('list', (_payload, context) => {
      if (answer) context.reply(context.standard());
    });
    const client = pool.create({ url: gateway.url, answerTimeoutMs: 200 });
    await client.connect();
    const silent = await Promise.all(Array.from({ length: 16 }, () => rejection(client.list())));
    expect(silent.map((error) => error.code)).toEqual(new Array(16).fill('TIMEOUT'));
    await new Promise((resolve) => setTimeout(resolve, 300)); // another answerTimeoutMs: the places are given up
    answer = true;
    expect(await client.list()).toEqual([]);
  });

  it('after a reconnect, re-attaches go before the requests held back before the drop', async () => {
    const gateway = await startGateway();
    const [one, two] = [gateway.addSession(), gateway.addSession()];
    const client = pool.create({ url: gateway.url, maxRequestsInFlight: 1, socketOptions: { reconnectionDelay: 20, reconnectionDelayMax: 50 } });
    await client.connect();
    await client.attach({ sessionId: one.id });
    await client.attach({ sessionId: two.id });
    gateway.intercept('list', () => {}); // held on the server: the next list waits in the client
    void client.list().catch(() => {});
    const held = client.list();
    await waitFor(() => gateway.events('list').length === 1, 'the first list to reach the server');
    const since = gateway.received.length;
    gateway.cutConnections();
    gateway.intercept('list', (_payload, context) => context.reply(context.standard()));
    expect(await held).toHaveLength(2);
    const order = gateway.received.slice(since).map((r) => (r.event === 'attach' ? `attach:${(r.payload as { sessionId: string }).sessionId}` : r.event));
    expect(order).toEqual([`attach:${one.id}`, `attach:${two.id}`, 'list']);
  });

  it('a request made while reconnecting waits for the connection, instead of Socket.IO\'s buffer', async () => {
    const gateway = await startGateway();
    const client = pool.create({ url: gateway.url });
    await client.connect();
    const firstSocket = gateway.sockets[0].id;
    let listed: Promise<unknown> | undefined;
    client.onStateChange((state) => {
      if (state === 'reconnecting') listed = client.list();
    });
    gateway.cutConnections();
    await waitFor(() => listed, 'the reconnecting state');
    expect(await listed).toEqual([]);
    const lists = gateway.events('list');
    expect(lists).toHaveLength(1);
    expect(lists[0].socketId).not.toBe(firstSocket);
  });

  it('closes when the server disconnects it on purpose, detaching its sessions', async () => {
    const gateway = await startGateway();
    const fake = gateway.addSession();
    const client = pool.create({ url: gateway.url });
    const errors: string[] = [];
    client.onError((error) => errors.push(error.code));
    await client.connect();
    const session = await client.attach({ sessionId: fake.id });
    let sessionError: PtyClientError | undefined;
    session.onStateChange((_state, error) => (sessionError = error));

    gateway.sockets[0].disconnect();
    await waitFor(() => client.state === 'closed', 'the client to close');
    expect(errors).toEqual(['DISCONNECTED']);
    expect(session.state).toBe('detached');
    expect(sessionError?.code).toBe('DISCONNECTED');
  });

  it('close() rejects what is pending with CLOSED and detaches the sessions', async () => {
    const gateway = await startGateway();
    const fake = gateway.addSession();
    gateway.intercept('list', () => {}); // never answered
    const client = pool.create({ url: gateway.url });
    await client.connect();
    const session = await client.attach({ sessionId: fake.id });
    new OutputRecorder(session);
    const pending = client.list();
    await waitFor(() => gateway.events('list').length === 1, 'the list request');
    client.close();

    expect((await rejection(pending)).code).toBe('CLOSED');
    expect(session.state).toBe('detached');
    expect((await rejection(session.write('x'))).code).toBe('CLOSED');
    expect(client.state).toBe('closed');
  });

  it('checks its options', () => {
    const bad = (options: object) => {
      try {
        new PtySessionClient(options as never);
      } catch (error) {
        return (error as PtyClientError).code;
      }
      return 'no error';
    };
    expect(bad({})).toBe('INVALID_ARGUMENT');
    expect(bad({ url: 'http://127.0.0.1:1/pty', ackMode: 'sometimes' })).toBe('INVALID_ARGUMENT');
    expect(bad({ url: 'http://127.0.0.1:1/pty', answerTimeoutMs: 0 })).toBe('INVALID_ARGUMENT');
    // Longer than a timer can wait: it would fire at once and time every request out.
    expect(bad({ url: 'http://127.0.0.1:1/pty', answerTimeoutMs: 3_000_000_000 })).toBe('INVALID_ARGUMENT');
    expect(bad({ url: 'http://127.0.0.1:1/pty', maxQueuedInputBytes: -1 })).toBe('INVALID_ARGUMENT');
  });
});
