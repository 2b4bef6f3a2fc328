import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { expectThrowsCode } from './testing-fakes/test-helpers.js';
import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { PtyExitStatus, PtyOutputChunk } from './interfaces/pty-session-info.interface.js';
import type { PtySessionModuleOptions } from './interfaces/pty-session-module-options.interface.js';
import { OWN_MEMORY_OUTPUT_BYTES, PTY_SPAWNER } from './pty-session.constants.js';
import { PtySessionError, type PtySessionErrorCode } from './pty-session.errors.js';
import { PtySessionManager } from './pty-session.manager.js';
import { PtySessionModule } from './pty-session.module.js';
import type { PtySession } from './pty-session.js';
import {
  createFakeSpawner,
  exitAllFakePtys,
  FAKE_PID_BASE,
  FakePty,
  type FakeSpawner,
  flushImmediates,
  interceptProcessGroupSignals,
} from './testing-fakes/fake-pty.js';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** The part of `text` after its first `offset` UTF-8 bytes. */
const afterBytes = (text: string, offset: number) => Buffer.from(text, 'utf8').subarray(offset).toString('utf8');

describe('PtySession (with a fake pty)', () => {
  let moduleRef: TestingModule;
  let manager: PtySessionManager;
  let spawner: FakeSpawner;
  let restoreKill: (() => void) | undefined;

  async function setup(options: PtySessionModuleOptions = {}): Promise<void> {
    spawner = createFakeSpawner();
    moduleRef = await Test.createTestingModule({
      imports: [
        PtySessionModule.forRoot({
          profiles: { sh: { file: '/bin/sh', env: { PATH: '/usr/bin:/bin' } } },
          defaultProfile: 'sh',
          cleanupIntervalMs: 0,
          hangupGracePeriodMs: 100,
          terminateGracePeriodMs: 200,
          killTimeoutMs: 300,
          maxCols: 500,
          maxRows: 200,
          ...options,
        }),
      ],
    })
      .overrideProvider(PTY_SPAWNER)
      .useValue(spawner.spawn)
      .compile();
    manager = moduleRef.get(PtySessionManager);
  }

  async function newSession(): Promise<{ session: PtySession; pty: FakePty }> {
    const session = await manager.createSession({ key: `k-${spawner.calls.length}` });
    return { session, pty: spawner.last() };
  }

  /** The pty reports the exit; the session handles it on the next turn (setImmediate). */
  async function exitPty(pty: FakePty, code = 0, signal?: number): Promise<void> {
    pty.emitExit(code, signal);
    await flushImmediates();
  }

  beforeEach(async () => {
    await setup();
  });

  afterEach(async () => {
    jest.useRealTimers();
    restoreKill?.();
    restoreKill = undefined;
    exitAllFakePtys();
    await flushImmediates();
    await moduleRef.close();
  });

  it('uses fake pids that no real process can have', async () => {
    const { session, pty } = await newSession();
    expect(session.pid).toBe(pty.pid);
    expect(session.pid).toBeGreaterThan(FAKE_PID_BASE);
  });

  describe('output and offsets', () => {
    it('each chunk carries its absolute UTF-8 byte offset: offset(n+1) = offset(n) + byteLength(n)', async () => {
      const { session, pty } = await newSession();
      const chunks: PtyOutputChunk[] = [];
      session.onOutput((c) => chunks.push(c));
      const pieces = ['abc', 'héllo', '😀', '日本語\r\n', '\x1b[31mred\x1b[0m'];
      for (const p of pieces) pty.emitData(p);

      expect(chunks.map((c) => c.data)).toEqual(pieces);
      expect(chunks[0].offset).toBe(0);
      for (let i = 0; i < chunks.length; i++) {
        expect(chunks[i].byteLength).toBe(bytes(pieces[i]));
        if (i > 0) expect(chunks[i].offset).toBe(chunks[i - 1].offset + chunks[i - 1].byteLength);
      }
      expect(chunks.map((c) => c.offset)).toEqual([0, 3, 9, 13, 24]);
      const total = bytes(pieces.join(''));
      expect(session.outputOffset).toBe(total);
      expect(session.bufferedBytes).toBe(total);
      expect(session.getReplayBuffer()).toEqual({ data: pieces.join(''), offset: 0, endOffset: total, truncated: false });
    });

    it('a short chunk is in memory of its own (a listener that keeps it pins no replay block); a long one is the replay buffer\'s copy', async () => {
      const { session, pty } = await newSession();
      const chunks: PtyOutputChunk[] = [];
      session.onOutput((c) => chunks.push(c));
      const long = 'x'.repeat(OWN_MEMORY_OUTPUT_BYTES);
      pty.emitData('$ '); // the first block (1 KiB)
      pty.emitData('y'.repeat(1500)); // fills it, and starts the second (2 KiB)
      pty.emitData(long); // fits in the second
      pty.emitData('ab');
      const ownMemory = (c: PtyOutputChunk) => c.bytes.buffer.byteLength === c.byteLength;
      expect([chunks[0], chunks[2], chunks[3]].map((c) => [c!.data.length, ownMemory(c!)])).toEqual([
        [2, true],
        [OWN_MEMORY_OUTPUT_BYTES, false], // a view of a replay block, which holds more than this chunk
        [2, true],
      ]);
      expect(chunks[2]!.bytes.toString()).toBe(long);
      expect(session.getReplayBuffer().data).toBe(`$ ${'y'.repeat(1500)}${long}ab`);
    });

    it('output counts as activity', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate', 'queueMicrotask', 'nextTick'] });
      const { session, pty } = await newSession();
      const before = session.lastActivity;
      jest.advanceTimersByTime(5000);
      pty.emitData('x');
      expect(session.lastActivity).toBe(before + 5000);
    });

    it('getReplayBuffer(since) returns exactly the bytes after `since`', async () => {
      const { session, pty } = await newSession();
      pty.emitData('héllo ');
      pty.emitData('wörld');
      const all = 'héllo wörld';
      expect(session.getReplayBuffer(3)).toEqual({ data: afterBytes(all, 3), offset: 3, endOffset: bytes(all), truncated: false });
      expect(session.getReplayBuffer(bytes(all))).toEqual({ data: '', offset: bytes(all), endOffset: bytes(all), truncated: false });
      expectThrowsCode(() => session.getReplayBuffer(bytes(all) + 1), 'INVALID_OFFSET');
      expectThrowsCode(() => session.getReplayBuffer(-1), 'INVALID_OFFSET');
    });

    it('clearBuffer() drops the held output but offsets continue', async () => {
      const { session, pty } = await newSession();
      pty.emitData('12345');
      session.clearBuffer();
      expect(session.bufferedBytes).toBe(0);
      expect(session.outputOffset).toBe(5);
      const chunks: PtyOutputChunk[] = [];
      session.onOutput((c) => chunks.push(c));
      pty.emitData('678');
      expect(chunks).toEqual([{ offset: 5, byteLength: 3, data: '678' }]);
      expect(session.getReplayBuffer()).toEqual({ data: '678', offset: 5, endOffset: 8, truncated: true });
    });
  });

  describe('attach', () => {
    it('returns the replay since an offset, then live chunks, with no gap and no duplicate', async () => {
      const { session, pty } = await newSession();
      const before = ['first line\r\n', 'zweite Zeile ü\r\n', '三行目\r\n'];
      for (const p of before) pty.emitData(p);
      const since = bytes(before[0]) + 3; // in the middle of the output
      const live: PtyOutputChunk[] = [];
      const attachment = session.attach({ since, onOutput: (c) => live.push(c) });
      const after = ['more ', 'output 🚀', '\r\n$ '];
      for (const p of after) pty.emitData(p);

      const everything = [...before, ...after].join('');
      expect(attachment.replay.offset).toBe(since);
      expect(attachment.replay.truncated).toBe(false);
      expect(attachment.replay.endOffset).toBe(bytes(before.join('')));
      expect(live[0].offset).toBe(attachment.replay.endOffset); // no gap, no overlap at the seam
      expect(attachment.replay.data + live.map((c) => c.data).join('')).toBe(afterBytes(everything, since));
      expect(session.attachedClients).toBe(1);
    });

    it('without `since` replays everything held', async () => {
      const { session, pty } = await newSession();
      pty.emitData('hello');
      const live: string[] = [];
      const { replay } = session.attach({ onOutput: (c) => live.push(c.data) });
      pty.emitData(' world');
      expect(replay).toEqual({ data: 'hello', offset: 0, endOffset: 5, truncated: false });
      expect(replay.data + live.join('')).toBe('hello world');
    });

    it('with `since` beyond the end throws INVALID_OFFSET and attaches nothing', async () => {
      const { session, pty } = await newSession();
      pty.emitData('abc');
      const received: PtyOutputChunk[] = [];
      expectThrowsCode(() => session.attach({ since: 4, onOutput: (c) => received.push(c) }), 'INVALID_OFFSET');
      expectThrowsCode(() => session.attach({ since: 1.5, onOutput: (c) => received.push(c) }), 'INVALID_OFFSET');
      expect(session.attachedClients).toBe(0);
      pty.emitData('def');
      expect(received).toEqual([]);
    });

    it('requires an onOutput function', async () => {
      const { session } = await newSession();
      expectThrowsCode(() => session.attach({} as never), 'INVALID_ARGUMENT');
      expect(session.attachedClients).toBe(0);
    });

    it('detach stops live output, counts the client as gone, and is idempotent', async () => {
      const { session, pty } = await newSession();
      const a: string[] = [];
      const b: string[] = [];
      const first = session.attach({ onOutput: (c) => a.push(c.data) });
      session.attach({ onOutput: (c) => b.push(c.data) });
      expect(session.attachedClients).toBe(2);
      first.detach();
      first.detach();
      first.detach();
      expect(session.attachedClients).toBe(1);
      pty.emitData('x');
      expect(a).toEqual([]);
      expect(b).toEqual(['x']);
    });

    it('two clients sharing one handler: detaching one keeps the other receiving', async () => {
      const { session, pty } = await newSession();
      const seen: string[] = [];
      const forward = (c: PtyOutputChunk) => seen.push(c.data);
      const first = session.attach({ onOutput: forward });
      session.attach({ onOutput: forward });
      pty.emitData('a');
      first.detach();
      pty.emitData('b');
      expect(seen).toEqual(['a', 'a', 'b']);
      expect(session.attachedClients).toBe(1);
    });

    it('onExit of an attachment is called once when the session ends', async () => {
      const { session, pty } = await newSession();
      const exits: PtyExitStatus[] = [];
      session.attach({ onOutput: () => {}, onExit: (e) => exits.push(e) });
      await exitPty(pty, 2);
      expect(exits).toHaveLength(1);
      expect(exits[0]).toMatchObject({ exitCode: 2, reason: 'exited' });
    });
  });

  describe('input and resize', () => {
    it('write() forwards input to the pty and counts as activity', async () => {
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate', 'queueMicrotask', 'nextTick'] });
      const { session, pty } = await newSession();
      jest.advanceTimersByTime(1234);
      session.write('ls -la\r');
      expect(pty.writes).toEqual(['ls -la\r']);
      expect(session.lastActivity).toBe(session.createdAt + 1234);
    });

    it('write() of a non-string throws INVALID_ARGUMENT', async () => {
      const { session, pty } = await newSession();
      expectThrowsCode(() => session.write(42 as unknown as string), 'INVALID_ARGUMENT');
      expect(pty.writes).toEqual([]);
    });

    it('write() after exit throws SESSION_EXITED', async () => {
      const { session, pty } = await newSession();
      await exitPty(pty, 0);
      expect(session.status).toBe('exited');
      expectThrowsCode(() => session.write('echo hi\r'), 'SESSION_EXITED');
      expect(pty.writes).toEqual([]);
    });

    it('write() once the pty reported its exit (before the session processed it) throws SESSION_EXITED', async () => {
      const { session, pty } = await newSession();
      pty.emitExit(0);
      expectThrowsCode(() => session.write('x'), 'SESSION_EXITED');
      await flushImmediates();
    });

    it('resize() changes the size of pty and session', async () => {
      const { session, pty } = await newSession();
      session.resize(120, 40);
      expect(pty.resizes).toEqual([[120, 40]]);
      expect([session.cols, session.rows]).toEqual([120, 40]);
      expect(session.toInfo()).toMatchObject({ cols: 120, rows: 40 });
      session.resize(120, 40); // unchanged: no ioctl
      expect(pty.resizes).toHaveLength(1);
    });

    it.each([
      [0, 24],
      [80, 0],
      [501, 24],
      [80, 201],
      [1.5, 24],
      [80, Number.NaN],
      [-1, 24],
    ])('resize(%p, %p) throws INVALID_SIZE and leaves the size alone', async (cols, rows) => {
      const { session, pty } = await newSession();
      expectThrowsCode(() => session.resize(cols, rows), 'INVALID_SIZE');
      expectThrowsCode(() => session.resize('100' as unknown as number, 30), 'INVALID_SIZE');
      expect(pty.resizeAttempts).toBe(0);
      expect([session.cols, session.rows]).toEqual([80, 24]);
    });

    it('accepts the bounds themselves (1 and maxCols/maxRows)', async () => {
      const { session, pty } = await newSession();
      session.resize(1, 1);
      session.resize(500, 200);
      expect(pty.resizes).toEqual([
        [1, 1],
        [500, 200],
      ]);
    });

    it('resize() after exit is ignored, without throwing', async () => {
      const { session, pty } = await newSession();
      await exitPty(pty, 0);
      expect(() => session.resize(100, 30)).not.toThrow();
      expect(pty.resizeAttempts).toBe(0);
      expect([session.cols, session.rows]).toEqual([80, 24]);
    });

    it('resize() between the pty exit event and its processing is ignored too', async () => {
      const { session, pty } = await newSession();
      pty.emitExit(0);
      expect(() => session.resize(100, 30)).not.toThrow();
      expect([session.cols, session.rows]).toEqual([80, 24]);
      await flushImmediates();
    });

    it('resize() still validates its arguments after exit', async () => {
      const { session, pty } = await newSession();
      await exitPty(pty, 0);
      expectThrowsCode(() => session.resize(0, 0), 'INVALID_SIZE');
    });
  });

  describe('exit', () => {
    it('fires once, after output the pty emitted earlier in the same tick', async () => {
      const { session, pty } = await newSession();
      const events: string[] = [];
      session.onOutput((c) => events.push(`data:${c.data}`));
      session.onExit((e) => events.push(`exit:${e.exitCode}`));
      pty.emitData('early');
      pty.emitExit(3);
      pty.emitData('late'); // still in flight when node-pty reported the exit
      pty.emitExit(3); // a duplicate exit event
      expect(events).toEqual(['data:early', 'data:late']);
      expect(session.status).toBe('running');
      await flushImmediates();
      await flushImmediates();
      expect(events).toEqual(['data:early', 'data:late', 'exit:3']);
      expect(session.status).toBe('exited');
      expect(session.exit).toMatchObject({ exitCode: 3, reason: 'exited' });
      expect(session.getReplayBuffer().data).toBe('earlylate');
    });

    it('records the signal that ended the process', async () => {
      const { session, pty } = await newSession();
      await exitPty(pty, 0, 9);
      expect(session.exit).toMatchObject({ exitCode: 0, signal: 9, reason: 'exited' });
      expect(typeof session.exit?.exitedAt).toBe('number');
    });

    it('whenExited() resolves with the exit status', async () => {
      const { session, pty } = await newSession();
      const exited = session.whenExited();
      await exitPty(pty, 7);
      await expect(exited).resolves.toMatchObject({ exitCode: 7, reason: 'exited' });
    });

    it('onExit on an exited session still calls the listener (once, asynchronously)', async () => {
      const { session, pty } = await newSession();
      await exitPty(pty, 5);
      const calls: PtyExitStatus[] = [];
      session.onExit((e) => calls.push(e));
      expect(calls).toEqual([]);
      await Promise.resolve();
      await flushImmediates();
      expect(calls).toHaveLength(1);
      expect(calls[0]).toBe(session.exit);
    });

    it('onExit on an exited session can be disposed before it fires', async () => {
      const { session, pty } = await newSession();
      await exitPty(pty, 5);
      let called = false;
      session.onExit(() => (called = true)).dispose();
      await flushImmediates();
      expect(called).toBe(false);
    });

    it('a listener that throws does not stop the other listeners', async () => {
      const silence = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        const { session, pty } = await newSession();
        const seen: string[] = [];
        session.onOutput(() => seen.push('out-1'));
        session.onOutput(() => {
          throw new Error('client socket gone');
        });
        session.onOutput(() => seen.push('out-3'));
        session.onExit(() => seen.push('exit-1'));
        session.onExit(() => {
          throw new Error('boom');
        });
        session.onExit(() => seen.push('exit-3'));
        pty.emitData('x');
        pty.emitData('y');
        await exitPty(pty, 0);
        expect(seen).toEqual(['out-1', 'out-3', 'out-1', 'out-3', 'exit-1', 'exit-3']);
        expect(session.status).toBe('exited');
        expect(session.getReplayBuffer().data).toBe('xy');
        expect(silence).toHaveBeenCalledTimes(3); // two outputs, one exit: each failure is logged
      } finally {
        silence.mockRestore();
      }
    });

    it('a disposed output listener gets nothing more', async () => {
      const { session, pty } = await newSession();
      const seen: string[] = [];
      const sub = session.onOutput((c) => seen.push(c.data));
      pty.emitData('a');
      sub.dispose();
      pty.emitData('b');
      expect(seen).toEqual(['a']);
    });

    it('stops listening to the pty once exited (no listener leak)', async () => {
      const { session, pty } = await newSession();
      expect(pty.listenerCount).toEqual({ data: 1, exit: 1 });
      await exitPty(pty, 0);
      expect(pty.listenerCount).toEqual({ data: 0, exit: 0 });
      pty.emitData('after the end');
      expect(session.outputOffset).toBe(0);
    });
  });

  describe('terminate (escalation to the process group)', () => {
    const fakeTimers = () => jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate', 'queueMicrotask', 'nextTick'] });

    it('sends SIGHUP, then SIGTERM after hangupGracePeriodMs, then SIGKILL after terminateGracePeriodMs, to the group', async () => {
      fakeTimers();
      restoreKill = interceptProcessGroupSignals();
      const { session, pty } = await newSession();
      pty.dieOn.clear();
      pty.dieOn.add('SIGKILL'); // traps SIGHUP and SIGTERM
      const done = session.terminate('closed');
      expect(session.isTerminating).toBe(true);
      expect(pty.signals).toEqual([{ signal: 'SIGHUP', via: 'group' }]);
      await jest.advanceTimersByTimeAsync(99);
      expect(pty.signalNames).toEqual(['SIGHUP']);
      await jest.advanceTimersByTimeAsync(1);
      expect(pty.signalNames).toEqual(['SIGHUP', 'SIGTERM']);
      await jest.advanceTimersByTimeAsync(199);
      expect(pty.signalNames).toEqual(['SIGHUP', 'SIGTERM']);
      await jest.advanceTimersByTimeAsync(1);
      expect(pty.signalNames).toEqual(['SIGHUP', 'SIGTERM', 'SIGKILL']);
      expect(pty.signals.every((s) => s.via === 'group')).toBe(true);
      await flushImmediates();
      const exit = await done;
      expect(exit).toMatchObject({ exitCode: 0, signal: 9, reason: 'closed' });
      expect(session.status).toBe('exited');
      expect(session.isTerminating).toBe(false);
    });

    it('stops escalating as soon as the process exits', async () => {
      fakeTimers();
      restoreKill = interceptProcessGroupSignals();
      const { session, pty } = await newSession();
      pty.dieOn.clear();
      const done = session.terminate();
      await jest.advanceTimersByTimeAsync(50);
      await exitPty(pty, 0, 1); // exits of the SIGHUP after all
      await expect(done).resolves.toMatchObject({ signal: 1, reason: 'closed' });
      await jest.advanceTimersByTimeAsync(10_000);
      expect(pty.signalNames).toEqual(['SIGHUP']);
    });

    it('gives up after SIGKILL + killTimeoutMs and reports the session exited (-1, SIGKILL)', async () => {
      fakeTimers();
      restoreKill = interceptProcessGroupSignals();
      const silence = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        const { session, pty } = await newSession();
        pty.dieOn.clear(); // not even SIGKILL reaps it
        const done = session.terminate('closed');
        await jest.advanceTimersByTimeAsync(100 + 200 + 299);
        expect(session.status).toBe('running');
        await jest.advanceTimersByTimeAsync(1);
        await expect(done).resolves.toMatchObject({ exitCode: -1, signal: 9, reason: 'closed' });
        expect(session.status).toBe('exited');
        expect(pty.signalNames).toEqual(['SIGHUP', 'SIGTERM', 'SIGKILL']);
      } finally {
        silence.mockRestore();
      }
    });

    it('is idempotent: every call returns the same promise and the first reason wins', async () => {
      const { session, pty } = await newSession();
      const a = session.terminate('idle');
      const b = session.terminate('closed');
      expect(b).toBe(a);
      await exitPty(pty, 0, 1);
      await expect(a).resolves.toMatchObject({ reason: 'idle' });
      await expect(session.terminate('shutdown')).resolves.toMatchObject({ reason: 'idle' });
    });

    it('without signal delivery, the state goes running → terminating → exited when the pty exits', async () => {
      fakeTimers();
      const { session, pty } = await newSession();
      expect(session.status).toBe('running');
      expect(session.isTerminating).toBe(false);
      const done = session.terminate('closed');
      expect(session.status).toBe('running');
      expect(session.isTerminating).toBe(true);
      await jest.advanceTimersByTimeAsync(150); // past SIGHUP's grace period, now waiting after SIGTERM
      expect(session.isTerminating).toBe(true);
      await exitPty(pty, 0, 15);
      await expect(done).resolves.toMatchObject({ signal: 15, reason: 'closed' });
      expect(session.status).toBe('exited');
      expect(session.isTerminating).toBe(false);
    });
  });

  describe('toInfo', () => {
    it('reports the session state', async () => {
      const session = await manager.createSession({ key: 'info', owner: 'alice', cols: 100, rows: 30 });
      const pty = spawner.last();
      pty.emitData('héllo');
      const attachment = session.attach({ onOutput: () => {} });
      expect(session.toInfo()).toEqual({
        id: session.id,
        key: 'info',
        owner: 'alice',
        profile: 'sh',
        pid: pty.pid,
        cols: 100,
        rows: 30,
        createdAt: session.createdAt,
        lastActivity: session.lastActivity,
        status: 'running',
        attachedClients: 1,
        bufferedBytes: 6,
        outputOffset: 6,
        exit: undefined,
      });
      attachment.detach();
      await exitPty(pty, 1);
      expect(session.toInfo()).toMatchObject({ status: 'exited', attachedClients: 0, exit: { exitCode: 1, reason: 'exited' } });
    });
  });
});
