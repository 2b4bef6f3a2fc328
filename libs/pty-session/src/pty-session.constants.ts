/**
 * Injection tokens, names and defaults of the library, in one place.
 *
 * Tokens are `Symbol.for(...)` so that a process which loads both the ESM and
 * the CommonJS build of the package still resolves one token, not two.
 */
import { PTY_SOCKET_PATH } from 'nestjs-pty-session-client/protocol';

/** Token of the raw options object given to `PtySessionModule.forRoot(Async)`. */
export const PTY_SESSION_MODULE_OPTIONS = Symbol.for('nestjs-pty-session:module-options');

/** Token of the options after defaults were applied and values were checked. */
export const PTY_SESSION_RESOLVED_OPTIONS = Symbol.for('nestjs-pty-session:resolved-options');

/**
 * Token of the function that starts a process in a pseudo-terminal.
 * Production gets node-pty's `spawn`; tests replace it with
 * `overrideProvider(PTY_SPAWNER).useValue(fakeSpawn)`.
 */
export const PTY_SPAWNER = Symbol.for('nestjs-pty-session:spawner');

/** Name of the cleanup interval in @nestjs/schedule's `SchedulerRegistry`. */
export const PTY_SESSION_CLEANUP_JOB = 'nestjs-pty-session:cleanup';

/** Name of the spawn profile used when `createSession` names none. */
export const DEFAULT_PROFILE_NAME = 'default';

