/**
 * Input a program has not read yet, and the last output of a program held by
 * flow control, with real ptys, real sockets and the gateway. Regression tests of:
 * - node-pty 1.1.0 queued input the pty could not take without limit and
 *   retried it on every turn of the event loop: a program in raw mode that
 *   does not read let one user grow the server's memory and spend a core.
 *   Now at most `maxInputBacklogBytes` wait, then `input` answers
 *   INPUT_BACKLOG_FULL (what waits is `PtySession.inputBacklogBytes`).
 * - node-pty kept retrying that queue after the program exited and its pty
 *   master was closed: the bytes went to whatever the server opened next
 *   under the same descriptor number (another user's pty or socket). Now
 *   nothing is written once the master closes.
 * - A program that exited while its session held its reading paused lost its
 *   last output: node-pty destroyed its paused read stream with it.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nodePty from 'node-pty';
import type { Socket } from 'socket.io-client';
import type { PtySession, PtySessionModuleOptions } from 'nestjs-pty-session';
import { PTY_INPUT_CHUNK_BYTES } from '../libs/pty-session/src/pty-session.constants.js';
import { createGatewayApp, request, TOKENS, type GatewayTestApp } from './fixtures/gateway-app.js';
import { SessionWire } from './fixtures/gateway-host.js';
import { CHILD_ENV, OutputRecorder, PROFILES } from './fixtures/pty-app.js';
import { childPidsOf, isProcessGone, PidTracker, waitFor, waitForGone } from './fixtures/processes.js';

/** A small backlog limit keeps the flood short. */
const BACKLOG_LIMIT = 256 * 1024;
/** One `input` message of the flood: under maxInputBytes (64 KiB). */
const MESSAGE_BYTES = 60_000;
/** What the held program prints before its final line: more than the high mark below. */
const BULK_BYTES = 24_000;
const SMALL_FLOW = { highWaterMarkBytes: 16 * 1024, lowWaterMarkBytes: 8 * 1024, ackIntervalBytes: 2 * 1024 };

const HOST_PROFILES = {
  bash: PROFILES.bash,
  /** Raw mode, and never reads its input. */
  deaf: { file: '/bin/bash', args: ['-c', 'stty raw -echo; echo READY-$((6*7)); exec sleep 30'], env: CHILD_ENV },
  /** Reads a line, prints its last words and exits. */
  lastWords: { file: '/bin/bash', args: ['-c', 'IFS= read -r go; echo "FINAL-$((6*7))"'], env: CHILD_ENV },
  /** A build: prints a lot on one line, then its final line on a second one, and fails. */
  build: {
    file: '/bin/bash',
    args: ['-c', `IFS= read -r go; head -c ${BULK_BYTES} /dev/zero | tr '\\0' x; IFS= read -r end; echo "FINAL: $((1+2)) errors"; exit 2`],
    env: CHILD_ENV,
  },
};

let host: GatewayTestApp | undefined;
const pids = new PidTracker();
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await host?.close();
  host = undefined;
  expect(pids.killLeftovers()).toEqual([]);
});

