import { PTY_CLIENT_DEFAULTS } from './pty-client.constants.js';
import { PtyClientError, PtyClientErrors } from './pty-client-error.js';
import type { PtyClientLink, PtyInboundEvent } from './pty-client-link.js';
import type { PtyClientOutput, PtyClientSessionState } from './pty-session-client.options.js';
import type { PtyAttachResult, PtyWireExit, PtyWireSessionInfo } from './protocol.js';
import { createClientOutput } from './client-output.js';
import { type Disposable, ListenerSet, reportListenerError } from './listeners.js';
import { bytesSliceFrom, utf8ByteLength, utf8Split, utf8SliceFrom } from './utf8.js';
import { type InboundOutput, isPositiveInteger, toExit } from './wire-guards.js';

/** A terminal size in character cells. */
export interface PtyTerminalSize {
  cols: number;
  rows: number;
}

type Delivery = { kind: 'output'; output: PtyClientOutput } | { kind: 'exit'; exit: PtyWireExit };

interface QueuedInput {
  data: string;
  bytes: number;
  resolve(): void;
  reject(error: unknown): void;
}

interface SizeWaiter {
  resolve(size: PtyTerminalSize): void;
  reject(error: unknown): void;
}

/**
 * One session this client is attached to, from {@link PtySessionClient.attach}.
 *
 * Output arrives through {@link onOutput} in order, exactly once: every
 * piece starts where the previous one ended (`offset + byteLength`), or is
 * marked `reset` when the output before it is lost to this client. After a
 * reconnect the session re-attaches from its {@link offset} by itself.
 *
 * Delivery starts on the microtask after the first {@link onOutput} or
 * {@link onExit} listener is added: the replay of the attach answer waits
 * for you, so subscribe right after `attach()` resolves. Until then the
 * output is held (and, in `auto` ack mode, not acknowledged, so the server
 * holds back after its high-water mark).
 */
export class PtyClientSession {
  /** The session's id on the server. */
  readonly id: string;
  private _info: PtyWireSessionInfo;
  private _state: PtyClientSessionState = 'attached';
  private _exit: PtyWireExit | undefined;
  /** Why the session ended, for calls made afterwards. */
  private endError: PtyClientError | undefined;
  /** No more output is taken: the exit was received, or the session was detached or lost. */
  private ended = false;
  /** End offset of the output accepted (without repeats, in order); a re-attach asks for what follows. */
  private received: number;
  /** End offset of the output handed to the listeners. */
  private delivered: number;
  /** The offset the server counts as acknowledged: the replay's start, or the last `ack` sent. */
  private lastAck = 0;
  /** The furthest offset the application has processed (every `ack()` call, throttled or not; in `auto` mode what was delivered). */
  private processed = 0;
  private ackInterval: number = PTY_CLIENT_DEFAULTS.ackIntervalBytes;
  /** The server's limit of one `input` message, from the attach answer. */
  private maxInputBytes = Infinity;
  /** This client's terminal size, sent with every re-attach. */
  private size: PtyTerminalSize | undefined;
  /** Counts attach attempts: the answer of a superseded one is ignored. */
  private generation = 0;
  /** Events received while re-attaching, handled after the answer. */
  private pending: PtyInboundEvent[] = [];
  /** Accepted output (and the exit) not yet handed to listeners: before the first listener. */
  private deliveries: Delivery[] = [];
  private flowing = false;
  private flowScheduled = false;
  private exitDelivered = false;
  private inputQueue: QueuedInput[] = [];
  /** Settles once the inputs sent in turn so far are answered; undefined when none is going out (see `sendInOrder`). */
  private inputTail: Promise<void> | undefined;
  /** Bumped when an input sent in turn fails; `inputFailure` is why. */
  private inputEpoch = 0;
  private inputFailure: unknown;
  /** Re-attaches refused with CLIENT_LIMIT_REACHED in a row, and when the first was (see `reattachFailed`). */
  private limitRetries = 0;
  private limitRetrySince = 0;
  private limitRetryTimer: ReturnType<typeof setTimeout> | undefined;
  private queuedBytes = 0;
  private sizeWaiters: SizeWaiter[] = [];
  /** The number of this client's last sizing of the session (attach and resize answers): sent back as `resume` after a drop. */
  private sizedAt: number | undefined;
  /** Resize requests sent and not answered: their number is not known yet, so a re-attach meanwhile sends none. */
  private resizesInFlight = 0;
  private readonly outputListeners = new ListenerSet<[PtyClientOutput]>('output');
  private readonly exitListeners = new ListenerSet<[PtyWireExit]>('exit');
  private readonly stateListeners = new ListenerSet<[PtyClientSessionState, PtyClientError | undefined]>('stateChange');