const KiB = 1024;
const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Default value of every option that has one. The README table mirrors this object. */
export const PTY_SESSION_DEFAULTS = Object.freeze({
  /**
   * Bytes of output kept per session for replay (the seed's 64 KiB, times
   * sixteen): two of the largest batches (`outputBatching.maxBytes`), so
   * that a client paused by flow control while another keeps the program
   * running catches up exactly after missing a batch (a stream's batches
   * are capped at BATCH_SHARE_OF_REPLAY_BUFFER of its session's buffer).
   * Held in blocks as output comes: a session that printed little holds
   * little, and a quiet one is packed.
   */
  replayBufferBytes: 1024 * KiB,
  /** A session with no client attached and no input, output or attach for this long is closed. */
  idleTimeoutMs: 5 * MINUTE,
  /** How long an exited session stays readable (exit status, final output). */
  exitedRetentionMs: 5 * MINUTE,
  /** Period of the cleanup job; 0 turns the job off. */
  cleanupIntervalMs: 30 * SECOND,
  /** Per cleanup sweep, bytes of quiet sessions' buffers packed into memory of their exact size (bounds the sweep's time); 0 never packs. */
  packBytesPerSweep: 8 * 1024 * KiB,
  /** Wait after SIGHUP before SIGTERM. */
  hangupGracePeriodMs: 1 * SECOND,
  /** Wait after SIGTERM before SIGKILL. */
  terminateGracePeriodMs: 2 * SECOND,
  /** Wait after SIGKILL before giving up on a process (it is then reported in the log). */
  killTimeoutMs: 2 * SECOND,
  /** Sessions alive at once, over all owners. */
  maxSessions: 100,
  /** Sessions alive at once for one owner. */
  maxSessionsPerOwner: 10,
  /** Upper bound of `cols`; the lower bound is 1. */
  maxCols: 1000,
  /** Upper bound of `rows`; the lower bound is 1. */
  maxRows: 1000,
  /** Size of a new session when the caller gives none. */
  defaultCols: 80,
  defaultRows: 24,
  /** Longest accepted application key and owner id, in characters. */
  maxKeyLength: 256,
  /** `TERM` of every child. */
  term: 'xterm-256color',
  /** Close descriptors leaked by node-pty 1.1.0 before the program starts (Linux). */
  closeInheritedFds: true,
  /**
   * What an attach gets when the output since its offset is no longer all
   * buffered: `'raw'`, what remains (flagged as a reset), or `'screen'`, a
   * snapshot of the screen kept by a headless terminal emulator.
   */
  replay: 'raw' as 'raw' | 'screen',
  /** Screen mode (`replay: 'screen'`). */
  screen: Object.freeze({
    /** Lines of scrollback each emulator keeps and each snapshot carries (fewer on a screen too wide for `maxCells`). */
    scrollback: 1000,
    /**
     * Cells (columns x lines) one emulator keeps at most: its screen, its
     * alternate screen and its scrollback; 256 Ki, ~4 MiB of plain text and
     * ~16 MiB of styled cells. A larger screen is made smaller (rows first);
     * a wide one keeps fewer lines of scrollback. 80x24 with 1000 lines of
     * scrollback is 83,840 cells. Raised, when not given, to hold a session
     * of `defaultCols` x `defaultRows` with all of `scrollback`.
     */
    maxCells: 256 * KiB,
    /** Worker threads that run the emulators (started with the first screen-mode session). */
    workers: 1,
    /** Output not yet parsed by a session's emulator above which its pty is paused (until half is parsed); at most SCREEN_MAX_LAG_LIMIT_BYTES. */
    maxLagBytes: 32 * 1024 * KiB,
    /**
     * Niceness added to the worker threads (Linux): during a burst the
     * emulators yield the CPU to the event loop, the programs and the
     * clients, and catch up afterwards.
     */
    workerNice: 10,
    /** An attach waits this long for a snapshot, then gets the raw replay. */
    snapshotTimeoutMs: 5 * SECOND,
  }),
  /** Gateway: accept connections without an `authenticate` hook (development only). */
  allowAnonymous: false,
  /** Gateway: origins, besides the server's own, allowed to connect from a browser. */
  allowedOrigins: Object.freeze([] as string[]),
  /** Gateway: clients attached to one session at once. */
  maxClientsPerSession: 10,
  /** Gateway: UTF-8 bytes of one `input` message. */
  maxInputBytes: 64 * KiB,
  /** Input written to a session and not yet taken by its program's pty, above which more input is refused (INPUT_BACKLOG_FULL). */
  maxInputBacklogBytes: 1024 * KiB,
  /** Gateway: an `input` answer waits at most this long for its session's next output (its echo) to go out first. */
  echoWaitMs: 2,
  /** Gateway: a connection with more than this sent to it and still unread, beyond what it has outstanding under flow control, is dropped (it is not reading its socket). */
  maxClientBacklogBytes: 8 * 1024 * KiB,
  /** Gateway: create, attach, list and close requests of one connection answered at the same time; more are refused (TOO_MANY_REQUESTS). */
  maxRequestsInFlight: 16,
  /** Gateway: connections one principal may have open at once; more are refused (OWNER_CONNECTION_LIMIT_REACHED). */
  maxConnectionsPerOwner: 32,
  /** Gateway: the size of a shared session: the latest client's, or the smallest of all. */
  resizePolicy: 'latest' as 'latest' | 'smallest',
  /** Gateway: per-client flow control, in bytes of output (see the README). */
  flowControl: Object.freeze({
    /**
     * Stop sending to a client this far ahead of its acknowledgements: two
     * of the largest batches (`outputBatching.maxBytes`), so that a client
     * that keeps up always has one coming while it parses the other. With
     * the batch on its way when the mark is reached, the most a browser may
     * have to parse before Ctrl+C's effect shows.
     */
    highWaterMarkBytes: 1024 * KiB,
    /**
     * ...and resume once it is back under this: half the high mark, so that
     * a paused client acknowledging one large batch of two resumes while it
     * still parses the other (over a network, the next output is then on
     * its way before it runs dry). A high mark given alone brings the
     * default low mark to its half too (LOW_WATER_MARK_SHARE), and the
     * default `outputBatching.maxBytes` (HIGH_WATER_MARK_BATCHES).
     */
    lowWaterMarkBytes: 512 * KiB,
    /**
     * Clients acknowledge after processing this much (at most the low mark, or
     * they could stall). One per 128 KiB instead of per 32 KiB took ~6% off
     * the host's CPU per MiB of a busy `cat`, when each went through Nest's
     * message pipeline (they no longer do). One per 512 KiB, half as many
     * again, was within the noise of 11 alternating 50-viewer pairs, and
     * over a slow link it would leave up to half the high mark processed
     * and not yet acknowledged (issue 5's bench; docs/performance.md).
     */
    ackIntervalBytes: 128 * KiB,
    /** While every attached client is paused, pause the program too (a slow client loses nothing). */
    pauseProgram: true,
  }),
  /** Gateway: how output is grouped into messages. */
  outputBatching: Object.freeze({
    /**
     * Output that follows a message sent less than this many ms ago waits
     * out the rest of the window; after a quiet moment output goes out at
     * once. 0: one message per turn of the event loop.
     */
    windowMs: 8,
    /**
     * A batch is sent as soon as it holds this many bytes. Larger than a
     * window's output at ~60 MiB/s, so that a busy stream goes out one
     * message per window: against 128 KiB, the host's CPU per MiB of a
     * `cat` fell ~15% (fewer messages, and fewer acknowledgements through
     * Nest's pipeline) and its throughput rose ~10% (issue 5's bench,
     * alternating pairs; docs/performance.md).
     */
    maxBytes: 512 * KiB,
    /**
     * Only a message of at least this many bytes opens a window: a busy
     * program's output is batched, keystroke echoes (a few bytes, however
     * fast the typing) always go out at once.
     */
    busyBytes: 1 * KiB,
  }),
});

