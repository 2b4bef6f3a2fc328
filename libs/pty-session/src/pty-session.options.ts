import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { DEFAULT_PROFILE_NAME, HIGH_WATER_MARK_BATCHES, MAX_TERMINAL_DIMENSION, LOW_WATER_MARK_SHARE, MIN_REPLAY_BUFFER_BYTES, PTY_SESSION_DEFAULTS, SCREEN_MAX_LAG_LIMIT_BYTES } from './pty-session.constants.js';
import { PtySessionErrors } from './pty-session.errors.js';
import { screenCells } from './screen/screen-size.js';
import type { PtySpawnFunction } from './pty-spawner.provider.js';
import type {
  PtyAuthenticateFunction,
  PtyFlowControlOptions,
  PtyOutputBatchingOptions,
  PtyScreenOptions,
  PtySessionModuleOptions,
  PtySpawnProfile,
  PtySpawnProfileFactory,
} from './interfaces/pty-session-module-options.interface.js';

/** The module's options with every default applied. */
export type ResolvedPtySessionOptions = Required<
  Omit<PtySessionModuleOptions, 'profiles' | 'spawner' | 'authenticate' | 'allowedHosts' | 'flowControl' | 'outputBatching' | 'screen'>
> & {
  profiles: Readonly<Record<string, PtySpawnProfile | PtySpawnProfileFactory>>;
  spawner?: PtySpawnFunction;
  authenticate?: PtyAuthenticateFunction;
  allowedHosts?: readonly string[] | ((host: string) => boolean);
  flowControl: Readonly<Required<PtyFlowControlOptions>>;
  outputBatching: Readonly<Required<PtyOutputBatchingOptions>>;
  screen: Readonly<Required<PtyScreenOptions>>;
};

/** Node's timers take at most 2^31 - 1 ms; a larger delay fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;
/** An input's answer waiting longer than this for its echo would only slow a client that awaits each `write`. */
const MAX_ECHO_WAIT_MS = 1000;

/** A refused value as an error shows it: a string in quotes, so that '524288' from an environment variable is not mistaken for a number. */
function shown(value: unknown): string {
  return typeof value === 'string' ? `${JSON.stringify(value)} (a string)` : String(value);
}

/** PATH of the built-in profile: the system directories, not the server's PATH. */
const BUILT_IN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The profile used when the options configure none: the system shell in the home directory. */
export function builtInDefaultProfile(): PtySpawnProfile {
  const shell = existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh';
  const home = homedir();
  let user = 'user';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry: keep the placeholder */
  }
  return {
    file: shell,
    args: [],
    cwd: home,
    env: { HOME: home, USER: user, SHELL: shell, PATH: BUILT_IN_PATH, LANG: 'C.UTF-8' },
  };
}

const nonNegative = ['idleTimeoutMs', 'exitedRetentionMs', 'cleanupIntervalMs', 'hangupGracePeriodMs', 'terminateGracePeriodMs', 'killTimeoutMs'] as const;
/** Integers >= 0 that are sizes. */
const nonNegativeSizes = ['packBytesPerSweep'] as const;
const positive = ['maxSessions', 'maxSessionsPerOwner', 'maxCols', 'maxRows', 'defaultCols', 'defaultRows', 'maxKeyLength', 'maxClientsPerSession', 'maxInputBytes', 'maxInputBacklogBytes', 'maxClientBacklogBytes', 'maxRequestsInFlight', 'maxConnectionsPerOwner'] as const;

/**
 * Every option's name, checked by the compiler against the interfaces (a
 * name missing here or not in them does not compile), so that a misspelt
 * option from a config file or plain JavaScript fails at boot instead of
 * being ignored.
 */
