/**
 * Replay hygiene against a real program, the real gateway and the client
 * package: a terminal answers queries (cursor position, device attributes,
 * DECRQSS...) by typing into the program's input. Live, that is what the
 * program asked for; replayed to a client that attaches later, the same
 * queries would be answered again, into a shell that no longer waits for
 * them. So live output keeps its queries and replays carry none: after a
 * reattach the program receives no input but what the user types.
 *
 * Each client's terminal is a headless xterm.js that answers queries
 * (`onData` written back to the session), as a browser's would.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PtySessionClient, type PtyClientSession } from 'nestjs-pty-session-client';
import type { PtySession, PtySessionModuleOptions } from 'nestjs-pty-session';
import { CHILD_ENV } from './fixtures/pty-app.js';
import { createGatewayApp, TOKENS, type GatewayTestApp } from './fixtures/gateway-app.js';
import { PidTracker, waitFor } from './fixtures/processes.js';
import { ClientTerminal, render } from './fixtures/headless-terminal.js';

const PROGRAM = fileURLToPath(new URL('./fixtures/query-program.mjs', import.meta.url));
const COLS = 80;
const ROWS = 24;
/** What the program prints (see the fixture). */
const QUERIES = ['\x1b[6n', '\x1b[c', '\x1b]11;?\x07', '\x1b[?u', '\x1bP$qm\x1b\\'];
/** Answers @xterm/headless gives (it has no colours to report and no kitty keyboard: no answer to those two). */
const ANSWERS = [/\x1b\[\d+;\d+R/, /\x1b\[\?[\d;]*c/, /\x1bP1\$r[\d;]*m\x1b\\/];

let host: GatewayTestApp | undefined;
let directory: string | undefined;
const clients: PtySessionClient[] = [];
const pids = new PidTracker();
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await host?.close();
  host = undefined;
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
  expect(pids.killLeftovers()).toEqual([]);
});