describe('input backlog and the last output of a held program (real ptys)', () => {
  it('input to a program that does not read waits, bounded: past maxInputBacklogBytes the gateway answers INPUT_BACKLOG_FULL; other sessions still echo; closing leaves nothing waiting', async () => {
    host = await startHost({ maxInputBacklogBytes: BACKLOG_LIMIT });
    const bob = await shell(await host.connect(TOKENS.bob));
    const bobPid = host.manager.getSession(bob.sessionId!)!.pid;
    await echo(bob, 'before');

    const alice = await host.connect(TOKENS.alice);
    const created = await request(alice, 'create', { profile: 'deaf' });
    expect(created).toMatchObject({ ok: true });
    const wire = new SessionWire(alice, created.ok ? created.session.id : undefined);
    expect(await wire.attach({ since: 0 })).toMatchObject({ ok: true });
    const session = host.manager.getSession(wire.sessionId!)!;
    pids.add(session.pid);
    await wire.waitForText(/READY-42/);

    const message = 'x'.repeat(MESSAGE_BYTES);
    const answers: string[] = [];
    const waiting: number[] = [];
    let refusal: unknown;
    for (let i = 0; i < 20; i++) {
      const answer = await request(alice, 'input', { sessionId: wire.sessionId, data: message });
      answers.push(answer.ok ? 'ok' : answer.error.code);
      waiting.push(session.inputBacklogBytes);
      if (!answer.ok) refusal ??= answer;
    }
    // Accepted until what waits would pass the limit, then refused while the program reads nothing.
    const firstRefused = answers.indexOf('INPUT_BACKLOG_FULL');
    expect(answers).toContain('INPUT_BACKLOG_FULL');
    expect(firstRefused).toBeGreaterThan(0);
    expect(answers).toEqual(answers.map((_, i) => (i < firstRefused ? 'ok' : 'INPUT_BACKLOG_FULL')));
    expect(waiting[firstRefused - 1] + MESSAGE_BYTES).toBeGreaterThan(BACKLOG_LIMIT); // refused only when full
    expect(Math.max(...waiting)).toBeLessThanOrEqual(BACKLOG_LIMIT + MESSAGE_BYTES);
    expect(session.inputBacklogBytes).toBeGreaterThan(0);
    expect(refusal).toEqual({ ok: false, error: { code: 'INPUT_BACKLOG_FULL', message: expect.stringContaining('maxInputBacklogBytes') } });
    // After a refusal even a keystroke that would fit is refused while input waits: a paste refused is
    // never followed by its Enter, which would run what came before it.
    expect(await request(alice, 'input', { sessionId: wire.sessionId, data: '\r' })).toMatchObject({ ok: false, error: { code: 'INPUT_BACKLOG_FULL' } });

    // Another user's session on the same host is served as before.
    await echo(bob, 'after');

    expect(await request(alice, 'close', { sessionId: wire.sessionId })).toMatchObject({ ok: true, exit: { reason: 'closed' } });
    expect(session.status).toBe('exited');
    expect(session.inputBacklogBytes).toBe(0);
    await waitForGone([session.pid], 5000);
    expect(childPidsOf(process.pid)).toEqual([bobPid]);
  });

  it("an adopted pty with node-pty's XON/XOFF handling gets the same bounded writer; its XOFF/XON still pause and resume it", async () => {
    host = await startHost({ maxInputBacklogBytes: BACKLOG_LIMIT });
    const pty = nodePty.spawn('/bin/bash', ['-c', 'stty raw -echo; echo READY-$((6*7)); exec sleep 30'], {
      name: 'xterm-256color',
      cols: 80,
      rows: 24,
      env: CHILD_ENV,
      handleFlowControl: true,
    });
    pids.add(pty.pid);
    const session = await host.manager.createSession({ pty });
    const out = new OutputRecorder(session);
    await out.waitFor(/READY-42/);
    let refused: string | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      try {
        session.write('y'.repeat(MESSAGE_BYTES));
      } catch (error) {
        refused = (error as { code?: string }).code;
      }
    }
    expect(refused).toBe('INPUT_BACKLOG_FULL');
    const internals = pty as unknown as { _writeStream: { _writeQueue: unknown[] }; _socket: { isPaused(): boolean } };
    expect(internals._writeStream._writeQueue).toHaveLength(0); // node-pty's unbounded queue is not used
    // node-pty's flow-control commands are not bytes for the program: they pause and resume the pty's reading.
    expect(() => session.write('\x13')).not.toThrow(); // XOFF: taken by node-pty even with the backlog full
    expect(internals._socket.isPaused()).toBe(true);
    session.write('\x11'); // XON
    expect(internals._socket.isPaused()).toBe(false);
    await host.manager.closeSession(session.id);
    expect(session.inputBacklogBytes).toBe(0);
  });

  it('a slow reader gets every byte of a large input sent in many messages, in order, multi-byte UTF-8 included', async () => {
    const chunks = 64;
    const total = chunks * 8192;
    const limit = 128 * 1024;
    // Reads 8 KiB at a time with a pause after each.
    const { go, received, socket, wire, session } = await readerOnGo(
      (into) => `for i in $(seq 1 ${chunks}); do head -c 8192 || exit 1; sleep 0.01; done > '${into}'`,
      { maxInputBacklogBytes: limit },
    );

    const text = mixedText(total);
    const expected = Buffer.from(text, 'utf8');
    expect(expected.length).toBe(total);
    const messages = splitByBytes(text, [60_000, 3, 45_000, 1_000, 17, 30_001]);
    // Each message is sent once accepted; a refused one is sent again a little later. The reader
    // starts at the first refusal (or once all is sent): until then its input can only pile up.
    let refused = 0;
    let maxWaiting = 0;
    for (const data of messages) {
      for (;;) {
        const answer = await request(socket, 'input', { sessionId: wire.sessionId, data });
        maxWaiting = Math.max(maxWaiting, session.inputBacklogBytes);
        if (answer.ok) break;
        expect(answer.error.code).toBe('INPUT_BACKLOG_FULL');
        if (refused++ === 0) writeFileSync(go, '');
        await sleep(10);
      }
    }
    if (!existsSync(go)) writeFileSync(go, '');
    await wire.waitForText(/DONE-42/, 20_000).catch((error) => {
      throw new Error(`${(error as Error).message}; the program received ${existsSync(received) ? readFileSync(received).length : 0} of ${total} bytes`);
    });
    expect((await wire.waitForExit()).exitCode).toBe(0);

    const got = readFileSync(received);
    expect(got.length).toBe(expected.length);
    expect(firstDifference(got, expected)).toBe(-1);
    // The queue was used: input waited, was refused past the limit, and what was refused was not written.
    expect(refused).toBeGreaterThan(0);
    expect(maxWaiting).toBeGreaterThan(0);
    expect(maxWaiting).toBeLessThanOrEqual(limit);
    expect(session.inputBacklogBytes).toBe(0);
  });

  it('keystroke after keystroke to a program that does not read waits in a few chunks, not one buffer each, and all of it arrives in order once it reads', async () => {
    const total = 200_000;
    const { go, received, wire, session } = await readerOnGo((into) => `head -c ${total} > '${into}'`);

    const text = Array.from({ length: total }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    for (const key of text) session.write(key);
    // What the pty did not take waits, 1-byte inputs copied into chunks of PTY_INPUT_CHUNK_BYTES: a few, where
    // one Buffer per keystroke (~100 bytes of memory each) was written out one system call at a time, and
    // dropped from the front of an array of hundreds of thousands (quadratic: 300,000 stalled the host 27 s).
    const writer = (session as unknown as { input: { queue: unknown[]; head: number } }).input;
    expect(session.inputBacklogBytes).toBeGreaterThan(total / 2);
    expect(writer.queue.length - writer.head).toBeLessThanOrEqual(Math.ceil(session.inputBacklogBytes / PTY_INPUT_CHUNK_BYTES) + 1);

    writeFileSync(go, '');
    await wire.waitForText(/DONE-42/, 20_000).catch((error) => {
      throw new Error(`${(error as Error).message}; the program received ${existsSync(received) ? readFileSync(received).length : 0} of ${total} bytes`);
    });
    expect(readFileSync(received, 'latin1')).toBe(text);
    expect(session.inputBacklogBytes).toBe(0);
  });

  it("input still waiting when the program exits is dropped: none of it reaches a pty opened under the closed master's descriptor number", async () => {
    host = await startHost();
    const session = await host.manager.createSession({ profile: 'deaf' });
    pids.add(session.pid);
    const out = new OutputRecorder(session);
    await out.waitFor(/READY-42/);
    const masterFd = descriptorOf(ptyOf(session));
    // Should node-pty's own write queue be in use again (the defect back), empty it afterwards, so
    // that its retries do not write into the descriptors of the tests that follow.
    cleanups.push(() => {
      const queue = (ptyOf(session) as unknown as { _writeStream?: { _writeQueue?: unknown[] } })._writeStream?._writeQueue;
      if (queue) queue.length = 0;
    });

    const line = 'echo STRAY-INPUT\r';
    for (let i = 0; i < 4; i++) session.write(line.repeat(Math.floor(MESSAGE_BYTES / line.length)));

    // Right when node-pty closes the master (its number is then free), another pty is opened under that number.
    let waitingAtClose: number | undefined;
    const victim = victimPty(masterFd, '/bin/cat');
    const hookErrors = aroundMasterClose(session, {
      before: () => (waitingAtClose = session.inputBacklogBytes),
      after: () => victim.open(),
    });

    process.kill(session.pid, 'SIGTERM'); // the program exits by itself, as far as the session knows
    expect(await session.whenExited()).toMatchObject({ reason: 'exited', signal: 15 });
    expect(hookErrors).toEqual([]);
    expect(victim.pty).toBeDefined();
    expect(descriptorOf(victim.pty!)).toBe(masterFd);
    // The victim echoes what is written to it: a probe shows up, the other session's input does not.
    victim.pty!.write('VICTIM-PROBE\r');
    await waitFor(() => victim.output.includes('VICTIM-PROBE'), 5000, () => `the probe's echo (got ${JSON.stringify(victim.output.slice(0, 200))})`);
    await sleep(200);
    expect(occurrences(victim.output, 'STRAY-INPUT')).toBe(0);
    // Input did wait until the master closed, and nothing waits now.
    expect(waitingAtClose).toBeGreaterThan(0);
    expect(session.inputBacklogBytes).toBe(0);
  });

  it("once node-pty closed the master, a resize or input of the exiting session never reaches a pty opened under its number", async () => {
    // node-pty reports the exit only after it closed the master; a resize in between is an ioctl on the number.
    host = await startHost();
    const session = await host.manager.createSession({ profile: 'bash' });
    pids.add(session.pid);
    const masterFd = descriptorOf(ptyOf(session));
    const victim = victimPty(masterFd, '/bin/sh');
    const afterClose: unknown[] = [];
    const hookErrors = aroundMasterClose(session, {
      after: () => {
        victim.open();
        // The session does not know of the exit yet: it is asked for a resize and input now.
        session.resize(123, 45);
        try {
          session.write('echo SESSION-INPUT\r');
        } catch (error) {
          afterClose.push((error as { code?: string }).code);
        }
      },
    });

    process.kill(session.pid, 'SIGKILL');
    await session.whenExited();
    expect(hookErrors).toEqual([]);
    expect(descriptorOf(victim.pty!)).toBe(masterFd);
    expect(afterClose).toEqual(['SESSION_EXITED']);
    victim.pty!.write('stty size; echo VICTIM-DONE\r');
    await waitFor(() => /VICTIM-DONE\r?\n/.test(victim.output.split('stty size')[1] ?? ''), 5000, () => `the victim's answer (got ${JSON.stringify(victim.output.slice(-200))})`);
    expect(victim.output).toMatch(/24 80/);
    expect(victim.output).not.toContain('SESSION-INPUT');
  });

  it('a program that exits while its reading is held keeps its last output: the replay ends with it', async () => {
    host = await startHost();
    const session = await host.manager.createSession({ profile: 'lastWords' });
    pids.add(session.pid);
    session.holdReading({}, true); // as a gateway stream does while every client is behind
    let recordedAtClose: number | undefined;
    const hookErrors = aroundMasterClose(session, { before: () => (recordedAtClose = session.outputOffset) });

    session.write('go\r');
    const exit = await session.whenExited();
    expect(exit).toMatchObject({ exitCode: 0, reason: 'exited' });
    expect(hookErrors).toEqual([]);
    expect(recordedAtClose).toBe(0); // held to the end: nothing was read before node-pty closed the pty
    expect(session.getReplayBuffer().data).toMatch(/FINAL-42\r\n$/);
    const late = session.attach({ onOutput: () => {} });
    expect(late.replay.data).toMatch(/FINAL-42\r\n$/);
    late.detach();
    expect(host.manager.getSession(session.id)?.getReplayBuffer(0).data).toMatch(/^go\r\n.*FINAL-42\r\n$/s);
  });

  it('through the gateway, a client that fell behind (its program held) gets the final line once it acknowledges', async () => {
    host = await startHost({ flowControl: SMALL_FLOW });
    const socket = await host.connect(TOKENS.alice);
    const created = await request(socket, 'create', { profile: 'build' });
    const wire = new SessionWire(socket, created.ok ? created.session.id : undefined, false); // a background tab: no acks
    expect(await wire.attach({ since: 0 })).toMatchObject({ ok: true });
    const session = host.manager.getSession(wire.sessionId!)!;
    pids.add(session.pid);

    expect(await request(socket, 'input', { sessionId: wire.sessionId, data: 'go\r' })).toEqual({ ok: true });
    // More than the high mark unacknowledged: flow control pauses the program.
    await waitFor(() => isReadingHeld(session), 10_000, () => `the program to be held (client has ${wire.endOffset} bytes)`);
    expect(await request(socket, 'input', { sessionId: wire.sessionId, data: 'end\r' })).toEqual({ ok: true });
    expect(await session.whenExited()).toMatchObject({ exitCode: 2 });

    // The client catches up: it acknowledges what it has until the exit comes.
    await waitFor(
      async () => {
        if (wire.exits.length === 0) expect(await wire.ack()).toMatchObject({ ok: true });
        return wire.exits.length > 0;
      },
      10_000,
      () => `the exit (client has ${wire.endOffset} of ${session.outputOffset} bytes)`,
    );
    const { text, problems, resets } = wire.assembled();
    expect(problems).toEqual([]);
    expect(resets).toEqual([]);
    expect(occurrences(text, 'x')).toBe(BULK_BYTES);
    expect(text.slice(-40)).toMatch(/FINAL: 3 errors\r\n$/);
    expect(wire.exits[0]).toMatchObject({ exitCode: 2, reason: 'exited' });
    expect(session.getReplayBuffer().data.slice(-40)).toMatch(/FINAL: 3 errors\r\n$/);
  });
});