  /** @internal Sessions come from {@link PtySessionClient.attach}. */
  constructor(
    private readonly link: PtyClientLink,
    info: PtyWireSessionInfo,
    since: number | undefined,
    size: PtyTerminalSize | undefined,
  ) {
    this.id = info.id;
    this._info = info;
    // Attaching from `since` says what was processed before it (see `acked` on re-attach).
    this.received = this.delivered = this.processed = since ?? 0;
    this.size = size;
  }

  /** The session as of the last answer about it (attach, resize). */
  get info(): PtyWireSessionInfo {
    return this._info;
  }

  get state(): PtyClientSessionState {
    return this._state;
  }

  /**
   * End offset (UTF-8 bytes) of the output handed to the listeners: what to
   * pass as `since` to attach again later, from another page load say.
   */
  get offset(): number {
    return this.delivered;
  }

  /** How the process ended, once the exit was delivered. */
  get exit(): PtyWireExit | undefined {
    return this.exitDelivered ? this._exit : undefined;
  }

  /**
   * Output, in order and without repeats. With `reset: true`, clear the
   * terminal before writing `data`. In `manual` ack mode, call
   * {@link ack} with `offset + byteLength` once the output is processed.
   */
  onOutput(listener: (output: PtyClientOutput) => void): Disposable {
    const registration = this.outputListeners.add(listener);
    this.scheduleFlow();
    return registration;
  }

  /**
   * The process ended: called once, after the last output. A listener
   * added after the exit is called on the next microtask.
   */
  onExit(listener: (exit: PtyWireExit) => void): Disposable {
    if (this.exitDelivered) {
      let cancelled = false;
      const exit = this._exit!;
      queueMicrotask(() => {
        if (cancelled) return;
        try {
          listener(exit);
        } catch (error) {
          reportListenerError(error, 'exit');
        }
      });
      return { dispose: () => (cancelled = true) };
    }
    const registration = this.exitListeners.add(listener);
    this.scheduleFlow();
    return registration;
  }

  /**
   * Every state change; `error` says why for `lost`, and for `detached`
   * when the client was closed or refused.
   */
  onStateChange(listener: (state: PtyClientSessionState, error?: PtyClientError) => void): Disposable {
    return this.stateListeners.add(listener);
  }

  /**
   * Sends keystrokes or text. While the session re-attaches, input is held
   * (up to `maxQueuedInputBytes` UTF-8 bytes) and sent in order after the
   * re-attach. Input in flight when the connection drops rejects with
   * `DISCONNECTED`: it may or may not have reached the process.
   * @throws PtyClientError (rejection) INPUT_QUEUE_FULL, SESSION_EXITED, DETACHED, the server's codes (NOT_ATTACHED, INPUT_TOO_LARGE, ...)
   */
  write(data: string): Promise<void> {
    if (typeof data !== 'string') return Promise.reject(PtyClientErrors.invalidArgument('input', 'a string'));
    const unavailable = this.unavailable();
    if (unavailable) return Promise.reject(unavailable);
    if (this._state === 'attached' && this.inputQueue.length === 0) return this.sendInOrder(data);
    const bytes = utf8ByteLength(data);
    const max = this.link.maxQueuedInputBytes;
    if (this.queuedBytes + bytes > max) {
      return Promise.reject(PtyClientErrors.inputQueueFull(this.id, bytes, this.queuedBytes, max));
    }
    this.queuedBytes += bytes;
    return new Promise<void>((resolve, reject) => this.inputQueue.push({ data, bytes, resolve, reject }));
  }

