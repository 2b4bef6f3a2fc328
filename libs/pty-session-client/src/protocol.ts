/**
 * The Socket.IO wire protocol between `nestjs-pty-session`'s gateway and its
 * clients: event names, payloads and answers. The server and the client
 * package both import it from here (`nestjs-pty-session-client/protocol`), so
 * the two cannot drift apart. It has no runtime dependencies.
 *
 * Every client-to-server event takes a Socket.IO acknowledgement and answers
 * `{ ok: true, ... }` or `{ ok: false, error: { code, message } }`.
 * `docs/protocol.md` describes each event with an example exchange.
 */

/**
 * The Socket.IO `path` the gateway serves by default, and the client
 * connects to. A path of its own gives the gateway a Socket.IO server of its
 * own, whose settings (origin check before the upgrade, message size) touch
 * none of the host application's other gateways.
 */
export const PTY_SOCKET_PATH = '/pty-io';

/** Event names. Client-to-server events are answered through the acknowledgement. */
export const PTY_EVENTS = Object.freeze({
  /** Start a session from a server-side profile. */
  create: 'create',
  /** Attach to a session by id or key and receive what was missed. */
  attach: 'attach',
  /** Keystrokes or pasted text for an attached session. */
  input: 'input',
  /** This client's terminal size for an attached session. */
  resize: 'resize',
  /** Flow control: the client has processed output up to an offset. */
  ack: 'ack',
  /** Stop receiving a session's output; the session keeps running. */
  detach: 'detach',
  /** End a session's process. */
  close: 'close',
  /** The caller's own sessions. */
  list: 'list',
  /** Server to client: output of an attached session. */
  output: 'output',
  /** Server to client: an attached session's process ended. */
  exit: 'exit',
} as const);

export type PtyClientEvent = 'create' | 'attach' | 'input' | 'resize' | 'ack' | 'detach' | 'close' | 'list';

/**
 * Error codes on the wire. The library's own codes, plus the gateway's.
 * New codes may be added; existing ones keep their meaning.
 */
export type PtyWireErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_SIZE'
  | 'INVALID_OFFSET'
  | 'PROFILE_NOT_FOUND'
  | 'KEY_IN_USE'
  | 'SESSION_NOT_FOUND'
  | 'SESSION_EXITED'
  | 'SESSION_LIMIT_REACHED'
  | 'OWNER_SESSION_LIMIT_REACHED'
  | 'SPAWN_FAILED'
  | 'SHUTTING_DOWN'
  | 'UNAUTHORIZED'
  | 'ORIGIN_NOT_ALLOWED'
  | 'NOT_ATTACHED'
  | 'INPUT_TOO_LARGE'
  | 'INPUT_BACKLOG_FULL'
  | 'CLIENT_LIMIT_REACHED'
  | 'TOO_MANY_REQUESTS'
  | 'OWNER_CONNECTION_LIMIT_REACHED'
  | 'FORBIDDEN'
  | 'DISCONNECTED'
  | 'INTERNAL_ERROR';

export interface PtyWireError {
  code: PtyWireErrorCode | (string & {});
  message: string;
}

/** A failed answer. */
export interface PtyErrorAnswer {
  ok: false;
  error: PtyWireError;
}

/** Every answer: `T` on success, an error otherwise. */
export type PtyAnswer<T extends object = object> = ({ ok: true } & T) | PtyErrorAnswer;

/** How a session ended (`reason`: `exited` by itself, `closed`, `idle` timeout, server `shutdown`). */
export interface PtyWireExit {
  exitCode: number;
  signal?: number;
  reason: 'exited' | 'closed' | 'idle' | 'shutdown';
  /** Epoch milliseconds. */
  exitedAt: number;
}

/** A session as a client sees it. */
export interface PtyWireSessionInfo {
  id: string;
  key?: string;
  profile?: string;
  cols: number;
  rows: number;
  /** Epoch milliseconds. */
  createdAt: number;
  lastActivity: number;
  status: 'running' | 'exited';
  attachedClients: number;
  /** Total bytes (UTF-8) of output so far: the offset the next output starts at. */
  outputOffset: number;
  exit?: PtyWireExit;
}

