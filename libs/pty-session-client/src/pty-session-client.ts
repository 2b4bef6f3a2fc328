import { io, type Socket } from 'socket.io-client';
import { MAX_TIMER_MS, PTY_CLIENT_DEFAULTS } from './pty-client.constants.js';
import { PtyClientError, PtyClientErrors } from './pty-client-error.js';
import type { PtyClientLink, PtyInboundEvent, PtyRequestEvent, PtyRequestMap, PtySuccess } from './pty-client-link.js';
import { PtyClientSession, type PtyTerminalSize } from './pty-client-session.js';
import type {
  PtyAckMode,
  PtyAttachOptions,
  PtyAttachTarget,
  PtyClientState,
  PtyCreateResult,
  PtyLimitRetry,
  PtyOpenResult,
  PtySessionClientOptions,
} from './pty-session-client.options.js';
import {
  PTY_EVENTS,
  PTY_SOCKET_PATH,
  type PtyAttachResult,
  type PtyCreateRequest,
  type PtyServerToClientEvents,
  type PtyWireSessionInfo,
} from './protocol.js';
import { type Disposable, ListenerSet } from './listeners.js';
import { isAnswer, isPositiveInteger, isWireExitEvent, isWireOutput, SUCCESS_CHECKS, withByteView } from './wire-guards.js';

/** Emits go through `request`, which types them per event (and `ack` may go without a callback). */
interface PtyEmitEvents {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [event: string]: (...args: any[]) => void;
}
/** Server-to-client events are typed. */
type PtySocket = Socket<PtyServerToClientEvents, PtyEmitEvents>;

interface PendingRequest {
  readonly event: PtyRequestEvent;
  readonly payload: object;
  readonly resolve: (answer: never) => void;
  readonly reject: (error: PtyClientError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  done: boolean;
  /** Sent, and counted among the large requests in flight. */
  large?: boolean;
  /** True once the request is no longer wanted: checked before a held-back request goes out. */
  readonly stale?: () => boolean;
  /** Timed out, large: frees its place if no late answer comes within another answerTimeoutMs. */
  lateTimer?: ReturnType<typeof setTimeout>;
  /** Held back behind maxRequestsInFlight: its answerTimeoutMs starts again when it is sent. */
  timedFromSend?: boolean;
}

/** Requests whose answers can be large or slow (a close waits for the process), which the server answers a few at a time per connection. */
const LARGE_ANSWER_EVENTS: ReadonlySet<PtyRequestEvent> = new Set<PtyRequestEvent>(['create', 'attach', 'list', 'close']);

interface ConnectWaiter {
  resolve(): void;
  reject(error: PtyClientError): void;
}

/**
 * A connection to a `nestjs-pty-session` gateway, and the sessions attached
 * through it.
 *
 * Reconnection is Socket.IO's (its `reconnection*` options apply). On every
 * reconnect each attached session attaches again from the offset it had
 * received, with its last size, so its output continues exactly (or with a
 * `reset` when the server's buffer no longer has what was missed).
 * Requests are never left in Socket.IO's send buffer: one made while
 * disconnected waits for the connection (within `answerTimeoutMs`), and a
 * session's input waits for its re-attach.
 *
 * @example
 * const client = new PtySessionClient({ url: 'https://example.com/pty', auth: { token } });
 * await client.connect();
 * const { session } = await client.create({ profile: 'shell', key: 'main' });
 * const s = await client.attach({ sessionId: session.id }, { cols: 80, rows: 24 });
 * s.onOutput((o) => process.stdout.write(o.data));
 * await s.write('echo hi\r');
 */
export class PtySessionClient {
  private readonly socket: PtySocket;
  private readonly answerTimeoutMs: number;
  private readonly ackMode: PtyAckMode;
  private readonly maxQueuedInputBytes: number;
  private readonly maxRequestsInFlight: number;
  private readonly limitRetry: PtyLimitRetry;
  private _state: PtyClientState = 'idle';
  private readonly sessions = new Map<string, PtyClientSession>();
  /** Requests sent and not yet answered: they cannot survive a disconnect. */
  private readonly sent = new Set<PendingRequest>();
  /** Requests made while disconnected, sent on the next connect. */
  private readonly waiting = new Set<PendingRequest>();
  /** Large or slow requests (create, attach, list, close) waiting for room among the maxRequestsInFlight in flight. */
  private readonly heldBack: PendingRequest[] = [];
  private largeInFlight = 0;
  private drainingHeldBack = false;
  /** Large requests that timed out: the server may still answer them, and they keep their places until it does. */
  private readonly timedOutLarge = new Set<PendingRequest>();
  /** Reconnections refused for the principal's connection limit, in a row, since when, and the next attempt. */
  private connectRetries = 0;
  private connectRetrySince = 0;
  private connectRetryTimer: ReturnType<typeof setTimeout> | undefined;
  private connectWaiters: ConnectWaiter[] = [];
  /** While an attach is in flight, events of sessions not known yet are kept for its answer. */
  private attachesInFlight = 0;
  /** Sessions a late attach answer (after TIMEOUT) attached this connection to: see `answeredLate`. */
  private readonly lateAttaches = new Set<string>();
  private readonly early = new Map<string, PtyInboundEvent[]>();
  private readonly stateListeners = new ListenerSet<[PtyClientState, PtyClientState]>('stateChange');
  private readonly errorListeners = new ListenerSet<[PtyClientError]>('error');
  private readonly link: PtyClientLink;
  private readonly onReconnectFailed = () => this.fail(PtyClientErrors.reconnectFailed());

