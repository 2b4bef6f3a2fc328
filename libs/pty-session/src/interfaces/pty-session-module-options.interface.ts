import type { Socket } from 'socket.io';
import type { PtySpawnFunction } from '../pty-spawner.provider.js';

/** The Socket.IO handshake of a connecting client (headers, `auth`, query, address). */
export type PtyHandshake = Socket['handshake'];

/**
 * Who is connected: `id` owns the sessions the client creates and is the
 * only one who may attach to them. Anything else is the host's to use.
 * @publicApi
 */
export interface PtyPrincipal {
  id: string;
  [extra: string]: unknown;
}

/**
 * Decides whether a Socket.IO connection is accepted, before it is: returns
 * the principal, or null/undefined (or throws) to refuse with UNAUTHORIZED.
 * @publicApi
 */
export type PtyAuthenticateFunction = (handshake: PtyHandshake) => PtyPrincipal | null | undefined | Promise<PtyPrincipal | null | undefined>;

/** Per-client flow control of the gateway, in bytes of output. @publicApi */
export interface PtyFlowControlOptions {
  /** Stop sending to a client this far ahead of its acknowledgements. Default 1 MiB. */
  highWaterMarkBytes?: number;
  /** Resume once the client is back under this. Default 512 KiB, or half of a `highWaterMarkBytes` given without it (at least an `ackIntervalBytes` given with it). */
  lowWaterMarkBytes?: number;
  /** Clients acknowledge after processing this much; at most `lowWaterMarkBytes`. Default 128 KiB, or the low mark when that is lower. */
  ackIntervalBytes?: number;
  /**
   * While every attached client is paused (too far behind), stop reading the
   * program's pty, so that it blocks on its output as under a local terminal
   * that cannot keep up: a slow client loses nothing. A client that keeps up
   * keeps the program running at its pace; the slower ones then catch up from
   * the replay buffer (with a reset if they fell out of it). False: never
   * pause the program; a client slower than the program gets resets. Default true.
   */
  pauseProgram?: boolean;
}

/**
 * Options of `PtySessionModule.forRoot()` / `forRootAsync()`.
 * Every field is optional; defaults are in `PTY_SESSION_DEFAULTS` and in the README.
 * @publicApi
 */
export interface PtySessionModuleOptions {
  /**
   * Named spawn profiles: what the server may start. Callers choose a profile
   * by name and never the program, its arguments or its environment.
   * When omitted, one profile named `default` starts `/bin/bash` (or `/bin/sh`)
   * in the user's home directory with a minimal environment.
   */
  profiles?: Record<string, PtySpawnProfile | PtySpawnProfileFactory>;
  /** Profile used when `createSession` names none. Default: `'default'`. */
  defaultProfile?: string;
  /** Bytes of output kept per session for replay. Default 1 MiB; minimum 1 KiB. */
  replayBufferBytes?: number;
  /**
   * What an attach gets when the output since its offset is no longer all
   * buffered. `'raw'` (default): what the buffer still holds, flagged as a
   * reset; cheap, but a full-screen program whose mode-setting sequences
   * were evicted replays as garbage. `'screen'`: each session's output also
   * feeds a headless terminal emulator (in a worker thread) and such an
   * attach gets a snapshot of its screen, scrollback and modes. An attach
   * whose offset is still buffered gets the missed bytes in both modes.
   * Overridable per profile.
   */
  replay?: 'raw' | 'screen';
  /** Screen mode settings. */
  screen?: PtyScreenOptions;
  /**
   * Idle timeout: a session with no client attached and no input, output,
   * attach or `updateActivity` for this long is closed by the cleanup job.
   * Default 5 minutes. 0 turns idle expiry off.
   */
  idleTimeoutMs?: number;
  /** How long an exited session stays readable (exit status, final output). Default 5 minutes. */
  exitedRetentionMs?: number;
  /** Period of the cleanup job that calls `cleanupExpired()`. Default 30 s; 0 turns the job off. */
  cleanupIntervalMs?: number;
  /**
   * Each `cleanupExpired()` sweep also packs the replay buffers of sessions
   * that printed nothing since the sweep before: their bytes are moved into
   * one piece of memory of exactly their size, where the buffer's blocks
   * hold more (the unwritten end of the last block, the evicted start of the
   * first, up to 16 KiB each; block tails of at most 1/8 left unused rather
   * than split a pty read). This bounds the bytes copied per sweep
   * (sessions take turns across sweeps), and a buffer larger than it is never
   * packed, so that a sweep never holds up the event loop for long.
   * Default 8 MiB; 0 never packs.
   */
  packBytesPerSweep?: number;
  /** Wait after SIGHUP before SIGTERM when closing a session. Default 1 s. */
  hangupGracePeriodMs?: number;
  /** Wait after SIGTERM before SIGKILL when closing a session. Default 2 s. */
  terminateGracePeriodMs?: number;
  /** Wait after SIGKILL for the process to be reaped before giving up. Default 2 s. */
  killTimeoutMs?: number;
  /** Sessions alive at once, over all owners. Default 100. */
  maxSessions?: number;
  /** Sessions alive at once for one owner. Default 10. */
  maxSessionsPerOwner?: number;
  /** Largest accepted `cols`. Default 1000. */
  maxCols?: number;
  /** Largest accepted `rows`. Default 1000. */
  maxRows?: number;
  /** Size of a session created without one. Default 80x24. */
  defaultCols?: number;
  defaultRows?: number;
  /** Longest accepted key and owner, in characters. Default 256. */
  maxKeyLength?: number;
  /** `TERM` given to every child. Default `'xterm-256color'`. */
  term?: string;
  /**
   * Start each child through a few lines of bash that close every inherited
   * descriptor above 2 before exec'ing the program: node-pty 1.1.0 leaks the
   * pty masters of earlier sessions into later children (microsoft/node-pty#657),
   * which would let one user's program read another's terminal. Default true;
   * only applies where /proc, /bin/bash and /usr/bin/env exist.
   */
  closeInheritedFds?: boolean;
  /**
   * Starts the processes instead of node-pty's `spawn` (a sandbox, a
   * container, metrics). It receives the profile's file, args and options
   * (with the explicit env). `closeInheritedFds` does not apply to it, nor
   * the check of the profile's program and cwd on this machine (they may
   * live where it spawns).
   */
  spawner?: PtySpawnFunction;

