import { type BeforeApplicationShutdown, Inject, Logger, type OnApplicationBootstrap, type Type, UseFilters } from '@nestjs/common';
import {
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import {
  PTY_EVENTS,
  type PtyAnswer,
  type PtyAttachAnswer,
  type PtyAttachResult,
  type PtyCloseAnswer,
  type PtyCreateAnswer,
  type PtyListAnswer,
  type PtyOkAnswer,
  type PtyResizeAnswer,
} from 'nestjs-pty-session-client/protocol';
import type { IncomingMessage } from 'node:http';
import type { Namespace, Server, Socket } from 'socket.io';
import { PTY_GATEWAY_DEFAULTS, PTY_SESSION_RESOLVED_OPTIONS } from '../pty-session.constants.js';
import { PtySessionErrors } from '../pty-session.errors.js';
import type { PtySession } from '../pty-session.js';
import { PtySessionManager } from '../pty-session.manager.js';
import type { ResolvedPtySessionOptions } from '../pty-session.options.js';
import { createConnectionMiddleware, principalOf, requestRefusal } from './connection.middleware.js';
import { PtyGatewayExceptionFilter } from './gateway-exception.filter.js';
import {
  parseAck,
  parseAttach,
  parseCreate,
  parseInput,
  parseList,
  parseResize,
  parseSessionRequest,
} from './payload-parsers.js';
import { SessionStream, type SessionStreamTransport, type ViewerSize } from './session-stream.js';
import { connectionBacklogBytes, trackConnectionBacklog } from './connection-backlog.js';
import { EchoFirstAnswers } from './echo-first-answers.js';
import { answer, answerNow, toBinaryOutput, toWireSessionInfo } from './wire-mappers.js';

/**
 * How a `binary` attachment takes its output: all of it as bytes, or
 * (`smallAsText`) outputs under `outputBatching.busyBytes` as text, which is
 * one WebSocket frame where a binary attachment is two.
 */
type BinaryForm = 'bytes' | 'large-as-bytes';

function binaryForm(binary: boolean | undefined, smallAsText: boolean | undefined): BinaryForm | undefined {
  if (!binary) return undefined;
  return smallAsText ? 'large-as-bytes' : 'bytes';
}

/** At shutdown, how long the gateway waits for the last output and exits to be written to the clients. */
const SHUTDOWN_FLUSH_TIMEOUT_MS = 1000;
const SHUTDOWN_FLUSH_POLL_MS = 10;

/** The library's gateways on a namespace, kept on it, so that a second one is refused at boot. */
const GATEWAY_MARK = Symbol.for('nestjs-pty-session:gateway');

/**
 * Static settings of the gateway's Socket.IO server: they are decorator
 * options, read when the application initialises, so they are `forRoot`
 * extras rather than (possibly async) module options.
 * @publicApi
 */
export interface PtyGatewayOptions {
  /** Socket.IO namespace. Default `/pty`. */
  namespace?: string;
  /**
   * Socket.IO `path`. Default `/pty-io`: a Socket.IO server of the gateway's
   * own, so that its settings apply to it alone. A path the host's own
   * gateways use (Socket.IO's `/socket.io`) shares their server, and the
   * settings of whichever gateway Nest creates first apply to all of them.
   */
  path?: string;
  /** Largest message in bytes; a bigger one closes that connection. Default 1,000,000 (Socket.IO's). */
  maxHttpBufferSize?: number;
  /**
   * Socket.IO's CORS settings, for HTTP long-polling from other origins
   * that `allowedOrigins` admits. WebSocket connections do not need it.
   */
  cors?: Record<string, unknown>;
}

/**
 * The Socket.IO gateway: create, attach (with replay), input, resize, ack,
 * detach, close and list, for the authenticated principal's own sessions.
 * Every event is answered through its acknowledgement with
 * `{ ok: true, ... }` or `{ ok: false, error: { code, message } }`.
 *
 * Handlers take no decorated parameters, so a host's global pipes do not
 * transform the payloads (each is checked here); on Nest 12 a host's global
 * guards and interceptors do run (see the README), on every event but
 * `ack`, which is a plain Socket.IO listener (see `acknowledge`).
 *
 * `PtySessionModule.forRoot` mounts it (its `gateway` extra sets the
 * namespace and path); the class is exported to find the gateway among an
 * application's providers, not for subclassing: its constructor takes the
 * module's internal options.
 */
@UseFilters(PtyGatewayExceptionFilter)
export abstract class PtySessionGatewayBase implements OnGatewayInit, OnGatewayDisconnect, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PtySessionGateway');
  private readonly streams = new Map<string, SessionStream>();
  /** Session ids each socket is attached to. */
  private readonly attachedBy = new Map<string, Set<string>>();
  /** Of each socket, the sessions whose output it asked for as bytes (`binary`), and in which form. */
  private readonly binaryBy = new Map<string, Map<string, BinaryForm>>();
  /** Per connection: create, attach, list and close requests being answered (see `answerLimited`). */
  private readonly requestsInFlight = new Map<string, number>();
  /** Sessions a `create` answer has reported as created. */
  private readonly announced = new WeakSet<PtySession>();
  private namespace?: Namespace;
  private readonly transport: SessionStreamTransport = {
    output: (socketIds, output) => {
      // One encoding of each form for all its recipients: the text for some, the bytes for others.
      let text: string[] | undefined;
      let bytes: string[] | undefined;
      if (this.binaryBy.size === 0) {
        text = socketIds as string[];
      } else {
        const small = !output.snapshot && output.byteLength < this.options.outputBatching.busyBytes;
        for (const id of socketIds) {
          const form = this.binaryBy.get(id)?.get(output.sessionId);
          if (form === 'bytes' || (form === 'large-as-bytes' && !small)) (bytes ??= []).push(id);
          else (text ??= []).push(id);
        }
      }
      // `local`: the viewers are this process's sockets (sessions live here), so a cluster adapter (Redis, ...)
      // must not publish every batch of output to the other servers.
      if (text) this.namespace?.local.to(text).emit(PTY_EVENTS.output, output);
      if (bytes) this.namespace?.local.to(bytes).emit(PTY_EVENTS.output, toBinaryOutput(output));
      // A recipient that this takes past maxClientBacklogBytes is checked next (trackConnectionBacklog's watch).
      this.inputAnswers.outputSent(output.sessionId);
    },
    exit: (socketIds, exit) => {
      this.namespace?.local.to(socketIds as string[]).emit(PTY_EVENTS.exit, exit);
      this.inputAnswers.outputSent(exit.sessionId);
    },
  };
  /** Answers to `input`, each held until its echo has gone out (`echoWaitMs`). */
  private readonly inputAnswers: EchoFirstAnswers;

  protected constructor(
    private readonly manager: PtySessionManager,
    private readonly options: ResolvedPtySessionOptions,
    /** The `allowRequest` of this gateway's decorator, to tell whether the server is its own. */
    private readonly allowRequest?: unknown,
  ) {
    this.inputAnswers = new EchoFirstAnswers(options.echoWaitMs);
  }

  afterInit(server: Namespace | Server): void {
    // With a namespace configured Nest passes the Namespace; `sockets` and `to` are the same API on both.
    // Two gateways on one namespace would both answer every request: two processes for one `create`.
    // Refused in onApplicationBootstrap, where a throw fails the boot (one here would be thrown by rxjs later).
    const marked = server as (Namespace | Server) & { [GATEWAY_MARK]?: Set<PtySessionGatewayBase> };
    (marked[GATEWAY_MARK] ??= new Set()).add(this);
    this.warnOfSharedUser();
    this.namespace = server as Namespace;
    server.use(createConnectionMiddleware(this.options, this.logger));
    server.on('connection', (socket: Socket) => {
      // Checked at every request, output and acknowledgement (see `assertReadingClient`): kept as a count, not
      // summed each time; and checked as soon as answers on their way take it past the option.
      trackConnectionBacklog(socket, { bytes: this.options.maxClientBacklogBytes, exceeded: () => this.dropIfNotReading(socket) });
      // Acknowledgements skip Nest's message pipeline (see `acknowledge`).
      socket.on(PTY_EVENTS.ack, (...args: unknown[]) => this.acknowledge(socket, args));
    });
    const engineOptions = ((server as Namespace).server ?? (server as Server)).engine?.opts;
    if (this.allowRequest && engineOptions && engineOptions.allowRequest !== this.allowRequest) {
      this.logger.warn(
        'The Socket.IO server on this path was created by another gateway of the application: its settings apply, ' +
          "not this module's gateway extras (maxHttpBufferSize, cors, the origin check before the upgrade). " +
          'Origin, Host and authentication are still checked for every connection. Leave the gateway its own path ' +
          "(the default, '/pty-io') to apply them, and to keep them off the other gateways.",
      );
    }
  }

  /**
   * Programs run as the server's user unless a profile sets `uid` (or a
   * spawner sandboxes them): then every user of the gateway can read the
   * server's environment and reach the other users' sessions. Said once, at
   * boot; profile factories, whose result is not known yet, are not counted.
   */
  private warnOfSharedUser(): void {
    if (this.options.spawner !== undefined) return;
    const shared = Object.entries(this.options.profiles)
      .filter(([, profile]) => typeof profile !== 'function' && profile.uid === undefined)
      .map(([name]) => name);
    if (shared.length === 0) return;
    this.logger.warn(
      `Profile${shared.length > 1 ? 's' : ''} ${shared.map((name) => `"${name}"`).join(', ')} run as the server's own user: ` +
        "anyone who can type into such a session can read the server's environment and reach other sessions of that user. " +
        'Fine for one user; for several, give profiles a uid/gid per user or a sandboxing spawner (README: Isolation between sessions).',
    );
  }

  onApplicationBootstrap(): void {
    const gateways = (this.namespace as (Namespace & { [GATEWAY_MARK]?: Set<PtySessionGatewayBase> }) | undefined)?.[GATEWAY_MARK];
    if (gateways && gateways.size > 1) {
      throw new Error(
        `PtySessionModule's gateway is mounted twice on the Socket.IO namespace "${this.namespace!.name}": ` +
          'import PtySessionModule.forRoot() once, at the root (or give each a namespace of its own).',
      );
    }
  }

  handleDisconnect(socket: Socket): void {
    const sessionIds = this.attachedBy.get(socket.id);
    this.binaryBy.delete(socket.id);
    if (!sessionIds) return;
    this.attachedBy.delete(socket.id);
    for (const sessionId of sessionIds) this.streams.get(sessionId)?.removeViewer(socket.id);
  }

  /**
   * After every module's destroy hook (the manager's has closed every
   * session), before Nest closes the Socket.IO server: clients receive the
   * last output and their `exit` (reason `shutdown`) before the connection ends.
   */
  async beforeApplicationShutdown(): Promise<void> {
    for (const stream of [...this.streams.values()]) stream.drain({ includingPaused: true });
    // Held input answers go too; they take a few promise turns through Nest's pipeline before they are written.
    this.inputAnswers.releaseAll();
    await new Promise((resolve) => setImmediate(resolve));
    await this.whenWritten(SHUTDOWN_FLUSH_TIMEOUT_MS);
    for (const stream of [...this.streams.values()]) stream.dispose();
    this.attachedBy.clear();
    this.binaryBy.clear();
  }

  /** Resolves once every connection has handed its queued messages to the network, or after `timeoutMs`. */
  private async whenWritten(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pending = () => [...(this.namespace?.sockets.values() ?? [])].some((socket) => connectionBacklogBytes(socket) > 0);
    while (pending() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_FLUSH_POLL_MS));
  }

  @SubscribeMessage(PTY_EVENTS.create)
  create(socket: Socket, body: unknown): Promise<PtyCreateAnswer> {
    const parse = () => parseCreate(body, this.options.maxKeyLength);
    return this.answerLimited(socket, parse, async ({ profile, key, cols, rows, attach, binary, smallAsText }) => {
      const owner = principalOf(socket).id;
      let session: PtySession;
      let created = true;
      if (key === undefined) {
        session = await this.manager.createSession({ owner, profile, cols, rows });
      } else {
        const asked = Date.now();
        session = await this.manager.getOrCreateSession(key, { owner, profile, cols, rows });
        // Concurrent creates of one key get one session: only the first answer says it was created.
        created = session.createdAt >= asked && !this.announced.has(session);
      }
      this.announced.add(session);
      if (!attach) return { session: toWireSessionInfo(session.toInfo()), created };
      // Within the same turn as the spawn's completion: the replay starts at the first byte still buffered.
      return { ...(await this.attachSocket(socket, session, undefined, { cols, rows }, binaryForm(binary, smallAsText))), created };
    });
  }

  @SubscribeMessage(PTY_EVENTS.attach)
  attach(socket: Socket, body: unknown): Promise<PtyAttachAnswer> {
    return this.answerLimited(socket, () => parseAttach(body, this.options.maxKeyLength), (request) => {
      const session = this.ownedSession(socket, request.sessionId, request.key);
      const size = { cols: request.cols, rows: request.rows, resume: request.resume };
      return this.attachSocket(socket, session, request.since, size, binaryForm(request.binary, request.smallAsText), request.acked);
    });
  }

  @SubscribeMessage(PTY_EVENTS.input)
  input(socket: Socket, body: unknown): Promise<PtyOkAnswer> {
    return this.answer(socket, () => {
      const { sessionId, data } = parseInput(body);
      const max = this.options.maxInputBytes;
      // A UTF-16 unit is at least one UTF-8 byte and at most three: count bytes only when it matters.
      const bytes = data.length > max ? data.length : data.length * 3 > max ? Buffer.byteLength(data) : data.length;
      if (bytes > max) throw PtySessionErrors.inputTooLarge(bytes, max);
      this.attachedStream(socket, sessionId).session.write(data);
      // A keystroke's echo goes out before its answer: one socket write less between the two. Larger
      // input (a paste, the pieces of one that a client sends each after the last one's answer) is answered at once.
      if (data.length >= this.options.outputBatching.busyBytes) return {};
      return this.inputAnswers.hold(sessionId)?.then(() => ({})) ?? {};
    });
  }

  @SubscribeMessage(PTY_EVENTS.resize)
  resize(socket: Socket, body: unknown): Promise<PtyResizeAnswer> {
    return this.answer(socket, () => {
      const { sessionId, cols, rows } = parseResize(body);
      return this.attachedStream(socket, sessionId).resize(socket.id, cols, rows);
    });
  }

  /**
   * `ack`, flow control's acknowledgement, is a plain Socket.IO listener,
   * not a Nest message handler: every client of a busy session sends one
   * every `ackIntervalBytes` or so, and through Nest's pipeline (guards,
   * interceptors, filters, an observable per message) each one cost the
   * host ~55 µs, a quarter of its CPU with 50 viewers of one `cat`
   * (docs/performance.md: what an acknowledgement costs). So a host's
   * global guards and interceptors do not see it; it can only pace output
   * to a session that this connection attached to through them (a guard
   * that refuses the connection later stops its requests, not this output:
   * disconnecting it does, README). Answered
   * as any request when sent with an acknowledgement callback, and checked
   * like one against `maxClientBacklogBytes`.
   */
  private acknowledge(socket: Socket, args: unknown[]): void {
    const reply = typeof args.at(-1) === 'function' ? (args.pop() as (answer: PtyOkAnswer) => void) : undefined;
    const result = answerNow(this.logger, () => {
      this.assertReadingClient(socket);
      const { sessionId, offset } = parseAck(args.length === 1 ? args[0] : args.length === 0 ? undefined : args);
      this.attachedStream(socket, sessionId).acknowledge(socket.id, offset);
      return {};
    });
    reply?.(result);
  }

  /** Idempotent: detaching from a session one is not attached to is not an error. */
  @SubscribeMessage(PTY_EVENTS.detach)
  detach(socket: Socket, body: unknown): Promise<PtyOkAnswer> {
    return this.answer(socket, () => {
      const { sessionId } = parseSessionRequest(PTY_EVENTS.detach, body);
      const stream = this.streams.get(sessionId);
      if (stream?.hasViewer(socket.id)) {
        stream.removeViewer(socket.id);
        this.forgetViewer(socket.id, stream);
      }
      return {};
    });
  }

  @SubscribeMessage(PTY_EVENTS.close)
  close(socket: Socket, body: unknown): Promise<PtyCloseAnswer> {
    // Counted in flight: a close waits for the process to go (seconds, for one that ignores SIGHUP and SIGTERM).
    return this.answerLimited(socket, () => parseSessionRequest(PTY_EVENTS.close, body), async ({ sessionId }) => {
      const session = this.ownedSession(socket, sessionId, undefined);
      await this.manager.closeSession(session.id);
      return { exit: session.exit! };
    });
  }

  @SubscribeMessage(PTY_EVENTS.list)
  list(socket: Socket, body: unknown): Promise<PtyListAnswer> {
    return this.answerLimited(socket, () => parseList(body), () => {
      const sessions = this.manager.listSessions({ owner: principalOf(socket).id });
      return { sessions: sessions.map(toWireSessionInfo) };
    });
  }

  /**
   * Answers a request (see `answer`), from a connection that reads what it
   * is sent: any request can ask for an answer much larger than itself
   * (`list`, an attach's replay), so each one checks `maxClientBacklogBytes`.
   */
  private answer<T extends object>(socket: Socket, work: () => T | Promise<T>): Promise<PtyAnswer<T>> {
    return answer(this.logger, () => {
      this.assertReadingClient(socket);
      return work();
    });
  }

  /**
   * Answers a request whose answer can be large (a replay, a snapshot, a
   * list) or slow (a close waits for the process to end), at most
   * `maxRequestsInFlight` at a time per connection. A burst of requests
   * arrives in one read of the socket, and every one of them would pass the
   * backlog check before the first answer is written: without this bound, a
   * thousand attaches were each answered with a whole replay, and 168,000
   * closes of a session that ignores SIGTERM held 1.8 GiB for seconds.
   */
  private answerLimited<R, T extends object>(socket: Socket, parse: () => R, work: (request: R) => T | Promise<T>): Promise<PtyAnswer<T>> {
    return this.answer(socket, async () => {
      const request = parse(); // a malformed request is answered as such, and takes no place
      const inFlight = this.requestsInFlight.get(socket.id) ?? 0;
      if (inFlight >= this.options.maxRequestsInFlight) throw PtySessionErrors.tooManyRequests(this.options.maxRequestsInFlight);
      this.requestsInFlight.set(socket.id, inFlight + 1);
      try {
        return await work(request);
      } finally {
        const left = (this.requestsInFlight.get(socket.id) ?? 1) - 1;
        if (left > 0) this.requestsInFlight.set(socket.id, left);
        else this.requestsInFlight.delete(socket.id);
      }
    });
  }

  /**
   * Attaches a connection to a session: its replay from `since`, then its
   * live output, as text or (`binary`) as UTF-8 bytes.
   */
  private async attachSocket(
    socket: Socket,
    session: PtySession,
    since: number | undefined,
    size: ViewerSize,
    binary: BinaryForm | undefined,
    acked?: number,
  ): Promise<PtyAttachResult> {
    // The connection may have gone while the request waited (an async profile, a host guard):
    // handleDisconnect has run, and nothing would ever remove an attachment made now.
    if (!socket.connected) throw PtySessionErrors.disconnected();
    this.assertReadingClient(socket);
    let stream = this.streams.get(session.id);
    if (!stream) {
      stream = new SessionStream(session, this.transport, this.options, (socketId, s) => this.forgetViewer(socketId, s), (s) => this.forgetStream(s));
      this.streams.set(session.id, stream);
    }
    let replay;
    let sizedAt: number | undefined;
    try {
      replay = stream.addViewer(socket.id, since, size, acked);
      sizedAt = stream.sizedAtOf(socket.id);
    } finally {
      if (stream.viewerCount === 0) stream.dispose();
    }
    let sessions = this.attachedBy.get(socket.id);
    if (!sessions) this.attachedBy.set(socket.id, (sessions = new Set()));
    sessions.add(session.id);
    this.setBinary(socket.id, session.id, binary);
    const text = await replay;
    return {
      session: toWireSessionInfo(session.toInfo()),
      ...(sizedAt !== undefined ? { sizedAt } : {}),
      replay: binary ? toBinaryOutput(text) : text, // the replay is bytes in either binary form
      flowControl: { ackIntervalBytes: this.options.flowControl.ackIntervalBytes },
      limits: { maxInputBytes: this.options.maxInputBytes },
    };
  }

  /**
   * Flow control bounds what the server sends unasked, but a client can ask
   * (attach after attach, each answered with a replay) or acknowledge
   * without reading: a connection whose unsent backlog passes
   * `maxClientBacklogBytes` is not reading its socket, and is dropped
   * before it can hold the server's memory.
   */
  private assertReadingClient(socket: Socket): void {
    const backlog = connectionBacklogBytes(socket);
    if (backlog <= this.options.maxClientBacklogBytes) return;
    const limit = this.backlogLimit(socket.id);
    if (backlog <= limit) return;
    if (socket.connected) {
      // Once: the requests that came in the same read as this one find it disconnected.
      this.logger.warn(`Disconnecting client ${socket.id}: ${backlog} bytes sent to it are still unread (limit ${limit}: maxClientBacklogBytes, or more for large buffers).`);
      socket.disconnect(true);
    }
    throw PtySessionErrors.disconnected();
  }

  /**
   * What may be sent to a connection and still unwritten before it counts as
   * not reading: `maxClientBacklogBytes` beyond what flow control lets it
   * have outstanding, that is, for each session it is attached to, what it
   * was sent and has not acknowledged (an attach's replay, catch-ups, live
   * output up to a high mark and a batch), and the largest buffer once
   * more (a re-attach after a gap can queue a second replay behind the
   * first). A client reading the replays of many busy terminals over a slow
   * link is reading, and is not dropped for it; one that asks for replay
   * after replay without reading gains nothing (a re-attach replaces what
   * it had outstanding).
   */
  private backlogLimit(socketId: string): number {
    let largest = 0;
    let outstanding = 0;
    for (const sessionId of this.attachedBy.get(socketId) ?? []) {
      const stream = this.streams.get(sessionId);
      if (!stream) continue;
      largest = Math.max(largest, stream.session.bufferedBytes);
      outstanding += stream.unacknowledgedOf(socketId);
    }
    return this.options.maxClientBacklogBytes + outstanding + largest;
  }

  /**
   * Drops the connection if its backlog is past its limit (see `assertReadingClient`); never throws. Run
   * after the packet that took it past the option, outside the stream's loop that sent it (its viewers
   * are removed by handleDisconnect).
   */
  private dropIfNotReading(socket: Socket): void {
    try {
      this.assertReadingClient(socket);
    } catch {
      /* disconnected */
    }
  }

  /** A session of the caller's; another principal's is answered exactly like a missing one. */
  private ownedSession(socket: Socket, sessionId: string | undefined, key: string | undefined): PtySession {
    const session = sessionId !== undefined ? this.manager.getSession(sessionId) : this.manager.getSessionByKey(key!);
    if (!session || session.owner !== principalOf(socket).id) {
      throw sessionId !== undefined ? PtySessionErrors.sessionNotFound(sessionId) : PtySessionErrors.sessionKeyNotFound(key!);
    }
    return session;
  }

  private attachedStream(socket: Socket, sessionId: string): SessionStream {
    const stream = this.streams.get(sessionId);
    if (!stream?.hasViewer(socket.id)) throw PtySessionErrors.notAttached(sessionId);
    return stream;
  }

  private forgetViewer(socketId: string, stream: SessionStream): void {
    const sessions = this.attachedBy.get(socketId);
    sessions?.delete(stream.session.id);
    if (sessions?.size === 0) this.attachedBy.delete(socketId);
    this.setBinary(socketId, stream.session.id, undefined);
  }

  private setBinary(socketId: string, sessionId: string, binary: BinaryForm | undefined): void {
    let sessions = this.binaryBy.get(socketId);
    if (binary) {
      if (!sessions) this.binaryBy.set(socketId, (sessions = new Map()));
      sessions.set(sessionId, binary);
    } else if (sessions?.delete(sessionId) && sessions.size === 0) {
      this.binaryBy.delete(socketId);
    }
  }

  private forgetStream(stream: SessionStream): void {
    if (this.streams.get(stream.session.id) === stream) this.streams.delete(stream.session.id);
  }
}