  constructor(options: PtySessionClientOptions) {
    if (typeof options?.url !== 'string' || options.url.length === 0) {
      throw PtyClientErrors.invalidArgument('option "url"', "the server's URL with the gateway's namespace, e.g. https://example.com/pty");
    }
    this.ackMode = options.ackMode ?? PTY_CLIENT_DEFAULTS.ackMode;
    if (this.ackMode !== 'auto' && this.ackMode !== 'manual') throw PtyClientErrors.invalidArgument('option "ackMode"', '"auto" or "manual"');
    this.answerTimeoutMs = options.answerTimeoutMs ?? PTY_CLIENT_DEFAULTS.answerTimeoutMs;
    if (!isPositiveInteger(this.answerTimeoutMs) || this.answerTimeoutMs > MAX_TIMER_MS) {
      // A longer timer fires at once (Node and browsers clamp it to 1 ms): every request would time out.
      throw PtyClientErrors.invalidArgument('option "answerTimeoutMs"', `a positive integer (milliseconds) up to ${MAX_TIMER_MS}`);
    }
    this.maxQueuedInputBytes = options.maxQueuedInputBytes ?? PTY_CLIENT_DEFAULTS.maxQueuedInputBytes;
    if (!Number.isSafeInteger(this.maxQueuedInputBytes) || this.maxQueuedInputBytes < 0) {
      throw PtyClientErrors.invalidArgument('option "maxQueuedInputBytes"', 'an integer >= 0 (bytes)');
    }
    this.maxRequestsInFlight = options.maxRequestsInFlight ?? PTY_CLIENT_DEFAULTS.maxRequestsInFlight;
    if (!isPositiveInteger(this.maxRequestsInFlight)) throw PtyClientErrors.invalidArgument('option "maxRequestsInFlight"', 'a positive integer');
    this.limitRetry = { ...PTY_CLIENT_DEFAULTS.limitRetry, ...options.limitRetry };
    for (const [name, value] of Object.entries(this.limitRetry)) {
      if (!isPositiveInteger(value) || value > MAX_TIMER_MS) {
        throw PtyClientErrors.invalidArgument(`option "limitRetry.${name}"`, `a positive integer (milliseconds) up to ${MAX_TIMER_MS}`);
      }
    }

    // They change how Socket.IO calls answers back (an error first, a retry of its own): the client does both itself.
    for (const name of ['ackTimeout', 'retries'] as const) {
      if (options.socketOptions?.[name] !== undefined) throw PtyClientErrors.invalidArgument(`socketOptions.${name}`, 'not set (the client times out and retries requests itself: answerTimeoutMs)');
    }
    const connectTo = options.io ?? io;
    this.socket = connectTo(options.url, {
      path: PTY_SOCKET_PATH,
      ...options.socketOptions,
      ...(options.auth !== undefined ? { auth: options.auth } : {}),
      autoConnect: false,
    }) as PtySocket;
    this.socket.on('connect', () => this.onConnect());
    this.socket.on('disconnect', () => this.onDisconnect());
    this.socket.on('connect_error', (error) => this.onConnectError(error));
    this.socket.on(PTY_EVENTS.output, (output: unknown) => this.onOutput(output));
    this.socket.on(PTY_EVENTS.exit, (exit: unknown) => this.onExit(exit));
    this.socket.io.on('reconnect_failed', this.onReconnectFailed);

    const client = this;
    this.link = {
      get connected() {
        return client.socket.connected && client._state === 'connected';
      },
      get closed() {
        return client._state === 'closed';
      },
      ackMode: this.ackMode,
      maxQueuedInputBytes: this.maxQueuedInputBytes,
      limitRetry: this.limitRetry,
      request: (event, payload, stale, untimed) => this.request(event, payload, stale, untimed),
      unfollowedAttach: (sessionId) => {
        this.lateAttaches.add(sessionId);
        this.detachLateAttaches();
      },
      sendAck: (sessionId, offset) => {
        if (this.link.connected) this.socket.emit(PTY_EVENTS.ack, { sessionId, offset });
      },
      forget: (sessionId, session) => {
        if (this.sessions.get(sessionId) === session) this.sessions.delete(sessionId);
      },
    };
  }

