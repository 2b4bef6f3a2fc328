import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { PtySessionClient } from './pty-session-client.js';
import type { PtySessionClientOptions } from './pty-session-client.options.js';
import { FakeGateway } from './testing/fake-gateway.js';
import { ClientPool, deferred, nextTurn, OutputRecorder, rejection, waitFor } from './testing/helpers.js';

let gateway: FakeGateway;
const pool = new ClientPool();

beforeEach(async () => {
  gateway = await FakeGateway.start();
});

afterEach(async () => {
  pool.closeAll();
  await gateway.close();
});

async function connectedClient(options: Partial<PtySessionClientOptions> = {}): Promise<PtySessionClient> {
  const client = pool.create({ url: gateway.url, ...options });
  await client.connect();
  return client;
}

/** Output as [offset, data, byteLength, reset] rows, easy to compare. */
const rows = (recorder: OutputRecorder) => recorder.outputs.map((o) => [o.offset, o.data, o.byteLength, o.reset]);

describe('attach and output', () => {
  it('delivers the replay, then live output in order, with UTF-8 byte offsets', async () => {
    const fake = gateway.addSession({ output: 'hello ' });
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id }, { cols: 100, rows: 30 });
    const recorder = new OutputRecorder(session);
    await recorder.waitForText('hello ');
    fake.write('wörld');
    fake.write('!');
    await recorder.waitForText('hello wörld!');

    expect(rows(recorder)).toEqual([
      [0, 'hello ', 6, false],
      [6, 'wörld', 6, false],
      [12, '!', 1, false],
    ]);
    expect(session.offset).toBe(13);
    expect(session.state).toBe('attached');
    expect(session.info).toMatchObject({ id: fake.id, cols: 100, rows: 30 });
    expect(gateway.events('attach').map((e) => e.payload)).toEqual([{ sessionId: fake.id, cols: 100, rows: 30, binary: true, smallAsText: true }]);
  });

  it('asks for output as bytes and gives both text and bytes; takes strings from a server that predates binary', async () => {
    for (const binary of [true, false]) {
      const server = await FakeGateway.start({ binary });
      try {
        const fake = server.addSession({ output: 'é✓😀 ' });
        const client = pool.create({ url: server.url });
        await client.connect();
        const session = await client.attach({ sessionId: fake.id });
        const recorder = new OutputRecorder(session);
        fake.write('wörld ✓');
        fake.write('\ufeffbom'); // U+FEFF starting a message is a character, not a mark to drop
        await recorder.waitForText('é✓😀 wörld ✓\ufeffbom');
        expect(rows(recorder)).toEqual([
          [0, 'é✓😀 ', 10, false],
          [10, 'wörld ✓', 10, false],
          [20, '\ufeffbom', 6, false],
        ]);
        // The wire carried bytes only where the server honours binary.
        expect(fake.binaryViewers.size).toBe(binary ? 1 : 0);
        // Either way each output has both forms; copies and JSON keep the text.
        for (const output of recorder.outputs) {
          expect(output.bytes).toBeInstanceOf(Uint8Array);
          expect(Buffer.from(output.bytes).toString('utf8')).toBe(output.data);
          expect(output.bytes.length).toBe(output.byteLength);
          expect({ ...output }).toMatchObject({ data: output.data, bytes: output.bytes, offset: output.offset });
          expect(JSON.parse(JSON.stringify(output))).toEqual({ data: output.data, offset: output.offset, byteLength: output.byteLength, reset: false, snapshot: false });
        }
        client.close();
      } finally {
        await server.close();
      }
    }
  });

  it('takes small outputs as text and the others as bytes in one attachment (smallAsText), in order and exact', async () => {
    const server = await FakeGateway.start({ smallAsTextBytes: 8 });
    try {
      const fake = server.addSession({ output: 'é✓😀 ' });
      const client = pool.create({ url: server.url });
      await client.connect();
      const session = await client.attach({ sessionId: fake.id });
      expect(fake.smallAsTextViewers.size).toBe(1);
      const recorder = new OutputRecorder(session);
      fake.write('ab'); // 2 bytes: text
      fake.write('wörld ✓ long enough'); // bytes
      fake.write('✓'); // 3 bytes: text
      fake.write('😀😀'); // 8 bytes: bytes
      await recorder.waitForText('é✓😀 abwörld ✓ long enough✓😀😀');
      expect(fake.sentAsText).toEqual([10, 34]); // the wire carried both forms
      expect(rows(recorder)).toEqual([
        [0, 'é✓😀 ', 10, false],
        [10, 'ab', 2, false],
        [12, 'wörld ✓ long enough', 22, false],
        [34, '✓', 3, false],
        [37, '😀😀', 8, false],
      ]);
      for (const output of recorder.outputs) {
        expect(Buffer.from(output.bytes).toString('utf8')).toBe(output.data);
        expect(output.bytes.length).toBe(output.byteLength);
      }
      client.close();
    } finally {
      await server.close();
    }
  });

  it('holds output until the first listener, so the replay is never missed', async () => {
    const fake = gateway.addSession({ output: 'replay;' });
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id });
    fake.write('live;');
    await client.list(); // a round trip: the live output has reached the client

    const recorder = new OutputRecorder(session);
    await recorder.waitForText('replay;live;');
    expect(rows(recorder)).toEqual([
      [0, 'replay;', 7, false],
      [7, 'live;', 5, false],
    ]);
  });

  it('takes output that arrives before the attach answer (attach by key), in offset order', async () => {
    const fake = gateway.addSession({ key: 'main', output: 'abc' });
    gateway.interceptOnce('attach', (_payload, context) => {
      const answer = context.standard(); // attached: the replay is "abc" (0..3)
      fake.write('dé'); // 3..6, sent before the answer
      fake.write('f'); // 6..7
      context.reply(answer);
    });
    const client = await connectedClient();
    const session = await client.attach({ key: 'main' });
    const recorder = new OutputRecorder(session);
    await recorder.waitForText('abcdéf');

    expect(session.id).toBe(fake.id);
    expect(rows(recorder)).toEqual([
      [0, 'abc', 3, false],
      [3, 'dé', 3, false],
      [6, 'f', 1, false],
    ]);
  });

  it('drops repeats and cuts overlaps among output queued before the answer', async () => {
    const fake = gateway.addSession({ output: 'abc' });
    gateway.interceptOnce('attach', (_payload, context) => {
      const answer = context.standard();
      const sessionId = fake.id;
      gateway.emitOutput({ sessionId, offset: 0, byteLength: 3, data: 'abc' }); // all in the replay
      gateway.emitOutput({ sessionId, offset: 1, byteLength: 5, data: 'bcdé' }); // overlaps: "dé" is new
      gateway.emitOutput({ sessionId, offset: 3, byteLength: 3, data: 'dé' }); // a repeat
      gateway.emitOutput({ sessionId, offset: 6, byteLength: 1, data: 'f' });
      context.reply(answer);
    });
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id });
    const recorder = new OutputRecorder(session);
    await recorder.waitForText('abcdéf');

    expect(rows(recorder)).toEqual([
      [0, 'abc', 3, false],
      [3, 'dé', 3, false],
      [6, 'f', 1, false],
    ]);
    expect(gateway.events('attach')).toHaveLength(1);
  });

  it('cuts an overlapping chunk by UTF-8 bytes, multi-byte characters included', async () => {
    const fake = gateway.addSession({ output: 'a€' }); // 1 + 3 bytes
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id });
    const recorder = new OutputRecorder(session);
    await recorder.waitForText('a€');
    const sessionId = fake.id;
    gateway.emitOutput({ sessionId, offset: 1, byteLength: 7, data: '€😀' }); // "€" is a repeat
    gateway.emitOutput({ sessionId, offset: 0, byteLength: 10, data: 'a€😀é' }); // only "é" is new
    gateway.emitOutput({ sessionId, offset: 8, byteLength: 4, data: 'éz!' }); // "z!" is new
    gateway.emitOutput({ sessionId, offset: 4, byteLength: 4, data: '😀' }); // a repeat
    await recorder.waitForText('a€😀éz!');
    await client.list(); // the last repeat has arrived too

    expect(rows(recorder)).toEqual([
      [0, 'a€', 4, false],
      [4, '😀', 4, false],
      [8, 'é', 2, false],
      [10, 'z!', 2, false],
    ]);
    expect(session.offset).toBe(12);
    expect(gateway.events('attach')).toHaveLength(1);
  });

  it('takes a crossing attach answer whose replay left out a query as a reset, not a cut at the wrong byte', async () => {
    const fake = gateway.addSession({ output: 'ab\x1b[6n' }); // 6 bytes, a cursor-position query among them
    let attaches = 0;
    let held: { reply(answer: unknown): void; standard(): any } | undefined;
    gateway.intercept('attach', (_payload, context) => {
      if (++attaches === 1) context.reply(context.standard());
      else held = context; // the second answer comes later
    });
    const client = await connectedClient();
    const first = client.attach({ sessionId: fake.id });
    const second = client.attach({ sessionId: fake.id }); // crosses the first
    const session = await first;
    const recorder = new OutputRecorder(session);
    await recorder.waitForText('ab\x1b[6n');
    await waitFor(() => held !== undefined, 'the second attach request');
    fake.append('cdef');
    // As the server answers: the buffer from 0 without the query; byteLength still counts its 4 bytes.
    held!.reply({ ...held!.standard(), replay: { sessionId: fake.id, offset: 0, byteLength: 10, data: 'abcdef' } });
    expect(await second).toBe(session);
    await recorder.waitForText('abcdef');
    // Bytes 6-10 are "cdef"; cut at the replay's 6th byte, they would be lost.
    expect(rows(recorder).at(-1)).toEqual([0, 'abcdef', 10, true]);
    expect(session.offset).toBe(10);
  });

  it('re-attaches from its offset when output has a gap, and continues exactly', async () => {
    const fake = gateway.addSession({ output: 'hello' });
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id }, { cols: 90, rows: 20 });
    const recorder = new OutputRecorder(session);
    await recorder.waitForText('hello');
    const states: string[] = [];
    session.onStateChange((state) => states.push(state));

    fake.append(' big'); // output this client never got
    fake.write('!'); // starts at 9: a gap after 5
    await recorder.waitForText('hello big!');

    expect(gateway.events('attach').map((e) => e.payload)[1]).toEqual({ sessionId: fake.id, since: 5, cols: 90, rows: 20, binary: true, smallAsText: true, resume: 1 });
    expect(rows(recorder)).toEqual([
      [0, 'hello', 5, false],
      [5, ' big!', 5, false],
    ]);
    expect(states).toEqual(['reattaching', 'attached']);
    fake.write('?');
    await recorder.waitForText('hello big!?');
  });

  it('a re-attach whose answer takes longer than answerTimeoutMs (a big replay on a slow link) is waited for, not sent again', async () => {
    const fake = gateway.addSession({ output: 'hello' });
    const client = await connectedClient({ answerTimeoutMs: 100 });
    const session = await client.attach({ sessionId: fake.id });
    const recorder = new OutputRecorder(session);
    await recorder.waitForText('hello');
    gateway.interceptOnce('attach', async (_payload, context) => {
      await new Promise((resolve) => setTimeout(resolve, 450)); // more than four answerTimeoutMs
      context.reply(context.standard());
    });
    fake.append(' world'); // missed: the next output has a gap, and the session re-attaches
    fake.write('!');
    await recorder.waitForText('hello world!');
    expect(gateway.events('attach')).toHaveLength(2); // the first attach and one re-attach, never repeated
    expect(gateway.events('detach')).toHaveLength(0);
    expect(session.state).toBe('attached');
    expect(rows(recorder)).toEqual([
      [0, 'hello', 5, false],
      [5, ' world!', 7, false],
    ]);
  });

  it('two attach() calls that cross: the late answer, a reset ending where the session already is, is not delivered again', async () => {
    const fake = gateway.addSession({ output: '0123456789' });
    fake.bufferStart = 4; // every answer is a reset
    const client = await connectedClient();
    const release = deferred();
    gateway.interceptOnce('attach', async (_payload, context) => {
      const answer = context.standard(); // made now, sent after the other's
      await release.promise;
      context.reply(answer);
    });
    const first = client.attach({ sessionId: fake.id });
    await waitFor(() => gateway.events('attach').length === 1, 'the first attach at the server');
    const session = await client.attach({ sessionId: fake.id });
    const recorder = new OutputRecorder(session);
    await recorder.waitForText('456789');
    fake.write('ab');
    await recorder.waitForText('456789ab');
    release.resolve();
    expect(await first).toBe(session);
    fake.write('c');
    await recorder.waitForText('456789abc');
    expect(rows(recorder)).toEqual([
      [4, '456789', 6, true],
      [10, 'ab', 2, false],
      [12, 'c', 1, false],
    ]);
    expect(gateway.events('attach')).toHaveLength(2); // no re-attach for a gap
  });

  it('delivers resets: an evicted replay, and a live reset', async () => {
    const fake = gateway.addSession({ output: '0123456789' });
    fake.bufferStart = 4;
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id }, { since: 2 });
    const recorder = new OutputRecorder(session);
    await recorder.waitForText('456789');
    expect(rows(recorder)).toEqual([[4, '456789', 6, true]]);

    gateway.emitOutput({ sessionId: fake.id, offset: 20, byteLength: 3, data: 'xyz', reset: true });
    // A reset that ends before what was received is a stale repeat: dropped.
    gateway.emitOutput({ sessionId: fake.id, offset: 0, byteLength: 2, data: '01', reset: true });
    await recorder.waitForText('xyz');
    await client.list();

    expect(rows(recorder)).toEqual([
      [4, '456789', 6, true],
      [20, 'xyz', 3, true],
    ]);
    expect(session.offset).toBe(23);
    expect(gateway.events('attach')).toHaveLength(1);
  });

  it('attaching to a session it follows already gives the same object', async () => {
    const fake = gateway.addSession({ key: 'k' });
    const client = await connectedClient();
    const first = await client.attach({ sessionId: fake.id });
    expect(await client.attach({ sessionId: fake.id })).toBe(first);
    expect(await client.attach({ key: 'k' })).toBe(first);
    expect(gateway.events('attach')).toHaveLength(1);
  });

  it('rejects an attach the server refuses with its code', async () => {
    const client = await connectedClient();
    expect((await rejection(client.attach({ sessionId: 'nope' }))).code).toBe('SESSION_NOT_FOUND');
    expect((await rejection(client.attach({} as never))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(client.attach({ sessionId: 'x' }, { cols: 80 }))).code).toBe('INVALID_ARGUMENT');
  });
});