const OPTION_NAMES = Object.keys({
  profiles: 1, defaultProfile: 1, replayBufferBytes: 1, replay: 1, screen: 1, idleTimeoutMs: 1, exitedRetentionMs: 1,
  cleanupIntervalMs: 1, packBytesPerSweep: 1, hangupGracePeriodMs: 1, terminateGracePeriodMs: 1, killTimeoutMs: 1,
  maxSessions: 1, maxSessionsPerOwner: 1, maxCols: 1, maxRows: 1, defaultCols: 1, defaultRows: 1, maxKeyLength: 1, term: 1,
  closeInheritedFds: 1, spawner: 1, authenticate: 1, allowAnonymous: 1, allowedOrigins: 1, allowedHosts: 1,
  maxClientsPerSession: 1, maxInputBytes: 1, maxInputBacklogBytes: 1, echoWaitMs: 1, maxClientBacklogBytes: 1, maxRequestsInFlight: 1, maxConnectionsPerOwner: 1, resizePolicy: 1,
  flowControl: 1, outputBatching: 1,
} satisfies Record<keyof PtySessionModuleOptions, 1>);
const SCREEN_OPTION_NAMES = Object.keys({ scrollback: 1, maxCells: 1, workers: 1, maxLagBytes: 1, workerNice: 1, snapshotTimeoutMs: 1 } satisfies Record<keyof PtyScreenOptions, 1>);
const FLOW_CONTROL_OPTION_NAMES = Object.keys({
  highWaterMarkBytes: 1, lowWaterMarkBytes: 1, ackIntervalBytes: 1, pauseProgram: 1,
} satisfies Record<keyof PtyFlowControlOptions, 1>);
const PROFILE_FIELD_NAMES = Object.keys({
  file: 1, args: 1, cwd: 1, env: 1, uid: 1, gid: 1, replayBufferBytes: 1, idleTimeoutMs: 1, replay: 1,
} satisfies Record<keyof PtySpawnProfile, 1>);
const OUTPUT_BATCHING_OPTION_NAMES = Object.keys({ windowMs: 1, maxBytes: 1, busyBytes: 1 } satisfies Record<keyof PtyOutputBatchingOptions, 1>);
/** `forRoot` extras: next to the options in `forRoot`, but next to `useFactory` in `forRootAsync`, never inside its result. */
const EXTRA_NAMES = ['gateway', 'isGlobal'];

/** @throws PtySessionError INVALID_OPTIONS naming the first key of `given` that is not an option. */
function assertKnownNames(given: object, known: readonly string[], prefix: string): void {
  for (const name of Object.keys(given)) {
    if (known.includes(name)) continue;
    if (prefix === '' && EXTRA_NAMES.includes(name)) {
      throw PtySessionErrors.invalidOptions(`"${name}" is a forRoot extra, not an option: with forRootAsync, give it next to useFactory, not in what the factory returns`);
    }
    throw PtySessionErrors.invalidOptions(`unknown option "${prefix}${name}"`);
  }
}

/** The default only for a missing value: `null` (a config lookup that found nothing) is checked, and refused. */
function orDefault<T>(given: T | undefined, fallback: T): T {
  return given === undefined ? fallback : given;
}

/**
 * Applies defaults and checks every value, so that a misconfigured host fails
 * at boot with INVALID_OPTIONS rather than at the first session.
 */