  get state(): PtyClientState {
    return this._state;
  }

  /** Every change of {@link state}. */
  onStateChange(listener: (state: PtyClientState, previous: PtyClientState) => void): Disposable {
    return this.stateListeners.add(listener);
  }

  /**
   * Connection errors: every failed connection attempt (code from the
   * server's refusal, e.g. `UNAUTHORIZED`, or `CONNECT_FAILED`), giving up
   * reconnecting, the server ending the connection (`DISCONNECTED`), and
   * malformed server events (`PROTOCOL_ERROR`).
   */
  onError(listener: (error: PtyClientError) => void): Disposable {
    return this.errorListeners.add(listener);
  }

  /**
   * Opens the connection and resolves once connected (at once if it is).
   * Rejects on the next failed attempt: with the server's code when it
   * refused (`UNAUTHORIZED`, `ORIGIN_NOT_ALLOWED`; the client is then
   * closed), or `CONNECT_FAILED` (Socket.IO keeps retrying; call `connect()`
   * again to wait for the next attempt, or `close()`). While a reconnection
   * refused with `OWNER_CONNECTION_LIMIT_REACHED` is tried again (see
   * `limitRetry`), it waits for that to end instead.
   */
  connect(): Promise<void> {
    if (this._state === 'closed') return Promise.reject(PtyClientErrors.closed());
    if (this._state === 'connected') return Promise.resolve();
    const connected = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    this.openSocket();
    return connected;
  }

  /**
   * Starts a session from one of the server's profiles. With a `key`, a
   * live session of yours with that key is answered instead (`created: false`).
   */
  async create(request: PtyCreateRequest = {}): Promise<PtyCreateResult> {
    const answer = await this.request('create', request);
    return { session: answer.session, created: answer.created };
  }

  /**
   * Attaches to a session of yours, by id or key, and resolves with it once
   * the server answered. Its output (first the replay from `since`, or the
   * whole buffer) is delivered to the session's listeners; see
   * {@link PtyClientSession}. Attaching to a session this client is already
   * attached to resolves with the same object.
   */
  async attach(target: PtyAttachTarget, options: PtyAttachOptions = {}): Promise<PtyClientSession> {
    const { sessionId, key } = (target ?? {}) as { sessionId?: unknown; key?: unknown };
    if ((typeof sessionId === 'string') === (typeof key === 'string')) {
      throw PtyClientErrors.invalidArgument('attach target', '{ sessionId } or { key } (exactly one, a string)');
    }
    const { since, cols, rows } = options;
    if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) throw PtyClientErrors.invalidArgument('since', 'an integer >= 0');
    if ((cols === undefined) !== (rows === undefined)) throw PtyClientErrors.invalidArgument('size', 'both cols and rows, or neither');
    if (cols !== undefined && !(isPositiveInteger(cols) && isPositiveInteger(rows))) throw PtyClientErrors.invalidSize(cols, rows);
    const known = this.findSession(sessionId as string | undefined, key as string | undefined);
    if (known) return known;
    const size: PtyTerminalSize | undefined = cols !== undefined ? { cols, rows: rows! } : undefined;

