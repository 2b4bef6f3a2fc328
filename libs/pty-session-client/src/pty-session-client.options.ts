import type { io, ManagerOptions, SocketOptions } from 'socket.io-client';
import type { PtyClientSession } from './pty-client-session.js';
import type { PtyWireSessionInfo } from './protocol.js';

/**
 * Who acknowledges output for flow control:
 * - `auto`: the client, as soon as the output listeners have returned.
 * - `manual`: the application, through {@link PtyClientSession.ack}, once the
 *   output is really processed (with xterm.js: in `term.write`'s callback),
 *   so that a slow terminal slows the server down instead of queueing.
 */
export type PtyAckMode = 'auto' | 'manual';

/** Socket.IO's `auth`: an object, or a function that hands one over on every (re)connection (fresh tokens). */
export type PtyClientAuth = Record<string, unknown> | ((callback: (data: object) => void) => void);

/** See {@link PtySessionClientOptions.limitRetry}. */
export interface PtyLimitRetry {
  firstDelayMs: number;
  maxDelayMs: number;
  giveUpAfterMs: number;
}

export interface PtySessionClientOptions {
  /**
   * The server's URL including the gateway's namespace (`/pty` unless the
   * server configured another), e.g. `https://example.com/pty`.
   */
  url: string;
  /** Credentials for the server's `authenticate` hook (Socket.IO `auth`), sent on every (re)connection. */
  auth?: PtyClientAuth;
  /**
   * Socket.IO client options (`path`, `transports`, `reconnectionDelay`,
   * `reconnectionAttempts`, ...). `path` defaults to the gateway's default,
   * `/pty-io` (`PTY_SOCKET_PATH`). `autoConnect` is always false: call
   * {@link PtySessionClient.connect}. `auth` is taken from `auth` above.
   */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
  /** Who acknowledges output. Default `'auto'`. */
  ackMode?: PtyAckMode;
  /** Milliseconds a request waits for its answer, including any wait for a connection (not a session's automatic re-attach: it waits as long as the connection lasts); a request held back behind `maxRequestsInFlight` gets it whole once sent. Default 10,000. */
  answerTimeoutMs?: number;
  /** UTF-8 bytes of input a session may hold while it re-attaches. Default 65,536. */
  maxQueuedInputBytes?: number;
  /**
   * `create`, `attach` and `list` requests waiting for their answers at
   * once; more wait in the client, in order. Default 16, the server's
   * default `maxRequestsInFlight` (which refuses more with TOO_MANY_REQUESTS).
   */
  maxRequestsInFlight?: number;
  /**
   * How a refusal that passes with time is retried: a re-attach refused with
   * CLIENT_LIMIT_REACHED or TOO_MANY_REQUESTS, a reconnection refused with
   * OWNER_CONNECTION_LIMIT_REACHED (the server still counts the connection
   * that dropped, until its ping timeout: 25 + 20 s by default). After
   * `firstDelayMs`, doubling up to `maxDelayMs`, for `giveUpAfterMs`.
   * Default `{ firstDelayMs: 1000, maxDelayMs: 8000, giveUpAfterMs: 60000 }`.
   */
  limitRetry?: Partial<PtyLimitRetry>;
  /** Socket.IO's `io` function, to use another build of socket.io-client. Default: the `io` of this package's dependency. */
  io?: typeof io;
}

/** The session to attach to: by id, or by the application key it was created with. */
export type PtyAttachTarget = { sessionId: string; key?: undefined } | { key: string; sessionId?: undefined };

export interface PtyAttachOptions {
  /**
   * The offset this client already has (the last output's `offset + byteLength`,
   * i.e. the session's `offset`); the replay starts there. Omit it to get the
   * whole replay buffer.
   */
  since?: number;
  /** This client's terminal size: both or neither. It is sent again on every re-attach. */
  cols?: number;
  rows?: number;
}

/** What {@link PtySessionClient.create} answers. */
export interface PtyCreateResult {
  session: PtyWireSessionInfo;
  /** False when a live session with the requested `key` already existed and is answered instead. */
  created: boolean;
}

/** What `open()` resolves to: the attached session, and whether it was started for this call. */
export interface PtyOpenResult {
  session: PtyClientSession;
  /** False when a live session with the requested `key` already existed. */
  created: boolean;
}

/** One piece of a session's output, in order, without gaps or repeats. */
export interface PtyClientOutput {
  /** The text. */
  readonly data: string;
  /**
   * The same output as UTF-8 bytes, for a terminal that takes bytes
   * (xterm.js: `term.write(output.bytes)`). The server sends bytes (and
   * outputs under 1 KiB, such as echoes, as text), so reading only `bytes`
   * skips decoding altogether (encoding only the small ones), and reading
   * only `data` skips encoding: each form is made when first read.
   */
  readonly bytes: Uint8Array;
  /** Where `data` starts in the session's output, in UTF-8 bytes. */
  offset: number;
  /**
   * Bytes of the session's output this piece stands for: the next output
   * starts at `offset + byteLength`. Equal to `data`'s UTF-8 length, except
   * in a replay, which leaves out terminal queries, and in a snapshot (0).
   */
  byteLength: number;
  /**
   * True when output before `offset` is lost to this client (evicted from
   * the server's buffer while it was away or behind): clear the terminal
   * (xterm.js: write `'\x1bc' + data`; `term.reset()` would act at once,
   * ahead of earlier writes still queued), then write `data`.
   */
  reset: boolean;
  /**
   * True when `data` is a snapshot of the screen (server in screen replay
   * mode): it redraws the screen, scrollback and modes as they were at
   * `offset`. Handled like any reset: clear the terminal, write `data`.
   */
  snapshot: boolean;
}

/** The client's connection: `idle` until {@link PtySessionClient.connect}, `closed` for good. */
export type PtyClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/**
 * A session as this client follows it:
 * - `attached`: output flows, input is sent.
 * - `reattaching`: the connection dropped (or output had a gap); input is
 *   queued and the session is attached again from its offset.
 * - `exited`: the process ended (see `exit`); final.
 * - `detached`: this client stopped following it (`detach()`, or the client
 *   was closed); the session may still run on the server; final.
 * - `lost`: re-attaching failed, usually `SESSION_NOT_FOUND` (the session
 *   was closed or expired while the client was away); final.
 */
export type PtyClientSessionState = 'attached' | 'reattaching' | 'exited' | 'detached' | 'lost';