/** Flow-control settings the server gives each attach answer. */
export interface PtyWireFlowControl {
  /** Send an `ack` after processing at least this many bytes since the last one. */
  ackIntervalBytes: number;
}

/** The server's limits a client should respect, in each attach answer. */
export interface PtyWireLimits {
  /** UTF-8 bytes of one `input` message: split longer input (the client package does). */
  maxInputBytes: number;
}

// ---- client to server -------------------------------------------------------

export interface PtyCreateRequest {
  /** Profile name from the server's list; default: the server's default profile. */
  profile?: string;
  /** Application key. When a live session of the caller already has it, that session is answered. */
  key?: string;
  cols?: number;
  rows?: number;
  /**
   * Also attach this connection, in the same step: the answer then carries
   * what `attach` answers (the replay from the session's first byte still
   * buffered), so not even the output of a fast program's first
   * milliseconds can be missed between the two requests.
   */
  attach?: boolean;
  /** With `attach: true`: as in an attach request. */
  binary?: boolean;
  /** With `attach: true` and `binary: true`: as in an attach request. */
  smallAsText?: boolean;
}
export interface PtyWireCreateResult {
  session: PtyWireSessionInfo;
  created: boolean;
  /** With `attach: true`: as in an attach answer. */
  replay?: PtyWireOutput | PtyWireBinaryOutput;
  flowControl?: PtyWireFlowControl;
  limits?: PtyWireLimits;
  sizedAt?: number;
}
export type PtyCreateAnswer = PtyAnswer<PtyWireCreateResult>;

/** Exactly one of `sessionId` and `key`. */
export interface PtyAttachRequest {
  sessionId?: string;
  key?: string;
  /** Offset already processed (from the last output: `offset + byteLength`); omit for the whole buffer. */
  since?: number;
  /**
   * With `since` (at most it): what this client has processed of the output
   * up to `since`, when that is less (a terminal still parsing what it
   * received before its connection dropped). The server counts the rest as
   * sent and not yet acknowledged, as before the drop, so that coming back
   * does not give a slow terminal a high mark of credit more; it counts at
   * most `highWaterMarkBytes` and a buffer's worth. Without it, `since` is
   * counted as acknowledged. A server that predates this field ignores it.
   */
  acked?: number;
  /** This client's terminal size (used by the server's resize policy). */
  cols?: number;
  rows?: number;
  /**
   * Output of this attachment (the replay and every `output` event, small
   * ones excepted with `smallAsText`) as UTF-8 bytes
   * ({@link PtyWireBinaryOutput}) instead of a string: no JSON
   * escaping of control characters, and no JSON parsing of megabytes on
   * the client. The client package asks for it and decodes. A server that
   * predates this field sends strings.
   */
  binary?: boolean;
  /**
   * With `binary: true`: outputs (live, or catch-ups) whose `byteLength` is
   * under the server's `outputBatching.busyBytes` (1 KiB by default: a
   * keystroke's echo) come as strings; the rest, snapshots and the replay
   * of the answer as bytes. A message with a binary
   * attachment is two WebSocket frames, the second written after the first,
   * and reassembled by the client; a small string is one frame (~0.07 ms
   * less per echo). The client package asks for it. A server that predates
   * this field sends bytes.
   */
  smallAsText?: boolean;
  /**
   * This attach resumes the client's place after its connection dropped:
   * `cols`/`rows` are its size as before, not a resize, and `resume` is the
   * `sizedAt` of its last attach or resize answer. Under the `'latest'`
   * resize policy the client takes back its place among the sizers, and
   * the session its size only if no client attached now sized it since: a
   * client coming back neither takes the size from the one in use
   * meanwhile nor loses it when it was that one. Under `'smallest'` the
   * size counts as any. The client package sets it on its automatic
   * re-attach unless the terminal was resized while the connection was
   * down. A server that predates this field treats the size as a resize.
   */
  resume?: number;
}
export interface PtyAttachResult {
  session: PtyWireSessionInfo;
  /** With a size in the request: the number of this client's sizing, to send back as `resume` after a drop. */
  sizedAt?: number;
  /**
   * What the client missed, from `replay.offset` to `replay.offset + replay.byteLength`
   * (a {@link PtyWireBinaryOutput} when the request asked for `binary`).
   */
  replay: PtyWireOutput | PtyWireBinaryOutput;
  flowControl: PtyWireFlowControl;
  limits: PtyWireLimits;
}
export type PtyAttachAnswer = PtyAnswer<PtyAttachResult>;