/**
 * Batches under the high mark (flow control): a client is paused once it is
 * a high mark ahead, so with fewer than two it would wait for each
 * acknowledgement. The default `outputBatching.maxBytes` under a high mark
 * given alone is the high mark over this.
 */
export const HIGH_WATER_MARK_BATCHES = 2;

/**
 * A stream's largest batch as a share of its session's replay buffer:
 * `outputBatching.maxBytes`, or less for a session with a smaller buffer,
 * so that a client paused at a batch (it misses that batch) finds what it
 * missed in the buffer when it resumes, rather than a reset.
 */
export const BATCH_SHARE_OF_REPLAY_BUFFER = 1 / 2;

/**
 * The default low mark as a share of the high mark (flow control): the
 * defaults' own ratio, applied to a high mark given without a low mark, so
 * that any high mark alone is valid.
 */
export const LOW_WATER_MARK_SHARE = 1 / 2;

/**
 * How long a session waits for node-pty's exit report of a process that is
 * verifiably gone when `killTimeoutMs` ran out first: node-pty reports an
 * exit only once the pty's socket closed, up to 200 ms after the process was
 * reaped (its DESTROY_SOCKET_TIMEOUT_MS). Without it, a short
 * `killTimeoutMs` turned a process killed by SIGKILL into exit code -1.
 */
export const PTY_EXIT_REPORT_GRACE_MS = 1000;

/** Largest terminal width or height the kernel can hold (`struct winsize` has 16-bit fields): the bound of `maxCols`/`maxRows`. */
export const MAX_TERMINAL_DIMENSION = 65535;

/** Input the pty did not take at once is retried after this long, doubling up to PTY_INPUT_RETRY_MAX_MS while the program takes none (see `PtyInputWriter`). */
export const PTY_INPUT_RETRY_MIN_MS = 1;
export const PTY_INPUT_RETRY_MAX_MS = 50;

/**
 * Input waiting for a pty is kept in chunks of this size: small inputs (a
 * keystroke each) are copied into the last chunk while it has room, so that
 * 1 MiB of them is 64 chunks, each written in one system call, not a million
 * Buffers of ~100 bytes each written one by one (see `PtyInputWriter`).
 */
export const PTY_INPUT_CHUNK_BYTES = 16 * 1024;

/**
 * Upper bound of `screen.maxLagBytes`, the output one session may have
 * waiting in a screen worker's memory. (@xterm/headless 6 throws once more
 * than 50,000,000 bytes wait in it; the worker hands it at most
 * SCREEN_PARSE_AHEAD_BYTES at a time, and keeps the rest in its own queue.)
 */