  /**
   * Sets this client's terminal size. The size is remembered and sent again
   * with every re-attach; while re-attaching, the promise waits for it.
   * @returns the session's size afterwards, which may be smaller than asked:
   * under the server's `smallest` resize policy, or in screen mode for a
   * size beyond its `screen.maxCells`.
   */
  resize(cols: number, rows: number): Promise<PtyTerminalSize> {
    if (!isPositiveInteger(cols) || !isPositiveInteger(rows)) return Promise.reject(PtyClientErrors.invalidSize(cols, rows));
    const unavailable = this.unavailable();
    if (unavailable) return Promise.reject(unavailable);
    this.size = { cols, rows };
    if (this._state !== 'attached') return this.waitForReattach();
    return this.sendResize(cols, rows).catch((error: unknown) => {
      // The size goes out again with the re-attach; its answer settles this call.
      if (error instanceof PtyClientError && error.code === 'DISCONNECTED' && this._state === 'reattaching') return this.waitForReattach();
      throw error;
    });
  }

  /**
   * Manual ack mode: the application has processed the output up to
   * `offset` (an output's `offset + byteLength`). An `ack` goes to the
   * server once at least `ackIntervalBytes` (from the attach answer) were
   * processed since the last one. Offsets not yet delivered, or older than
   * the last acknowledged, are ignored. In `auto` mode the client does this itself.
   */
  ack(offset: number): void {
    if (!Number.isSafeInteger(offset)) return;
    // Counted even while re-attaching: the re-attach's answer acknowledges it (see applyAttachAnswer).
    if (offset > this.processed && offset <= this.delivered) this.processed = offset;
    if (this.ended || this._state !== 'attached' || !this.link.connected) return;
    if (offset <= this.lastAck || offset > this.delivered) return;
    if (offset - this.lastAck < this.ackInterval) return;
    this.lastAck = offset;
    this.link.sendAck(this.id, offset);
  }

  /**
   * Stops following the session; it keeps running on the server. Held
   * input is rejected with `DETACHED`. Idempotent.
   */
  async detach(): Promise<void> {
    if (this.ended) return;
    const tellServer = this.link.connected;
    this.end('detached', PtyClientErrors.detached(this.id), undefined);
    if (tellServer) await this.link.request('detach', { sessionId: this.id });
  }

  /**
   * Ends the session's process. Its last output and exit still arrive
   * through {@link onOutput} and {@link onExit}.
   * @returns how it ended.
   */
  async close(): Promise<PtyWireExit> {
    try {
      const answer = await this.link.request('close', { sessionId: this.id });
      return toExit(answer.exit);
    } catch (error) {
      if (this._exit && error instanceof PtyClientError && error.code === 'SESSION_NOT_FOUND') return this._exit;
      throw error;
    }
  }

  // ---- driven by the client ----------------------------------------------

