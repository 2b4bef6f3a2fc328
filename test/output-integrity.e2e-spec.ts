/**
 * Output integrity with real processes: every byte a program writes reaches
 * the listeners and the buffer, in order and with contiguous offsets, before
 * the exit event. Raw node-pty loses the last 2-8 KB of a large `cat` in
 * nearly every run (microsoft/node-pty#72); the library holds the pty's slave
 * side open to prevent that.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PtyExitStatus, PtySession } from 'nestjs-pty-session';
import { CHILD_ENV, createPtyApp, useTestHost } from './fixtures/pty-app.js';
import { isProcessGone } from './fixtures/processes.js';
import * as nodePty from 'node-pty';

const RUNS = 3;

/** Deterministic base64 lines (a sha256 chain) of at least `bytes` bytes. */
function makeContent(bytes: number): string {
  const lines: string[] = [];
  let total = 0;
  let digest = createHash('sha256').update('nestjs-pty-session e2e').digest();
  for (let i = 0; total < bytes; i++) {
    digest = createHash('sha256').update(digest).digest();
    const line = `${String(i).padStart(8, '0')} ${Buffer.concat([digest, digest, digest]).toString('base64')}\n`;
    lines.push(line);
    total += line.length;
  }
  return lines.join('');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What a listener attached right after createSession saw, and what it had seen when the exit event came. */
interface Reception {
  bytes: number;
  hash: string;
  firstOffset: number | undefined;
  gaps: string[];
  chunks: number;
  atExit?: { bytes: number; hash: string; exit: PtyExitStatus };
}

/**
 * Attaches to `session` (no event-loop turn has passed since it was created,
 * so no output can have been missed) and records the output incrementally.
 * With `slowMs`, the listener keeps the event loop busy: on the first chunk
 * until the program has exited (at most 1 s), then `slowMs` on every later
 * chunk, like a slow consumer on a loaded server.
 */
function receive(session: PtySession, slowMs = 0): Promise<Reception> {
  const hash = createHash('sha256');
  const reception: Reception = { bytes: 0, hash: '', firstOffset: undefined, gaps: [], chunks: 0 };
  let next = 0;
  const attachment = session.attach({
    onOutput: (chunk) => {
      const first = reception.firstOffset === undefined;
      if (first) reception.firstOffset = chunk.offset;
      if (chunk.offset !== next) reception.gaps.push(`chunk ${reception.chunks} at ${chunk.offset}, expected ${next}`);
      next = chunk.offset + chunk.byteLength;
      reception.bytes += chunk.byteLength;
      reception.chunks++;
      hash.update(chunk.data);
      if (slowMs > 0) {
        const until = Date.now() + (first ? 1000 : slowMs);
        while (Date.now() < until && !(first && isProcessGone(session.pid)));
      }
    },
    onExit: (exit) => {
      // Must already hold everything: the exit event comes after the last output.
      reception.atExit = { bytes: reception.bytes, hash: hash.copy().digest('hex'), exit };
    },
  });
  expect(attachment.replay).toMatchObject({ data: '', offset: 0, endOffset: 0, truncated: false });
  return session.whenExited().then(() => {
    reception.hash = hash.digest('hex');
    attachment.detach();
    return reception;
  });
}

describe('output integrity (real processes)', () => {
  const dir = join(tmpdir(), `pty-session-e2e-${process.pid}`);
  const bigFile = join(dir, 'big.txt');
  const smallFile = join(dir, 'small.txt');
  let big: { text: string; bytes: number; hash: string };
  let small: { text: string; bytes: number; hash: string };
  const host = useTestHost();
  const { pids } = host;

  beforeAll(() => {
    const make = (file: string, size: number) => {
      const content = makeContent(size);
      writeFileSync(file, content, { flag: 'w' });
      // The terminal turns each \n into \r\n (onlcr): that is what the session sees.
      const text = content.replaceAll('\n', '\r\n');
      return { text, bytes: Buffer.byteLength(text), hash: sha256(text) };
    };
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    big = make(bigFile, 10 * 1024 * 1024);
    small = make(smallFile, 16 * 1000);
    expect(statSync(bigFile).size).toBeGreaterThanOrEqual(10 * 1024 * 1024);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(`cat of a 10 MB file: every byte arrives in order, before the exit event (${RUNS} runs)`, async () => {
    host.current = await createPtyApp({ profiles: { cat: { file: '/bin/cat', args: [bigFile], env: CHILD_ENV } }, defaultProfile: 'cat' });
    const { manager } = host.current;
    for (let run = 0; run < RUNS; run++) {
      const session = await manager.createSession();
      pids.add(session.pid);
      const got = await receive(session);

      const summary = { run, bytes: got.bytes, firstOffset: got.firstOffset, gaps: got.gaps.slice(0, 3), hashOk: got.hash === big.hash };
      expect(summary).toEqual({ run, bytes: big.bytes, firstOffset: 0, gaps: [], hashOk: true });
      expect(got.atExit).toEqual({ bytes: big.bytes, hash: big.hash, exit: expect.objectContaining({ exitCode: 0, reason: 'exited' }) });
      expect(session.outputOffset).toBe(big.bytes);
      expect(got.chunks).toBeGreaterThan(100);

      // The replay buffer holds the tail of the very same output.
      const replay = session.getReplayBuffer();
      expect(replay.endOffset).toBe(big.bytes);
      expect(replay.data.length).toBeGreaterThan(0);
      expect(replay.data).toBe(big.text.slice(replay.offset));
      await manager.closeSession(session.id);
    }
  });

  it('chunks a listener keeps stay as they were: two sessions print at once, and every pty is read into the same memory', async () => {
    host.current = await createPtyApp({ profiles: { cat: { file: '/bin/cat', args: [bigFile], env: CHILD_ENV } }, defaultProfile: 'cat' });
    const { manager } = host.current;
    const sessions = [await manager.createSession(), await manager.createSession()];
    const kept: Buffer[][] = [[], []];
    for (const [i, session] of sessions.entries()) {
      pids.add(session.pid);
      session.onOutput((chunk) => kept[i]!.push(chunk.bytes)); // the chunk's own bytes, not a copy
    }
    await Promise.all(sessions.map((session) => session.whenExited()));
    for (const [i, chunks] of kept.entries()) {
      const bytes = Buffer.concat(chunks);
      expect({ i, chunks: chunks.length > 100, bytes: bytes.length, hashOk: sha256(bytes.toString()) === big.hash }).toEqual({
        i,
        chunks: true,
        bytes: big.bytes,
        hashOk: true,
      });
    }
  });

  it("a custom spawner's own listeners on its pty keep getting every read", async () => {
    let seen = 0;
    host.current = await createPtyApp({
      profiles: { cat: { file: '/bin/cat', args: [smallFile], env: CHILD_ENV } },
      defaultProfile: 'cat',
      spawner: (file, args, options) => {
        const pty = nodePty.spawn(file, args, options);
        pty.onData((data) => (seen += data.length)); // a metrics hook: Buffers, as the session reads them
        return pty;
      },
    });
    const session = await host.current.manager.createSession();
    pids.add(session.pid);
    await session.whenExited();
    expect(session.outputOffset).toBe(small.bytes);
    expect(seen).toBe(small.bytes);
  });

  it(`delivers the whole output even when the event loop is busy as the program exits (slow listener, ${RUNS} runs)`, async () => {
    // The program prints one line, then (while the listener is busy with that
    // first chunk) writes 16 KB, which fits in the pty's queue, and exits.
    // The listener then takes 250 ms per chunk: the rest must still arrive.
    host.current = await createPtyApp({
      profiles: { slow: { file: '/bin/sh', args: ['-c', `echo start; sleep 0.2; exec cat '${smallFile}'`], env: CHILD_ENV } },
      defaultProfile: 'slow',
    });
    const { manager } = host.current;
    const expected = { bytes: Buffer.byteLength('start\r\n') + small.bytes, hash: sha256(`start\r\n${small.text}`) };
    const results: Array<{ run: number; bytes: number; hashOk: boolean; atExitBytes: number | undefined }> = [];
    for (let run = 0; run < RUNS; run++) {
      const session = await manager.createSession();
      pids.add(session.pid);
      const got = await receive(session, 250);
      expect(got.gaps).toEqual([]);
      results.push({ run, bytes: got.bytes, hashOk: got.hash === expected.hash, atExitBytes: got.atExit?.bytes });
      await manager.closeSession(session.id);
    }
    expect(results).toEqual(Array.from({ length: RUNS }, (_, run) => ({ run, bytes: expected.bytes, hashOk: true, atExitBytes: expected.bytes })));
  });

  it('reads the pty as bytes: characters split between writes arrive whole, bytes that are not UTF-8 as U+FFFD, and line editing stays UTF-8 aware', async () => {
    // printf '\342' then, 150 ms later, the rest of '€': two reads of the pty. Then a byte that is no
    // UTF-8 (0xff), a 4-byte character in two writes, and an unfinished character at the exit.
    // `stty -a` shows whether the terminal edits lines by UTF-8 character (iutf8: a backspace erases
    // 'é', not half of it), which node-pty sets only for a pty spawned as UTF-8.
    const script = [
      "stty -a | grep -o -- '-\\?iutf8'",
      "printf 'a\\342'; sleep 0.15; printf '\\202\\254b'",
      "printf '[\\377]'",
      "printf '\\360\\237'; sleep 0.15; printf '\\230\\200'",
      "printf 'end\\342\\202'",
    ].join('; ');
    host.current = await createPtyApp({ profiles: { bytes: { file: '/bin/sh', args: ['-c', script], env: CHILD_ENV } }, defaultProfile: 'bytes' });
    const session = await host.current.manager.createSession();
    pids.add(session.pid);
    const chunks: Array<{ offset: number; byteLength: number; data: string; bytes: Buffer }> = [];
    session.onOutput((chunk) => chunks.push({ offset: chunk.offset, byteLength: chunk.byteLength, data: chunk.data, bytes: chunk.bytes }));
    await session.whenExited();

    const text = chunks.map((c) => c.data).join('');
    expect(text).toBe('iutf8\r\na€b[\ufffd]😀end\ufffd');
    for (const [i, chunk] of chunks.entries()) {
      // Every chunk: whole characters, its bytes are its text's, and offsets are contiguous.
      expect({ i, bytes: chunk.bytes.length, same: chunk.bytes.equals(Buffer.from(chunk.data, 'utf8')) }).toEqual({ i, bytes: chunk.byteLength, same: true });
      expect(chunk.offset).toBe(i === 0 ? 0 : chunks[i - 1]!.offset + chunks[i - 1]!.byteLength);
    }
    expect(chunks.some((c) => c.data.endsWith('a'))).toBe(true); // 'a' came before the 150 ms pause, without the half of '€'
    expect(session.outputOffset).toBe(Buffer.byteLength(text));
    expect(session.getReplayBuffer().data).toBe(text);
  });

  it("leaves an adopted pty as its caller made it: the caller's own listeners still get strings", async () => {
    host.current = await createPtyApp({ profiles: { unused: { file: '/bin/true', env: CHILD_ENV } }, defaultProfile: 'unused' });
    const pty = nodePty.spawn('/bin/sh', ['-c', "sleep 0.2; printf 'h\\303\\251llo'"], { name: 'xterm-256color', cols: 80, rows: 24, env: CHILD_ENV });
    pids.add(pty.pid);
    const seen: unknown[] = [];
    pty.onData((data) => seen.push(data));
    const session = await host.current.manager.createSession({ pty });
    await session.whenExited();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((data) => typeof data === 'string')).toBe(true);
    expect(seen.join('')).toBe('héllo');
    expect(session.getReplayBuffer().data).toBe('héllo');
    expect(session.outputOffset).toBe(6);
  });

  it('an adopted pty read as text ends like a spawned one: a character cut by the exit is U+FFFD, not dropped', async () => {
    host.current = await createPtyApp({ profiles: { unused: { file: '/bin/true', env: CHILD_ENV } }, defaultProfile: 'unused' });
    // The first two bytes of 'あ' (e3 81 82) and the exit: node-pty's text decoder holds them.
    const pty = nodePty.spawn('/bin/sh', ['-c', "sleep 0.2; printf 'end\\343\\201'"], { name: 'xterm-256color', cols: 80, rows: 24, env: CHILD_ENV });
    pids.add(pty.pid);
    const session = await host.current.manager.createSession({ pty });
    await session.whenExited();
    expect(session.getReplayBuffer().data).toBe('end\ufffd');
    expect(session.outputOffset).toBe(6);
  });
});