/**
 * A session, attached, of a program in raw mode that waits for the `go` file, then runs the `reader`
 * command (given the file to write what it reads to) and prints DONE-42; once it printed READY-42.
 */
async function readerOnGo(reader: (into: string) => string, options: PtySessionModuleOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pty-input-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const [go, received] = [join(dir, 'go'), join(dir, 'received')];
  const script = `stty raw -echo; echo READY-$((6*7)); until [ -e '${go}' ]; do sleep 0.02; done; ${reader(received)}; echo DONE-$((6*7))`;
  host = await startHost({ ...options, profiles: { ...HOST_PROFILES, reader: { file: '/bin/bash', args: ['-c', script], env: CHILD_ENV } } });
  const socket = await host.connect(TOKENS.alice);
  const created = await request(socket, 'create', { profile: 'reader' });
  const wire = new SessionWire(socket, created.ok ? created.session.id : undefined);
  expect(await wire.attach({ since: 0 })).toMatchObject({ ok: true });
  const session = host.manager.getSession(wire.sessionId!)!;
  pids.add(session.pid);
  await wire.waitForText(/READY-42/);
  return { go, received, socket, wire, session };
}

function startHost(options: PtySessionModuleOptions = {}): Promise<GatewayTestApp> {
  return createGatewayApp({ profiles: HOST_PROFILES, defaultProfile: 'bash', ...options });
}