    this.attachesInFlight++;
    try {
      const answer = await this.request('attach', {
        ...(typeof sessionId === 'string' ? { sessionId } : { key: key as string }),
        ...(since !== undefined ? { since } : {}),
        ...size,
        binary: true,
        smallAsText: true,
      });
      return this.adopt(answer, since, size);
    } finally {
      if (--this.attachesInFlight === 0) {
        this.early.clear();
        this.detachLateAttaches();
      }
    }
  }

  /**
   * Creates a session (with a `key`: finds your live one) and attaches to it
   * in one request, so that none of its output can be missed between the
   * two: the replay starts at its first byte still buffered.
   */
  async open(request: PtyCreateRequest = {}): Promise<PtyOpenResult> {
    const { cols, rows } = request;
    if ((cols === undefined) !== (rows === undefined)) throw PtyClientErrors.invalidArgument('size', 'both cols and rows, or neither');
    if (cols !== undefined && !(isPositiveInteger(cols) && isPositiveInteger(rows))) throw PtyClientErrors.invalidSize(cols, rows);
    const size: PtyTerminalSize | undefined = cols !== undefined ? { cols, rows: rows! } : undefined;
    this.attachesInFlight++;
    try {
      const answer = await this.request('create', { ...request, attach: true, binary: true, smallAsText: true });
      const { replay, flowControl, limits, sizedAt } = answer;
      if (!replay || !flowControl) throw PtyClientErrors.protocol('the answer to "create" with attach carries no replay: is the server older than this client?');
      const attached = { session: answer.session, replay, flowControl, limits: limits ?? { maxInputBytes: Infinity }, ...(sizedAt !== undefined ? { sizedAt } : {}) };
      const session = this.adopt(attached, undefined, size);
      return { session, created: answer.created };
    } finally {
      if (--this.attachesInFlight === 0) {
        this.early.clear();
        this.detachLateAttaches();
      }
    }
  }

  /** Takes an attach answer: the session object it concerns, new or known, fed with the replay. */
  private adopt(answer: PtyAttachResult, since: number | undefined, size: PtyTerminalSize | undefined): PtyClientSession {
    if (this._state === 'closed') throw PtyClientErrors.closed();
    const id = answer.session.id;
    const early = this.early.get(id) ?? [];
    this.early.delete(id);
    // Two attaches of one session crossed: the later answer is a re-attach of the first.
    const existing = this.sessions.get(id);
    if (existing) {
      existing.applyAttachAnswer(answer, size, early);
      return existing;
    }
    const session = new PtyClientSession(this.link, answer.session, since, size);
    this.sessions.set(id, session);
    session.applyAttachAnswer(answer, size, early);
    // The connection dropped between the answer and now: the session re-attaches on the next connect.
    if (!this.link.connected) session.connectionLost();
    return session;
  }

  /** Your sessions on the server, attached or not. */
  async list(): Promise<PtyWireSessionInfo[]> {
    const answer = await this.request('list', {});
    return answer.sessions;
  }

  /**
   * Disconnects for good. Sessions become `detached` (they keep running on
   * the server); requests and held input are rejected with `CLOSED`.
   */
  close(): void {
    this.shutdown(PtyClientErrors.closed());
  }

  // ---- requests ------------------------------------------------------------

  private request<E extends PtyRequestEvent>(event: E, payload: PtyRequestMap[E][0], stale?: () => boolean, untimed = false): Promise<PtySuccess<E>> {
    return new Promise<PtySuccess<E>>((resolve, reject) => {
      if (this._state === 'closed') {
        reject(PtyClientErrors.closed());
        return;
      }
      const pending: PendingRequest = { event, payload, resolve: resolve as (answer: never) => void, reject, timer: undefined, done: false, stale };
      if (!untimed) this.startAnswerTimer(pending);
      if (this.link.connected) {
        this.send(pending);
      } else {
        this.waiting.add(pending);
        this.openSocket();
      }
    });
  }

  /**
   * An answer after its request gave up (TIMEOUT): an attach that succeeded
   * then left this connection attached on the server with nobody following
   * the session here, and, unacknowledged, it would hold the program at its
   * high mark. Unless a session object follows that session once no other
   * attach is in flight (the application may be retrying it), it is detached.
   */
  private answeredLate(pending: PendingRequest, received: unknown): void {
    const attaching = pending.event === 'attach' || (pending.event === 'create' && (pending.payload as { attach?: unknown }).attach === true);
    if (!attaching || !isAnswer(received) || !received.ok) return;
    const id = (received as { session?: { id?: unknown } }).session?.id;
    if (typeof id !== 'string') return;
    this.lateAttaches.add(id);
    this.detachLateAttaches();
  }