describe('exit', () => {
  it('an answer that says "exited" while output after its replay is still owed: the output first, then the exit', async () => {
    // The gateway in screen mode: the answer (a snapshot at 10) is made after an await, during which the
    // program printed its last output (10..14, in the stream's batch) and exited; the batch and the exit follow.
    const fake = gateway.addSession({ output: 'x'.repeat(10) });
    fake.bufferStart = 10;
    const client = await connectedClient();
    gateway.interceptOnce('attach', (_payload, context) => {
      context.standard(); // registers the viewer
      fake.append('TAIL');
      const exit = { exitCode: 0, reason: 'exited' as const, exitedAt: Date.now() };
      fake.exit = exit;
      context.reply({
        ok: true,
        session: fake.info(), // exited, outputOffset 14
        replay: { sessionId: fake.id, offset: 10, byteLength: 0, data: Buffer.from('SCREEN'), reset: true, snapshot: true },
        flowControl: { ackIntervalBytes: 1024 },
      });
      setTimeout(() => {
        context.socket.emit('output', { sessionId: fake.id, offset: 10, byteLength: 4, data: Buffer.from('TAIL') });
        context.socket.emit('exit', { sessionId: fake.id, ...exit });
      }, 8);
    });
    const session = await client.attach({ sessionId: fake.id });
    const recorder = new OutputRecorder(session);
    await waitFor(() => recorder.exits.length > 0, 'the exit');
    expect({ text: recorder.text, offset: session.offset, exits: recorder.exits.length }).toEqual({ text: 'SCREENTAIL', offset: 14, exits: 1 });
  });

  it('fires once for a session that had exited, from the answer (the event that follows is ignored)', async () => {
    const fake = gateway.addSession({ output: 'bye' });
    fake.finish(3);
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id });
    const log: string[] = [];
    session.onOutput((o) => log.push(`output:${o.data}`));
    session.onExit((exit) => log.push(`exit:${exit.exitCode}`));
    await waitFor(() => log.length === 2, 'the output and the exit');
    await client.list(); // the gateway's exit event has arrived too

    expect(log).toEqual(['output:bye', 'exit:3']);
    expect(session.state).toBe('exited');
    expect(session.exit).toMatchObject({ exitCode: 3, reason: 'exited' });
  });

  it('takes an exit event that arrives before the attach answer', async () => {
    const fake = gateway.addSession({ key: 'done', output: 'out' });
    fake.finish(1);
    gateway.interceptOnce('attach', async (_payload, context) => {
      const answer = context.standard(); // schedules the exit event
      await nextTurn(); // the exit event has gone out
      context.reply(answer);
    });
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id });
    const recorder = new OutputRecorder(session);
    await waitFor(() => recorder.exits.length === 1, 'the exit');
    await client.list();

    expect(recorder.text).toBe('out');
    expect(recorder.exits).toHaveLength(1);
  });

  it('fires once from the live event, after the last output, and input is refused afterwards', async () => {
    const fake = gateway.addSession();
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id });
    const log: string[] = [];
    session.onOutput((o) => log.push(`output:${o.data}`));
    session.onExit((exit) => log.push(`exit:${exit.exitCode}`));
    fake.write('last words');
    const exit = fake.finish(7);
    gateway.namespace.emit('exit', { sessionId: fake.id, ...exit }); // a repeat
    await waitFor(() => session.state === 'exited', 'the exit');
    await client.list();

    expect(log).toEqual(['output:last words', 'exit:7']);
    expect((await rejection(session.write('x'))).code).toBe('SESSION_EXITED');
    let late: number | undefined;
    session.onExit((e) => (late = e.exitCode));
    await waitFor(() => late === 7, 'a late exit listener to be called');
  });

  it('close() ends the process: the answer has the exit, and the exit event follows', async () => {
    const fake = gateway.addSession({ output: '$ ' });
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id });
    const recorder = new OutputRecorder(session);
    const exit = await session.close();
    expect(exit.reason).toBe('closed');
    await waitFor(() => session.state === 'exited', 'the exit');
    expect(recorder.exits).toEqual([exit]);
    expect(recorder.text).toBe('$ ');
  });
});

