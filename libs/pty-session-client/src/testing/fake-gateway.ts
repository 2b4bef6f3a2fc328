/**
 * A scripted stand-in for the nestjs-pty-session gateway, on a real
 * Socket.IO server (127.0.0.1, a free port), for the client's tests.
 *
 * By default it behaves like the gateway: sessions with a byte-offset
 * output log and a replay buffer that can be evicted, attach with replay
 * (a socket attaching again replaces its place), live output to attached
 * sockets, exit after the last output (and after the answer for an exited
 * session), detach on disconnect. Tests change any event's handling with
 * `intercept`: hold an answer, send output before it, answer an error,
 * never answer. Every event received is logged in `received`.
 * Not part of the package build (tsconfig.esm.json excludes src/testing).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Namespace, Server, type Socket } from 'socket.io';
import type {
  PtyAnswer,
  PtyClientEvent,
  PtyConnectErrorData,
  PtyWireExit,
  PtyWireExitEvent,
  PtyWireOutput,
  PtyWireSessionInfo,
} from '../protocol.js';
import { PTY_SOCKET_PATH } from '../protocol.js';

// Payloads are whatever the client sent: tests look at them as plain objects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Payload = any;
type Answer = PtyAnswer<Record<string, unknown>>;

export interface ReceivedEvent {
  event: PtyClientEvent;
  payload: Payload;
  socketId: string;
  /** The client asked for an answer (an acknowledgement callback). */
  withAnswer: boolean;
}

export interface HandlerContext {
  readonly socket: Socket;
  /** Does what the gateway does for this event and returns the answer, without sending it. */
  standard(): Answer;
  /** Sends the answer (the first call only). */
  reply(answer: Answer): void;
}

export type EventHandler = (payload: Payload, context: HandlerContext) => void | Promise<void>;

export interface FakeGatewayOptions {
  /** Refuses a connection by returning the refusal's `data` (what the real middleware puts in `connect_error`). */
  authorize?: (auth: Record<string, unknown>) => PtyConnectErrorData | undefined;
  /** `flowControl.ackIntervalBytes` in attach answers. Default 1024. */
  ackIntervalBytes?: number;
  /**
   * Honours `binary` in attach requests as the gateway does (the replay and
   * the output as UTF-8 bytes). Default true; false answers with strings
   * like a server that predates the field.
   */
  binary?: boolean;
  /**
   * Honours `smallAsText` as the gateway does with its
   * `outputBatching.busyBytes`: an output of fewer than this many bytes goes
   * as text to a viewer that asked for `binary` and `smallAsText`. Default 0:
   * every output of a binary viewer as bytes.
   */
  smallAsTextBytes?: number;
}

const failure = (code: string, message = code): Answer => ({ ok: false, error: { code, message } });

/** One session: its whole output (UTF-8 bytes), a replay buffer from `bufferStart`, its viewers. */
export class FakeSession {
  private bytes: Buffer = Buffer.alloc(0);
  /** Output before this offset is evicted from the replay buffer. */
  bufferStart = 0;
  exit: PtyWireExit | undefined;
  readonly viewers = new Map<string, Socket>();
  /** Viewers that asked for their output as bytes. */
  readonly binaryViewers = new Set<string>();
  /** Binary viewers that also asked for small outputs as text (`smallAsText`). */
  readonly smallAsTextViewers = new Set<string>();
  /** Outputs under this many bytes go as text to `smallAsTextViewers` (the gateway's `smallAsTextBytes`). */
  smallAsTextBytes = 0;
  /** Offsets of the outputs a binary viewer got as text (`smallAsText`). */
  readonly sentAsText: number[] = [];
  /** Input received, in order. */
  readonly inputs: string[] = [];
  cols = 80;
  rows = 24;
  readonly createdAt = Date.now();

  constructor(
    readonly id: string,
    readonly key?: string,
  ) {}

  /** Total output bytes: where the next output starts. */
  get end(): number {
    return this.bytes.length;
  }

  /** The output between two byte offsets, as text. */
  text(from = 0, to = this.end): string {
    return this.bytes.subarray(from, to).toString('utf8');
  }

  /** Appends output and sends it to every viewer. @returns what was sent. */
  write(data: string): PtyWireOutput {
    const offset = this.end;
    const added = Buffer.from(data, 'utf8');
    this.bytes = Buffer.concat([this.bytes, added]);
    const output: PtyWireOutput = { sessionId: this.id, offset, byteLength: added.length, data };
    const small = added.length < this.smallAsTextBytes;
    for (const socket of this.viewers.values()) {
      const asText = small && this.smallAsTextViewers.has(socket.id);
      if (asText) this.sentAsText.push(offset);
      socket.emit('output', this.binaryViewers.has(socket.id) && !asText ? { ...output, data: added } : output);
    }
    return output;
  }

