import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IPty } from 'node-pty';
import type {
  CreatePtySessionOptions,
  PtySessionFilter,
  PtySessionInfo,
} from './interfaces/pty-session-info.interface.js';
import type { PtySpawnProfile } from './interfaces/pty-session-module-options.interface.js';
import { PTY_SESSION_RESOLVED_OPTIONS, PTY_SPAWNER } from './pty-session.constants.js';
import { assertRunnable } from './program-lookup.js';
import { killSpawnedProcess } from './process-signals.js';
import { PtySessionError, PtySessionErrors } from './pty-session.errors.js';
import { assertValidProfile, type ResolvedPtySessionOptions } from './pty-session.options.js';
import { assertTerminalSize, PtySession } from './pty-session.js';
import type { PtySpawnFunction } from './pty-spawner.provider.js';
import { ScreenWorkerPool } from './screen/screen-worker-pool.js';
import { fitScreenSize } from './screen/screen-size.js';

interface CreateRequest {
  profile: string;
  pty?: IPty;
  key?: string;
  owner?: string;
  cols: number;
  rows: number;
}

/**
 * The registry of all sessions: the injectable singleton that replaces the
 * seed's global `get_session_manager()`. Each Nest application (and each
 * testing module) has its own.
 *
 * Ids are random UUIDs. A key names at most one live session; concurrent
 * `getOrCreateSession` calls for a key start exactly one process, because
 * the key is reserved before the (possibly async) spawn begins.
 * @publicApi
 */
@Injectable()
export class PtySessionManager implements OnModuleDestroy {
  /** Where the next sweep's packing starts (see packQuietBuffers). */
  private packCursor = 0;
  private readonly logger = new Logger('PtySessionManager');
  private readonly sessions = new Map<string, PtySession>();
  /** The newest session of each key (live, or exited and retained). */
  private readonly byKey = new Map<string, PtySession>();
  /** Keys whose spawn is in flight. */
  private readonly reservedKeys = new Set<string>();
  /** Keyed creations in flight, with the owner who asked. */
  private readonly pendingByKey = new Map<string, { creation: Promise<PtySession>; owner: string | undefined }>();
  /** Live sessions plus spawns in flight, in total and per owner. */
  private liveCount = 0;
  private readonly liveByOwner = new Map<string, number>();
  /** Exited sessions still kept (for `exitedRetentionMs`), oldest exit first: all, and by owner. */
  private readonly exited = new Set<PtySession>();
  private readonly exitedByOwner = new Map<string, Set<PtySession>>();
  /** Sessions being closed by `closeSession`: forgotten once exited, never kept. */
  private readonly closing = new WeakSet<PtySession>();
  /**
   * Signal escalations still under way for sessions already forgotten (a
   * program that exited by itself left jobs that ignore SIGHUP, and its
   * session aged out): shutdown waits for them too.
   */
  private readonly forgottenTerminations = new Set<Promise<unknown>>();
  private shuttingDown = false;
  /** Runs the emulators of screen-mode sessions; started with the first one. */
  private screens?: ScreenWorkerPool;