describe('flow control', () => {
  it('auto mode acks every ackIntervalBytes processed, without asking for an answer', async () => {
    gateway.ackIntervalBytes = 100;
    const fake = gateway.addSession();
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id });
    const recorder = new OutputRecorder(session);
    for (let i = 0; i < 10; i++) fake.write('x'.repeat(30));
    await waitFor(() => session.offset === 300, 'all 300 bytes');
    await client.list(); // every ack sent so far has arrived

    expect(recorder.outputs).toHaveLength(10);
    expect(gateway.events('ack').map((e) => e.payload)).toEqual([
      { sessionId: fake.id, offset: 120 },
      { sessionId: fake.id, offset: 240 },
    ]);
    expect(gateway.events('ack').every((e) => !e.withAnswer)).toBe(true);
  });

  it('manual mode acks only what the application acknowledges, at the same interval', async () => {
    gateway.ackIntervalBytes = 100;
    const fake = gateway.addSession();
    const client = await connectedClient({ ackMode: 'manual' });
    const session = await client.attach({ sessionId: fake.id });
    new OutputRecorder(session);
    for (let i = 0; i < 10; i++) fake.write('y'.repeat(30));
    await waitFor(() => session.offset === 300, 'all 300 bytes');
    await client.list();
    expect(gateway.events('ack')).toHaveLength(0);

    session.ack(60); // under the interval
    session.ack(150); // sent
    session.ack(400); // not delivered yet: ignored
    session.ack(120); // older than the last: ignored
    session.ack(300); // 150 more: sent
    await client.list();
    expect(gateway.events('ack').map((e) => e.payload.offset)).toEqual([150, 300]);
  });
});