  /** Detaches what late attach answers attached and no session object follows, once no attach is in flight. */
  private detachLateAttaches(): void {
    if (this.attachesInFlight > 0 || this.lateAttaches.size === 0) return;
    const ids = [...this.lateAttaches];
    this.lateAttaches.clear();
    if (!this.link.connected) return; // that connection is gone, and its attachments with it
    for (const id of ids) if (!this.sessions.has(id)) this.socket.emit('detach', { sessionId: id });
  }

  private startAnswerTimer(pending: PendingRequest): void {
    pending.timer = setTimeout(() => this.settle(pending, PtyClientErrors.timeout(pending.event, this.answerTimeoutMs)), this.answerTimeoutMs);
  }

  /**
   * Sends a request, or holds it back (a large one, in order, behind any held back already). A request held
   * back waits for its turn untimed, and gets its whole answerTimeoutMs once sent: it waits for the client's
   * own limit, not for the server, and a close behind sixteen closes of programs that take seconds to end
   * would otherwise time out without ever being sent.
   */
  private send(pending: PendingRequest): void {
    if (LARGE_ANSWER_EVENTS.has(pending.event) && (this.largeInFlight >= this.maxRequestsInFlight || this.heldBack.length > 0)) {
      if (pending.timer !== undefined) {
        clearTimeout(pending.timer);
        pending.timer = undefined;
        pending.timedFromSend = true;
      }
      this.heldBack.push(pending);
      return;
    }
    this.emit(pending);
  }

  private emit(pending: PendingRequest): void {
    if (LARGE_ANSWER_EVENTS.has(pending.event)) {
      // The payloads the application shapes (create's, attach's target): one Socket.IO cannot encode (a
      // BigInt, a cycle, a throwing toJSON) would throw from inside its emit, after it registered the
      // answer's callback, so the request fails here instead, alone. The others (input, resize, ack,
      // ...) are built from checked strings and numbers, and keystrokes skip the extra encoding.
      const unencodable = encodingProblem(pending.payload);
      if (unencodable !== undefined) {
        this.settle(pending, PtyClientErrors.invalidArgument(`the "${pending.event}" request`, `a payload Socket.IO can encode (${unencodable})`));
        return;
      }
      this.largeInFlight++;
      pending.large = true;
    }
    if (pending.timedFromSend) {
      pending.timedFromSend = false;
      clearTimeout(pending.timer);
      this.startAnswerTimer(pending);
    }
    this.sent.add(pending);
    this.socket.emit(pending.event, pending.payload, (answer: unknown) => this.answered(pending, answer));
  }

  private answered(pending: PendingRequest, received: unknown): void {
    if (pending.done) {
      if (this.timedOutLarge.delete(pending)) this.freeLargePlace(pending);
      this.answeredLate(pending, received);
      return;
    }
    // An attach answer's replay comes as bytes, like the output that follows it.
    const answer = isAnswer(received) && received.replay !== undefined ? { ...received, replay: withByteView(received.replay) } : received;
    if (!isAnswer(answer)) {
      this.settle(pending, PtyClientErrors.protocol(`a malformed answer to "${pending.event}"`));
    } else if (!answer.ok) {
      this.settle(pending, PtyClientErrors.fromWire(answer.error as never, pending.event));
    } else if (!SUCCESS_CHECKS[pending.event](answer)) {
      this.settle(pending, PtyClientErrors.protocol(`an answer to "${pending.event}" without the expected fields`));
    } else {
      this.settle(pending, undefined, answer);
    }
  }