export function resolvePtySessionOptions(options: PtySessionModuleOptions | undefined): ResolvedPtySessionOptions {
  const input = options ?? {};
  if (typeof input !== 'object') throw PtySessionErrors.invalidOptions('expected an object');
  assertKnownNames(input, OPTION_NAMES, '');
  const resolved = { ...PTY_SESSION_DEFAULTS, defaultProfile: DEFAULT_PROFILE_NAME } as ResolvedPtySessionOptions;
  for (const [name, value] of Object.entries(input)) {
    if (value !== undefined && name !== 'profiles') (resolved as unknown as Record<string, unknown>)[name] = value;
  }

  for (const name of nonNegative) {
    const v = resolved[name];
    if (!Number.isSafeInteger(v) || v < 0 || v > MAX_TIMER_MS) {
      throw PtySessionErrors.invalidOptions(`${name} must be an integer from 0 to ${MAX_TIMER_MS}, got ${shown(v)}`);
    }
  }
  if (typeof resolved.closeInheritedFds !== 'boolean') throw PtySessionErrors.invalidOptions('closeInheritedFds must be a boolean');
  if (resolved.spawner !== undefined && typeof resolved.spawner !== 'function') {
    throw PtySessionErrors.invalidOptions('spawner must be a function (file, args, options) => IPty');
  }
  for (const name of nonNegativeSizes) {
    const v = resolved[name];
    if (!Number.isSafeInteger(v) || v < 0) throw PtySessionErrors.invalidOptions(`${name} must be an integer >= 0, got ${shown(v)}`);
  }
  for (const name of positive) {
    const v = resolved[name];
    if (!Number.isSafeInteger(v) || v < 1) throw PtySessionErrors.invalidOptions(`${name} must be an integer >= 1, got ${shown(v)}`);
  }
  if (!Number.isSafeInteger(resolved.replayBufferBytes) || resolved.replayBufferBytes < MIN_REPLAY_BUFFER_BYTES) {
    throw PtySessionErrors.invalidOptions(`replayBufferBytes must be an integer >= ${MIN_REPLAY_BUFFER_BYTES}, got ${shown(resolved.replayBufferBytes)}`);
  }
  if (resolved.maxCols > MAX_TERMINAL_DIMENSION || resolved.maxRows > MAX_TERMINAL_DIMENSION) {
    // The kernel keeps a terminal's size in 16 bits: 70000 columns would reach the program as 4464.
    throw PtySessionErrors.invalidOptions(`maxCols/maxRows must be at most ${MAX_TERMINAL_DIMENSION}, got ${shown(resolved.maxCols)}/${shown(resolved.maxRows)}`);
  }
  if (resolved.defaultCols > resolved.maxCols || resolved.defaultRows > resolved.maxRows) {
    throw PtySessionErrors.invalidOptions('defaultCols/defaultRows must not exceed maxCols/maxRows');
  }
  if (typeof resolved.term !== 'string' || resolved.term.length === 0) throw PtySessionErrors.invalidOptions('term must be a non-empty string');
  checkScreenOptions(resolved, input);
  checkGatewayOptions(resolved, input);

  // Only a missing value takes the default: `null` (a config lookup that found nothing) is refused, not
  // replaced by a login shell.
  const profiles = input.profiles === undefined ? { [DEFAULT_PROFILE_NAME]: builtInDefaultProfile() } : input.profiles;
  if (typeof profiles !== 'object' || profiles === null) throw PtySessionErrors.invalidOptions('profiles must be an object of named profiles');
  for (const [name, profile] of Object.entries(profiles)) {
    if (typeof profile === 'function') continue;
    assertValidProfile(name, profile);
  }
  if (typeof resolved.defaultProfile !== 'string' || !Object.prototype.hasOwnProperty.call(profiles, resolved.defaultProfile)) {
    throw PtySessionErrors.invalidOptions(`defaultProfile "${resolved.defaultProfile}" is not among the profiles (${Object.keys(profiles).join(', ') || 'none'})`);
  }
  resolved.profiles = Object.freeze({ ...profiles });
  return resolved;
}

/** @throws PtySessionError INVALID_OPTIONS for a profile that cannot be spawned as written. */
export function assertValidProfile(name: string, profile: PtySpawnProfile): void {
  const fail = (problem: string) => PtySessionErrors.invalidOptions(`profile "${name}": ${problem}`);
  if (typeof profile !== 'object' || profile === null) throw fail('expected { file, args?, cwd?, env? } or a factory function');
  const unknown = Object.keys(profile).find((field) => !PROFILE_FIELD_NAMES.includes(field));
  if (unknown !== undefined) throw fail(`unknown field "${unknown}"`);
  if (typeof profile.file !== 'string' || profile.file.length === 0) throw fail('file must be a non-empty string');
  if (profile.args !== undefined && (!Array.isArray(profile.args) || profile.args.some((a) => typeof a !== 'string'))) throw fail('args must be an array of strings');
  if (profile.cwd !== undefined && typeof profile.cwd !== 'string') throw fail('cwd must be a string');
  if (profile.env !== undefined && (typeof profile.env !== 'object' || profile.env === null || Object.values(profile.env).some((v) => typeof v !== 'string'))) {
    throw fail('env must be an object of strings');
  }
  for (const field of ['replayBufferBytes', 'idleTimeoutMs', 'uid', 'gid'] as const) {
    const v = profile[field];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw fail(`${field} must be an integer >= 0`);
  }
  // node-pty switches user only with both (a uid alone ran the program as the server's user), and a uid
  // alone would keep the server's group.
  if ((profile.uid === undefined) !== (profile.gid === undefined)) throw fail('uid and gid go together');
  if (profile.replayBufferBytes !== undefined && profile.replayBufferBytes < MIN_REPLAY_BUFFER_BYTES) {
    throw fail(`replayBufferBytes must be >= ${MIN_REPLAY_BUFFER_BYTES}`);
  }
  if (profile.replay !== undefined && profile.replay !== 'raw' && profile.replay !== 'screen') throw fail(`replay must be 'raw' or 'screen'`);
}