  // ---- Socket.IO gateway ----------------------------------------------------

  /**
   * Authenticates each Socket.IO connection in namespace middleware, before
   * it is accepted. Without it the gateway refuses every connection unless
   * `allowAnonymous` is true.
   */
  authenticate?: PtyAuthenticateFunction;
  /**
   * Accept connections without an `authenticate` hook, all as the principal
   * `{ id: 'anonymous' }` (who then share every session). Development only.
   * Default false.
   */
  allowAnonymous?: boolean;
  /**
   * Browser origins allowed to connect besides the server's own (`Origin`
   * equal to the request's `Host`). Exact origins like
   * `'https://app.example.com'`, or a predicate. Connections without an
   * `Origin` header (non-browser clients) are allowed; authenticate them.
   * Default: none.
   */
  allowedOrigins?: readonly string[] | ((origin: string) => boolean);
  /**
   * `Host` header values (names, with or without a port) the gateway
   * answers to, or a predicate: a defence against DNS rebinding, where a
   * hostile page reaches this server under its own name. Default: any host;
   * with `allowAnonymous` (no authentication), loopback names only
   * (`localhost`, `127.x.x.x`, `[::1]`).
   */
  allowedHosts?: readonly string[] | ((host: string) => boolean);
  /** Clients attached to one session at once. Default 10. */
  maxClientsPerSession?: number;
  /** UTF-8 bytes accepted in one `input` message. Default 64 KiB. */
  maxInputBytes?: number;
  /**
   * Input written to a session that its program has not read yet (a
   * program in raw mode that does not read its input): beyond this many
   * bytes waiting, more input is refused with INPUT_BACKLOG_FULL, in
   * `PtySession.write` and the gateway's `input`. An input is never refused
   * while nothing waits. Default 1 MiB.
   */
  maxInputBacklogBytes?: number;
  /**
   * A keystroke (an `input` shorter than `outputBatching.busyBytes`
   * characters) is answered on the timers' turn after its session's next
   * output has gone out to the clients (normally the keystroke's own echo),
   * or after this many milliseconds without output: the echo leaves the
   * server before the answer's socket write, 0.1-0.2 ms sooner here
   * (README: Performance).
   * Only the answer waits, never the input; errors, longer input and a
   * keystroke while an answer of the session already waits for output are
   * answered at once. Default 2; 0 answers every input at once.
   */
  echoWaitMs?: number;
  /**
   * A connection with more than this many bytes sent to it and not yet
   * written out (the client is not reading its socket, e.g. it attaches
   * over and over without reading the answers) is disconnected, before it
   * can hold the server's memory. Beyond it, a connection may have unread
   * what flow control lets it have outstanding: what each session it is
   * attached to sent it and it has not acknowledged (a replay included),
   * and the largest buffer once more (replays of large buffers over a slow
   * link are being read). Default 8 MiB.
   */
  maxClientBacklogBytes?: number;
  /**
   * Requests of one connection whose answers can be large or slow (`create`,
   * `attach` with its replay or snapshot, `list`, `close`, which waits for
   * the process to end) handled at the same time;
   * more are refused with TOO_MANY_REQUESTS until answers have gone out.
   * Bounds what a burst of requests costs before `maxClientBacklogBytes`
   * can see it. Default 16.
   */
  maxRequestsInFlight?: number;
  /**
   * Gateway connections one principal (`authenticate`'s id; every anonymous
   * connection is the one principal `anonymous`) may have open at once; a
   * connection beyond it is refused with OWNER_CONNECTION_LIMIT_REACHED.
   * Every other limit holds per connection: this bounds their sum. Default 32.
   */
  maxConnectionsPerOwner?: number;
  /**
   * Size of a session several clients are attached to: the size the latest
   * client sent (`'latest'`, default), or the smallest columns and rows of
   * all attached clients that sent one (`'smallest'`, like tmux).
   */
  resizePolicy?: 'latest' | 'smallest';
  /** Per-client flow control. */
  flowControl?: PtyFlowControlOptions;
  /** How output is grouped into messages to clients. */
  outputBatching?: PtyOutputBatchingOptions;
}