  constructor(
    @Inject(PTY_SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedPtySessionOptions,
    @Inject(PTY_SPAWNER) private readonly spawn: PtySpawnFunction,
  ) {}

  /**
   * Starts a session from a spawn profile (or adopts `options.pty`: if the
   * call is refused, the process stays the caller's to end).
   * @throws PtySessionError INVALID_ARGUMENT, INVALID_SIZE, PROFILE_NOT_FOUND, KEY_IN_USE,
   *   SESSION_LIMIT_REACHED, OWNER_SESSION_LIMIT_REACHED, SPAWN_FAILED, SHUTTING_DOWN
   */
  createSession(options: CreatePtySessionOptions = {}): Promise<PtySession> {
    const creation = this.startSession(options);
    // A keyed creation in flight is what getOrCreateSession waits for, whoever started it.
    const key = options?.key;
    if (typeof key === 'string' && !this.pendingByKey.has(key)) {
      this.pendingByKey.set(key, { creation, owner: options.owner });
      const forget = () => {
        if (this.pendingByKey.get(key)?.creation === creation) this.pendingByKey.delete(key);
      };
      creation.then(forget, forget);
    }
    return creation;
  }

  private async startSession(options: CreatePtySessionOptions): Promise<PtySession> {
    if (this.shuttingDown) throw PtySessionErrors.shuttingDown();
    const request = this.checkCreateRequest(options);
    if (request.key !== undefined && this.isKeyTaken(request.key)) throw PtySessionErrors.keyInUse(request.key);
    if (this.liveCount >= this.options.maxSessions) throw PtySessionErrors.sessionLimit(this.options.maxSessions);
    if (request.owner !== undefined && (this.liveByOwner.get(request.owner) ?? 0) >= this.options.maxSessionsPerOwner) {
      throw PtySessionErrors.ownerSessionLimit(request.owner, this.options.maxSessionsPerOwner);
    }

    // Reserve the key and a slot before the first await: no concurrent call can pass the checks above.
    if (request.key !== undefined) this.reservedKeys.add(request.key);
    this.countLive(request.owner, +1);
    let session: PtySession | undefined;
    let spawned: { pty: IPty; file: string } | undefined;
    try {
      const profile = request.pty ? undefined : await this.loadProfile(request);
      if (this.shuttingDown) throw PtySessionErrors.shuttingDown();
      const replay = profile?.replay ?? this.options.replay;
      const { maxCells } = this.options.screen;
      if (replay === 'screen') Object.assign(request, fitScreenSize(request.cols, request.rows, maxCells));
      const pty = request.pty ?? (spawned = { pty: this.spawnProfile(profile!, request), file: profile!.file }).pty;
      const id = randomUUID();
      session = new PtySession(pty, {
        id,
        ...(replay === 'screen' ? { maxScreenCells: maxCells, openScreen: (cols, rows, onBackpressure) => this.openScreen(id, cols, rows, onBackpressure) } : {}),
        key: request.key,
        owner: request.owner,
        profile: request.pty ? undefined : request.profile,
        replayBufferBytes: profile?.replayBufferBytes ?? this.options.replayBufferBytes,
        maxInputBacklogBytes: this.options.maxInputBacklogBytes,
        idleTimeoutMs: profile?.idleTimeoutMs ?? this.options.idleTimeoutMs,
        maxCols: this.options.maxCols,
        maxRows: this.options.maxRows,
        hangupGracePeriodMs: this.options.hangupGracePeriodMs,
        terminateGracePeriodMs: this.options.terminateGracePeriodMs,
        killTimeoutMs: this.options.killTimeoutMs,
        // A pty the caller spawned is theirs: its own listeners keep getting strings.
        readPtyAsBytes: !request.pty,
        // A custom spawner may listen to its pty's onData (metrics, a recorder): that keeps getting every read.
        readPtyIntoSharedMemory: !request.pty && this.options.spawner === undefined,
        onExited: () => {
          this.countLive(request.owner, -1);
          this.retainExited(session!);
        },
      });
    } catch (error) {
      // Spawned, but no session to end it (the screen emulator could not start, say): it is ended here.
      if (spawned) {
        killSpawnedProcess(spawned.pty, this.logger);
        throw error instanceof PtySessionError ? error : PtySessionErrors.spawnFailed(spawned.file, error);
      }
      throw error;
    } finally {
      if (request.key !== undefined) this.reservedKeys.delete(request.key);
      if (!session) this.countLive(request.owner, -1);
    }
    this.register(session);
    return session;
  }

  /** The session with this id, or undefined. */
  getSession(id: string): PtySession | undefined {
    return typeof id === 'string' ? this.sessions.get(id) : undefined;
  }

  /** The newest session with this key (live, or exited within its retention), or undefined. */
  getSessionByKey(key: string): PtySession | undefined {
    return typeof key === 'string' ? this.byKey.get(key) : undefined;
  }

  /**
   * The live session of `key`, or a new one started with `options`.
   * Atomic: concurrent calls for one key start exactly one process and all
   * get that session. When `options.owner` is given, a live session of
   * another owner is not handed out; without it the caller is trusted. If
   * the creation fails, the same owner's concurrent callers get its error;
   * another owner's try afresh. The request (size, profile) is checked
   * whether or not the key's session exists.
   * @throws PtySessionError KEY_IN_USE when the key's live session belongs to another owner; else as `createSession`.
   */
  async getOrCreateSession(key: string, options: Omit<CreatePtySessionOptions, 'key' | 'pty'> = {}): Promise<PtySession> {
    this.checkKey(key, 'key');
    if (typeof options !== 'object' || options === null) throw PtySessionErrors.invalidArgument('getOrCreateSession options', 'an object');
    if ((options as CreatePtySessionOptions)?.pty !== undefined) {
      // It might not be used (the key's session exists), and nobody would end it then.
      throw PtySessionErrors.invalidArgument('getOrCreateSession options', 'no pty (adopt a process with createSession)');
    }
    // The same request gets the same answer whether or not the key's session exists.
    this.checkCreateRequest({ ...options, key });
    let existing = this.byKey.get(key);
    while (existing?.isTerminating) {
      // Being closed (idle expiry, closeSession): wait for it to end, then start afresh.
      await existing.whenExited();
      existing = this.byKey.get(key);
    }
    if (existing && existing.status === 'running') {
      this.assertSameOwner(existing, key, options.owner);
      existing.touch();
      return existing;
    }
    const pending = this.pendingByKey.get(key);
    if (pending) {
      let session: PtySession;
      try {
        session = await pending.creation;
      } catch (error) {
        // The same owner's concurrent requests share one attempt and its error; another owner's
        // error (its profile, its credentials) is not this caller's answer: it tries afresh.
        if (pending.owner === options.owner) throw error;
        return this.getOrCreateSession(key, options);
      }
      this.assertSameOwner(session, key, options.owner);
      session.touch();
      return session;
    }
    return this.createSession({ ...options, key });
  }

  /**
   * Counts as activity: resets the session's idle timer.
   * @throws PtySessionError SESSION_NOT_FOUND
   */
  updateActivity(id: string): void {
    this.requireSession(id).touch();
  }

  /** Info on every session (live and exited within retention) matching the filter. */
  listSessions(filter: PtySessionFilter = {}): PtySessionInfo[] {
    const result: PtySessionInfo[] = [];
    for (const session of this.sessions.values()) {
      if (filter.owner !== undefined && session.owner !== filter.owner) continue;
      if (filter.key !== undefined && session.key !== filter.key) continue;
      if (filter.status !== undefined && session.status !== filter.status) continue;
      result.push(session.toInfo());
    }
    return result;
  }

  /**
   * Ends the session's process (SIGHUP, SIGTERM, SIGKILL to its process
   * group), waits until it is gone, and forgets the session.
   * @throws PtySessionError SESSION_NOT_FOUND
   */
  async closeSession(id: string): Promise<void> {
    const session = this.requireSession(id);
    this.closing.add(session);
    await session.terminate('closed');
    this.forget(session);
  }

  /**
   * One sweep: closes live sessions idle for their `idleTimeoutMs` with no
   * client attached (they stay readable as exited, reason `idle`), and
   * forgets exited sessions older than `exitedRetentionMs`. On the way, it
   * packs the buffers of sessions quiet since the sweep before, up to
   * `packBytesPerSweep` bytes (see that option).
   * Resolves, once the closed processes are gone, to the number of sessions
   * closed or forgotten.
   */
  async cleanupExpired(): Promise<number> {
    const now = Date.now();
    const retention = this.options.exitedRetentionMs;
    const closing: Promise<unknown>[] = [];
    let count = 0;
    for (const session of this.sessions.values()) {
      const exit = session.exit;
      if (exit) {
        if (now - exit.exitedAt >= retention) {
          this.forget(session);
          count++;
        }
      } else if (!session.isTerminating && session.isIdle(now)) {
        this.logger.log(`Session ${session.id} idle for ${session.idleTimeoutMs} ms with no client attached: closing it.`);
        closing.push(session.terminate('idle'));
        count++;
      }
    }
    this.packQuietBuffers();
    if (closing.length > 0) await Promise.all(closing);
    return count;
  }

  /**
   * Packs quiet sessions' buffers (see `packBytesPerSweep`), from where the
   * last sweep stopped, so that sessions late in the registry get their turn.
   * A buffer larger than the budget is never packed: copying it would take
   * the sweep longer than the budget allows.
   */
  private packQuietBuffers(): void {
    const budget = this.options.packBytesPerSweep;
    if (budget === 0 || this.sessions.size === 0) return;
    const sessions = [...this.sessions.values()];
    let left = budget;
    let visited = 0;
    while (visited < sessions.length && left > 0) {
      left -= sessions[(this.packCursor + visited) % sessions.length].packQuietOutput(budget);
      visited++;
    }
    this.packCursor = (this.packCursor + visited) % sessions.length;
  }

  /** Closes every session; the module calls it on application shutdown. */
  async closeAll(reason: 'closed' | 'shutdown' = 'closed'): Promise<void> {
    const sessions = [...this.sessions.values()];
    await Promise.all([...sessions.map((s) => s.terminate(reason)), ...this.forgottenTerminations]);
    for (const session of sessions) this.forget(session);
  }

  async onModuleDestroy(): Promise<void> {
    this.shuttingDown = true;
    await this.closeAll('shutdown');
    await this.screens?.close();
  }

  private openScreen(id: string, cols: number, rows: number, onBackpressure: (paused: boolean) => void) {
    this.screens ??= new ScreenWorkerPool({ workers: this.options.screen.workers, workerNice: this.options.screen.workerNice });
    const { scrollback, maxCells, maxLagBytes, snapshotTimeoutMs } = this.options.screen;
    return this.screens.open(id, cols, rows, { scrollback, maxCells, maxLagBytes, snapshotTimeoutMs, onBackpressure });
  }

  private register(session: PtySession): void {
    this.sessions.set(session.id, session);
    if (session.key !== undefined) this.byKey.set(session.key, session);
  }

  /**
   * Keeps an exited session readable, within bounds: at most
   * `maxSessionsPerOwner` exited sessions of one owner and `maxSessions` in
   * all (the live limits), so that a user whose programs exit on their own
   * cannot pile up buffers for `exitedRetentionMs`. Beyond, the oldest
   * exited session is forgotten first.
   */
  private retainExited(session: PtySession): void {
    if (this.sessions.get(session.id) !== session || this.closing.has(session)) return;
    this.exited.add(session);
    if (session.owner !== undefined) {
      let mine = this.exitedByOwner.get(session.owner);
      if (!mine) this.exitedByOwner.set(session.owner, (mine = new Set()));
      mine.add(session);
      if (mine.size > this.options.maxSessionsPerOwner) this.forget(mine.values().next().value!);
    }
    if (this.exited.size > this.options.maxSessions) this.forget(this.exited.values().next().value!);
  }

  private forget(session: PtySession): void {
    if (this.sessions.get(session.id) !== session) return;
    this.exited.delete(session);
    if (session.owner !== undefined) {
      const mine = this.exitedByOwner.get(session.owner);
      if (mine?.delete(session) && mine.size === 0) this.exitedByOwner.delete(session.owner);
    }
    this.sessions.delete(session.id);
    if (session.key !== undefined && this.byKey.get(session.key) === session) this.byKey.delete(session.key);
    const termination = session.pendingTermination;
    if (termination) {
      // Settled at once when the escalation is over; kept until then for closeAll (it never rejects).
      this.forgottenTerminations.add(termination);
      const done = () => this.forgottenTerminations.delete(termination);
      termination.then(done, done);
    }
    session.release();
  }

  private countLive(owner: string | undefined, delta: 1 | -1): void {
    this.liveCount += delta;
    if (owner === undefined) return;
    const next = (this.liveByOwner.get(owner) ?? 0) + delta;
    if (next > 0) this.liveByOwner.set(owner, next);
    else this.liveByOwner.delete(owner);
  }

  private isKeyTaken(key: string): boolean {
    return this.reservedKeys.has(key) || this.byKey.get(key)?.status === 'running';
  }

  private assertSameOwner(session: PtySession, key: string, owner: string | undefined): void {
    if (owner !== undefined && session.owner !== owner) throw PtySessionErrors.keyInUse(key);
  }

  private requireSession(id: string): PtySession {
    const session = this.getSession(id);
    if (!session) throw PtySessionErrors.sessionNotFound(String(id));
    return session;
  }

  private checkKey(value: unknown, what: 'key' | 'owner'): asserts value is string {
    if (typeof value !== 'string' || value.length === 0 || value.length > this.options.maxKeyLength) {
      throw PtySessionErrors.invalidArgument(what, `a non-empty string of at most ${this.options.maxKeyLength} characters`);
    }
  }

  private checkCreateRequest(options: CreatePtySessionOptions): CreateRequest {
    if (typeof options !== 'object' || options === null) throw PtySessionErrors.invalidArgument('createSession options', 'an object');
    const { key, owner, pty } = options;
    if (key !== undefined) this.checkKey(key, 'key');
    if (owner !== undefined) this.checkKey(owner, 'owner');
    if (pty !== undefined) {
      if (options.profile !== undefined) throw PtySessionErrors.invalidArgument('createSession options', 'either profile or pty, not both');
      if (typeof pty !== 'object' || pty === null || typeof pty.onData !== 'function' || !Number.isInteger(pty.pid)) {
        throw PtySessionErrors.invalidArgument('pty', 'a node-pty IPty');
      }
      return { profile: '', pty, key, owner, cols: pty.cols, rows: pty.rows };
    }
    const profile = options.profile ?? this.options.defaultProfile;
    if (typeof profile !== 'string' || !Object.prototype.hasOwnProperty.call(this.options.profiles, profile)) {
      throw PtySessionErrors.profileNotFound(String(profile), Object.keys(this.options.profiles));
    }
    const cols = options.cols ?? this.options.defaultCols;
    const rows = options.rows ?? this.options.defaultRows;
    assertTerminalSize(cols, rows, this.options.maxCols, this.options.maxRows);
    return { profile, key, owner, cols, rows };
  }

  private async loadProfile(request: CreateRequest): Promise<PtySpawnProfile> {
    const entry = this.options.profiles[request.profile];
    if (typeof entry !== 'function') return entry;
    let profile: PtySpawnProfile;
    try {
      profile = await entry({ profile: request.profile, key: request.key, owner: request.owner, cols: request.cols, rows: request.rows });
    } catch (error) {
      if (error instanceof PtySessionError) throw error;
      throw PtySessionErrors.spawnFailed(`profile "${request.profile}"`, error);
    }
    assertValidProfile(request.profile, profile);
    return profile;
  }

  private spawnProfile(profile: PtySpawnProfile, request: CreateRequest): IPty {
    try {
      // node-pty reports a missing program only through the child's exit: check it first, clearly. Not with a
      // spawner of the host's own: the program and the directory may live where it spawns (a container).
      if (this.options.spawner === undefined) assertRunnable(profile.file, profile.env?.PATH, profile.cwd);
      return this.spawn(profile.file, profile.args ?? [], {
        name: this.options.term,
        cols: request.cols,
        rows: request.rows,
        cwd: profile.cwd,
        // Exactly the profile's environment plus TERM: nothing of the server's own leaks in.
        env: { ...profile.env, TERM: this.options.term },
        ...(profile.uid !== undefined ? { uid: profile.uid } : {}),
        ...(profile.gid !== undefined ? { gid: profile.gid } : {}),
      });
    } catch (error) {
      throw PtySessionErrors.spawnFailed(profile.file, error);
    }
  }
}