/** Replay mode and the screen emulators' settings. */
function checkScreenOptions(resolved: ResolvedPtySessionOptions, input: PtySessionModuleOptions): void {
  if (resolved.replay !== 'raw' && resolved.replay !== 'screen') {
    throw PtySessionErrors.invalidOptions(`replay must be 'raw' or 'screen', got ${shown(resolved.replay)}`);
  }
  const given = input.screen === undefined ? {} : input.screen;
  if (typeof given !== 'object' || given === null) throw PtySessionErrors.invalidOptions('screen must be an object');
  assertKnownNames(given, SCREEN_OPTION_NAMES, 'screen.');
  const screen: Required<PtyScreenOptions> = { ...PTY_SESSION_DEFAULTS.screen };
  const limits = { scrollback: [0, 1_000_000], workers: [1, 64], maxLagBytes: [1, SCREEN_MAX_LAG_LIMIT_BYTES], snapshotTimeoutMs: [1, MAX_TIMER_MS], workerNice: [0, 19] } as const;
  const inRange = (name: keyof PtyScreenOptions, v: unknown, min: number, max: number): number => {
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) throw PtySessionErrors.invalidOptions(`screen.${name} must be an integer from ${min} to ${max}, got ${shown(v)}`);
    return v as number;
  };
  for (const name of Object.keys(limits) as (keyof typeof limits)[]) {
    const [min, max] = limits[name];
    screen[name] = inRange(name, orDefault(given[name], screen[name]), min, max);
  }
  // A session of the default size keeps its whole scrollback: the budget holds it, given or not (within the
  // largest budget there is).
  const largest = MAX_TERMINAL_DIMENSION ** 2;
  const defaultSession = Math.min(largest, screenCells(resolved.defaultCols, resolved.defaultRows, Math.max(1, screen.scrollback)));
  screen.maxCells = given.maxCells === undefined ? Math.max(screen.maxCells, defaultSession) : inRange('maxCells', given.maxCells, defaultSession, largest);
  resolved.screen = Object.freeze(screen);
}