/**
 * Declares the gateway class for one `forRoot` call: the decorator's
 * options are static, so the class is made where they are known.
 * The origin check is also in `allowRequest`, which refuses a cross-origin
 * WebSocket upgrade before it happens, when this gateway creates the server
 * (the namespace middleware checks again in every case).
 */
export function createPtySessionGateway(gateway: PtyGatewayOptions = {}): Type<PtySessionGatewayBase> {
  const settings = { ...PTY_GATEWAY_DEFAULTS, ...gateway };
  let options: ResolvedPtySessionOptions | undefined;
  const allowRequest = (request: IncomingMessage, callback: (error: string | null | undefined, success: boolean) => void) => {
    const refused = options && requestRefusal(request.headers, options);
    callback(refused ? refused.message : null, !refused);
  };

  @WebSocketGateway({
    namespace: settings.namespace,
    path: settings.path,
    ...(settings.cors !== undefined ? { cors: settings.cors } : {}),
    maxHttpBufferSize: settings.maxHttpBufferSize,
    allowRequest,
  })
  class PtySessionGateway extends PtySessionGatewayBase {
    constructor(manager: PtySessionManager, @Inject(PTY_SESSION_RESOLVED_OPTIONS) resolved: ResolvedPtySessionOptions) {
      super(manager, resolved, allowRequest);
      options = resolved;
    }
  }
  return PtySessionGateway;
}