  private settle(pending: PendingRequest, error: PtyClientError | undefined, answer?: unknown): void {
    if (pending.done) return;
    pending.done = true;
    clearTimeout(pending.timer);
    this.sent.delete(pending);
    this.waiting.delete(pending);
    const held = this.heldBack.indexOf(pending);
    if (held >= 0) this.heldBack.splice(held, 1);
    // A request that timed out is still being answered by the server: its place is freed by the late
    // answer (or the connection's end), or the server would see more than it answers at a time.
    // Settled before its place is freed: freeing sends what was held back, which must not be able to
    // keep this request from settling.
    if (error) pending.reject(error);
    else pending.resolve(answer as never);
    if (pending.large && error?.code === 'TIMEOUT') {
      // But not for ever: a server that never answers must not hold every place.
      this.timedOutLarge.add(pending);
      pending.lateTimer = setTimeout(() => {
        if (this.timedOutLarge.delete(pending)) this.freeLargePlace(pending);
      }, this.answerTimeoutMs);
    } else if (pending.large) {
      this.freeLargePlace(pending);
    }
  }

  private freeLargePlace(pending: PendingRequest): void {
    clearTimeout(pending.lateTimer);
    pending.large = false;
    this.largeInFlight--;
    this.sendHeldBack();
  }

  /** Sends the large requests held back, in order, while there is room and a connection; drops stale ones. */
  private sendHeldBack(): void {
    // Not re-entered: a request that fails at once frees its place from inside the loop, which goes on.
    if (this.drainingHeldBack) return;
    this.drainingHeldBack = true;
    try {
      this.drainHeldBack();
    } finally {
      this.drainingHeldBack = false;
    }
  }

  private drainHeldBack(): void {
    while (this.heldBack.length > 0 && this.largeInFlight < this.maxRequestsInFlight && this.link.connected) {
      const next = this.heldBack.shift()!;
      if (next.stale?.()) this.settle(next, PtyClientErrors.detached(String((next.payload as { sessionId?: unknown }).sessionId)));
      else this.emit(next);
    }
  }

  // ---- connection ----------------------------------------------------------

  private openSocket(): void {
    if (this._state !== 'idle') return;
    this.setState('connecting');
    this.socket.connect();
  }