/** The host, with the query program as its only profile; `inputs()` is every input chunk the program logged. */
async function startHost(options: PtySessionModuleOptions = {}) {
  directory = mkdtempSync(join(tmpdir(), 'replay-hygiene-'));
  const log = join(directory, 'input.jsonl');
  host = await createGatewayApp({
    profiles: { queries: { file: process.execPath, args: [PROGRAM, log], env: CHILD_ENV } },
    defaultProfile: 'queries',
    ...options,
  });
  const inputs = (): string[] => {
    let text = '';
    try {
      text = readFileSync(log, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string);
  };
  return { host, inputs };
}

async function newClient(): Promise<PtySessionClient> {
  const client = new PtySessionClient({ url: host!.url, auth: { token: TOKENS.alice }, ackMode: 'manual', socketOptions: { transports: ['websocket'] } });
  clients.push(client);
  await client.connect();
  return client;
}

/** Opens the program's session with an answering terminal attached from its first byte. */
async function openLive() {
  const client = await newClient();
  const { session } = await client.open({ profile: 'queries', cols: COLS, rows: ROWS });
  const server = host!.manager.getSession(session.id)!;
  pids.add(server.pid);
  const terminal = new ClientTerminal(session, COLS, ROWS);
  await waitFor(() => terminal.text.includes('query-program ready'), 5000, 'the program to start');
  return { client, session, server, terminal };
}

async function waitInStep(terminal: ClientTerminal, server: PtySession): Promise<void> {
  await waitFor(
    () => terminal.outputs.length > 0 && terminal.idle && terminal.parsedOffset === server.outputOffset,
    10_000,
    () => `the client at offset ${server.outputOffset} (parsed ${terminal.parsedOffset})`,
  );
}

/**
 * Types a marker key and waits for the program to log it. Input from one
 * client arrives in order, so anything this client's terminal typed before
 * (an answer to a replayed query) would be logged before the marker (the
 * pty may join them into one read).
 * @returns everything the program got since `from` (an index into its input chunks).
 */
async function typeMarker(session: PtyClientSession, inputs: () => string[], from: number): Promise<string> {
  await session.write('M');
  const since = () => inputs().slice(from).join('');
  await waitFor(() => since().endsWith('M'), 5000, () => `the marker in the program's input (got ${JSON.stringify(since().slice(-200))})`);
  return since();
}

const containsQuery = (text: string) => QUERIES.filter((query) => text.includes(query));

describe('replay hygiene: replays carry no terminal queries', () => {
  it('live output is answered; a client attaching later replays it without queries, and the program gets no stray answers', async () => {
    const { inputs } = await startHost();
    const live = await openLive();

    // Live: the queries reach the terminal untouched, and the program gets its answers.
    await live.session.write('?');
    await waitFor(() => ANSWERS.every((answer) => answer.test(inputs().join(''))), 5000, () => `the answers (got ${JSON.stringify(inputs())})`);
    await waitInStep(live.terminal, live.server);
    expect(containsQuery(live.terminal.text)).toEqual(QUERIES);
    expect(live.terminal.answers.length).toBeGreaterThanOrEqual(ANSWERS.length);

    // The first page goes away; the session keeps running.
    live.client.close();
    await waitFor(() => live.server.attachedClients === 0, 5000, 'the first client to be gone');
    const before = inputs().length;

    // A reloaded page attaches from the first byte, with a terminal that would answer whatever it is asked.
    const client = await newClient();
    const session = await client.attach({ sessionId: live.server.id }, { since: 0, cols: COLS, rows: ROWS });
    const terminal = new ClientTerminal(session, COLS, ROWS);
    await waitInStep(terminal, live.server);
    const replay = terminal.outputs[0]!;
    expect(replay).toMatchObject({ offset: 0, byteLength: live.server.outputOffset, reset: false });
    expect(replay.data).toContain('queries follow:');
    expect(replay.data).toContain(' end of queries');
    expect(containsQuery(replay.data)).toEqual([]);
    expect(terminal.answers).toEqual([]);

    // Nothing reached the program since the reattach but the marker typed afterwards.
    expect(await typeMarker(session, inputs, before)).toBe('M');

    // Control: the buffer itself still holds the queries, and a terminal fed it raw answers them.
    const raw = live.server.getReplayBuffer(0).data;
    expect(containsQuery(raw)).toEqual(QUERIES);
    const answered = (await render(raw, COLS, ROWS)).answers.join('');
    for (const answer of ANSWERS) expect(answered).toMatch(answer);
  });

  it('a client paused by flow control and reset from the buffer gets no queries either', async () => {
    const { inputs } = await startHost({
      replayBufferBytes: 4096,
      flowControl: { highWaterMarkBytes: 16 * 1024, lowWaterMarkBytes: 8 * 1024, ackIntervalBytes: 1024, pauseProgram: false }, // the program outruns the client
      // Small messages: the client stops at its high mark well before the end of the ~40 KB flood
      // (with 128 KiB batches it could get the whole flood in one message and never fall behind).
      outputBatching: { windowMs: 0, maxBytes: 2048 },
    });
    const { session, server, terminal } = await openLive();

    // The page stops drawing while the program floods ~40 KB of lines with queries in them.
    terminal.acking = false;
    await session.write('f');
    await waitFor(() => server.getReplayBuffer(0).data.includes('flood done'), 5000, 'the flood');
    await waitFor(() => terminal.idle, 5000, 'the client to parse what it was sent');
    // What it got live was answered live; a marker typed after those answers shows they have all landed.
    const livePart = terminal.text;
    expect(containsQuery(livePart)).toEqual(QUERIES);
    expect(server.outputOffset - session.offset).toBeGreaterThan(4096); // the rest was evicted meanwhile
    const sentAnswers = terminal.answers.length;
    expect(sentAnswers).toBeGreaterThan(0);
    await typeMarker(session, inputs, 0);
    const before = inputs().length;

    // The page draws again: the server sends a reset with what the buffer holds, without its queries.
    const outputsBefore = terminal.outputs.length;
    terminal.resumeAcks();
    await waitFor(() => terminal.outputs.slice(outputsBefore).some((o) => o.reset), 5000, 'the reset');
    await waitInStep(terminal, server);
    const reset = terminal.outputs.slice(outputsBefore).find((o) => o.reset)!;
    expect(reset.data).toContain('flood done');
    expect(containsQuery(reset.data)).toEqual([]);
    expect(terminal.answers).toHaveLength(sentAnswers);
    // Every flood line had a query after its number: stripped, the lines themselves intact.
    const lines = reset.data.match(/flood \d+ [^\r]*\r+\n/g) ?? []; // (the pty's onlcr: \r\r\n)
    expect(lines.length).toBeGreaterThan(50);
    expect(lines.filter((line) => !/^flood \d+ \r+\n$/.test(line))).toEqual([]);

    expect(await typeMarker(session, inputs, before)).toBe('M');
  });
});