  /** Appends output without sending it (it happened while nobody was attached, say). */
  append(data: string): void {
    this.bytes = Buffer.concat([this.bytes, Buffer.from(data, 'utf8')]);
  }

  /** Output from `since` (or the buffer's start), `reset` when part of it was evicted. */
  replayFrom(since: number | undefined): PtyWireOutput {
    const from = since === undefined || since < this.bufferStart ? this.bufferStart : since;
    const reset = since === undefined ? this.bufferStart > 0 : since < this.bufferStart;
    return {
      sessionId: this.id,
      offset: from,
      byteLength: this.end - from,
      data: this.text(from),
      ...(reset ? { reset: true } : {}),
    };
  }

  /** The process ends: the exit goes to every viewer after its output, and they are detached. */
  finish(exitCode = 0, reason: PtyWireExit['reason'] = 'exited', exitedAt = Date.now()): PtyWireExit {
    this.exit ??= { exitCode, reason, exitedAt };
    const event: PtyWireExitEvent = { sessionId: this.id, ...this.exit };
    for (const socket of this.viewers.values()) socket.emit('exit', event);
    this.viewers.clear();
    return this.exit;
  }

  info(): PtyWireSessionInfo {
    return {
      id: this.id,
      ...(this.key !== undefined ? { key: this.key } : {}),
      cols: this.cols,
      rows: this.rows,
      createdAt: this.createdAt,
      lastActivity: this.createdAt,
      status: this.exit ? 'exited' : 'running',
      attachedClients: this.viewers.size,
      outputOffset: this.end,
      ...(this.exit ? { exit: this.exit } : {}),
    };
  }
}

const CLIENT_EVENTS: readonly PtyClientEvent[] = ['create', 'attach', 'input', 'resize', 'ack', 'detach', 'close', 'list'];

export class FakeGateway {
  readonly received: ReceivedEvent[] = [];
  readonly sessions = new Map<string, FakeSession>();
  ackIntervalBytes: number;
  /** `limits.maxInputBytes` in attach answers, when set (a server that predates limits sends none). */
  maxInputBytes: number | undefined;
  private readonly binary: boolean;
  private readonly smallAsTextBytes: number;
  private readonly handlers = new Map<PtyClientEvent, { handler: EventHandler; once: boolean }[]>();
  private nextId = 1;
  private closed = false;
  /** Sizings counted, as the gateway does: the `sizedAt` of attach and resize answers. */
  private sizings = 0;

  private constructor(
    private readonly io: Server,
    readonly namespace: Namespace,
    readonly url: string,
    options: FakeGatewayOptions,
  ) {
    this.ackIntervalBytes = options.ackIntervalBytes ?? 1024;
    this.binary = options.binary ?? true;
    this.smallAsTextBytes = options.smallAsTextBytes ?? 0;
  }

  static async start(options: FakeGatewayOptions = {}): Promise<FakeGateway> {
    const http = createServer();
    const io = new Server(http, { path: PTY_SOCKET_PATH });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    const namespace = io.of('/pty');
    const gateway = new FakeGateway(io, namespace, `http://127.0.0.1:${port}/pty`, options);
    if (options.authorize) {
      const authorize = options.authorize;
      namespace.use((socket, next) => {
        const refusal = authorize(socket.handshake.auth as Record<string, unknown>);
        if (!refusal) return next();
        const error = new Error(refusal.message) as Error & { data?: PtyConnectErrorData };
        error.data = refusal;
        next(error);
      });
    }
    namespace.on('connection', (socket) => gateway.onConnection(socket));
    return gateway;
  }

  /** Connected sockets. */
  get sockets(): Socket[] {
    return [...this.namespace.sockets.values()];
  }

  /** Events of one kind received so far. */
  events(event: PtyClientEvent): ReceivedEvent[] {
    return this.received.filter((r) => r.event === event);
  }

  addSession(init: { id?: string; key?: string; output?: string } = {}): FakeSession {
    const session = new FakeSession(init.id ?? `s${this.nextId++}`, init.key);
    session.smallAsTextBytes = this.smallAsTextBytes;
    if (init.output) session.append(init.output);
    this.sessions.set(session.id, session);
    return session;
  }

  /** Handles `event` with `handler` from now on (the latest interception wins). */
  intercept(event: PtyClientEvent, handler: EventHandler): void {
    this.handlersFor(event).unshift({ handler, once: false });
  }

  /** Handles the next `event` with `handler`, then as before. */
  interceptOnce(event: PtyClientEvent, handler: EventHandler): void {
    this.handlersFor(event).unshift({ handler, once: true });
  }

  /** Cuts every connection at the transport, like a network failure: clients reconnect by themselves. */
  cutConnections(): void {
    for (const socket of this.sockets) socket.conn.close();
  }

  /** Sends a hand-made output event to every connected socket. */
  emitOutput(output: PtyWireOutput): void {
    this.namespace.emit('output', output);
  }