/** Creates a bash session for `socket`, attached, once the shell answers. */
async function shell(socket: Socket): Promise<SessionWire> {
  const created = await request(socket, 'create', { profile: 'bash' });
  expect(created).toMatchObject({ ok: true });
  const wire = new SessionWire(socket, created.ok ? created.session.id : undefined);
  expect(await wire.attach()).toMatchObject({ ok: true });
  pids.add(host!.manager.getSession(wire.sessionId!)!.pid);
  return wire;
}

let echoCount = 0;
/** Types `echo <word>-<n>` (computed by the shell, so the echo of the line does not match) and waits for its output. */
async function echo(wire: SessionWire, word: string): Promise<void> {
  const n = ++echoCount;
  expect(await request(wire.socket, 'input', { sessionId: wire.sessionId, data: `echo ${word}-$((${n}*1000+1))\r` })).toEqual({ ok: true });
  await wire.waitForText(new RegExp(`${word}-${n * 1000 + 1}`), 10_000);
}

/** The session's node-pty terminal (private), with its read stream (node-pty internals). */
function ptyOf(session: PtySession): nodePty.IPty & { _socket: { destroy: (...args: unknown[]) => unknown } } {
  return (session as unknown as { pty: never }).pty;
}

/** The pty master's descriptor number (node-pty 1.x, Unix). */
function descriptorOf(pty: nodePty.IPty): number {
  return (pty as unknown as { fd: number }).fd;
}

