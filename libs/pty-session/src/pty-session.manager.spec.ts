import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { expectThrowsCode } from './testing-fakes/test-helpers.js';
import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import type { PtySpawnContext, PtySessionModuleOptions, PtySpawnProfile } from './interfaces/pty-session-module-options.interface.js';
import { PTY_SESSION_CLEANUP_JOB, PTY_SPAWNER } from './pty-session.constants.js';
import { PtySessionError, type PtySessionErrorCode } from './pty-session.errors.js';
import { PtySessionManager } from './pty-session.manager.js';
import { PtySessionModule } from './pty-session.module.js';
import type { PtySession } from './pty-session.js';
import { ReplayBuffer } from './replay-buffer.js';
import { ScreenWorkerPool } from './screen/screen-worker-pool.js';
import {
  createFakeSpawner,
  exitAllFakePtys,
  FakePty,
  type FakeSpawner,
  flushImmediates,
  interceptProcessGroupSignals,
} from './testing-fakes/fake-pty.js';

type FakeTimersConfig = Parameters<typeof jest.useFakeTimers>[0];
/** Fake Date and timers, but keep the event-loop primitives real: the session defers its exit handling with setImmediate. */
const FAKE_TIMERS: FakeTimersConfig = { doNotFake: ['setImmediate', 'clearImmediate', 'queueMicrotask', 'nextTick'] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const SH: PtySpawnProfile = { file: '/bin/sh', args: ['-i'], cwd: '/tmp', env: { FOO: 'bar', LANG: 'C.UTF-8' } };

const BASE: PtySessionModuleOptions = {
  profiles: { sh: SH },
  defaultProfile: 'sh',
  cleanupIntervalMs: 0,
  hangupGracePeriodMs: 100,
  terminateGracePeriodMs: 100,
  killTimeoutMs: 100,
};

async function rejectsWithCode(promise: Promise<unknown>, code: PtySessionErrorCode): Promise<PtySessionError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PtySessionError);
  expect((caught as PtySessionError).code).toBe(code);
  return caught as PtySessionError;
}

/** The pty reports its exit; the session processes it on the next turn of the event loop. */
async function exitPty(pty: FakePty, code = 0, signal?: number): Promise<void> {
  pty.emitExit(code, signal);
  await flushImmediates();
}

function ptyOf(spawner: FakeSpawner, session: PtySession): FakePty {
  const pty = spawner.ptys.find((p) => p.pid === session.pid);
  if (!pty) throw new Error(`no fake with pid ${session.pid}`);
  return pty;
}

