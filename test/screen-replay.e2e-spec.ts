/**
 * Screen replay mode against real processes, the real gateway and the
 * client package: a full-screen program whose mode-setting sequences were
 * evicted long ago is restored on a fresh client (a page reload) exactly
 * as it was drawn, where raw replay shows garbage; a client that still
 * has its offset gets bytes, not a snapshot; a client left behind by flow
 * control comes back through a snapshot; an exited session still shows its
 * last screen; a fast producer loses nothing while the emulator holds the
 * pty back.
 *
 * "As it was drawn" is checked by three terminals agreeing: the client's
 * (fed what the client package delivered), one fed the server's
 * `session.snapshot()`, and a reference fed the program's entire output
 * from its first byte.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { PtySessionClient, type PtyClientSession } from 'nestjs-pty-session-client';
import type { PtySession, PtySessionModuleOptions } from 'nestjs-pty-session';
import { CHILD_ENV } from './fixtures/pty-app.js';
import { createGatewayApp, TOKENS, type GatewayTestApp } from './fixtures/gateway-app.js';
import { PidTracker, waitFor } from './fixtures/processes.js';
import { ClientTerminal, render, type ScreenState } from './fixtures/headless-terminal.js';

const PROGRAM = fileURLToPath(new URL('./fixtures/fullscreen-program.mjs', import.meta.url));
const COLS = 80;
const ROWS = 24;
/** Small enough that the program's mode-setting sequences are evicted hundreds of kilobytes before it waits for input. */
const BUFFER_BYTES = 4096;

const PROFILES = {
  fullscreen: { file: process.execPath, args: [PROGRAM], env: CHILD_ENV },
  seq: { file: '/usr/bin/seq', args: ['1', '500000'], env: CHILD_ENV },
};

let host: GatewayTestApp | undefined;
const clients: PtySessionClient[] = [];
const pids = new PidTracker();
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await host?.close();
  host = undefined;
  expect(pids.killLeftovers()).toEqual([]);
});

async function startHost(options: PtySessionModuleOptions = {}): Promise<GatewayTestApp> {
  host = await createGatewayApp({ profiles: PROFILES, defaultProfile: 'fullscreen', replay: 'screen', replayBufferBytes: BUFFER_BYTES, ...options });
  return host;
}

/**
 * Starts the program for alice, server side, and records its entire output
 * from the first byte (no output can be read before `createSession`
 * resolves: reading the pty takes a turn of the event loop).
 */
async function startProgram(profile: keyof typeof PROFILES = 'fullscreen') {
  const session = await host!.manager.createSession({ owner: 'alice', profile, cols: COLS, rows: ROWS });
  pids.add(session.pid);
  const chunks: string[] = [];
  session.onOutput((chunk) => chunks.push(chunk.data));
  const output = () => chunks.join('');
  return { session, output };
}

async function waitForScreen(output: () => string, text: string): Promise<void> {
  await waitFor(() => output().includes(text), 15_000, () => `"${text}" in the program's output (${output().length} chars so far)`);
}

/** A fresh client (no offset: a reloaded page) attached to `sessionId` with a terminal of its own. */
async function attachClient(sessionId: string, since?: number): Promise<{ session: PtyClientSession; terminal: ClientTerminal }> {
  const client = new PtySessionClient({ url: host!.url, auth: { token: TOKENS.alice }, ackMode: 'manual', socketOptions: { transports: ['websocket'] } });
  clients.push(client);
  await client.connect();
  const session = await client.attach({ sessionId }, { cols: COLS, rows: ROWS, ...(since !== undefined ? { since } : {}) });
  return { session, terminal: new ClientTerminal(session, COLS, ROWS) };
}

/** Waits until the client's terminal has parsed everything the session produced so far. */
async function waitInStep(terminal: ClientTerminal, server: PtySession): Promise<void> {
  await waitFor(
    () => terminal.outputs.length > 0 && terminal.idle && terminal.parsedOffset === server.outputOffset,
    15_000,
    () => `the client at offset ${server.outputOffset} (parsed ${terminal.parsedOffset}, ${terminal.outputs.length} outputs)`,
  );
}