export const SCREEN_MAX_LAG_LIMIT_BYTES = 40 * 1024 * KiB;

/**
 * Output a screen worker hands its emulator ahead of what it has parsed; the
 * rest waits in the worker's own queue. xterm.js cannot drop what it was
 * given, so this is what a closed session's emulator may still parse.
 */
export const SCREEN_PARSE_AHEAD_BYTES = 1024 * KiB;

/**
 * Output handed to a screen emulator in one write at most. xterm.js gives
 * the thread back to the worker's other sessions only between writes (once
 * it has parsed for 12 ms), and some output costs far more per byte than
 * text: 1 MB of line feeds in a scroll region held the worker 4.2 s on a
 * 131x1000 screen, printing in insert mode 1.9 s on 1000x130.
 */
export const SCREEN_PARSE_PIECE_BYTES = 8 * KiB;

/**
 * UTF-16 code units of text one cell of a screen emulator keeps: a
 * character and what joins it (combining marks, joiners, variation
 * selectors, emoji tags). xterm.js appends each joined code point to its
 * cell's string without limit, past a dozen characters as a string node of
 * its own: 7 MiB of `a` and U+0301 took 205 MiB of an 80x24 emulator's heap.
 * Sixteen hold diacritic stacks and emoji tag sequences (a flag of Scotland
 * is 14); what joins beyond is dropped.
 */
export const SCREEN_MAX_CELL_TEXT_LENGTH = 16;

/** UTF-16 code units a screen emulator keeps of an OSC or DCS sequence's text (a window title a snapshot restores, a query): xterm.js keeps 10,000,000, a string node per piece. */
export const SCREEN_MAX_TITLE_LENGTH = 4096;

/** Defaults of the gateway's `forRoot` extras (static: they shape the Socket.IO server). */
export const PTY_GATEWAY_DEFAULTS = Object.freeze({
  /** Socket.IO namespace of the gateway. */
  namespace: '/pty',
  /** Socket.IO path: a server of the gateway's own, beside any the host application has (`PTY_SOCKET_PATH`). */
  path: PTY_SOCKET_PATH,
  /** Largest Socket.IO message in bytes (Socket.IO's own default); a bigger one closes the connection. */
  maxHttpBufferSize: 1_000_000,
});

/** The longest session id, profile name or other identifier accepted from a client. */
export const MAX_WIRE_ID_LENGTH = 256;

/**
 * The replay buffer copies output into blocks of memory of this size (a
 * bigger single output gets a block of its own size): eviction frees them
 * one by one as new output comes.
 */
export const REPLAY_BLOCK_BYTES = 16 * KiB;

/**
 * Output that does not fit in the room left at the end of a replay block
 * starts the next block whole when that room is at most this share of the
 * block, which then stays unused: a read stays in one piece, and the session
 * passes on the buffer's copy instead of making one more (see
 * `ReplayBuffer.appendKept`). More room than that is filled, and the output
 * split between the two blocks.
 */
export const REPLAY_BLOCK_TAIL_SHARE = 1 / 8;

/**
 * Output shorter than this goes to a session's listeners in memory of its
 * own, not as a view of the replay buffer's block: a listener that keeps a
 * quiet session's last chunk (a prompt, an echo) then holds that chunk,
 * not a whole block that `pack()` meant to free.
 */
export const OWN_MEMORY_OUTPUT_BYTES = 1 * KiB;

/** The first block of a replay buffer; each next one is twice the last, up to REPLAY_BLOCK_BYTES: a session that printed a prompt holds ~1 KiB, not 16. */
export const REPLAY_FIRST_BLOCK_BYTES = 1 * KiB;

/**
 * `pack()` copies a replay buffer only when at least this share of its
 * blocks' memory is unused (a prompt in a fresh block, an evicted start):
 * less is not worth a copy of everything held.
 */
export const REPLAY_PACK_MIN_UNUSED_SHARE = 1 / 8;

/** The smallest replay buffer accepted: below this a single screen redraw would not fit. */
export const MIN_REPLAY_BUFFER_BYTES = 1 * KiB;
