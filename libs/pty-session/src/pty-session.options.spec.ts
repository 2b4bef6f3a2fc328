import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { DEFAULT_PROFILE_NAME, PTY_SESSION_DEFAULTS, PTY_SPAWNER } from './pty-session.constants.js';
import { PtySessionError } from './pty-session.errors.js';
import { PtySessionManager } from './pty-session.manager.js';
import { PtySessionModule } from './pty-session.module.js';
import { builtInDefaultProfile, resolvePtySessionOptions } from './pty-session.options.js';
import { createFakeSpawner, exitAllFakePtys, flushImmediates } from './testing-fakes/fake-pty.js';
import type { PtySessionModuleOptions, PtySpawnProfile } from './interfaces/pty-session-module-options.interface.js';

const sh: PtySpawnProfile = { file: '/bin/sh', env: { PATH: '/usr/bin:/bin' } };

function expectInvalidOptions(options: unknown): PtySessionError {
  let caught: unknown;
  try {
    resolvePtySessionOptions(options as PtySessionModuleOptions);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PtySessionError);
  expect((caught as PtySessionError).code).toBe('INVALID_OPTIONS');
  return caught as PtySessionError;
}

describe('resolvePtySessionOptions', () => {
  describe('defaults', () => {
    it('applies every value of PTY_SESSION_DEFAULTS when no options are given', () => {
      const resolved = resolvePtySessionOptions(undefined);
      for (const [name, value] of Object.entries(PTY_SESSION_DEFAULTS)) {
        expect({ name, value: (resolved as unknown as Record<string, unknown>)[name] }).toEqual({ name, value });
      }
      expect(resolved.defaultProfile).toBe(DEFAULT_PROFILE_NAME);
      expect(Object.keys(resolved.profiles)).toEqual([DEFAULT_PROFILE_NAME]);
    });

    it('documents the expected default values', () => {
      expect(PTY_SESSION_DEFAULTS).toEqual({
        replayBufferBytes: 1024 * 1024,
        idleTimeoutMs: 5 * 60_000,
        exitedRetentionMs: 5 * 60_000,
        cleanupIntervalMs: 30_000,
        packBytesPerSweep: 8 * 1024 * 1024,
        hangupGracePeriodMs: 1000,
        terminateGracePeriodMs: 2000,
        killTimeoutMs: 2000,
        maxSessions: 100,
        maxSessionsPerOwner: 10,
        maxCols: 1000,
        maxRows: 1000,
        defaultCols: 80,
        defaultRows: 24,
        maxKeyLength: 256,
        term: 'xterm-256color',
        closeInheritedFds: true,
        replay: 'raw',
        screen: { scrollback: 1000, maxCells: 256 * 1024, workers: 1, maxLagBytes: 32 * 1024 * 1024, snapshotTimeoutMs: 5000, workerNice: 10 },
        allowAnonymous: false,
        allowedOrigins: [],
        maxClientsPerSession: 10,
        maxInputBytes: 64 * 1024,
        maxInputBacklogBytes: 1024 * 1024,
        echoWaitMs: 2,
        maxClientBacklogBytes: 8 * 1024 * 1024,
        maxRequestsInFlight: 16,
        maxConnectionsPerOwner: 32,
        resizePolicy: 'latest',
        flowControl: { highWaterMarkBytes: 1024 * 1024, lowWaterMarkBytes: 512 * 1024, ackIntervalBytes: 128 * 1024, pauseProgram: true },
        outputBatching: { windowMs: 8, maxBytes: 512 * 1024, busyBytes: 1024 },
      });
      expect(Object.isFrozen(PTY_SESSION_DEFAULTS)).toBe(true);
      expect(Object.isFrozen(PTY_SESSION_DEFAULTS.flowControl)).toBe(true);
    });

    it('screen.maxCells, not given, holds a session of the default size with all its scrollback', () => {
      expect(resolvePtySessionOptions({}).screen.maxCells).toBe(256 * 1024);
      expect(resolvePtySessionOptions({ screen: { scrollback: 10_000 } }).screen.maxCells).toBe(80 * (2 * 24 + 10_000));
      // A raw-mode host with a large default size boots without a screen option.
      expect(resolvePtySessionOptions({ defaultCols: 600, defaultRows: 500 }).screen.maxCells).toBe(600 * (2 * 500 + 1000));
      expect(resolvePtySessionOptions({ defaultCols: 600, defaultRows: 500, screen: { scrollback: 0 } }).screen.maxCells).toBe(600 * (2 * 500 + 1));
      // No larger than the largest that may be given, which then may be given.
      const huge = { maxCols: 65535, maxRows: 65535, defaultCols: 65535, defaultRows: 65535 };
      expect(resolvePtySessionOptions({ ...huge, screen: { scrollback: 1_000_000 } }).screen.maxCells).toBe(65535 ** 2);
      expect(resolvePtySessionOptions({ ...huge, screen: { scrollback: 1_000_000, maxCells: 65535 ** 2 } }).screen.maxCells).toBe(65535 ** 2);
    });

    it('an empty options object resolves like no options', () => {
      const a = resolvePtySessionOptions({});
      const b = resolvePtySessionOptions(undefined);
      expect({ ...a, profiles: undefined }).toEqual({ ...b, profiles: undefined });
    });

    it('keeps given values and defaults the others; undefined values do not override defaults', () => {
      const resolved = resolvePtySessionOptions({ idleTimeoutMs: 0, maxSessions: 3, maxCols: undefined, profiles: { sh }, defaultProfile: 'sh' });
      expect(resolved.idleTimeoutMs).toBe(0);
      expect(resolved.maxSessions).toBe(3);
      expect(resolved.maxCols).toBe(PTY_SESSION_DEFAULTS.maxCols);
      expect(resolved.defaultProfile).toBe('sh');
      expect(resolved.profiles.sh).toEqual(sh);
    });

    it('accepts maxCols/maxRows up to 65535, the largest size the kernel holds', () => {
      expect(resolvePtySessionOptions({ maxCols: 65535, maxRows: 65535 })).toMatchObject({ maxCols: 65535, maxRows: 65535 });
    });

    it('gives a high mark given alone a low mark of its half, so that any high mark alone is valid', () => {
      // Until 1 MiB became the default, a high mark of 129-512 KiB given alone was valid (the low mark was 128 KiB): it still is.
      for (const high of [129 * 1024, 512 * 1024, 4096 * 1024]) {
        expect(resolvePtySessionOptions({ flowControl: { highWaterMarkBytes: high } }).flowControl).toMatchObject({ highWaterMarkBytes: high, lowWaterMarkBytes: Math.floor(high / 2) });
      }
      // The ack interval follows a low mark under it; one given explicitly is kept.
      expect(resolvePtySessionOptions({ flowControl: { highWaterMarkBytes: 100 * 1024 } }).flowControl).toMatchObject({ lowWaterMarkBytes: 50 * 1024, ackIntervalBytes: 50 * 1024 });
      expect(resolvePtySessionOptions({ flowControl: { highWaterMarkBytes: 100 * 1024, lowWaterMarkBytes: 10 * 1024 } }).flowControl.lowWaterMarkBytes).toBe(10 * 1024);
      expect(() => resolvePtySessionOptions({ flowControl: { highWaterMarkBytes: 100 * 1024, lowWaterMarkBytes: 100 * 1024 } })).toThrow(/lowWaterMarkBytes must be below/);
      // Never below an ack interval given with it: valid before (the low mark was 128 KiB), valid still.
      expect(resolvePtySessionOptions({ flowControl: { highWaterMarkBytes: 192 * 1024, ackIntervalBytes: 128 * 1024 } }).flowControl).toMatchObject({ lowWaterMarkBytes: 128 * 1024, ackIntervalBytes: 128 * 1024 });
    });

    it('gives a high mark given alone batches of at most its half (two batches under it), and keeps a batch size given explicitly', () => {
      expect(resolvePtySessionOptions({ flowControl: { highWaterMarkBytes: 128 * 1024 } }).outputBatching.maxBytes).toBe(64 * 1024);
      expect(resolvePtySessionOptions({ flowControl: { highWaterMarkBytes: 4096 * 1024 } }).outputBatching.maxBytes).toBe(PTY_SESSION_DEFAULTS.outputBatching.maxBytes);
      expect(resolvePtySessionOptions({ flowControl: { highWaterMarkBytes: 128 * 1024 }, outputBatching: { maxBytes: 100 * 1024 } }).outputBatching.maxBytes).toBe(100 * 1024);
      expect(resolvePtySessionOptions({ flowControl: { lowWaterMarkBytes: 64 * 1024 } }).outputBatching.maxBytes).toBe(PTY_SESSION_DEFAULTS.outputBatching.maxBytes);
    });

    it('lowers the default ack interval to a low mark given alone, and keeps an interval given explicitly', () => {
      // Until 128 KiB became the default, a low mark of 32-127 KiB given alone was valid: it still is.
      expect(resolvePtySessionOptions({ flowControl: { lowWaterMarkBytes: 64 * 1024 } }).flowControl).toMatchObject({ lowWaterMarkBytes: 64 * 1024, ackIntervalBytes: 64 * 1024 });
      expect(resolvePtySessionOptions({ flowControl: { lowWaterMarkBytes: 200 * 1024 } }).flowControl.ackIntervalBytes).toBe(PTY_SESSION_DEFAULTS.flowControl.ackIntervalBytes);
      expect(resolvePtySessionOptions({ flowControl: { lowWaterMarkBytes: 64 * 1024, ackIntervalBytes: 16 * 1024 } }).flowControl.ackIntervalBytes).toBe(16 * 1024);
      expect(() => resolvePtySessionOptions({ flowControl: { lowWaterMarkBytes: 64 * 1024, ackIntervalBytes: 65 * 1024 } })).toThrow(/ackIntervalBytes must not exceed lowWaterMarkBytes/);
    });

    it('takes packBytesPerSweep as an integer >= 0 (0 never packs) and refuses anything else', () => {
      expect(resolvePtySessionOptions({ packBytesPerSweep: 0 }).packBytesPerSweep).toBe(0);
      expect(resolvePtySessionOptions({ packBytesPerSweep: 1 }).packBytesPerSweep).toBe(1);
      for (const value of [-1, 1.5, NaN, Infinity, '1' as unknown as number, null as unknown as number]) {
        expect(() => resolvePtySessionOptions({ packBytesPerSweep: value })).toThrow(/packBytesPerSweep must be an integer >= 0/);
      }
    });

    it('accepts zero for every timeout (cleanupIntervalMs 0 turns the job off, idleTimeoutMs 0 turns expiry off)', () => {
      const resolved = resolvePtySessionOptions({
        idleTimeoutMs: 0,
        exitedRetentionMs: 0,
        cleanupIntervalMs: 0,
        hangupGracePeriodMs: 0,
        terminateGracePeriodMs: 0,
        killTimeoutMs: 0,
      });
      expect(resolved.cleanupIntervalMs).toBe(0);
      expect(resolved.killTimeoutMs).toBe(0);
    });

    it('accepts profile factories without calling them', () => {
      let called = false;
      const resolved = resolvePtySessionOptions({
        profiles: {
          dyn: () => {
            called = true;
            return sh;
          },
        },
        defaultProfile: 'dyn',
      });
      expect(typeof resolved.profiles.dyn).toBe('function');
      expect(called).toBe(false);
    });

    it('freezes the resolved profiles and copies them (later mutation of the input has no effect)', () => {
      const profiles: Record<string, PtySpawnProfile> = { sh };
      const resolved = resolvePtySessionOptions({ profiles, defaultProfile: 'sh' });
      profiles.other = { file: '/bin/true' };
      expect(Object.keys(resolved.profiles)).toEqual(['sh']);
      expect(Object.isFrozen(resolved.profiles)).toBe(true);
    });
  });

  describe('invalid values → INVALID_OPTIONS', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['negative idleTimeoutMs', { idleTimeoutMs: -1 }],
      ['negative exitedRetentionMs', { exitedRetentionMs: -1 }],
      ['negative cleanupIntervalMs', { cleanupIntervalMs: -1000 }],
      ['negative hangupGracePeriodMs', { hangupGracePeriodMs: -1 }],
      ['negative terminateGracePeriodMs', { terminateGracePeriodMs: -5 }],
      ['negative killTimeoutMs', { killTimeoutMs: -1 }],
      ['fractional idleTimeoutMs', { idleTimeoutMs: 1.5 }],
      ['NaN idleTimeoutMs', { idleTimeoutMs: Number.NaN }],
      ['Infinity exitedRetentionMs', { exitedRetentionMs: Number.POSITIVE_INFINITY }],
      ['string idleTimeoutMs', { idleTimeoutMs: '1000' }],
      ['cleanupIntervalMs past the 2^31-1 ms timer limit', { cleanupIntervalMs: 2 ** 31 }],
      ['idleTimeoutMs past the 2^31-1 ms timer limit', { idleTimeoutMs: 30 * 24 * 3600 * 1000 }],
      ['closeInheritedFds not a boolean', { closeInheritedFds: 'yes' }],
      ['spawner not a function', { spawner: 'node-pty' }],
      ['authenticate not a function', { authenticate: 'jwt' }],
      ['allowAnonymous not a boolean', { allowAnonymous: 1 }],
      ['flowControl.pauseProgram not a boolean', { flowControl: { pauseProgram: 'yes' } }],
      ['replay not raw or screen', { replay: 'vt100' }],
      ['screen not an object', { screen: 'on' }],
      ['screen.scrollback negative', { screen: { scrollback: -1 } }],
      ['screen.workers 0', { screen: { workers: 0 } }],
      ['screen.maxCells below a default session (80 x (2 x 24 + 1000 lines of scrollback))', { screen: { maxCells: 80 * 1048 - 1 } }],
      ['screen.maxCells below a larger default session', { defaultCols: 200, defaultRows: 50, screen: { scrollback: 10, maxCells: 200 * 110 - 1 } }],
      ['screen.maxCells below a default session with more scrollback', { screen: { scrollback: 10_000, maxCells: 262_144 } }],
      ['screen.maxLagBytes 0', { screen: { maxLagBytes: 0 } }],
      ['screen.maxLagBytes above what the emulator buffers (50 MB)', { screen: { maxLagBytes: 48 * 1024 * 1024 } }],
      ['screen null', { screen: null as never }],
      ['flowControl null', { flowControl: null as never }],
      ['outputBatching null', { outputBatching: null as never }],
      ['profiles null (a config lookup that found nothing)', { profiles: null as never }],
      ['screen.maxLagBytes null', { screen: { maxLagBytes: null as never } }],
      ['flowControl.highWaterMarkBytes null', { flowControl: { highWaterMarkBytes: null as never } }],
      ['flowControl.pauseProgram null', { flowControl: { pauseProgram: null as never } }],
      ['outputBatching.windowMs null', { outputBatching: { windowMs: null as never } }],
      ['screen.snapshotTimeoutMs fractional', { screen: { snapshotTimeoutMs: 1.5 } }],
      ['screen.workerNice above 19', { screen: { workerNice: 20 } }],
      ['profile replay not raw or screen', { profiles: { sh: { file: '/bin/sh', replay: 'both' } }, defaultProfile: 'sh' }],
      ['allowedOrigins a string', { allowedOrigins: 'https://a.example' }],
      ['allowedOrigins with a non-string', { allowedOrigins: ['https://a.example', 3] }],
      ['maxClientsPerSession 0', { maxClientsPerSession: 0 }],
      ['maxInputBytes fractional', { maxInputBytes: 10.5 }],
      ['maxInputBacklogBytes 0', { maxInputBacklogBytes: 0 }],
      ['maxInputBacklogBytes a string', { maxInputBacklogBytes: '1mb' as never }],
      ['maxClientBacklogBytes 0', { maxClientBacklogBytes: 0 }],
      ['maxRequestsInFlight 0', { maxRequestsInFlight: 0 }],
      ['echoWaitMs negative', { echoWaitMs: -1 }],
      ['echoWaitMs above 1000', { echoWaitMs: 1001 }],
      ['echoWaitMs fractional', { echoWaitMs: 0.5 }],
      ['maxConnectionsPerOwner 0', { maxConnectionsPerOwner: 0 }],
      ['unknown resizePolicy', { resizePolicy: 'largest' }],
      ['flowControl not an object', { flowControl: 5 }],
      ['flowControl low mark not below the high mark', { flowControl: { highWaterMarkBytes: 1000, lowWaterMarkBytes: 1000, ackIntervalBytes: 100 } }],
      ['flowControl ack interval above the low mark (a paused client could stall)', { flowControl: { lowWaterMarkBytes: 1000, ackIntervalBytes: 1001 } }],
      ['flowControl high mark 0', { flowControl: { highWaterMarkBytes: 0 } }],
      ['outputBatching not an object', { outputBatching: true }],
      ['outputBatching.windowMs negative', { outputBatching: { windowMs: -1 } }],
      ['outputBatching.windowMs above 1000', { outputBatching: { windowMs: 5000 } }],
      ['outputBatching.maxBytes 0', { outputBatching: { maxBytes: 0 } }],
      ['maxSessions 0', { maxSessions: 0 }],
      ['maxSessionsPerOwner 0', { maxSessionsPerOwner: 0 }],
      ['negative maxSessions', { maxSessions: -3 }],
      ['maxCols 0', { maxCols: 0 }],
      ['maxRows 0', { maxRows: 0 }],
      ['maxCols above what the kernel holds (16 bits)', { maxCols: 65536 }],
      ['maxRows above what the kernel holds (16 bits)', { maxRows: 100000 }],
      ['defaultCols 0', { defaultCols: 0 }],
      ['defaultRows 0', { defaultRows: 0 }],
      ['maxKeyLength 0', { maxKeyLength: 0 }],
      ['replayBufferBytes 10', { replayBufferBytes: 10 }],
      ['replayBufferBytes 1023', { replayBufferBytes: 1023 }],
      ['replayBufferBytes fractional', { replayBufferBytes: 4096.5 }],
      ['defaultCols > maxCols', { defaultCols: 200, maxCols: 100 }],
      ['defaultRows > maxRows', { defaultRows: 50, maxRows: 40 }],
      ['empty term', { term: '' }],
      ['non-string term', { term: 42 }],
      ['profile without file', { profiles: { p: { args: [] } }, defaultProfile: 'p' }],
      ['profile with empty file', { profiles: { p: { file: '' } }, defaultProfile: 'p' }],
      ['profile that is not an object', { profiles: { p: '/bin/sh' }, defaultProfile: 'p' }],
      ['profile args not strings', { profiles: { p: { file: '/bin/sh', args: ['-c', 1] } }, defaultProfile: 'p' }],
      ['profile cwd not a string', { profiles: { p: { file: '/bin/sh', cwd: 7 } }, defaultProfile: 'p' }],
      ['profile env with a non-string value', { profiles: { p: { file: '/bin/sh', env: { A: 'x', B: 1 } } }, defaultProfile: 'p' }],
      ['profile env that is not an object', { profiles: { p: { file: '/bin/sh', env: 'A=1' } }, defaultProfile: 'p' }],
      ['profile replayBufferBytes below the minimum', { profiles: { p: { file: '/bin/sh', replayBufferBytes: 10 } }, defaultProfile: 'p' }],
      ['profile negative idleTimeoutMs', { profiles: { p: { file: '/bin/sh', idleTimeoutMs: -1 } }, defaultProfile: 'p' }],
      ['profile negative uid', { profiles: { p: { file: '/bin/sh', uid: -1, gid: 1 } }, defaultProfile: 'p' }],
      ['profile uid without gid', { profiles: { p: { file: '/bin/sh', uid: 1000 } }, defaultProfile: 'p' }],
      ['profile gid without uid', { profiles: { p: { file: '/bin/sh', gid: 1000 } }, defaultProfile: 'p' }],
      ['defaultProfile not among the profiles', { profiles: { sh }, defaultProfile: 'bash' }],
      ['profiles given without the implicit "default" profile', { profiles: { sh } }],
      ['profiles that is not an object', { profiles: 'sh' }],
      ['options that are not an object', 'nope' as unknown as Record<string, unknown>],
    ];

    it.each(cases)('%s', (_name, options) => {
      expectInvalidOptions(options);
    });

    it('the message names the faulty option', () => {
      expect(expectInvalidOptions({ maxSessions: 0 }).message).toContain('maxSessions');
      expect(expectInvalidOptions({ profiles: { p: { env: {} } }, defaultProfile: 'p' }).message).toContain('"p"');
    });

    it('shows a refused string in quotes, so that a number from an environment variable does not read as a valid value', () => {
      expect(expectInvalidOptions({ replayBufferBytes: '524288' as never }).message).toContain('got "524288" (a string)');
      expect(expectInvalidOptions({ flowControl: { highWaterMarkBytes: '1' as never } }).message).toContain('got "1" (a string)');
      expect(expectInvalidOptions({ replayBufferBytes: 10 }).message).toContain('got 10');
    });

    it('refuses a name that is no option, at every level, naming it (a typo from a config file is not ignored)', () => {
      const typos: Array<[Record<string, unknown>, string]> = [
        [{ maxSession: 1 }, 'unknown option "maxSession"'],
        [{ screen: { workerNiceness: 5 } }, 'unknown option "screen.workerNiceness"'],
        [{ flowControl: { highWaterMark: 5 } }, 'unknown option "flowControl.highWaterMark"'],
        [{ outputBatching: { window: 5 } }, 'unknown option "outputBatching.window"'],
        [{ profiles: { p: { file: '/bin/sh', environment: {} } }, defaultProfile: 'p' }, 'profile "p": unknown field "environment"'],
      ];
      for (const [options, message] of typos) expect(expectInvalidOptions(options).message).toContain(message);
    });

    it("says where forRoot's extras go when a forRootAsync factory returns them", () => {
      for (const extra of ['gateway', 'isGlobal']) expect(expectInvalidOptions({ [extra]: false }).message).toContain('next to useFactory');
    });

    it('a defaultProfile that is an Object.prototype property name ("constructor") is not among the profiles', () => {
      // `"constructor" in profiles` is true through the prototype, but there is no such profile:
      // createSession() would then fail every time with PROFILE_NOT_FOUND. It must fail at boot.
      expectInvalidOptions({ profiles: { sh }, defaultProfile: 'constructor' });
    });

    it('forRoot() takes no argument at all: every option has a default', async () => {
      const moduleRef = await Test.createTestingModule({ imports: [PtySessionModule.forRoot()] }).compile();
      try {
        expect(moduleRef.get(PtySessionManager)).toBeInstanceOf(PtySessionManager);
      } finally {
        await moduleRef.close();
      }
    });

    it('a misconfigured module fails at boot (compile), not at the first session', async () => {
      let caught: unknown;
      try {
        await Test.createTestingModule({ imports: [PtySessionModule.forRoot({ maxSessions: 0 })] }).compile();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PtySessionError);
      expect((caught as PtySessionError).code).toBe('INVALID_OPTIONS');
    });
  });

  describe('built-in default profile', () => {
    const saved = process.env.SECRET_TEST_VAR;
    beforeEach(() => {
      process.env.SECRET_TEST_VAR = 'top-secret-value-42';
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.SECRET_TEST_VAR;
      else process.env.SECRET_TEST_VAR = saved;
    });

    it('is used when no profiles are configured and runs the system shell with a minimal environment', () => {
      const profile = resolvePtySessionOptions({}).profiles[DEFAULT_PROFILE_NAME] as PtySpawnProfile;
      expect(['/bin/bash', '/bin/sh']).toContain(profile.file);
      expect(Object.keys(profile.env ?? {}).sort()).toEqual(['HOME', 'LANG', 'PATH', 'SHELL', 'USER']);
      expect(profile.env).not.toHaveProperty('SECRET_TEST_VAR');
      expect(Object.values(profile.env ?? {})).not.toContain('top-secret-value-42');
      expect(profile.env?.PATH).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    });

    it('builtInDefaultProfile() is a valid profile', () => {
      const profile = builtInDefaultProfile();
      expect(() => resolvePtySessionOptions({ profiles: { default: profile } })).not.toThrow();
    });

    it('a session from the built-in profile gets exactly its env plus TERM (no server variable leaks)', async () => {
      const spawner = createFakeSpawner();
      const moduleRef = await Test.createTestingModule({ imports: [PtySessionModule.forRoot({ cleanupIntervalMs: 0, hangupGracePeriodMs: 1, terminateGracePeriodMs: 1, killTimeoutMs: 1 })] })
        .overrideProvider(PTY_SPAWNER)
        .useValue(spawner.spawn)
        .compile();
      try {
        await moduleRef.get(PtySessionManager).createSession();
        expect(spawner.calls).toHaveLength(1);
        const env = spawner.calls[0].options.env ?? {};
        expect(env).not.toHaveProperty('SECRET_TEST_VAR');
        expect(Object.keys(env).sort()).toEqual(['HOME', 'LANG', 'PATH', 'SHELL', 'TERM', 'USER']);
        expect(env.TERM).toBe('xterm-256color');
      } finally {
        exitAllFakePtys();
        await flushImmediates();
        await moduleRef.close();
      }
    });
  });
});