/** The gateway's options: authentication, origins, resize policy and flow control. */
function checkGatewayOptions(resolved: ResolvedPtySessionOptions, input: PtySessionModuleOptions): void {
  if (resolved.authenticate !== undefined && typeof resolved.authenticate !== 'function') {
    throw PtySessionErrors.invalidOptions('authenticate must be a function (handshake) => principal | null');
  }
  if (typeof resolved.allowAnonymous !== 'boolean') throw PtySessionErrors.invalidOptions('allowAnonymous must be a boolean');
  const echoWaitMs = resolved.echoWaitMs;
  if (!Number.isSafeInteger(echoWaitMs) || echoWaitMs < 0 || echoWaitMs > MAX_ECHO_WAIT_MS) {
    throw PtySessionErrors.invalidOptions(`echoWaitMs must be an integer from 0 to ${MAX_ECHO_WAIT_MS}, got ${shown(echoWaitMs)}`);
  }
  const origins = resolved.allowedOrigins;
  if (typeof origins !== 'function' && (!Array.isArray(origins) || origins.some((o) => typeof o !== 'string'))) {
    throw PtySessionErrors.invalidOptions('allowedOrigins must be an array of origins (e.g. "https://app.example.com") or a function');
  }
  const hosts = resolved.allowedHosts;
  if (hosts !== undefined && typeof hosts !== 'function' && (!Array.isArray(hosts) || hosts.some((h) => typeof h !== 'string'))) {
    throw PtySessionErrors.invalidOptions('allowedHosts must be an array of host names (e.g. "app.example.com") or a function');
  }
  if (resolved.resizePolicy !== 'latest' && resolved.resizePolicy !== 'smallest') {
    throw PtySessionErrors.invalidOptions(`resizePolicy must be 'latest' or 'smallest', got ${shown(resolved.resizePolicy)}`);
  }
  const given = input.flowControl === undefined ? {} : input.flowControl;
  if (typeof given !== 'object' || given === null) throw PtySessionErrors.invalidOptions('flowControl must be an object');
  assertKnownNames(given, FLOW_CONTROL_OPTION_NAMES, 'flowControl.');
  const flow: Required<PtyFlowControlOptions> = { ...PTY_SESSION_DEFAULTS.flowControl };
  const highMarkGiven = given.highWaterMarkBytes !== undefined;
  for (const name of ['highWaterMarkBytes', 'lowWaterMarkBytes', 'ackIntervalBytes'] as const) {
    const v = orDefault(given[name], flow[name]);
    if (!Number.isSafeInteger(v) || v < 1) throw PtySessionErrors.invalidOptions(`flowControl.${name} must be an integer >= 1, got ${shown(v)}`);
    flow[name] = v;
  }
  // A high mark given without a low mark takes one of its own share, rather than the default's (which could
  // exceed it), and never below an ack interval given with it (valid before the default low mark followed).
  if (given.lowWaterMarkBytes === undefined && highMarkGiven) {
    flow.lowWaterMarkBytes = Math.max(1, Math.floor(flow.highWaterMarkBytes * LOW_WATER_MARK_SHARE), given.ackIntervalBytes ?? 0);
  }
  // The default interval follows a lower low mark (it was 32 KiB until 128 KiB became the default).
  if (given.ackIntervalBytes === undefined) flow.ackIntervalBytes = Math.min(flow.ackIntervalBytes, flow.lowWaterMarkBytes);
  flow.pauseProgram = orDefault(given.pauseProgram, flow.pauseProgram);
  if (typeof flow.pauseProgram !== 'boolean') throw PtySessionErrors.invalidOptions('flowControl.pauseProgram must be a boolean');
  if (flow.lowWaterMarkBytes >= flow.highWaterMarkBytes) throw PtySessionErrors.invalidOptions('flowControl.lowWaterMarkBytes must be below highWaterMarkBytes');
  // A client acks only every ackIntervalBytes: with a larger interval than the
  // low mark, a paused client could hold back its last ack forever.
  if (flow.ackIntervalBytes > flow.lowWaterMarkBytes) throw PtySessionErrors.invalidOptions('flowControl.ackIntervalBytes must not exceed lowWaterMarkBytes');
  resolved.flowControl = Object.freeze(flow);

  const batching = input.outputBatching === undefined ? {} : input.outputBatching;
  if (typeof batching !== 'object' || batching === null) throw PtySessionErrors.invalidOptions('outputBatching must be an object');
  assertKnownNames(batching, OUTPUT_BATCHING_OPTION_NAMES, 'outputBatching.');
  const windowMs = orDefault(batching.windowMs, PTY_SESSION_DEFAULTS.outputBatching.windowMs);
  // Two batches under a high mark given alone: a client is paused once a high mark ahead, and one batch
  // beyond it may be on its way (what a browser has to parse before Ctrl+C shows).
  const defaultMaxBytes = highMarkGiven
    ? Math.min(PTY_SESSION_DEFAULTS.outputBatching.maxBytes, Math.max(1, Math.floor(flow.highWaterMarkBytes / HIGH_WATER_MARK_BATCHES)))
    : PTY_SESSION_DEFAULTS.outputBatching.maxBytes;
  const maxBytes = orDefault(batching.maxBytes, defaultMaxBytes);
  if (!Number.isSafeInteger(windowMs) || windowMs < 0 || windowMs > 1000) {
    throw PtySessionErrors.invalidOptions(`outputBatching.windowMs must be an integer from 0 to 1000, got ${shown(windowMs)}`);
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw PtySessionErrors.invalidOptions(`outputBatching.maxBytes must be an integer >= 1, got ${shown(maxBytes)}`);
  const busyBytes = orDefault(batching.busyBytes, PTY_SESSION_DEFAULTS.outputBatching.busyBytes);
  if (!Number.isSafeInteger(busyBytes) || busyBytes < 0) throw PtySessionErrors.invalidOptions(`outputBatching.busyBytes must be an integer >= 0, got ${shown(busyBytes)}`);
  resolved.outputBatching = Object.freeze({ windowMs, maxBytes, busyBytes });
}