/** What the program drew: a fresh terminal fed its entire output. */
async function reference(output: string): Promise<ScreenState> {
  return (await render(output, COLS, ROWS)).state;
}

/** The server emulator's screen: its snapshot on a fresh terminal. */
async function serverScreen(server: PtySession): Promise<ScreenState> {
  const snapshot = await server.snapshot();
  expect({ cols: snapshot.cols, rows: snapshot.rows, offset: snapshot.offset }).toEqual({ cols: COLS, rows: ROWS, offset: server.outputOffset });
  return (await render(snapshot.data, COLS, ROWS)).state;
}

describe('screen mode: a fresh client gets the screen the program drew', () => {
  it('restores text, colours, alternate buffer, cursor and modes evicted long ago, then follows live', async () => {
    await startHost();
    const { session: server, output } = await startProgram();
    await waitForScreen(output, 'status: READY');

    // The precondition: the mode-setting sequences are long gone from the buffer.
    const buffered = server.getReplayBuffer(0);
    expect(buffered.truncated).toBe(true);
    expect(server.outputOffset).toBeGreaterThan(200_000);
    expect(buffered.data).not.toContain('\x1b[?1049h');
    expect(buffered.data).not.toContain('\x1b[?25l');

    const drawn = await reference(output());
    // What the program drew, for the record (and so a broken fixture cannot pass).
    expect(drawn).toMatchObject({
      bufferType: 'alternate',
      title: 'fullscreen-program: the title',
      cursor: { x: 22, y: ROWS - 1 },
      modes: {
        applicationCursorKeys: true,
        bracketedPaste: true,
        mouseTracking: 'vt200',
        mouseEncoding: 'SGR',
        cursorHidden: true,
        scrollRegion: [2, ROWS - 5],
        cursorShape: { style: 'bar', blink: true },
      },
    });
    expect(buffered.data).not.toContain('\x1b]2;');
    expect(drawn.text[0]).toContain('fullscreen-program');
    expect(drawn.text[ROWS - 2]).toContain('status: READY');
    expect(drawn.styled[0]).toMatch(/^\[\d+,15,\d+,4,1,/); // bold, bright white (15) on blue (4)

    const { session, terminal } = await attachClient(server.id);
    await waitInStep(terminal, server);
    expect(terminal.outputs[0]).toMatchObject({ reset: true, snapshot: true, offset: server.outputOffset, byteLength: 0 });

    const client = terminal.state();
    expect(client).toEqual(await serverScreen(server));
    expect(client).toEqual(drawn);

    // Live output continues on the restored screen: a key scrolls the region and redraws the status bar.
    await session.write('x');
    await waitForScreen(output, 'KEY 1 "x"');
    await waitInStep(terminal, server);
    const afterKey = await reference(output());
    expect(afterKey.text[ROWS - 5]).toBe('key 1: "x"');
    expect(afterKey.text[0]).toContain('fullscreen-program'); // outside the scroll region: not scrolled
    expect(terminal.state()).toEqual(afterKey);
    expect(terminal.outputs.slice(1).some((o) => o.reset)).toBe(false);
    // Nothing the terminal typed back but the key.
    expect(terminal.answers).toEqual([]);
  });

  it('control: in raw mode the same program reattaches to a wrong screen, and snapshot() is unavailable', async () => {
    await startHost({ replay: 'raw' });
    const { session: server, output } = await startProgram();
    await waitForScreen(output, 'status: READY');
    await expect(server.snapshot()).rejects.toMatchObject({ code: 'SCREEN_UNAVAILABLE' });

    const { terminal } = await attachClient(server.id);
    await waitInStep(terminal, server);
    expect(terminal.outputs[0]).toMatchObject({ reset: true, snapshot: false });
    const drawn = await reference(output());
    const client = terminal.state();
    expect(client).not.toEqual(drawn);
    // Wrong in the ways a user notices: the normal screen, keys and mouse in the wrong modes, the title bar missing.
    expect(client.bufferType).toBe('normal');
    expect(client.modes).toMatchObject({ applicationCursorKeys: false, bracketedPaste: false, mouseTracking: 'none', cursorHidden: false });
    expect(client.text[0]).not.toContain('fullscreen-program');
  });
});

describe('screen mode: what each kind of client gets', () => {
  it('a client whose offset is still buffered gets exactly the missed bytes, no snapshot', async () => {
    await startHost();
    const { session: server, output } = await startProgram();
    await waitForScreen(output, 'status: READY');
    const first = await attachClient(server.id);
    await waitInStep(first.terminal, server);
    const saved = first.session.offset;
    clients.pop()!.close();

    server.write('k');
    await waitForScreen(output, 'KEY 1 "k"');
    const missed = Buffer.from(output()).subarray(saved);
    expect(missed.length).toBeGreaterThan(0);
    expect(missed.length).toBeLessThan(BUFFER_BYTES);

    const { terminal } = await attachClient(server.id, saved);
    await waitInStep(terminal, server);
    expect(terminal.outputs.map((o) => ({ offset: o.offset, byteLength: o.byteLength, reset: o.reset, snapshot: o.snapshot }))).toEqual([
      { offset: saved, byteLength: missed.length, reset: false, snapshot: false },
    ]);
    expect(terminal.outputs[0]!.data).toBe(missed.toString());
  });

  it('a client paused by flow control whose missed output was evicted catches up through a snapshot', async () => {
    await startHost({
      flowControl: { highWaterMarkBytes: 16 * 1024, lowWaterMarkBytes: 8 * 1024, ackIntervalBytes: 1024, pauseProgram: false }, // the program outruns the client: its missed output is evicted
      // Small messages: the client stops at its high mark well before the end of the burst (a batch is
      // sent whole, and with the default 512 KiB batches one message could carry all of it).
      outputBatching: { maxBytes: 4 * 1024 },
    });
    const { session: server, output } = await startProgram();
    await waitForScreen(output, 'status: READY');
    const { session, terminal } = await attachClient(server.id);
    await waitInStep(terminal, server);

    // The page stops drawing (a background tab) while the program redraws another ~300 KB.
    terminal.acking = false;
    await session.write('b');
    await waitForScreen(output, 'BURST-DONE 1');
    await waitFor(() => terminal.idle, 5000, 'the client to parse what it was sent');
    const behind = server.outputOffset - session.offset;
    expect(behind).toBeGreaterThan(BUFFER_BYTES); // what it missed is no longer buffered
    const outputsBefore = terminal.outputs.length;

    terminal.resumeAcks();
    await waitInStep(terminal, server);
    const caughtUp = terminal.outputs.slice(outputsBefore);
    expect(caughtUp[0]).toMatchObject({ reset: true, snapshot: true });
    const client = terminal.state();
    expect(client.text[ROWS - 2]).toContain('BURST-DONE 1');
    expect(client).toEqual(await reference(output()));
  });

  it('after the program exits, a late client still gets its last screen', async () => {
    await startHost();
    const { session: server, output } = await startProgram();
    await waitForScreen(output, 'status: READY');
    server.write('q');
    expect(await server.whenExited()).toMatchObject({ exitCode: 0 });

    const { session, terminal } = await attachClient(server.id);
    const exit = await new Promise((resolve) => session.onExit(resolve));
    expect(exit).toMatchObject({ exitCode: 0, reason: 'exited' });
    await waitFor(() => terminal.idle, 5000, 'the client to parse the snapshot');
    expect(terminal.outputs).toHaveLength(1);
    expect(terminal.outputs[0]).toMatchObject({ reset: true, snapshot: true, offset: server.outputOffset });

    const drawn = await reference(output());
    expect(drawn.bufferType).toBe('normal');
    // The normal screen's first line was written before 300 KB of alternate-screen output: evicted, yet restored.
    expect(drawn.text.slice(0, 2)).toEqual(['before the alternate screen: normal-screen text', 'bye']);
    expect(terminal.state()).toEqual(drawn);
  });

  it('a fast producer with a small maxLagBytes delivers every byte and ends', async () => {
    await startHost({ replayBufferBytes: 256 * 1024, screen: { maxLagBytes: 64 * 1024 } });
    const client = new PtySessionClient({ url: host!.url, auth: { token: TOKENS.alice }, socketOptions: { transports: ['websocket'] } });
    clients.push(client);
    await client.connect();
    const { session } = await client.open({ profile: 'seq', cols: COLS, rows: ROWS });
    const server = host!.manager.getSession(session.id)!;
    pids.add(server.pid);
    const received: string[] = [];
    let next = 0;
    const problems: string[] = [];
    session.onOutput((o) => {
      if (o.reset || o.offset !== next) problems.push(`output at ${o.offset} (reset ${o.reset}), expected ${next}`);
      next = o.offset + o.byteLength;
      received.push(o.data);
    });
    const exit = await new Promise((resolve) => session.onExit(resolve));

    const expected = Array.from({ length: 500_000 }, (_, i) => String(i + 1)).join('\r\n') + '\r\n';
    expect(exit).toMatchObject({ exitCode: 0, reason: 'exited' });
    expect(problems).toEqual([]);
    expect(next).toBe(expected.length);
    expect(received.join('') === expected).toBe(true); // (toBe on 3.9 MB strings would print them)
    // The emulator, held back along the way, parsed it all too.
    const screen = (await render((await server.snapshot()).data, COLS, ROWS)).state;
    expect(screen.text.slice(-3)).toEqual(['499999', '500000', '']);
  });
});

describe('screen mode: a session holds at most screen.maxCells cells', () => {
  // Prints its size, then 500 numbered lines and its size again once told to.
  const sized = { file: '/bin/sh', args: ['-c', 'stty size; read go; seq 1 500; stty size; read end'], env: CHILD_ENV };

  it('a larger size is lowered (rows first), and a wide screen keeps only the lines of scrollback that fit', async () => {
    host = await createGatewayApp({ profiles: { sized, sizedRaw: { ...sized, replay: 'raw' } }, defaultProfile: 'sized', replay: 'screen', screen: { maxCells: 8000, scrollback: 50 } });
    const client = new PtySessionClient({ url: host.url, auth: { token: TOKENS.alice }, socketOptions: { transports: ['websocket'] } });
    clients.push(client);
    const { session } = await client.open({ profile: 'sized', cols: 200, rows: 50 });
    const server = host.manager.getSession(session.id)!;
    pids.add(server.pid);
    let text = '';
    session.onOutput((o) => (text += o.data));
    // 200 x 50, with its alternate screen and a line of scrollback, is 20,100 cells: the program starts at 200 x 19.
    await waitFor(() => text.includes('19 200'), 10_000, () => `the first size (${JSON.stringify(text)})`);
    expect({ cols: server.cols, rows: server.rows }).toEqual({ cols: 200, rows: 19 });
    expect(await session.resize(100, 100)).toMatchObject({ cols: 100, rows: 39 });
    expect(await session.resize(100, 30)).toMatchObject({ cols: 100, rows: 30 });
    await session.write('go\r');
    await waitFor(() => text.includes('500\r\n30 100'), 10_000, () => `the lines and the last size (${text.length} chars)`);

    // 8000 cells at 100 columns are 80 lines: 30 of the screen, 30 of the alternate screen, 20 of scrollback (not 50).
    const snapshot = await server.snapshot();
    expect({ cols: snapshot.cols, rows: snapshot.rows }).toEqual({ cols: 100, rows: 30 });
    const numbers = [...snapshot.data.matchAll(/(?<=^|\r\n)(\d+)(?=\r\n)/g)].map((match) => Number(match[1]));
    expect(Math.max(...numbers)).toBe(500);
    expect(Math.min(...numbers)).toBeGreaterThan(500 - 50);
    expect(Math.min(...numbers)).toBeLessThan(500 - 30);

    // Control: a raw-mode session of the same host takes any size within maxCols x maxRows.
    const raw = await client.open({ profile: 'sizedRaw', cols: 200, rows: 50 });
    const rawServer = host.manager.getSession(raw.session.id)!;
    pids.add(rawServer.pid);
    expect({ cols: rawServer.cols, rows: rawServer.rows }).toEqual({ cols: 200, rows: 50 });
    expect(await raw.session.resize(100, 100)).toMatchObject({ cols: 100, rows: 100 });
  });
});