describe('PtySessionManager', () => {
  const open: TestingModule[] = [];
  let restoreKill: () => void;

  interface Setup {
    moduleRef: TestingModule;
    manager: PtySessionManager;
    spawner: FakeSpawner;
  }

  async function setup(options: PtySessionModuleOptions = {}, extra: { imports?: unknown[]; spawner?: FakeSpawner } = {}): Promise<Setup> {
    const spawner = extra.spawner ?? createFakeSpawner();
    const moduleRef = await Test.createTestingModule({
      imports: [...((extra.imports ?? []) as never[]), PtySessionModule.forRoot({ ...BASE, ...options })],
    })
      .overrideProvider(PTY_SPAWNER)
      .useValue(spawner.spawn)
      .compile();
    open.push(moduleRef);
    return { moduleRef, manager: moduleRef.get(PtySessionManager), spawner };
  }

  async function close(moduleRef: TestingModule): Promise<void> {
    const i = open.indexOf(moduleRef);
    if (i >= 0) open.splice(i, 1);
    await moduleRef.close();
  }

  beforeEach(() => {
    // Signals the sessions send to a fake's process group reach the fake (and nothing else).
    restoreKill = interceptProcessGroupSignals();
  });

  afterEach(async () => {
    jest.useRealTimers();
    exitAllFakePtys();
    await flushImmediates();
    for (const moduleRef of open.splice(0)) await moduleRef.close();
    restoreKill();
  });

  describe('createSession', () => {
    it('returns a session with a random UUID id, its key, owner and profile', async () => {
      const { manager } = await setup();
      const a = await manager.createSession({ key: 'task-1', owner: 'alice' });
      const b = await manager.createSession({ key: 'task-2' });
      expect(a.id).toMatch(UUID);
      expect(b.id).toMatch(UUID);
      expect(a.id).not.toBe(b.id);
      expect(a).toMatchObject({ key: 'task-1', owner: 'alice', profile: 'sh', status: 'running' });
      expect(b.owner).toBeUndefined();
      expect(manager.getSession(a.id)).toBe(a);
    });

    it("spawns the profile's file, args and cwd, with exactly the profile's env plus TERM and an 80x24 default size", async () => {
      expect(process.env.PATH).toBeDefined(); // the server has a PATH: it must not reach the child
      const { manager, spawner } = await setup();
      const session = await manager.createSession();
      expect(spawner.calls).toHaveLength(1);
      const call = spawner.calls[0];
      expect(call.file).toBe('/bin/sh');
      expect(call.args).toEqual(['-i']);
      expect(call.options).toEqual({
        name: 'xterm-256color',
        cols: 80,
        rows: 24,
        cwd: '/tmp',
        env: { FOO: 'bar', LANG: 'C.UTF-8', TERM: 'xterm-256color' },
      });
      expect(call.options.env).not.toHaveProperty('PATH');
      expect(call.options.env).not.toHaveProperty('HOME');
      expect([session.cols, session.rows]).toEqual([80, 24]);
      expect(session.pid).toBe(spawner.last().pid);
    });

    it('gives a profile without env only TERM, and without args none', async () => {
      const { manager, spawner } = await setup({ profiles: { bare: { file: '/bin/sh' } }, defaultProfile: 'bare', term: 'vt100' });
      await manager.createSession();
      expect(spawner.calls[0].args).toEqual([]);
      expect(spawner.calls[0].options.env).toEqual({ TERM: 'vt100' });
      expect(spawner.calls[0].options.name).toBe('vt100');
    });

    it('TERM is always the configured term, even when the profile env sets one', async () => {
      const { manager, spawner } = await setup({ profiles: { p: { file: '/bin/sh', env: { TERM: 'dumb', A: '1' } } }, defaultProfile: 'p' });
      await manager.createSession();
      expect(spawner.calls[0].options.env).toEqual({ A: '1', TERM: 'xterm-256color' });
    });

    it('uses the requested size and the configured default size', async () => {
      const { manager, spawner } = await setup({ defaultCols: 100, defaultRows: 40 });
      const a = await manager.createSession({ cols: 132, rows: 50 });
      const b = await manager.createSession();
      expect(spawner.calls.map((c) => [c.options.cols, c.options.rows])).toEqual([
        [132, 50],
        [100, 40],
      ]);
      expect([a.cols, a.rows, b.cols, b.rows]).toEqual([132, 50, 100, 40]);
    });

    it('passes uid/gid only when the profile sets them', async () => {
      const { manager, spawner } = await setup({ profiles: { sh: SH, as: { file: '/bin/sh', uid: 1234, gid: 5678 } } });
      await manager.createSession();
      await manager.createSession({ profile: 'as' });
      expect(spawner.calls[0].options).not.toHaveProperty('uid');
      expect(spawner.calls[0].options).not.toHaveProperty('gid');
      expect(spawner.calls[1].options).toMatchObject({ uid: 1234, gid: 5678 });
    });

    it('selects a profile by name', async () => {
      const { manager, spawner } = await setup({ profiles: { sh: SH, other: { file: '/bin/true', args: ['x'] } } });
      const s = await manager.createSession({ profile: 'other' });
      expect(spawner.calls[0].file).toBe('/bin/true');
      expect(spawner.calls[0].args).toEqual(['x']);
      expect(s.profile).toBe('other');
    });

    it('calls a profile factory with { profile, key, owner, cols, rows } and spawns what it returns', async () => {
      const contexts: PtySpawnContext[] = [];
      const { manager, spawner } = await setup({
        profiles: {
          sh: SH,
          work: (ctx) => {
            contexts.push(ctx);
            return { file: '/bin/sh', cwd: `/tmp`, args: ['-c', `echo ${ctx.key}`], env: { OWNER: ctx.owner ?? '' } };
          },
        },
      });
      await manager.createSession({ profile: 'work', key: 'm-7', owner: 'bob', cols: 90, rows: 30 });
      expect(contexts).toEqual([{ profile: 'work', key: 'm-7', owner: 'bob', cols: 90, rows: 30 }]);
      expect(spawner.calls[0].args).toEqual(['-c', 'echo m-7']);
      expect(spawner.calls[0].options.env).toEqual({ OWNER: 'bob', TERM: 'xterm-256color' });
    });

    it('awaits an async profile factory', async () => {
      const { manager, spawner } = await setup({
        profiles: {
          async: async (ctx) => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            return { file: '/bin/sh', env: { KEY: ctx.key ?? 'none' } };
          },
        },
        defaultProfile: 'async',
      });
      const session = await manager.createSession({ key: 'k1' });
      expect(spawner.calls[0].options.env).toEqual({ KEY: 'k1', TERM: 'xterm-256color' });
      expect(session.profile).toBe('async');
    });

    it('applies per-profile replayBufferBytes and idleTimeoutMs', async () => {
      const { manager, spawner } = await setup({ idleTimeoutMs: 60_000, profiles: { sh: SH, quick: { file: '/bin/sh', idleTimeoutMs: 1000, replayBufferBytes: 1024 } } });
      const normal = await manager.createSession();
      const quick = await manager.createSession({ profile: 'quick' });
      expect(normal.idleTimeoutMs).toBe(60_000);
      expect(quick.idleTimeoutMs).toBe(1000);
      ptyOf(spawner, quick).emitData('x'.repeat(3000));
      ptyOf(spawner, normal).emitData('x'.repeat(3000));
      expect(quick.bufferedBytes).toBeLessThanOrEqual(1024);
      expect(quick.outputOffset).toBe(3000);
      expect(normal.bufferedBytes).toBe(3000);
    });

    it('rejects an unknown profile with PROFILE_NOT_FOUND and spawns nothing', async () => {
      const { manager, spawner } = await setup();
      const error = await rejectsWithCode(manager.createSession({ profile: 'root-shell' }), 'PROFILE_NOT_FOUND');
      expect(error.message).toContain('root-shell');
      await rejectsWithCode(manager.createSession({ profile: 'toString' }), 'PROFILE_NOT_FOUND');
      await rejectsWithCode(manager.createSession({ profile: 42 as unknown as string }), 'PROFILE_NOT_FOUND');
      expect(spawner.calls).toHaveLength(0);
    });

    it('rejects a second session for a live key with KEY_IN_USE, and allows it again once the first exited', async () => {
      const { manager, spawner } = await setup();
      const first = await manager.createSession({ key: 'k' });
      await rejectsWithCode(manager.createSession({ key: 'k' }), 'KEY_IN_USE');
      expect(spawner.calls).toHaveLength(1);
      await exitPty(spawner.last(), 0);
      expect(first.status).toBe('exited');
      const second = await manager.createSession({ key: 'k' });
      expect(second.id).not.toBe(first.id);
      expect(manager.getSessionByKey('k')).toBe(second);
    });

    it('rejects concurrent createSession calls for one key while the first is spawning', async () => {
      const { manager, spawner } = await setup({
        profiles: { slow: async () => (await new Promise((r) => setTimeout(r, 5)), { file: '/bin/sh' }) },
        defaultProfile: 'slow',
      });
      const first = manager.createSession({ key: 'k' });
      await rejectsWithCode(manager.createSession({ key: 'k' }), 'KEY_IN_USE');
      await first;
      expect(spawner.calls).toHaveLength(1);
    });

    it.each([
      ['cols 0', { cols: 0 }],
      ['cols 100000', { cols: 100_000 }],
      ['cols 1.5', { cols: 1.5 }],
      ["cols '80'", { cols: '80' }],
      ['rows 0', { rows: 0 }],
      ['rows 100000', { rows: 100_000 }],
      ['rows NaN', { rows: Number.NaN }],
      ['cols -80', { cols: -80 }],
    ])('rejects %s with INVALID_SIZE', async (_name, size) => {
      const { manager, spawner } = await setup();
      await rejectsWithCode(manager.createSession({ key: 'k', ...(size as object) }), 'INVALID_SIZE');
      expect(spawner.calls).toHaveLength(0);
      await manager.createSession({ key: 'k' }); // no reservation leaked
    });

    it.each([
      ["key ''", { key: '' }],
      ['key of 300 characters', { key: 'k'.repeat(300) }],
      ['key 42', { key: 42 }],
      ["owner ''", { owner: '' }],
      ['owner of 300 characters', { owner: 'o'.repeat(300) }],
      ['owner {}', { owner: {} }],
    ])('rejects %s with INVALID_ARGUMENT', async (_name, options) => {
      const { manager, spawner } = await setup();
      await rejectsWithCode(manager.createSession(options as never), 'INVALID_ARGUMENT');
      expect(spawner.calls).toHaveLength(0);
    });

    it('accepts a key of exactly maxKeyLength characters', async () => {
      const { manager } = await setup({ maxKeyLength: 10 });
      await expect(manager.createSession({ key: 'k'.repeat(10) })).resolves.toBeDefined();
      await rejectsWithCode(manager.createSession({ key: 'k'.repeat(11) }), 'INVALID_ARGUMENT');
    });

    it('rejects options that are not an object with INVALID_ARGUMENT', async () => {
      const { manager } = await setup();
      await rejectsWithCode(manager.createSession(null as never), 'INVALID_ARGUMENT');
    });

    it('enforces maxSessions with SESSION_LIMIT_REACHED; an exited session frees its slot', async () => {
      const { manager, spawner } = await setup({ maxSessions: 2 });
      const a = await manager.createSession();
      await manager.createSession({ owner: 'x' });
      await rejectsWithCode(manager.createSession({ owner: 'y' }), 'SESSION_LIMIT_REACHED');
      expect(spawner.calls).toHaveLength(2);
      await exitPty(ptyOf(spawner, a), 0);
      await expect(manager.createSession({ owner: 'y' })).resolves.toBeDefined();
      await rejectsWithCode(manager.createSession(), 'SESSION_LIMIT_REACHED');
    });

    it('counts a session being spawned against the limit', async () => {
      const { manager } = await setup({
        maxSessions: 1,
        profiles: { slow: async () => (await new Promise((r) => setTimeout(r, 5)), { file: '/bin/sh' }) },
        defaultProfile: 'slow',
      });
      const first = manager.createSession();
      await rejectsWithCode(manager.createSession(), 'SESSION_LIMIT_REACHED');
      await first;
    });

    it('enforces maxSessionsPerOwner with OWNER_SESSION_LIMIT_REACHED; other owners are unaffected; exit frees the slot', async () => {
      const { manager, spawner } = await setup({ maxSessionsPerOwner: 2 });
      const a1 = await manager.createSession({ owner: 'alice' });
      await manager.createSession({ owner: 'alice' });
      const error = await rejectsWithCode(manager.createSession({ owner: 'alice' }), 'OWNER_SESSION_LIMIT_REACHED');
      expect(error.message).toContain('alice');
      await expect(manager.createSession({ owner: 'bob' })).resolves.toBeDefined();
      await expect(manager.createSession()).resolves.toBeDefined();
      await exitPty(ptyOf(spawner, a1), 0);
      await expect(manager.createSession({ owner: 'alice' })).resolves.toMatchObject({ owner: 'alice' });
    });

    it('closeSession frees the slot', async () => {
      const { manager } = await setup({ maxSessions: 1 });
      const a = await manager.createSession({ key: 'k' });
      await manager.closeSession(a.id);
      await expect(manager.createSession({ key: 'k' })).resolves.toBeDefined();
    });

    it('reports SPAWN_FAILED when the spawner throws, and leaks neither a slot nor the key', async () => {
      const { manager, spawner } = await setup({ maxSessions: 1, maxSessionsPerOwner: 1 });
      const cause = new Error('posix_spawnp failed.');
      spawner.failNext(cause);
      const error = await rejectsWithCode(manager.createSession({ key: 'k', owner: 'alice' }), 'SPAWN_FAILED');
      expect(error.cause).toBe(cause);
      expect(error.message).toContain('/bin/sh');
      expect(manager.listSessions()).toEqual([]);
      expect(manager.getSessionByKey('k')).toBeUndefined();
      const session = await manager.createSession({ key: 'k', owner: 'alice' });
      expect(session.status).toBe('running');
    });

    it("reports SPAWN_FAILED for a profile file that does not exist, without calling the spawner, and leaks nothing", async () => {
      const { manager, spawner } = await setup({ maxSessions: 1, profiles: { sh: SH, missing: { file: '/nonexistent/x' } } });
      const error = await rejectsWithCode(manager.createSession({ profile: 'missing', key: 'k', owner: 'o' }), 'SPAWN_FAILED');
      expect(error.message).toContain('/nonexistent/x');
      expect(spawner.calls).toHaveLength(0);
      await expect(manager.createSession({ key: 'k', owner: 'o' })).resolves.toBeDefined();
    });

    it("reports SPAWN_FAILED for a working directory that does not exist or is a file, naming it, without calling the spawner", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pty-session-spec-'));
      const file = join(dir, 'a-file');
      writeFileSync(file, '');
      try {
        const { manager, spawner } = await setup({
          profiles: { sh: SH, gone: { ...SH, cwd: join(dir, 'gone') }, aFile: { ...SH, cwd: file }, here: { ...SH, cwd: dir } },
        });
        const gone = await rejectsWithCode(manager.createSession({ profile: 'gone' }), 'SPAWN_FAILED');
        expect(gone.message).toContain(`working directory ${join(dir, 'gone')}: ENOENT`);
        const aFile = await rejectsWithCode(manager.createSession({ profile: 'aFile' }), 'SPAWN_FAILED');
        expect(aFile.message).toContain('is not a directory');
        expect(spawner.calls).toHaveLength(0);
        await manager.createSession({ profile: 'here' });
        expect(spawner.calls).toHaveLength(1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('reports SPAWN_FAILED for a file that is not executable', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pty-session-spec-'));
      const file = join(dir, 'not-executable.sh');
      writeFileSync(file, '#!/bin/sh\n');
      chmodSync(file, 0o644);
      try {
        const { manager, spawner } = await setup({ profiles: { sh: SH, noexec: { file } } });
        await rejectsWithCode(manager.createSession({ profile: 'noexec' }), 'SPAWN_FAILED');
        expect(spawner.calls).toHaveLength(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('looks a program named without a slash up in the profile\'s PATH: SPAWN_FAILED when it is not there, or is a directory', async () => {
      const { manager, spawner } = await setup({
        profiles: {
          sh: SH,
          found: { file: 'sh', env: { PATH: '/nonexistent:/bin' } },
          missing: { file: 'no-such-program-here', env: { PATH: '/usr/bin:/bin' } },
          notInPath: { file: 'sh', env: { PATH: '/nonexistent' } },
          directory: { file: '/tmp' },
        },
      });
      const missing = await rejectsWithCode(manager.createSession({ profile: 'missing' }), 'SPAWN_FAILED');
      expect(missing.message).toContain('no-such-program-here');
      await rejectsWithCode(manager.createSession({ profile: 'notInPath' }), 'SPAWN_FAILED');
      const directory = await rejectsWithCode(manager.createSession({ profile: 'directory' }), 'SPAWN_FAILED');
      expect(directory.message).toContain('not a regular file');
      expect(spawner.calls).toHaveLength(0);
      await manager.createSession({ profile: 'found' });
      expect(spawner.calls).toHaveLength(1);
      expect(spawner.calls[0]!.file).toBe('sh'); // as given: node-pty's exec looks it up the same way
    });

    it("resolves a relative PATH entry from the profile's cwd, where the child looks (it changes to it before exec)", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pty-session-spec-'));
      try {
        mkdirSync(join(dir, 'bin'));
        writeFileSync(join(dir, 'bin', 'tool'), '#!/bin/sh\n');
        chmodSync(join(dir, 'bin', 'tool'), 0o755);
        const { manager, spawner } = await setup({
          profiles: { sh: SH, relative: { file: 'tool', cwd: dir, env: { PATH: 'bin:/usr/bin' } }, dotted: { file: 'tool', cwd: dir, env: { PATH: './bin' } } },
        });
        await manager.createSession({ profile: 'relative' });
        await manager.createSession({ profile: 'dotted' });
        expect(spawner.calls.map((call) => call.file)).toEqual(['tool', 'tool']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('ends the spawned process and reports SPAWN_FAILED when the session cannot be made after the spawn (the screen emulator fails)', async () => {
      const { manager, spawner } = await setup({ maxSessions: 1, profiles: { sh: SH, screen: { ...SH, replay: 'screen' } } });
      const open = jest.spyOn(ScreenWorkerPool.prototype, 'open').mockImplementation(() => {
        throw new Error('a worker thread could not start');
      });
      try {
        const error = await rejectsWithCode(manager.createSession({ profile: 'screen', key: 'k' }), 'SPAWN_FAILED');
        expect(error.message).toContain('a worker thread could not start');
      } finally {
        open.mockRestore();
      }
      expect(spawner.calls).toHaveLength(1);
      expect(spawner.last().signalNames).toContain('SIGKILL');
      // Nothing leaked: the slot and the key are free again.
      expect(manager.listSessions()).toEqual([]);
      await expect(manager.createSession({ key: 'k' })).resolves.toBeDefined();
    });

    it('a screen-mode session is spawned, resized and adopted within screen.maxCells cells; a raw-mode one is not', async () => {
      // 10,000 cells, with room for the alternate screen and a line of scrollback.
      const screenOptions = { maxCells: 10_000, scrollback: 10 };
      const { manager, spawner } = await setup({ maxSessions: 5, profiles: { sh: SH, screen: { ...SH, replay: 'screen' } }, screen: screenOptions });
      const screen = await manager.createSession({ profile: 'screen', cols: 500, rows: 100 });
      expect(spawner.calls.at(-1)!.options).toMatchObject({ cols: 500, rows: 9 });
      expect([screen.cols, screen.rows]).toEqual([500, 9]);
      screen.resize(50, 300);
      expect([screen.cols, screen.rows]).toEqual([50, 99]);
      expect(spawner.last().resizes).toEqual([[50, 99]]);

      const raw = await manager.createSession({ profile: 'sh', cols: 500, rows: 100 });
      raw.resize(50, 300);
      expect([raw.cols, raw.rows]).toEqual([50, 300]);

      // A pty the caller spawned, larger than the budget: resized before its emulator opens.
      const pty = new FakePty({ cols: 1000, rows: 1000 });
      const adopted = await (await setup({ replay: 'screen', screen: screenOptions })).manager.createSession({ pty });
      expect(pty.resizes).toEqual([[1000, 4]]);
      expect([adopted.cols, adopted.rows]).toEqual([1000, 4]);
    });

    it('reports SPAWN_FAILED when a profile factory rejects, and leaks nothing', async () => {
      const { manager } = await setup({
        maxSessions: 1,
        profiles: {
          sh: SH,
          broken: async () => {
            throw new Error('no workspace for this key');
          },
        },
      });
      const error = await rejectsWithCode(manager.createSession({ profile: 'broken', key: 'k' }), 'SPAWN_FAILED');
      expect(error.message).toContain('no workspace for this key');
      await expect(manager.createSession({ key: 'k' })).resolves.toBeDefined();
    });

    it('rejects a factory result that is not a valid profile, and leaks nothing', async () => {
      const { manager, spawner } = await setup({ maxSessions: 1, profiles: { sh: SH, bad: () => ({ file: '' }) } });
      await expect(manager.createSession({ profile: 'bad', key: 'k' })).rejects.toBeInstanceOf(PtySessionError);
      expect(spawner.calls).toHaveLength(0);
      await expect(manager.createSession({ key: 'k' })).resolves.toBeDefined();
    });
  });

  describe('adopting an already-spawned IPty', () => {
    it('manages the given pty without calling the spawner', async () => {
      const { manager, spawner } = await setup();
      const pty = new FakePty({ cols: 120, rows: 40 });
      const session = await manager.createSession({ pty, key: 'milestone-1', owner: 'alice' });
      expect(spawner.calls).toHaveLength(0);
      expect(session).toMatchObject({ key: 'milestone-1', owner: 'alice', pid: pty.pid, cols: 120, rows: 40, status: 'running' });
      expect(session.id).toMatch(UUID);
      expect(session.profile).toBeUndefined();
      expect(manager.getSessionByKey('milestone-1')).toBe(session);
      pty.emitData('prompt$ ');
      expect(session.getReplayBuffer().data).toBe('prompt$ ');
      session.write('ls\r');
      expect(pty.writes).toEqual(['ls\r']);
      await exitPty(pty, 0);
      expect(session.status).toBe('exited');
    });

    it('counts the adopted session against the limits', async () => {
      const { manager } = await setup({ maxSessions: 1 });
      await manager.createSession({ pty: new FakePty() });
      await rejectsWithCode(manager.createSession(), 'SESSION_LIMIT_REACHED');
    });

    it('rejects profile and pty together with INVALID_ARGUMENT', async () => {
      const { manager, spawner } = await setup();
      await rejectsWithCode(manager.createSession({ profile: 'sh', pty: new FakePty() }), 'INVALID_ARGUMENT');
      expect(spawner.calls).toHaveLength(0);
      expect(manager.listSessions()).toEqual([]);
    });

    it('rejects something that is not an IPty with INVALID_ARGUMENT', async () => {
      const { manager } = await setup();
      await rejectsWithCode(manager.createSession({ pty: { pid: 1 } as never }), 'INVALID_ARGUMENT');
    });
  });

  describe('getOrCreateSession', () => {
    it('refuses options that are not an object with INVALID_ARGUMENT, whether or not the key has a session', async () => {
      const { manager } = await setup();
      await rejectsWithCode(manager.getOrCreateSession('k', null as never), 'INVALID_ARGUMENT');
      await manager.getOrCreateSession('k', {});
      await rejectsWithCode(manager.getOrCreateSession('k', null as never), 'INVALID_ARGUMENT');
      await rejectsWithCode(manager.getOrCreateSession('k', 'alice' as never), 'INVALID_ARGUMENT');
    });

    it('refuses a pty, which it might not use and nobody would then end', async () => {
      const { manager, spawner } = await setup();
      const pty = new FakePty();
      await expect(manager.getOrCreateSession('k', { pty } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(spawner.calls).toHaveLength(0);
      expect(manager.listSessions()).toEqual([]);
      pty.emitExit(0);
    });

    it('50 concurrent calls for one key spawn exactly once and all get the same session', async () => {
      const { manager, spawner } = await setup();
      const sessions = await Promise.all(Array.from({ length: 50 }, () => manager.getOrCreateSession('shared', { owner: 'alice' })));
      expect(spawner.calls).toHaveLength(1);
      expect(new Set(sessions).size).toBe(1);
      expect(sessions[0]).toMatchObject({ key: 'shared', owner: 'alice' });
      expect(manager.listSessions()).toHaveLength(1);
    });

    it('50 concurrent calls spawn exactly once also when the profile is an async factory that waits', async () => {
      let factoryCalls = 0;
      const { manager, spawner } = await setup({
        profiles: {
          slow: async () => {
            factoryCalls++;
            await new Promise((resolve) => setTimeout(resolve, 20));
            return { file: '/bin/sh' };
          },
        },
        defaultProfile: 'slow',
      });
      const calls = Array.from({ length: 50 }, () => manager.getOrCreateSession('shared'));
      const sessions = await Promise.all(calls);
      expect(factoryCalls).toBe(1);
      expect(spawner.calls).toHaveLength(1);
      expect(new Set(sessions).size).toBe(1);
      // and once it is live, later calls get it too
      await expect(manager.getOrCreateSession('shared')).resolves.toBe(sessions[0]);
      expect(spawner.calls).toHaveLength(1);
    });

    it('waits for a createSession of the same key that is still spawning instead of refusing', async () => {
      const { manager, spawner } = await setup({
        profiles: { slow: async () => (await new Promise((r) => setTimeout(r, 20)), { file: '/bin/sh' }) },
        defaultProfile: 'slow',
      });
      const created = manager.createSession({ key: 'k', owner: 'alice' });
      const [a, b] = await Promise.all([created, manager.getOrCreateSession('k', { owner: 'alice' })]);
      expect(b).toBe(a);
      expect(spawner.calls).toHaveLength(1);
      // another owner waiting on the same in-flight creation is refused once it is known
      const other = manager.createSession({ key: 'k2', owner: 'alice' });
      await expect(manager.getOrCreateSession('k2', { owner: 'bob' })).rejects.toMatchObject({ code: 'KEY_IN_USE' });
      await other;
    });

    it('concurrent calls spread over several ticks still spawn once', async () => {
      const { manager, spawner } = await setup({
        profiles: { slow: async () => (await new Promise((r) => setTimeout(r, 20)), { file: '/bin/sh' }) },
        defaultProfile: 'slow',
      });
      const calls: Array<Promise<PtySession>> = [];
      for (let i = 0; i < 10; i++) {
        calls.push(manager.getOrCreateSession('k'));
        await new Promise((r) => setTimeout(r, 1));
      }
      const sessions = await Promise.all(calls);
      expect(new Set(sessions).size).toBe(1);
      expect(spawner.calls).toHaveLength(1);
    });

    it("returns the key's live session without spawning again", async () => {
      const { manager, spawner } = await setup();
      const created = await manager.createSession({ key: 'k', owner: 'alice' });
      await expect(manager.getOrCreateSession('k', { owner: 'alice' })).resolves.toBe(created);
      await expect(manager.getOrCreateSession('k')).resolves.toBe(created);
      expect(spawner.calls).toHaveLength(1);
    });

    it("rejects another owner asking for the key's live session with KEY_IN_USE", async () => {
      const { manager } = await setup();
      await manager.getOrCreateSession('k', { owner: 'alice' });
      await rejectsWithCode(manager.getOrCreateSession('k', { owner: 'mallory' }), 'KEY_IN_USE');
    });

    it('rejects another owner also while the session is still being spawned', async () => {
      const { manager, spawner } = await setup({
        profiles: { slow: async () => (await new Promise((r) => setTimeout(r, 10)), { file: '/bin/sh' }) },
        defaultProfile: 'slow',
      });
      const alice = manager.getOrCreateSession('k', { owner: 'alice' });
      const mallory = manager.getOrCreateSession('k', { owner: 'mallory' });
      await rejectsWithCode(mallory, 'KEY_IN_USE');
      await expect(alice).resolves.toMatchObject({ owner: 'alice' });
      expect(spawner.calls).toHaveLength(1);
    });

    it('creates a new session once the previous one of the key has exited', async () => {
      const { manager, spawner } = await setup();
      const first = await manager.getOrCreateSession('k');
      await exitPty(spawner.last(), 0);
      const second = await manager.getOrCreateSession('k');
      expect(second).not.toBe(first);
      expect(second.status).toBe('running');
      expect(spawner.calls).toHaveLength(2);
      expect(manager.getSessionByKey('k')).toBe(second);
    });

    it('all concurrent callers get the spawn error, and a later call tries again', async () => {
      const { manager, spawner } = await setup();
      spawner.failNext();
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => manager.getOrCreateSession('k')));
      expect(results.every((r) => r.status === 'rejected' && (r.reason as PtySessionError).code === 'SPAWN_FAILED')).toBe(true);
      expect(spawner.calls).toHaveLength(1);
      const session = await manager.getOrCreateSession('k');
      expect(session.status).toBe('running');
      expect(spawner.calls).toHaveLength(2);
    });

    it("another owner's failed creation of the key is not this caller's answer: it tries afresh", async () => {
      let release!: () => void;
      const { manager, spawner } = await setup({
        profiles: {
          sh: SH,
          vault: async ({ owner }) => {
            await new Promise<void>((resolve) => (release = resolve));
            throw new Error(`no credentials in the vault for ${owner}`);
          },
        },
      });
      const alice = manager.getOrCreateSession('k', { owner: 'alice', profile: 'vault' });
      const bob = manager.getOrCreateSession('k', { owner: 'bob', profile: 'sh' });
      await flushImmediates();
      release();
      const aliceError = await rejectsWithCode(alice, 'SPAWN_FAILED');
      expect(aliceError.message).toContain('alice');
      const bobs = await bob;
      expect(bobs).toMatchObject({ key: 'k', owner: 'bob', status: 'running' });
      expect(spawner.calls).toHaveLength(1);
    });

    it("checks the request whether or not the key's session exists (size, profile)", async () => {
      const { manager } = await setup();
      const s = await manager.getOrCreateSession('k', { owner: 'alice' });
      await rejectsWithCode(manager.getOrCreateSession('k', { owner: 'alice', cols: 5000, rows: 24 }), 'INVALID_SIZE');
      await rejectsWithCode(manager.getOrCreateSession('k', { owner: 'alice', cols: 80, rows: -3 }), 'INVALID_SIZE');
      await rejectsWithCode(manager.getOrCreateSession('k', { owner: 'alice', profile: 'nope' }), 'PROFILE_NOT_FOUND');
      await rejectsWithCode(manager.getOrCreateSession('k', { owner: '' }), 'INVALID_ARGUMENT');
      await expect(manager.getOrCreateSession('k', { owner: 'alice', cols: 100, rows: 30 })).resolves.toBe(s);
    });

    it('rejects an invalid key with INVALID_ARGUMENT', async () => {
      const { manager } = await setup();
      await rejectsWithCode(manager.getOrCreateSession(''), 'INVALID_ARGUMENT');
      await rejectsWithCode(manager.getOrCreateSession(7 as unknown as string), 'INVALID_ARGUMENT');
    });

    it('counts as activity for the live session it returns', async () => {
      jest.useFakeTimers(FAKE_TIMERS);
      const { manager } = await setup();
      const s = await manager.getOrCreateSession('k');
      const t0 = s.lastActivity;
      jest.advanceTimersByTime(4000);
      await manager.getOrCreateSession('k');
      expect(s.lastActivity).toBe(t0 + 4000);
    });
  });

  describe('lookup and listing', () => {
    it('getSession / getSessionByKey find sessions; unknown ids and keys give undefined', async () => {
      const { manager } = await setup();
      const s = await manager.createSession({ key: 'k' });
      expect(manager.getSession(s.id)).toBe(s);
      expect(manager.getSessionByKey('k')).toBe(s);
      expect(manager.getSession('00000000-0000-4000-8000-000000000000')).toBeUndefined();
      expect(manager.getSessionByKey('other')).toBeUndefined();
      expect(manager.getSession(undefined as unknown as string)).toBeUndefined();
    });

    it('listSessions reports every field and filters by owner, key and status', async () => {
      jest.useFakeTimers(FAKE_TIMERS);
      const { manager, spawner } = await setup();
      const a = await manager.createSession({ key: 'a', owner: 'alice', cols: 100, rows: 30 });
      const b = await manager.createSession({ key: 'b', owner: 'bob' });
      const c = await manager.createSession({ owner: 'alice' });
      ptyOf(spawner, a).emitData('héllo');
      jest.advanceTimersByTime(1000);
      await exitPty(ptyOf(spawner, b), 2);

      const infoA = manager.listSessions({ key: 'a' });
      expect(infoA).toEqual([
        {
          id: a.id,
          key: 'a',
          owner: 'alice',
          profile: 'sh',
          pid: a.pid,
          cols: 100,
          rows: 30,
          createdAt: a.createdAt,
          lastActivity: a.lastActivity,
          status: 'running',
          attachedClients: 0,
          bufferedBytes: 6,
          outputOffset: 6,
          exit: undefined,
        },
      ]);
      expect(typeof infoA[0].createdAt).toBe('number');

      expect(manager.listSessions().map((i) => i.id).sort()).toEqual([a.id, b.id, c.id].sort());
      expect(manager.listSessions({ owner: 'alice' }).map((i) => i.id).sort()).toEqual([a.id, c.id].sort());
      expect(manager.listSessions({ status: 'exited' }).map((i) => i.id)).toEqual([b.id]);
      expect(manager.listSessions({ status: 'running', owner: 'alice' }).map((i) => i.id).sort()).toEqual([a.id, c.id].sort());
      expect(manager.listSessions({ owner: 'bob', status: 'running' })).toEqual([]);
      expect(manager.listSessions({ owner: 'nobody' })).toEqual([]);
      const [exited] = manager.listSessions({ key: 'b' });
      expect(exited.status).toBe('exited');
      expect(exited.exit).toMatchObject({ exitCode: 2, reason: 'exited', exitedAt: Date.now() });
    });

    it('listSessions returns snapshots, not live objects', async () => {
      const { manager, spawner } = await setup();
      const s = await manager.createSession();
      const [before] = manager.listSessions();
      ptyOf(spawner, s).emitData('abc');
      expect(before.outputOffset).toBe(0);
      expect(manager.listSessions()[0].outputOffset).toBe(3);
    });

    it('updateActivity resets the idle clock; on an unknown id it throws SESSION_NOT_FOUND', async () => {
      jest.useFakeTimers(FAKE_TIMERS);
      const { manager } = await setup();
      const s = await manager.createSession();
      jest.advanceTimersByTime(2500);
      manager.updateActivity(s.id);
      expect(s.lastActivity).toBe(s.createdAt + 2500);
      expectThrowsCode(() => manager.updateActivity('no-such-id'), 'SESSION_NOT_FOUND');
    });

    it('closeSession on an unknown id rejects with SESSION_NOT_FOUND', async () => {
      const { manager } = await setup();
      await rejectsWithCode(manager.closeSession('no-such-id'), 'SESSION_NOT_FOUND');
    });

    it("closeSession signals the session's process group, waits for the exit and forgets the session", async () => {
      const { manager, spawner } = await setup();
      const s = await manager.createSession({ key: 'k' });
      const pty = ptyOf(spawner, s);
      await manager.closeSession(s.id);
      expect(pty.signals).toEqual([{ signal: 'SIGHUP', via: 'group' }]);
      expect(s.exit).toMatchObject({ reason: 'closed', signal: 1 });
      expect(manager.getSession(s.id)).toBeUndefined();
      expect(manager.getSessionByKey('k')).toBeUndefined();
      await rejectsWithCode(manager.closeSession(s.id), 'SESSION_NOT_FOUND');
    });
  });

  describe('packing quiet buffers (cleanupExpired)', () => {
    it('packs a buffer once a whole sweep passed without output, within packBytesPerSweep, taking turns, and replays the same', async () => {
      const pack = jest.spyOn(ReplayBuffer.prototype, 'pack');
      const A = 'héllo ─ → ✓ ';
      const B = 'wörld ✓ ';
      try {
        // The budget is A's size: one of them per sweep.
        const { manager, spawner } = await setup({ packBytesPerSweep: Buffer.byteLength(A), idleTimeoutMs: 0 });
        const a = await manager.createSession({ key: 'a' });
        const b = await manager.createSession({ key: 'b' });
        ptyOf(spawner, a).emitData(A);
        ptyOf(spawner, b).emitData(B);
        const before = [a.getReplayBuffer(), b.getReplayBuffer()];
        const packed = () => pack.mock.results.map((r) => r.value);

        await manager.cleanupExpired(); // both printed since the sweep before: not quiet yet
        expect(pack).not.toHaveBeenCalled();
        await manager.cleanupExpired(); // quiet for a sweep: a is packed, and that spends the budget
        expect(packed()).toEqual([Buffer.byteLength(A)]);
        await manager.cleanupExpired(); // the next sweep starts where this one stopped: b, then a (packed already)
        expect(packed()).toEqual([Buffer.byteLength(A), Buffer.byteLength(B), 0]);
        expect([a.getReplayBuffer(), b.getReplayBuffer()]).toEqual(before);

        // New output: not quiet again until a sweep passes without any.
        pack.mockClear();
        ptyOf(spawner, a).emitData('→ more');
        await manager.cleanupExpired();
        // Only b, quiet, but packed already: nothing to gain (reading a replay leaves a buffer packed).
        expect(packed()).toEqual([0]);
        expect(a.getReplayBuffer().data).toBe(`${A}→ more`);
        expect([a.getReplayBuffer().offset, b.getReplayBuffer().data]).toEqual([0, B]);
      } finally {
        pack.mockRestore();
      }
    });

    it.each([
      ['0 (never)', 0],
      ['smaller than the buffer (copying it would take the sweep longer than the budget allows)', 8],
    ])('never packs with packBytesPerSweep %s', async (_, packBytesPerSweep) => {
      const pack = jest.spyOn(ReplayBuffer.prototype, 'pack');
      try {
        const { manager, spawner } = await setup({ packBytesPerSweep, idleTimeoutMs: 0 });
        const a = await manager.createSession({ key: 'a' });
        ptyOf(spawner, a).emitData('héllo ─ → ✓ ');
        for (let i = 0; i < 3; i++) await manager.cleanupExpired();
        expect(pack).not.toHaveBeenCalled();
      } finally {
        pack.mockRestore();
      }
    });
  });

  describe('idle expiry (cleanupExpired)', () => {
    const IDLE = 10_000;

    beforeEach(() => {
      jest.useFakeTimers(FAKE_TIMERS);
    });

    async function idleSetup(options: PtySessionModuleOptions = {}) {
      const env = await setup({ idleTimeoutMs: IDLE, exitedRetentionMs: 60_000, ...options });
      env.spawner.ptyDefaults = { dieOn: [] }; // exits are driven by the test
      return env;
    }

    async function expectNotExpired(manager: PtySessionManager, session: PtySession, pty: FakePty) {
      const sweep = manager.cleanupExpired();
      expect(session.isTerminating).toBe(false);
      expect(pty.signals).toEqual([]);
      await expect(sweep).resolves.toBe(0);
      expect(session.status).toBe('running');
    }

    async function expectExpired(manager: PtySessionManager, session: PtySession, pty: FakePty) {
      const sweep = manager.cleanupExpired();
      expect(session.isTerminating).toBe(true);
      expect(pty.signals).toEqual([{ signal: 'SIGHUP', via: 'group' }]);
      await exitPty(pty, 0, 1);
      await expect(sweep).resolves.toBe(1);
      expect(session.status).toBe('exited');
      expect(session.exit).toMatchObject({ reason: 'idle', signal: 1 });
    }

    it('terminates a session with no client and no activity for idleTimeoutMs (not a millisecond earlier)', async () => {
      const { manager, spawner } = await idleSetup();
      const s = await manager.createSession({ key: 'k' });
      const pty = ptyOf(spawner, s);
      await jest.advanceTimersByTimeAsync(IDLE - 1);
      await expectNotExpired(manager, s, pty);
      await jest.advanceTimersByTimeAsync(1);
      await expectExpired(manager, s, pty);
      // it stays readable as exited, and the next sweep does not count it again
      expect(manager.getSession(s.id)).toBe(s);
      await expect(manager.cleanupExpired()).resolves.toBe(0);
    });

    it('a session already being terminated is not terminated again by the next sweep', async () => {
      const { manager, spawner } = await idleSetup();
      const s = await manager.createSession();
      const pty = ptyOf(spawner, s);
      await jest.advanceTimersByTimeAsync(IDLE);
      const first = manager.cleanupExpired();
      const second = manager.cleanupExpired();
      await exitPty(pty, 0, 1);
      await expect(first).resolves.toBe(1);
      await expect(second).resolves.toBe(0);
      expect(pty.signalNames).toEqual(['SIGHUP']);
    });

    it('escalates to SIGTERM and SIGKILL for an idle session that ignores SIGHUP', async () => {
      const { manager, spawner } = await idleSetup();
      const s = await manager.createSession();
      const pty = ptyOf(spawner, s);
      pty.dieOn.add('SIGKILL');
      await jest.advanceTimersByTimeAsync(IDLE);
      const sweep = manager.cleanupExpired();
      await jest.advanceTimersByTimeAsync(100);
      expect(pty.signalNames).toEqual(['SIGHUP', 'SIGTERM']);
      await jest.advanceTimersByTimeAsync(100);
      expect(pty.signalNames).toEqual(['SIGHUP', 'SIGTERM', 'SIGKILL']);
      await flushImmediates();
      await expect(sweep).resolves.toBe(1);
      expect(s.exit).toMatchObject({ reason: 'idle', signal: 9 });
    });

    type Activity = (s: PtySession, pty: FakePty, m: PtySessionManager) => unknown;
    it.each<[string, Activity]>([
      ['input (write)', (s) => s.write('x')],
      ['output', (_s, pty) => pty.emitData('tick\r\n')],
      ['updateActivity', (s, _pty, m) => m.updateActivity(s.id)],
      ['attach (then detach)', (s) => s.attach({ onOutput: () => {} }).detach()],
      ['getOrCreateSession of its key', (s, _pty, m) => m.getOrCreateSession(s.key!)],
    ])('%s pushes the deadline back', async (_name, activity) => {
      const { manager, spawner } = await idleSetup();
      const s = await manager.createSession({ key: 'k' });
      const pty = ptyOf(spawner, s);
      await jest.advanceTimersByTimeAsync(6000);
      await activity(s, pty, manager);
      await jest.advanceTimersByTimeAsync(IDLE - 1); // 15999 ms after creation, 9999 after the activity
      await expectNotExpired(manager, s, pty);
      await jest.advanceTimersByTimeAsync(1);
      await expectExpired(manager, s, pty);
    });

    it('a session with an attached client never expires for idleness; after detach the clock starts from the detach', async () => {
      const { manager, spawner } = await idleSetup();
      const s = await manager.createSession();
      const pty = ptyOf(spawner, s);
      const attachment = s.attach({ onOutput: () => {} });
      for (let i = 0; i < 10; i++) {
        await jest.advanceTimersByTimeAsync(24 * 60 * 60 * 1000); // a day at a time, no activity at all
        await expectNotExpired(manager, s, pty);
      }
      attachment.detach();
      await jest.advanceTimersByTimeAsync(IDLE - 1);
      await expectNotExpired(manager, s, pty);
      await jest.advanceTimersByTimeAsync(1);
      await expectExpired(manager, s, pty);
    });

    it('one of two attached clients detaching does not start the clock', async () => {
      const { manager, spawner } = await idleSetup();
      const s = await manager.createSession();
      const pty = ptyOf(spawner, s);
      const a = s.attach({ onOutput: () => {} });
      s.attach({ onOutput: () => {} });
      a.detach();
      await jest.advanceTimersByTimeAsync(IDLE * 10);
      await expectNotExpired(manager, s, pty);
    });

    it('idleTimeoutMs 0 disables idle expiry', async () => {
      const { manager, spawner } = await idleSetup({ idleTimeoutMs: 0 });
      const s = await manager.createSession();
      await jest.advanceTimersByTimeAsync(365 * 24 * 60 * 60 * 1000);
      await expectNotExpired(manager, s, ptyOf(spawner, s));
    });

    it("a profile's idleTimeoutMs overrides the module's", async () => {
      const { manager, spawner } = await idleSetup({ profiles: { sh: SH, quick: { file: '/bin/sh', idleTimeoutMs: 1000 }, never: { file: '/bin/sh', idleTimeoutMs: 0 } } });
      const normal = await manager.createSession();
      const quick = await manager.createSession({ profile: 'quick' });
      const never = await manager.createSession({ profile: 'never' });
      await jest.advanceTimersByTimeAsync(1000);
      const sweep = manager.cleanupExpired();
      expect(quick.isTerminating).toBe(true);
      expect(normal.isTerminating).toBe(false);
      await exitPty(ptyOf(spawner, quick), 0, 1);
      await expect(sweep).resolves.toBe(1);
      await jest.advanceTimersByTimeAsync(IDLE);
      const sweep2 = manager.cleanupExpired();
      expect(normal.isTerminating).toBe(true);
      expect(never.isTerminating).toBe(false);
      await exitPty(ptyOf(spawner, normal), 0, 1);
      await expect(sweep2).resolves.toBe(1);
    });
  });

  describe('exited sessions and retention', () => {
    const RETENTION = 60_000;

    beforeEach(() => {
      jest.useFakeTimers(FAKE_TIMERS);
    });

    it('stay readable (exit status, final output) until exitedRetentionMs has passed, then are forgotten', async () => {
      const { manager, spawner } = await setup({ exitedRetentionMs: RETENTION, idleTimeoutMs: 0 });
      const s = await manager.createSession({ key: 'job', owner: 'alice' });
      const pty = ptyOf(spawner, s);
      pty.emitData('build ok\r\n');
      pty.emitData('bye\r\n');
      await exitPty(pty, 4);

      await jest.advanceTimersByTimeAsync(RETENTION - 1);
      await expect(manager.cleanupExpired()).resolves.toBe(0);
      expect(manager.getSession(s.id)).toBe(s);
      expect(manager.getSessionByKey('job')).toBe(s);
      expect(manager.getSession(s.id)?.exit).toMatchObject({ exitCode: 4, reason: 'exited' });
      expect(manager.getSession(s.id)?.getReplayBuffer().data).toBe('build ok\r\nbye\r\n');
      expect(manager.listSessions({ status: 'exited' }).map((i) => i.id)).toEqual([s.id]);

      await jest.advanceTimersByTimeAsync(1);
      await expect(manager.cleanupExpired()).resolves.toBe(1);
      expect(manager.getSession(s.id)).toBeUndefined();
      expect(manager.getSessionByKey('job')).toBeUndefined();
      expect(manager.listSessions()).toEqual([]);
      await expect(manager.cleanupExpired()).resolves.toBe(0);
    });

    it('returns how many sessions were forgotten', async () => {
      const { manager, spawner } = await setup({ exitedRetentionMs: RETENTION });
      const a = await manager.createSession();
      const b = await manager.createSession();
      const c = await manager.createSession();
      await exitPty(ptyOf(spawner, a), 0);
      await exitPty(ptyOf(spawner, b), 1);
      await jest.advanceTimersByTimeAsync(RETENTION);
      await expect(manager.cleanupExpired()).resolves.toBe(2);
      expect(manager.listSessions().map((i) => i.id)).toEqual([c.id]);
    });

    it('retention counts from the exit, not from the creation', async () => {
      const { manager, spawner } = await setup({ exitedRetentionMs: RETENTION, idleTimeoutMs: 0 });
      const s = await manager.createSession();
      await jest.advanceTimersByTimeAsync(RETENTION * 2);
      await exitPty(ptyOf(spawner, s), 0);
      await jest.advanceTimersByTimeAsync(RETENTION - 1);
      await expect(manager.cleanupExpired()).resolves.toBe(0);
      expect(manager.getSession(s.id)).toBe(s);
    });

    it("forgetting an old exited session keeps the key's newer session", async () => {
      const { manager, spawner } = await setup({ exitedRetentionMs: RETENTION, idleTimeoutMs: 0 });
      const old = await manager.createSession({ key: 'k' });
      await exitPty(ptyOf(spawner, old), 0);
      const fresh = await manager.createSession({ key: 'k' });
      expect(manager.getSessionByKey('k')).toBe(fresh);
      await jest.advanceTimersByTimeAsync(RETENTION);
      await expect(manager.cleanupExpired()).resolves.toBe(1);
      expect(manager.getSession(old.id)).toBeUndefined();
      expect(manager.getSessionByKey('k')).toBe(fresh);
    });

    it("keeps at most maxSessionsPerOwner of an owner's exited sessions: the oldest exit is forgotten first", async () => {
      // Programs that exit on their own free their live slot; without this bound one user could pile
      // up buffers for exitedRetentionMs by creating and exiting in a loop.
      const { manager, spawner } = await setup({ exitedRetentionMs: RETENTION, maxSessionsPerOwner: 2, idleTimeoutMs: 0 });
      const exitedIds: string[] = [];
      for (let i = 0; i < 5; i++) {
        const s = await manager.createSession({ owner: 'alice', key: `job-${i}` });
        ptyOf(spawner, s).emitData(`run ${i}\r\n`);
        await exitPty(ptyOf(spawner, s), 0);
        exitedIds.push(s.id);
      }
      const bob = await manager.createSession({ owner: 'bob' });
      await exitPty(ptyOf(spawner, bob), 0);
      expect(manager.listSessions({ owner: 'alice' }).map((i) => i.id)).toEqual(exitedIds.slice(3));
      expect(manager.getSessionByKey('job-2')).toBeUndefined();
      expect(manager.getSessionByKey('job-4')?.getReplayBuffer().data).toBe('run 4\r\n');
      expect(manager.getSession(bob.id)).toBe(bob); // another owner's are counted apart
      // Live sessions are not affected by the exited ones.
      const live = await Promise.all([manager.createSession({ owner: 'alice' }), manager.createSession({ owner: 'alice' })]);
      expect(live.every((s) => s.status === 'running')).toBe(true);
      expect(manager.listSessions({ owner: 'alice' })).toHaveLength(4);
    });

    it('keeps at most maxSessions exited sessions in all, also of sessions without an owner', async () => {
      const { manager, spawner } = await setup({ exitedRetentionMs: RETENTION, maxSessions: 3, idleTimeoutMs: 0 });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const s = await manager.createSession();
        await exitPty(ptyOf(spawner, s), 0);
        ids.push(s.id);
      }
      expect(manager.listSessions().map((i) => i.id)).toEqual(ids.slice(2));
    });

    it('a closed session is forgotten at once and does not count against the exited ones', async () => {
      const { manager, spawner } = await setup({ exitedRetentionMs: RETENTION, maxSessionsPerOwner: 1, idleTimeoutMs: 0 });
      const kept = await manager.createSession({ owner: 'alice' });
      await exitPty(ptyOf(spawner, kept), 0);
      const closed = await manager.createSession({ owner: 'alice' });
      const closing = manager.closeSession(closed.id);
      await exitPty(ptyOf(spawner, closed), 0, 1);
      await closing;
      expect(manager.listSessions({ owner: 'alice' }).map((i) => i.id)).toEqual([kept.id]);
    });

    it('exitedRetentionMs 0 forgets exited sessions at the next sweep', async () => {
      const { manager, spawner } = await setup({ exitedRetentionMs: 0 });
      const s = await manager.createSession();
      await exitPty(ptyOf(spawner, s), 0);
      await expect(manager.cleanupExpired()).resolves.toBe(1);
      expect(manager.getSession(s.id)).toBeUndefined();
    });
  });

  describe('cleanup job', () => {
    beforeEach(() => {
      jest.useFakeTimers(FAKE_TIMERS);
    });

    it('calls cleanupExpired every cleanupIntervalMs once the application is initialised', async () => {
      const { moduleRef, manager } = await setup({ cleanupIntervalMs: 1000 });
      const sweep = jest.spyOn(manager, 'cleanupExpired');
      await jest.advanceTimersByTimeAsync(5000);
      expect(sweep).not.toHaveBeenCalled(); // not before init
      await moduleRef.init();
      await jest.advanceTimersByTimeAsync(999);
      expect(sweep).toHaveBeenCalledTimes(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(sweep).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(2000);
      expect(sweep).toHaveBeenCalledTimes(3);
    });

    it('without ScheduleModule the job still runs: an idle session is closed by it', async () => {
      const { moduleRef, manager } = await setup({ cleanupIntervalMs: 1000, idleTimeoutMs: 5000, exitedRetentionMs: 60_000 });
      await moduleRef.init();
      const s = await manager.createSession({ key: 'k' });
      await jest.advanceTimersByTimeAsync(4000);
      await flushImmediates();
      expect(s.status).toBe('running');
      await jest.advanceTimersByTimeAsync(2000);
      await flushImmediates();
      expect(s.status).toBe('exited');
      expect(s.exit?.reason).toBe('idle');
      expect(manager.getSessionByKey('k')).toBe(s); // retained as exited
    });

    it('with ScheduleModule the job is registered in SchedulerRegistry under PTY_SESSION_CLEANUP_JOB, and runs', async () => {
      const { moduleRef, manager } = await setup(
        { cleanupIntervalMs: 1000, idleTimeoutMs: 5000 },
        { imports: [ScheduleModule.forRoot()] },
      );
      await moduleRef.init();
      const registry = moduleRef.get(SchedulerRegistry);
      expect(PTY_SESSION_CLEANUP_JOB).toBe('nestjs-pty-session:cleanup');
      expect(registry.getIntervals()).toContain(PTY_SESSION_CLEANUP_JOB);
      const sweep = jest.spyOn(manager, 'cleanupExpired');
      const s = await manager.createSession();
      await jest.advanceTimersByTimeAsync(6000);
      await flushImmediates();
      expect(sweep.mock.calls.length).toBeGreaterThanOrEqual(6);
      expect(s.exit?.reason).toBe('idle');
    });

    it('stops when the application closes', async () => {
      const { moduleRef, manager } = await setup({ cleanupIntervalMs: 1000 });
      await moduleRef.init();
      const sweep = jest.spyOn(manager, 'cleanupExpired');
      await jest.advanceTimersByTimeAsync(1000);
      expect(sweep).toHaveBeenCalledTimes(1);
      await close(moduleRef);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(sweep).toHaveBeenCalledTimes(1);
    });

    it('never overlaps itself: a tick is skipped while the previous sweep is still running', async () => {
      const { moduleRef, manager } = await setup({ cleanupIntervalMs: 1000 });
      let finish!: (n: number) => void;
      const sweep = jest.spyOn(manager, 'cleanupExpired').mockImplementation(() => new Promise<number>((resolve) => (finish = resolve)));
      await moduleRef.init();
      await jest.advanceTimersByTimeAsync(3000);
      expect(sweep).toHaveBeenCalledTimes(1);
      finish(0);
      await jest.advanceTimersByTimeAsync(1000);
      expect(sweep).toHaveBeenCalledTimes(2);
    });

    it('keeps running after a sweep fails', async () => {
      const { moduleRef, manager } = await setup({ cleanupIntervalMs: 1000 });
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        const sweep = jest.spyOn(manager, 'cleanupExpired').mockRejectedValueOnce(new Error('boom'));
        await moduleRef.init();
        await jest.advanceTimersByTimeAsync(2000);
        expect(sweep).toHaveBeenCalledTimes(2);
      } finally {
        logged.mockRestore();
      }
    });

    it('cleanupIntervalMs 0: no job, neither registered nor running', async () => {
      const { moduleRef, manager, spawner } = await setup(
        { cleanupIntervalMs: 0, idleTimeoutMs: 1000 },
        { imports: [ScheduleModule.forRoot()] },
      );
      await moduleRef.init();
      expect(moduleRef.get(SchedulerRegistry).getIntervals()).not.toContain(PTY_SESSION_CLEANUP_JOB);
      const sweep = jest.spyOn(manager, 'cleanupExpired');
      const s = await manager.createSession();
      await jest.advanceTimersByTimeAsync(60 * 60 * 1000);
      await flushImmediates();
      expect(sweep).not.toHaveBeenCalled();
      expect(s.status).toBe('running');
      expect(ptyOf(spawner, s).signals).toEqual([]);
    });
  });

  describe('module', () => {
    it('uses the spawner given in the options (no overrideProvider)', async () => {
      const spawner = createFakeSpawner();
      const moduleRef = await Test.createTestingModule({
        imports: [PtySessionModule.forRoot({ ...BASE, spawner: spawner.spawn })],
      }).compile();
      open.push(moduleRef);
      const session = await moduleRef.get(PtySessionManager).createSession({ key: 'k' });
      expect(spawner.calls).toHaveLength(1);
      expect(session.pid).toBe(spawner.calls[0].pty!.pid);
    });

    it("hands a spawner given in the options a program and cwd that exist only where it spawns (a container), unchecked", async () => {
      const spawner = createFakeSpawner();
      const inContainer = { file: '/opt/agent/bin/run', cwd: '/workspace-that-is-not-on-this-host', env: { PATH: '/usr/bin' } };
      const moduleRef = await Test.createTestingModule({
        imports: [PtySessionModule.forRoot({ ...BASE, profiles: { ...BASE.profiles, inContainer }, spawner: spawner.spawn })],
      }).compile();
      open.push(moduleRef);
      await moduleRef.get(PtySessionManager).createSession({ profile: 'inContainer' });
      expect(spawner.calls).toHaveLength(1);
      expect(spawner.calls[0]).toMatchObject({ file: '/opt/agent/bin/run', options: { cwd: '/workspace-that-is-not-on-this-host' } });
    });

    it('forRootAsync({ useFactory: async () => options }) works', async () => {
      const spawner = createFakeSpawner();
      const moduleRef = await Test.createTestingModule({
        imports: [
          PtySessionModule.forRootAsync({
            useFactory: async () => {
              await new Promise((r) => setTimeout(r, 1));
              return { ...BASE, maxSessions: 1 };
            },
          }),
        ],
      })
        .overrideProvider(PTY_SPAWNER)
        .useValue(spawner.spawn)
        .compile();
      open.push(moduleRef);
      const manager = moduleRef.get(PtySessionManager);
      const s = await manager.createSession({ key: 'k' });
      expect(s.profile).toBe('sh');
      expect(spawner.calls[0].file).toBe('/bin/sh');
      await rejectsWithCode(manager.createSession(), 'SESSION_LIMIT_REACHED'); // the factory's maxSessions applies
    });

    it('forRootAsync with imports and inject', async () => {
      const CONFIG = Symbol('config');
      @Module({ providers: [{ provide: CONFIG, useValue: { shell: '/bin/sh' } }], exports: [CONFIG] })
      class ConfigModule {}
      const spawner = createFakeSpawner();
      const moduleRef = await Test.createTestingModule({
        imports: [
          PtySessionModule.forRootAsync({
            imports: [ConfigModule],
            inject: [CONFIG],
            useFactory: (config: { shell: string }) => ({ profiles: { default: { file: config.shell, args: ['-l'] } } }),
          }),
        ],
      })
        .overrideProvider(PTY_SPAWNER)
        .useValue(spawner.spawn)
        .compile();
      open.push(moduleRef);
      await moduleRef.get(PtySessionManager).createSession();
      expect(spawner.calls[0]).toMatchObject({ file: '/bin/sh', args: ['-l'] });
    });

    it('an invalid async configuration fails at boot with INVALID_OPTIONS', async () => {
      await rejectsWithCode(
        Test.createTestingModule({ imports: [PtySessionModule.forRootAsync({ useFactory: async () => ({ replayBufferBytes: 10 }) })] }).compile(),
        'INVALID_OPTIONS',
      );
    });

    describe('isGlobal', () => {
      @Injectable()
      class Consumer {
        constructor(@Inject(PtySessionManager) readonly manager: PtySessionManager) {}
      }
      @Module({ providers: [Consumer], exports: [Consumer] })
      class FeatureModule {}

      it('forRoot({ isGlobal: true }) makes the manager injectable in modules that do not import it', async () => {
        const spawner = createFakeSpawner();
        const moduleRef = await Test.createTestingModule({ imports: [PtySessionModule.forRoot({ ...BASE, isGlobal: true }), FeatureModule] })
          .overrideProvider(PTY_SPAWNER)
          .useValue(spawner.spawn)
          .compile();
        open.push(moduleRef);
        expect(moduleRef.get(Consumer).manager).toBe(moduleRef.get(PtySessionManager));
        await moduleRef.get(Consumer).manager.createSession();
        expect(spawner.calls).toHaveLength(1);
      });

      it('forRootAsync({ isGlobal: true }) too', async () => {
        const moduleRef = await Test.createTestingModule({
          imports: [PtySessionModule.forRootAsync({ isGlobal: true, useFactory: () => BASE }), FeatureModule],
        })
          .overrideProvider(PTY_SPAWNER)
          .useValue(createFakeSpawner().spawn)
          .compile();
        open.push(moduleRef);
        expect(moduleRef.get(Consumer).manager).toBeInstanceOf(PtySessionManager);
      });

      it('without isGlobal, a module that does not import it cannot inject the manager', async () => {
        await expect(
          Test.createTestingModule({ imports: [PtySessionModule.forRoot(BASE), FeatureModule] }).compile(),
        ).rejects.toThrow(/PtySessionManager/);
      });
    });

    it('two testing modules get two independent managers (no global state)', async () => {
      const one = await setup({ maxSessions: 1 });
      const two = await setup({ maxSessions: 1 });
      expect(one.manager).not.toBe(two.manager);
      const a = await one.manager.createSession({ key: 'same-key' });
      const b = await two.manager.createSession({ key: 'same-key' }); // neither key nor limit is shared
      expect(one.manager.getSession(b.id)).toBeUndefined();
      expect(two.manager.getSession(a.id)).toBeUndefined();
      expect(one.manager.getSessionByKey('same-key')).toBe(a);
      expect(two.manager.getSessionByKey('same-key')).toBe(b);
      expect(one.spawner.calls).toHaveLength(1);
      expect(two.spawner.calls).toHaveLength(1);
    });

    it('application shutdown closes every session and refuses new ones with SHUTTING_DOWN', async () => {
      const { moduleRef, manager, spawner } = await setup();
      const a = await manager.createSession();
      const b = await manager.createSession({ key: 'k' });
      await close(moduleRef);
      expect(a.exit?.reason).toBe('shutdown');
      expect(b.exit?.reason).toBe('shutdown');
      expect(spawner.ptys.every((p) => p.signalNames[0] === 'SIGHUP')).toBe(true);
      expect(manager.listSessions()).toEqual([]);
      await rejectsWithCode(manager.createSession(), 'SHUTTING_DOWN');
    });
  });
});