/** Whether the session holds its pty's reading paused (private state). */
function isReadingHeld(session: PtySession): boolean {
  return (session as unknown as { readPaused: boolean }).readPaused;
}

/**
 * Runs `before` just before node-pty closes the session's pty master (200 ms
 * after the program's exit, by destroying its read stream), and `after` right
 * after, in the same turn. Returns the errors the hooks threw (they run in node-pty's timer).
 */
function aroundMasterClose(session: PtySession, hooks: { before?: () => void; after?: () => void }): unknown[] {
  const errors: unknown[] = [];
  const run = (hook?: () => void) => {
    try {
      hook?.();
    } catch (error) {
      errors.push(error);
    }
  };
  const socket = ptyOf(session)._socket;
  const inner = socket.destroy;
  socket.destroy = function (this: unknown, ...args: unknown[]) {
    run(hooks.before);
    const result = inner.apply(this, args);
    run(hooks.after);
    return result;
  };
  return errors;
}

/** Calls `open` when `fd` is the lowest free descriptor number (lower free ones are held meanwhile), so that it gets `fd`. */
/**
 * A pty (`file` under node-pty) opened under descriptor `fd` when `open()`
 * runs (see `openOnDescriptor`), its output recorded; killed after the test.
 */
function victimPty(fd: number, file: string): { pty: nodePty.IPty | undefined; output: string; open(): void } {
  const victim = {
    pty: undefined as nodePty.IPty | undefined,
    output: '',
    open() {
      const pty = openOnDescriptor(fd, () => nodePty.spawn(file, [], { name: 'xterm-256color', cols: 80, rows: 24, env: CHILD_ENV }));
      victim.pty = pty;
      pids.add(pty.pid);
      pty.onData((data) => (victim.output += data));
    },
  };
  cleanups.push(async () => {
    const pty = victim.pty;
    if (!pty || isProcessGone(pty.pid)) return;
    const exited = new Promise((resolve) => pty.onExit(resolve));
    pty.kill('SIGKILL');
    await exited;
  });
  return victim;
}