/** Screen mode (`replay: 'screen'`) settings. @publicApi */
export interface PtyScreenOptions {
  /** Lines of scrollback each emulator keeps and each snapshot carries. Default 1000 (fewer on a screen too wide for `maxCells`). */
  scrollback?: number;
  /**
   * Cells (columns x lines) one session's emulator keeps at most: its
   * screen, its alternate screen and its scrollback. Bounds its memory
   * (15-18 bytes a cell of plain text, 65-75 with styled underlines) and its
   * snapshot. A size whose two screens and a line of scrollback would not fit
   * (asked at creation, by a resize or an attach) is lowered, rows first, and
   * answered with the size the session took; a wide screen keeps only the
   * lines of scrollback that fit (scrollback trimmed is gone, also when the
   * screen narrows again). Default 262144 (256 Ki: 80x24 with its 1000 lines
   * of scrollback is 83,840 cells; 320x80 keeps 659 lines; 1000 columns get
   * 130 rows), or, when more, what a session of `defaultCols` x
   * `defaultRows` needs with all of `scrollback`; given, at least that.
   */
  maxCells?: number;
  /** Worker threads running the emulators. Default 1. */
  workers?: number;
  /**
   * Output not yet parsed by a session's emulator above which the session's
   * pty is paused until half of it is parsed: bounds the memory a burst can
   * take. Default 32 MiB, at most 40 MiB (what waits is held in the screen worker's memory).
   */
  maxLagBytes?: number;
  /**
   * Niceness added to the worker threads (Linux, 0-19): during a burst the
   * emulators yield the CPU to the event loop, the programs and the
   * clients, and catch up afterwards. Default 10; 0 keeps the process's priority.
   */
  workerNice?: number;
  /** An attach waits at most this long for a snapshot, then gets the raw replay. Default 5 s. */
  snapshotTimeoutMs?: number;
}

/** How the gateway groups output into messages. @publicApi */
export interface PtyOutputBatchingOptions {
  /**
   * Output that follows a message sent less than this many milliseconds ago
   * waits for the rest of the window, so a busy program's output goes out in
   * few large messages; after a quiet moment output goes out at the end of
   * the event loop's turn (a small one, such as a keystroke's echo, at once).
   * Default 8; 0: no window, output goes out at the end of every turn.
   */
  windowMs?: number;
  /** A batch is sent as soon as it holds this many bytes, or half its session's replay buffer if that is less. Default 512 KiB, or half of a `flowControl.highWaterMarkBytes` given without it if that is less. */
  maxBytes?: number;
  /**
   * Only after a message of at least this many bytes does output wait for a
   * window: keystroke echoes (a few bytes each, however fast the typing)
   * always go out at once. Also the size under which an output goes as text
   * to a client that asked for `smallAsText` (the client package does), and
   * the length (in characters) under which an `input` counts as a keystroke
   * for `echoWaitMs` (keep it below `maxInputBytes`). Default 1 KiB.
   */
  busyBytes?: number;
}

/**
 * What to start for a session. The child's environment is exactly `env` plus
 * `TERM`: nothing of the server's own environment leaks into it.
 * @publicApi
 */
export interface PtySpawnProfile {
  /** Program to run, e.g. `/bin/bash`. */
  file: string;
  /** Its arguments. Default none. */
  args?: string[];
  /** Working directory. Default: the server's working directory. */
  cwd?: string;
  /** The child's whole environment (`TERM` is added). Default empty. */
  env?: Record<string, string>;
  /**
   * Run as this user and group id, both or neither (the server must be
   * allowed to: root can switch to any; a server with a user of its own only
   * to its own ids). From root, the switch also drops the server's
   * supplementary groups (util-linux `setpriv`).
   */
  uid?: number;
  gid?: number;
  /** Per-profile override of the module's `replayBufferBytes`. */
  replayBufferBytes?: number;
  /** Per-profile override of the module's `idleTimeoutMs`. */
  idleTimeoutMs?: number;
  /** Per-profile override of the module's `replay` mode. */
  replay?: 'raw' | 'screen';
}

/** What a profile factory learns about the session it spawns for. */
export interface PtySpawnContext {
  profile: string;
  key?: string;
  owner?: string;
  cols: number;
  rows: number;
}

/**
 * A profile computed per session, e.g. a working directory derived from the
 * session's key. May be async.
 * @publicApi
 */
export type PtySpawnProfileFactory = (context: PtySpawnContext) => PtySpawnProfile | Promise<PtySpawnProfile>;