export interface PtyInputRequest {
  sessionId: string;
  data: string;
}
export interface PtyResizeRequest {
  sessionId: string;
  cols: number;
  rows: number;
}
export interface PtyAckRequest {
  sessionId: string;
  /** Output processed up to here (an end offset the server sent). */
  offset: number;
}
export interface PtySessionRequest {
  sessionId: string;
}
export type PtyOkAnswer = PtyAnswer<object>;
/** The session's size after the resize, and the number of this client's sizing (see `PtyAttachRequest.resume`). */
export type PtyResizeAnswer = PtyAnswer<{ cols: number; rows: number; sizedAt?: number }>;
export type PtyCloseAnswer = PtyAnswer<{ exit: PtyWireExit }>;
export type PtyListAnswer = PtyAnswer<{ sessions: PtyWireSessionInfo[] }>;

// ---- server to client -------------------------------------------------------

/**
 * Output of a session: `data` covers bytes `offset` to `offset + byteLength`
 * of the session's output (UTF-8 bytes). When `reset` is true, the output
 * before `offset` is no longer available (it was evicted while this client
 * was away or behind): clear the terminal, then write `data`.
 *
 * Track offsets with `offset` and `byteLength`, never with `data`'s length:
 * a replay (an attach answer, a reset) leaves out terminal queries (cursor
 * position, device attributes, colour queries), which the terminal would
 * otherwise answer a second time into the program's input.
 */
export interface PtyWireOutput {
  sessionId: string;
  offset: number;
  byteLength: number;
  data: string;
  reset?: boolean;
  /**
   * `data` is a snapshot of the screen (screen replay mode, with `reset`):
   * sequences that redraw the screen, scrollback and modes as they are at
   * `offset`; `byteLength` is 0 and output continues from `offset`.
   */
  snapshot?: boolean;
}

/** UTF-8 bytes as Socket.IO delivers them: a Buffer in Node, an ArrayBuffer in browsers. */
export type PtyWireBytes = ArrayBuffer | ArrayBufferView;

/**
 * An output as sent to an attachment that asked for `binary`: the same
 * fields, with `data` as UTF-8 bytes (a Socket.IO binary attachment). Each
 * message holds whole characters, so each decodes on its own.
 */
export type PtyWireBinaryOutput = Omit<PtyWireOutput, 'data'> & { data: PtyWireBytes };

export interface PtyWireExitEvent extends PtyWireExit {
  sessionId: string;
}

/** The event map for typed Socket.IO sockets (server to client). */
export interface PtyServerToClientEvents {
  /** A {@link PtyWireBinaryOutput} for an attachment that asked for `binary` (a small one may be text with `smallAsText`). */
  output: (output: PtyWireOutput | PtyWireBinaryOutput) => void;
  exit: (exit: PtyWireExitEvent) => void;
}

/** The event map for typed Socket.IO sockets (client to server). */
export interface PtyClientToServerEvents {
  create: (request: PtyCreateRequest, answer: (a: PtyCreateAnswer) => void) => void;
  attach: (request: PtyAttachRequest, answer: (a: PtyAttachAnswer) => void) => void;
  input: (request: PtyInputRequest, answer: (a: PtyOkAnswer) => void) => void;
  resize: (request: PtyResizeRequest, answer: (a: PtyResizeAnswer) => void) => void;
  /** May be sent without an acknowledgement (it is then not answered). */
  ack: (request: PtyAckRequest, answer?: (a: PtyOkAnswer) => void) => void;
  detach: (request: PtySessionRequest, answer: (a: PtyOkAnswer) => void) => void;
  close: (request: PtySessionRequest, answer: (a: PtyCloseAnswer) => void) => void;
  list: (request: object, answer: (a: PtyListAnswer) => void) => void;
}

/** The `data` of a refused connection's `connect_error`. */
export interface PtyConnectErrorData {
  code: 'UNAUTHORIZED' | 'ORIGIN_NOT_ALLOWED' | 'OWNER_CONNECTION_LIMIT_REACHED' | (string & {});
  message: string;
}