describe('input, resize, detach', () => {
  it('detach() during a write in several pieces: no piece goes out after it, and that write and the next reject with DETACHED', async () => {
    gateway.maxInputBytes = 8;
    const fake = gateway.addSession();
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id });
    new OutputRecorder(session);
    const firstPiece = deferred();
    const release = deferred();
    gateway.interceptOnce('input', async (_payload, context) => {
      firstPiece.resolve();
      await release.promise;
      context.reply(context.standard());
    });
    const written = session.write('0123456789abcdefghij'); // three pieces
    const next = session.write('X'); // waits for the last piece
    await firstPiece.promise;
    const detached = session.detach();
    release.resolve();
    await detached;
    const codes = [(await rejection(written)).code, (await rejection(next)).code];
    const detachAt = gateway.received.findIndex((r) => r.event === 'detach');
    expect(codes).toEqual(['DETACHED', 'DETACHED']);
    expect(gateway.received.slice(detachAt + 1).filter((r) => r.event === 'input')).toEqual([]);
  });

  it('sends input and resizes, and maps the server errors to codes', async () => {
    const fake = gateway.addSession();
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id }, { cols: 80, rows: 24 });
    await session.write('ls\r');
    await session.write('€');
    expect(fake.inputs).toEqual(['ls\r', '€']);

    expect(await session.resize(120, 40)).toEqual({ cols: 120, rows: 40 });
    expect(session.info).toMatchObject({ cols: 120, rows: 40 });
    // The server's policy may answer another size (here: never above 100 columns).
    gateway.interceptOnce('resize', (payload, context) => context.reply({ ok: true, cols: Math.min(payload.cols, 100), rows: payload.rows }));
    expect(await session.resize(150, 40)).toEqual({ cols: 100, rows: 40 });
    expect((await rejection(session.resize(0, 10))).code).toBe('INVALID_SIZE');

    gateway.interceptOnce('input', (_payload, context) => context.reply({ ok: false, error: { code: 'INPUT_TOO_LARGE', message: 'too large' } }));
    const error = await rejection(session.write('x'));
    expect(error.code).toBe('INPUT_TOO_LARGE');
    expect(error.message).toBe('too large');
  });

  it('sends input above the server limit in pieces, each after the one before is answered; a refused piece stops the rest', async () => {
    gateway.maxInputBytes = 8;
    const fake = gateway.addSession();
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id });
    await session.write('0123456789abcdefghij');
    expect(fake.inputs).toEqual(['01234567', '89abcdef', 'ghij']);

    // The server refuses the second piece (its program is not reading): the third is never sent.
    let inputs = 0;
    gateway.intercept('input', (_payload, context) => {
      inputs++;
      context.reply(inputs === 2 ? { ok: false, error: { code: 'INPUT_BACKLOG_FULL', message: 'not reading' } } : context.standard());
    });
    const paste = session.write('ABCDEFGHIJKLMNOPQRST');
    const enter = session.write('\r'); // written before the refusal is known: not sent after a cut paste
    expect((await rejection(paste)).code).toBe('INPUT_BACKLOG_FULL');
    expect((await rejection(enter)).code).toBe('INPUT_BACKLOG_FULL');
    await client.list(); // anything sent after the refusal has arrived by now
    expect(inputs).toBe(2);
    expect(fake.inputs.slice(3)).toEqual(['ABCDEFGH']);
    // Input written once the refusal is known goes out again.
    await session.write('ok');
    expect(fake.inputs.slice(3)).toEqual(['ABCDEFGH', 'ok']);
  });

  it('keeps input in order: a write made while a long one goes out in pieces waits for its last piece', async () => {
    gateway.maxInputBytes = 8;
    const fake = gateway.addSession();
    const client = await connectedClient();
    const session = await client.attach({ sessionId: fake.id });
    await Promise.all([session.write('a'), session.write('0123456789abcdefghij'), session.write('\r'), session.write('b')]);
    expect(fake.inputs).toEqual(['a', '01234567', '89abcdef', 'ghij', '\r', 'b']);
    // Single messages with no long write going out are not held for each other's answers.
    let answered = 0;
    gateway.intercept('input', async (_payload, context) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      answered++;
      context.reply(context.standard());
    });
    const keys = ['x', 'y', 'z'].map((key) => session.write(key));
    await waitFor(() => fake.inputs.length === 6 && gateway.events('input').length === 9, 'the three keystrokes at the server');
    expect(answered).toBe(0); // all three arrived before the first answer
    await Promise.all(keys);
  });

  it('an attach answered after its TIMEOUT is detached, so that the program is not held for nobody', async () => {
    const fake = gateway.addSession({ output: 'x' });
    const client = await connectedClient({ answerTimeoutMs: 100 });
    gateway.interceptOnce('attach', async (_payload, context) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      context.reply(context.standard());
    });
    expect((await rejection(client.attach({ sessionId: fake.id }))).code).toBe('TIMEOUT');
    await waitFor(() => gateway.events('detach').length === 1, 'the detach of the late attach');
    expect(gateway.events('detach')[0]!.payload).toEqual({ sessionId: fake.id });
    expect(fake.viewers.size).toBe(0);
    // An attach that completes in time is followed and not detached.
    const session = await client.attach({ sessionId: fake.id });
    expect(session.state).toBe('attached');
    await client.list();
    expect(gateway.events('detach')).toHaveLength(1);
  });

  it('a late attach answer arriving while the application retries that attach does not detach the retry', async () => {
    const fake = gateway.addSession({ output: 'x' });
    const client = await connectedClient({ answerTimeoutMs: 150 });
    const late = deferred();
    gateway.interceptOnce('attach', async (_payload, context) => {
      await late.promise; // answered only once the retry is on its way
      context.reply(context.standard());
    });
    expect((await rejection(client.attach({ sessionId: fake.id }))).code).toBe('TIMEOUT');
    gateway.interceptOnce('attach', async (_payload, context) => {
      const answer = context.standard();
      late.resolve(); // the first attach's late answer goes out before this one
      await new Promise((resolve) => setTimeout(resolve, 50));
      context.reply(answer);
    });
    const session = await client.attach({ sessionId: fake.id });
    await client.list();
    expect(gateway.events('detach')).toHaveLength(0);
    expect(session.state).toBe('attached');
    expect(fake.viewers.size).toBe(1);
  });

  it('detach stops following; attaching again with since continues where it stopped', async () => {
    const fake = gateway.addSession({ output: 'one;' });
    const client = await connectedClient();
    const first = await client.attach({ sessionId: fake.id });
    const firstRecorder = new OutputRecorder(first);
    await firstRecorder.waitForText('one;');
    await first.detach();
    expect(first.state).toBe('detached');
    expect(fake.viewers.size).toBe(0);
    expect((await rejection(first.write('x'))).code).toBe('DETACHED');
    await first.detach(); // idempotent

    fake.append('two;');
    const second = await client.attach({ sessionId: fake.id }, { since: first.offset });
    expect(second).not.toBe(first);
    const secondRecorder = new OutputRecorder(second);
    await secondRecorder.waitForText('two;');
    expect(rows(secondRecorder)).toEqual([[4, 'two;', 4, false]]);
    expect(firstRecorder.text).toBe('one;');
  });
});