  private onConnect(): void {
    if (this._state === 'closed') return;
    this.connectRetries = 0;
    this.setState('connected');
    // Re-attaches go first: anything else waiting may concern these sessions. Then what was held back
    // before the drop, then what was asked while disconnected.
    const heldBeforeTheDrop = this.heldBack.splice(0);
    for (const session of [...this.sessions.values()]) {
      if (this._state !== 'connected') break;
      session.reattach();
    }
    if ((this._state as PtyClientState) === 'closed') {
      // A state listener closed the client: what it held back is settled like the rest.
      for (const pending of heldBeforeTheDrop) this.settle(pending, PtyClientErrors.closed());
      return;
    }
    this.heldBack.push(...heldBeforeTheDrop);
    if (this._state !== 'connected') return;
    for (const pending of [...this.waiting]) {
      if (!this.link.connected) return;
      this.waiting.delete(pending);
      this.send(pending);
    }
    this.sendHeldBack();
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  private onDisconnect(): void {
    if (this._state === 'closed') return;
    if (!this.socket.active) {
      // The server disconnected this socket on purpose; Socket.IO does not reconnect after that.
      this.fail(PtyClientErrors.serverDisconnected());
      return;
    }
    if (!this.willReconnect()) {
      // Reconnection is off: nothing will bring the connection back, so nothing waits for it.
      this.fail(PtyClientErrors.connectionLost());
      return;
    }
    // Sessions first: input written from a state listener below is then queued for the re-attach.
    this.lateAttaches.clear(); // attachments of the connection that is gone
    for (const session of [...this.sessions.values()]) session.connectionLost();
    if ((this._state as PtyClientState) === 'closed') return; // a state listener closed the client
    this.setState('reconnecting');
    for (const pending of [...this.sent]) this.settle(pending, PtyClientErrors.disconnected(pending.event));
    // What Socket.IO buffered instead of sending (its ping had expired, after a laptop's sleep, while it
    // still said connected) was just settled as DISCONNECTED: it must not go out on the next connection.
    if (Array.isArray(this.socket.sendBuffer)) this.socket.sendBuffer.length = 0;
    // The connection that owed late answers is gone: their places are free.
    for (const pending of [...this.timedOutLarge]) this.freeLargePlace(pending);
    this.timedOutLarge.clear();
    // What was held back now waits for the connection, as any request does: timed again (and anew once sent).
    for (const pending of this.heldBack) if (pending.timedFromSend && pending.timer === undefined) this.startAnswerTimer(pending);
  }

  private onConnectError(cause: unknown): void {
    if (this._state === 'closed') return;
    // `active` is false when the server refused (its middleware): Socket.IO gives up then, as it
    // does with reconnection off.
    const willRetry = this.socket.active && this.willReconnect();
    const error = PtyClientErrors.connectError(cause, willRetry);
    // After a drop the server counts the vanished connection among the principal's until its ping
    // timeout: a reconnection refused for the principal's connection limit is tried again for a while.
    if (!willRetry && error.code === 'OWNER_CONNECTION_LIMIT_REACHED' && this._state === 'reconnecting' && this.retryConnectLater()) {
      this.errorListeners.emit(PtyClientErrors.connectError(cause, true));
      return;
    }
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
    this.errorListeners.emit(error);
    if (!willRetry) this.shutdown(error);
  }

  /** Whether Socket.IO retries a lost or failed connection (its `reconnection` option, on by default). */
  /** Schedules another connection attempt (the limitRetry option's backoff); false once the time is up. */
  private retryConnectLater(): boolean {
    const now = Date.now();
    if (this.connectRetries === 0) this.connectRetrySince = now;
    if (now - this.connectRetrySince >= this.limitRetry.giveUpAfterMs) return false;
    const delay = Math.min(this.limitRetry.firstDelayMs * 2 ** this.connectRetries++, this.limitRetry.maxDelayMs);
    this.connectRetryTimer = setTimeout(() => {
      this.connectRetryTimer = undefined;
      if (this._state === 'reconnecting') this.socket.connect();
    }, delay);
    return true;
  }

  private willReconnect(): boolean {
    const manager = this.socket.io as { reconnection?: () => boolean };
    return typeof manager.reconnection === 'function' ? manager.reconnection() !== false : true;
  }

  /** A fatal connection error: reported, then the client closes with it. */
  private fail(error: PtyClientError): void {
    if (this._state === 'closed') return;
    this.errorListeners.emit(error);
    this.shutdown(error);
  }

  private shutdown(error: PtyClientError): void {
    if (this._state === 'closed') return;
    const previous = this._state;
    this._state = 'closed';
    clearTimeout(this.connectRetryTimer);
    for (const pending of this.timedOutLarge) clearTimeout(pending.lateTimer);
    this.timedOutLarge.clear();
    this.socket.io.off('reconnect_failed', this.onReconnectFailed);
    this.socket.disconnect();
    for (const pending of [...this.sent, ...this.waiting, ...this.heldBack]) this.settle(pending, error);
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
    for (const session of [...this.sessions.values()]) session.end('detached', error, error);
    this.sessions.clear();
    this.early.clear();
    this.stateListeners.emit('closed', previous);
  }

  // ---- server events -------------------------------------------------------

  private onOutput(received: unknown): void {
    const output = withByteView(received);
    if (!isWireOutput(output)) {
      this.errorListeners.emit(PtyClientErrors.protocol('a malformed "output" event'));
      return;
    }
    this.route(output.sessionId, { kind: 'output', output });
  }

  private onExit(exit: unknown): void {
    if (!isWireExitEvent(exit)) {
      this.errorListeners.emit(PtyClientErrors.protocol('a malformed "exit" event'));
      return;
    }
    this.route(exit.sessionId, { kind: 'exit', exit });
  }

  private route(sessionId: string, event: PtyInboundEvent): void {
    const session = this.sessions.get(sessionId);
    if (session) {
      session.receive(event);
    } else if (this.attachesInFlight > 0) {
      // It may belong to an attach whose answer is still on its way (an interceptor can hold answers).
      let events = this.early.get(sessionId);
      if (!events) this.early.set(sessionId, (events = []));
      events.push(event);
    }
  }

  private findSession(sessionId: string | undefined, key: string | undefined): PtyClientSession | undefined {
    if (sessionId !== undefined) return this.sessions.get(sessionId);
    for (const session of this.sessions.values()) if (session.info.key === key) return session;
    return undefined;
  }

  private setState(state: PtyClientState): void {
    if (this._state === state) return;
    const previous = this._state;
    this._state = state;
    this.stateListeners.emit(state, previous);
  }
}

/** Why `payload` cannot be sent as JSON, or undefined when it can. */
function encodingProblem(payload: object): string | undefined {
  try {
    JSON.stringify(payload);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : typeof error;
  }
}