function openOnDescriptor<T>(fd: number, open: () => T): T {
  const fillers: number[] = [];
  try {
    for (;;) {
      const filler = openSync('/dev/null', 'r');
      if (filler >= fd) {
        closeSync(filler);
        break;
      }
      fillers.push(filler);
    }
    return open();
  } finally {
    for (const filler of fillers) closeSync(filler);
  }
}

/** Deterministic text of exactly `bytes` UTF-8 bytes: ASCII, tabs, CR, LF and 2-, 3- and 4-byte characters. */
function mixedText(bytes: number): string {
  const alphabet = [...'abcdefghijklmnopqrstuvwxyz0123456789 .,;:-_=+/', '\t', '\r', '\n', 'é', 'ß', '€', '中', '文', '😀', '𝄞'];
  const parts: string[] = [];
  let total = 0;
  let seed = 42;
  while (total < bytes - 4) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const char = alphabet[(seed >>> 16) % alphabet.length];
    parts.push(char);
    total += Buffer.byteLength(char);
  }
  parts.push('z'.repeat(bytes - total));
  return parts.join('');
}

/** `text` in pieces of at most `sizes[i % sizes.length]` UTF-8 bytes (at least one character each). */
function splitByBytes(text: string, sizes: number[]): string[] {
  const pieces: string[] = [];
  let current = '';
  let currentBytes = 0;
  for (const char of text) {
    const n = Buffer.byteLength(char);
    if (currentBytes > 0 && currentBytes + n > sizes[pieces.length % sizes.length]) {
      pieces.push(current);
      current = '';
      currentBytes = 0;
    }
    current += char;
    currentBytes += n;
  }
  if (current) pieces.push(current);
  return pieces;
}

/** How many times `part` occurs in `text`. */
function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

/** Index of the first byte that differs, -1 when equal. */
function firstDifference(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