  /** Stops the server (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }

  private handlersFor(event: PtyClientEvent) {
    let list = this.handlers.get(event);
    if (!list) this.handlers.set(event, (list = []));
    return list;
  }

  private onConnection(socket: Socket): void {
    socket.on('disconnect', () => {
      for (const session of this.sessions.values()) session.viewers.delete(socket.id);
    });
    for (const event of CLIENT_EVENTS) {
      socket.on(event, (payload: Payload, callback?: unknown) => {
        const answer = typeof callback === 'function' ? (callback as (a: Answer) => void) : undefined;
        this.received.push({ event, payload, socketId: socket.id, withAnswer: answer !== undefined });
        let replied = false;
        const context: HandlerContext = {
          socket,
          standard: () => this.standard(event, payload, socket),
          reply: (a) => {
            if (replied || !answer) return;
            replied = true;
            answer(a);
          },
        };
        const list = this.handlersFor(event);
        const entry = list[0];
        if (entry?.once) list.shift();
        if (entry) void entry.handler(payload, context);
        else context.reply(context.standard());
      });
    }
  }

  private find(payload: Payload): FakeSession | undefined {
    if (typeof payload?.sessionId === 'string') return this.sessions.get(payload.sessionId);
    for (const session of this.sessions.values()) if (session.key === payload?.key && !session.exit) return session;
    return undefined;
  }

  private attached(payload: Payload, socket: Socket): FakeSession | undefined {
    const session = this.find(payload);
    return session?.viewers.has(socket.id) ? session : undefined;
  }

  /** What the gateway does. */
  private standard(event: PtyClientEvent, payload: Payload, socket: Socket): Answer {
    switch (event) {
      case 'create': {
        const existing = payload?.key !== undefined ? this.find({ key: payload.key }) : undefined;
        if (existing) return { ok: true, session: existing.info(), created: false };
        const session = this.addSession({ key: payload?.key });
        if (payload?.cols !== undefined) [session.cols, session.rows] = [payload.cols, payload.rows];
        return { ok: true, session: session.info(), created: true };
      }
      case 'attach': {
        const session = this.find(payload);
        if (!session) return failure('SESSION_NOT_FOUND');
        if (payload.since !== undefined && payload.since > session.end) return failure('INVALID_OFFSET');
        if (payload.cols !== undefined) [session.cols, session.rows] = [payload.cols, payload.rows];
        // Like the gateway: the number of this sizing (a resume keeps its own), for the client to send back as `resume`.
        const sizedAt = payload.cols === undefined ? undefined : typeof payload.resume === 'number' ? payload.resume : ++this.sizings;
        const text = session.replayFrom(payload.since);
        const binary = this.binary && payload.binary === true;
        const replay = binary ? { ...text, data: Buffer.from(text.data, 'utf8') } : text;
        if (binary) session.binaryViewers.add(socket.id);
        else session.binaryViewers.delete(socket.id);
        if (binary && payload.smallAsText === true) session.smallAsTextViewers.add(socket.id);
        else session.smallAsTextViewers.delete(socket.id);
        if (session.exit) {
          // Like the gateway: an exited session's exit follows the answer.
          const exit: PtyWireExitEvent = { sessionId: session.id, ...session.exit };
          setImmediate(() => socket.emit('exit', exit));
        } else {
          session.viewers.set(socket.id, socket);
        }
        return {
          ok: true,
          session: session.info(),
          ...(sizedAt !== undefined ? { sizedAt } : {}),
          replay,
          flowControl: { ackIntervalBytes: this.ackIntervalBytes },
          ...(this.maxInputBytes !== undefined ? { limits: { maxInputBytes: this.maxInputBytes } } : {}),
        };
      }
      case 'input': {
        const session = this.attached(payload, socket);
        if (!session) return failure('NOT_ATTACHED');
        session.inputs.push(payload.data);
        return { ok: true };
      }
      case 'resize': {
        const session = this.attached(payload, socket);
        if (!session) return failure('NOT_ATTACHED');
        [session.cols, session.rows] = [payload.cols, payload.rows];
        return { ok: true, cols: session.cols, rows: session.rows, sizedAt: ++this.sizings };
      }
      case 'ack':
        return this.attached(payload, socket) ? { ok: true } : failure('NOT_ATTACHED');
      case 'detach':
        this.find(payload)?.viewers.delete(socket.id);
        return { ok: true };
      case 'close': {
        const session = this.find(payload);
        if (!session) return failure('SESSION_NOT_FOUND');
        if (session.exit) return { ok: true, exit: session.exit };
        // The exit status is known at once; the event follows the answer, after the last output.
        const exit: PtyWireExit = { exitCode: 0, reason: 'closed', exitedAt: Date.now() };
        setImmediate(() => session.finish(exit.exitCode, exit.reason, exit.exitedAt));
        return { ok: true, exit };
      }
      case 'list':
        return { ok: true, sessions: [...this.sessions.values()].map((s) => s.info()) };
    }
  }
}