  /**
   * Takes an attach answer: the session is attached, held input goes out,
   * then the replay and whatever arrived meanwhile are handled by offset.
   * @internal
   */
  applyAttachAnswer(result: PtyAttachResult, sentSize: PtyTerminalSize | undefined, early: readonly PtyInboundEvent[], ackedSent?: number): void {
    if (this.ended) return;
    this.generation++;
    this.limitRetries = 0;
    this._info = result.session;
    if (sentSize) this.sizedAt = Number.isSafeInteger(result.sizedAt) ? result.sizedAt : undefined;
    const interval = result.flowControl.ackIntervalBytes;
    this.ackInterval = isPositiveInteger(interval) ? interval : PTY_CLIENT_DEFAULTS.ackIntervalBytes;
    const maxInput = result.limits?.maxInputBytes;
    this.maxInputBytes = isPositiveInteger(maxInput) && maxInput >= 4 ? maxInput : Infinity;
    // The server counts the replay's start as acknowledged, or what this client said it had processed
    // before it (`acked`: a server that ignores it ignores the acks up to the replay's start too).
    this.lastAck = ackedSent !== undefined && !result.replay.reset && ackedSent < result.replay.offset ? ackedSent : result.replay.offset;
    const queued = this.pending.length > 0 ? [...this.pending, ...early] : early;
    this.pending = [];
    if (this._state !== 'attached') {
      this.setState('attached', undefined);
      if (this.ended) return;
    }
    const exit = result.session.exit;
    // Input held for the attach goes out, unless the program has ended: it then fails with SESSION_EXITED.
    if (!exit) this.flushInput();
    this.settleSizeWaiters(sentSize);
    // Bytes arrive here as a Uint8Array (an ArrayBuffer was wrapped by withByteView).
    const redelivered = this.acceptReplay(result.replay as InboundOutput);
    // The server counts the replay's start as acknowledged. What was processed past it had been delivered
    // before (a replay repeating it, or a stale reset dropped above), and unless the replay was delivered
    // again as a reset, nothing delivers it again to be acknowledged: say so now, or with more than the high
    // mark repeated the server would hold this client (and, holding every viewer, the program) for ever.
    if (redelivered) this.processed = this.lastAck;
    else if (this.processed > this.lastAck && this.processed <= this.delivered && !this.ended) {
      this.lastAck = this.processed;
      this.link.sendAck(this.id, this.processed);
    }
    this.handleAll(queued);
    // An exited session's exit is in the answer (the server sends the event too; it counts once). It is
    // taken from the answer only once all the output is here: the program may have ended while the answer
    // was made (a screen snapshot), with output after the replay still to come, and the exit event after it.
    if (exit && this._state === 'attached' && this.received >= result.session.outputOffset) this.acceptExit(exit);
  }

  /** A server event for this session. @internal */
  receive(event: PtyInboundEvent): void {
    if (this.ended) return;
    if (this._state === 'reattaching') this.pending.push(event);
    else this.handle(event);
  }

  /** The connection dropped: wait for it to come back. @internal */
  connectionLost(): void {
    if (this.ended) return;
    this.generation++;
    if (this._state !== 'reattaching') this.setState('reattaching', undefined);
  }

  /**
   * Attaches again from the offset already received, with this client's
   * size; called on every (re)connect and when output has a gap.
   * @internal
   */
  reattach(): void {
    if (this.limitRetryTimer) clearTimeout(this.limitRetryTimer);
    this.limitRetryTimer = undefined;
    if (this.ended) return;
    const generation = ++this.generation;
    if (this._state !== 'reattaching') {
      this.setState('reattaching', undefined);
      if (this.ended) return;
    }
    if (!this.link.connected) return; // the next connect calls again
    const size = this.size;
    // Held back in the client behind other large requests, it must not go out once this session has
    // detached or attached again: the server would attach a connection that nobody follows.
    const stale = () => generation !== this.generation || this.ended;
    // Untimed: its answer carries all the session printed since `since` (a whole buffer after a long
    // absence), which on a slow link takes longer than any fixed timeout. Asking again on a timeout made
    // the server queue the same replay again behind the first, and re-attaches never finished. While
    // connected, the answer comes; if the connection drops, the next connect re-attaches.
    // Its size as before is no resize but its place among the sizers (`resume`: the number of its last
    // sizing), unless the terminal was resized while the connection was down (or the server gave no number).
    const resume = size !== undefined && this.sizeWaiters.length === 0 && this.resizesInFlight === 0 ? this.sizedAt : undefined;
    // Output received and not processed yet (a terminal still parsing it) stays counted by the server's flow control.
    const acked = this.processed < this.received ? this.processed : undefined;
    const payload = {
      sessionId: this.id,
      since: this.received,
      ...(acked !== undefined ? { acked } : {}),
      ...size,
      binary: true,
      smallAsText: true,
      ...(resume !== undefined ? { resume } : {}),
    };
    this.link.request('attach', payload, stale, true).then(
      (answer) => {
        if (generation === this.generation && !this.ended) this.applyAttachAnswer(answer, size, [], acked);
        // Detached meanwhile: the detach may have reached the server before this attach was made there.
        else if (this.ended) this.link.unfollowedAttach(this.id);
      },
      (error: unknown) => {
        if (generation === this.generation && !this.ended) this.reattachFailed(error);
      },
    );
  }

  /**
   * Ends this client's use of the session: held input and waiting resizes
   * are rejected with `error`, listeners see `state` (with `announce`).
   * @internal
   */
  end(state: 'detached' | 'lost', error: PtyClientError, announce: PtyClientError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = error;
    if (this.limitRetryTimer) clearTimeout(this.limitRetryTimer);
    this.limitRetryTimer = undefined;
    this.generation++;
    this.pending = [];
    this.deliveries = [];
    this.rejectWaiting(error);
    this.link.forget(this.id, this);
    this.setState(state, announce);
    this.outputListeners.clear();
    this.exitListeners.clear();
  }

  // ---- output --------------------------------------------------------------

  private handleAll(events: readonly PtyInboundEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      if (this.ended) return;
      if (this._state === 'reattaching') {
        this.pending.push(...events.slice(i));
        return;
      }
      this.handle(events[i]);
    }
  }

  private handle(event: PtyInboundEvent): void {
    if (event.kind === 'exit') {
      this.acceptExit(event.exit);
    } else if (!this.acceptOutput(event.output)) {
      // A gap: output is missing before this piece. Ask again from what was received; this piece is looked at again after the answer.
      this.pending.push(event);
      this.reattach();
    }
  }

  /**
   * Places live output by its offset: repeats are dropped, an overlap is cut
   * (by UTF-8 bytes), what continues is accepted, a reset is delivered as one.
   * @returns false on a gap (or a cut that falls inside a character).
   */
  private acceptOutput(output: InboundOutput): boolean {
    const end = output.offset + output.byteLength;
    if (output.reset) {
      // A reset that ends before what was received is a stale repeat from before a re-attach.
      if (end > this.received) this.accept(output.data, output.offset, output.byteLength, true, output.snapshot === true);
      return true;
    }
    if (end <= this.received) return true;
    if (output.offset === this.received) {
      this.accept(output.data, output.offset, output.byteLength, false);
      return true;
    }
    if (output.offset < this.received) {
      // A replay may leave terminal queries out of `data`: its bytes then no longer line up with
      // offsets, and no cut can be trusted (a replay falls back to a reset, a live output to a re-attach).
      const length = typeof output.data === 'string' ? utf8ByteLength(output.data) : output.data.length;
      if (length !== output.byteLength) return false;
      const skip = this.received - output.offset;
      const rest = typeof output.data === 'string' ? utf8SliceFrom(output.data, skip) : bytesSliceFrom(output.data, skip);
      if (rest === undefined) return false;
      this.accept(rest, this.received, end - this.received, false);
      return true;
    }
    return false;
  }

  /**
   * The replay is what the server has from `since` on: it is accepted like
   * output, except that where it does not continue what was received
   * (evicted, or not starting at `since`), it starts over as a reset.
   * @returns whether the replay was delivered as a reset (what it holds is then to be processed again).
   */
  private acceptReplay(replay: InboundOutput): boolean {
    // A reset that ends where this session already is, or before, is the answer of an attach that crossed
    // another (two attach() calls at once): what it holds was delivered, and starting over would repeat it.
    if (replay.reset && this.received > 0 && replay.offset + replay.byteLength <= this.received) return false;
    if (!replay.reset && replay.offset <= this.received && this.acceptOutput(replay)) return false;
    this.accept(replay.data, replay.offset, replay.byteLength, true, replay.snapshot === true);
    return true;
  }

  private acceptExit(exit: PtyWireExit): void {
    if (this.ended) return;
    this.ended = true;
    this._exit = toExit(exit);
    this.endError = PtyClientErrors.sessionExited(this.id);
    this.generation++;
    this.pending = [];
    this.rejectWaiting(this.endError);
    this.link.forget(this.id, this);
    this.enqueue({ kind: 'exit', exit: this._exit });
  }

  private accept(data: string | Uint8Array, offset: number, byteLength: number, reset: boolean, snapshot = false): void {
    // Output before a reset is gone: none of it is left to process (and to count as unacknowledged on a re-attach).
    if (reset && offset > this.processed) this.processed = offset;
    this.received = offset + byteLength;
    this.enqueue({ kind: 'output', output: createClientOutput(data, offset, byteLength, reset, snapshot) });
  }

  private enqueue(delivery: Delivery): void {
    if (this.flowing && this.deliveries.length === 0) this.deliver(delivery);
    else this.deliveries.push(delivery);
  }

  private scheduleFlow(): void {
    if (this.flowing || this.flowScheduled) return;
    this.flowScheduled = true;
    queueMicrotask(() => {
      this.flowing = true;
      while (this.deliveries.length > 0) this.deliver(this.deliveries.shift()!);
    });
  }

  private deliver(delivery: Delivery): void {
    if (delivery.kind === 'exit') {
      this.exitDelivered = true;
      this.setState('exited', undefined);
      this.exitListeners.emit(delivery.exit);
      this.outputListeners.clear();
      this.exitListeners.clear();
      return;
    }
    const output = delivery.output;
    this.delivered = output.offset + output.byteLength;
    this.outputListeners.emit(output);
    if (this.link.ackMode === 'auto') this.ack(this.delivered);
  }

  // ---- input and size ------------------------------------------------------

  private unavailable(): PtyClientError | undefined {
    if (this.ended) return this.endError;
    if (this.link.closed) return PtyClientErrors.closed();
    return undefined;
  }

  /** Surely within the server's `maxInputBytes`: a UTF-16 unit is at most three UTF-8 bytes. */
  private fitsOneMessage(data: string): boolean {
    return data.length * 3 <= this.maxInputBytes;
  }

  /**
   * Sends input in the order it was written. One message goes out at once
   * (the connection keeps messages in order), unless a write in several
   * pieces is still going out: then it waits its turn. When an input fails
   * (refused: INPUT_BACKLOG_FULL, or the connection dropped), the inputs
   * written before that was known and waiting behind it are not sent after
   * it: they reject with the same error, so the program gets a prefix of
   * what was written, never one with a hole (a paste cut short, then its
   * Enter).
   */
  private sendInOrder(data: string): Promise<void> {
    if (!this.inputTail && this.fitsOneMessage(data)) return this.sendInput(data);
    const epoch = this.inputEpoch;
    const sent = (this.inputTail ?? Promise.resolve()).then(() => {
      if (epoch !== this.inputEpoch) throw this.inputFailure;
      if (this.ended) throw this.endError; // detached or exited while it waited its turn
      return this.sendInput(data);
    });
    const tail: Promise<void> = sent.then(
      () => {
        if (this.inputTail === tail) this.inputTail = undefined;
      },
      (error: unknown) => {
        if (epoch === this.inputEpoch) {
          this.inputEpoch++;
          this.inputFailure = error;
        }
        if (this.inputTail === tail) this.inputTail = undefined;
      },
    );
    this.inputTail = tail;
    return sent;
  }

  /**
   * Input above the server's `maxInputBytes` goes out in several messages,
   * in order, each once the one before is answered: when the server refuses
   * one (INPUT_BACKLOG_FULL: the program is not reading), the rest is not
   * sent, so the program gets a prefix of the input, never one with a hole.
   */
  private async sendInput(data: string): Promise<void> {
    if (this.fitsOneMessage(data)) return this.link.request('input', { sessionId: this.id, data }).then(() => undefined);
    for (const piece of utf8Split(data, this.maxInputBytes)) {
      if (this.ended) throw this.endError; // detached or exited between two pieces: the rest is not sent
      await this.link.request('input', { sessionId: this.id, data: piece });
    }
  }

  private flushInput(): void {
    const queue = this.inputQueue;
    this.inputQueue = [];
    this.queuedBytes = 0;
    for (const input of queue) this.sendInOrder(input.data).then(input.resolve, input.reject);
  }

  private async sendResize(cols: number, rows: number): Promise<PtyTerminalSize> {
    this.resizesInFlight++;
    let answer;
    try {
      answer = await this.link.request('resize', { sessionId: this.id, cols, rows });
    } finally {
      this.resizesInFlight--;
    }
    this._info = { ...this._info, cols: answer.cols, rows: answer.rows };
    this.sizedAt = Number.isSafeInteger(answer.sizedAt) ? answer.sizedAt : undefined;
    return { cols: answer.cols, rows: answer.rows };
  }

  private waitForReattach(): Promise<PtyTerminalSize> {
    return new Promise((resolve, reject) => this.sizeWaiters.push({ resolve, reject }));
  }

  /** After a re-attach: the size it carried is the answer's, or a newer one is sent now. */
  private settleSizeWaiters(sentSize: PtyTerminalSize | undefined): void {
    if (this.sizeWaiters.length === 0 || !this.size) return;
    const waiters = this.sizeWaiters;
    this.sizeWaiters = [];
    const size = this.size;
    const settled =
      sentSize && sentSize.cols === size.cols && sentSize.rows === size.rows
        ? Promise.resolve({ cols: this._info.cols, rows: this._info.rows })
        : this.sendResize(size.cols, size.rows);
    settled.then(
      (result) => waiters.forEach((w) => w.resolve(result)),
      (error: unknown) => waiters.forEach((w) => w.reject(error)),
    );
  }

  private reattachFailed(error: unknown): void {
    const code = error instanceof PtyClientError ? error.code : undefined;
    // Dropped again: the next connect re-attaches. Closed: the client ended the session already.
    if (code === 'DISCONNECTED' || code === 'CLOSED') return;
    // After a network drop the server keeps this client's old connection, and its place among the
    // session's clients, until its ping timeout: wait for it to go rather than give up the session.
    // A client with many sessions re-attaches them all at once, past the server's maxRequestsInFlight:
    // the refused ones wait their turn the same way.
    if (code === 'CLIENT_LIMIT_REACHED' || code === 'TOO_MANY_REQUESTS') {
      const now = Date.now();
      if (this.limitRetries === 0) this.limitRetrySince = now;
      if (now - this.limitRetrySince < this.link.limitRetry.giveUpAfterMs) {
        const delay = Math.min(this.link.limitRetry.firstDelayMs * 2 ** this.limitRetries++, this.link.limitRetry.maxDelayMs);
        this.limitRetryTimer = setTimeout(() => {
          this.limitRetryTimer = undefined;
          this.reattach();
        }, delay);
        return;
      }
    }
    const reason = error instanceof PtyClientError ? error : PtyClientErrors.protocol(`an unexpected error: ${String(error)}`);
    this.end('lost', reason, reason);
  }

  private rejectWaiting(error: PtyClientError): void {
    const inputs = this.inputQueue;
    const sizes = this.sizeWaiters;
    this.inputQueue = [];
    this.queuedBytes = 0;
    this.sizeWaiters = [];
    for (const input of inputs) input.reject(error);
    for (const waiter of sizes) waiter.reject(error);
  }

  private setState(state: PtyClientSessionState, error: PtyClientError | undefined): void {
    if (this._state === state) return;
    this._state = state;
    this.stateListeners.emit(state, error);
  }
}
