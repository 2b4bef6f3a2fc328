import type { InboundOutput } from './wire-guards.js';
import type { PtyAckMode, PtyLimitRetry } from './pty-session-client.options.js';
import type {
  PtyAttachAnswer,
  PtyAttachRequest,
  PtyCloseAnswer,
  PtyCreateAnswer,
  PtyCreateRequest,
  PtyInputRequest,
  PtyListAnswer,
  PtyOkAnswer,
  PtyResizeAnswer,
  PtyResizeRequest,
  PtySessionRequest,
  PtyWireExit,
} from './protocol.js';

/** Every answered request: its payload and its answer. @internal */
export interface PtyRequestMap {
  create: [PtyCreateRequest, PtyCreateAnswer];
  attach: [PtyAttachRequest, PtyAttachAnswer];
  input: [PtyInputRequest, PtyOkAnswer];
  resize: [PtyResizeRequest, PtyResizeAnswer];
  detach: [PtySessionRequest, PtyOkAnswer];
  close: [PtySessionRequest, PtyCloseAnswer];
  list: [object, PtyListAnswer];
}

/** @internal */
export type PtyRequestEvent = keyof PtyRequestMap;

/** The successful answer of a request. @internal */
export type PtySuccess<E extends PtyRequestEvent> = Extract<PtyRequestMap[E][1], { ok: true }>;

/** A server event for one session, in arrival order. @internal */
export type PtyInboundEvent = { kind: 'output'; output: InboundOutput } | { kind: 'exit'; exit: PtyWireExit };

/**
 * What a session needs from its client: the connection, requests with
 * timeouts, and the settings. A narrow interface, so that the session does
 * not depend on the client class (and the client's request machinery stays
 * out of its public API).
 * @internal
 */
export interface PtyClientLink {
  /** The socket is connected (requests go out at once). */
  readonly connected: boolean;
  /** The client is closed for good. */
  readonly closed: boolean;
  readonly ackMode: PtyAckMode;
  readonly maxQueuedInputBytes: number;
  /** The retry of refusals that pass with time (the client's `limitRetry` option). */
  readonly limitRetry: PtyLimitRetry;
  /**
   * Sends a request and resolves with its successful answer; rejects with a
   * PtyClientError. `stale`: a request held back in the client (see
   * `maxRequestsInFlight`) that has become stale by its turn is not sent,
   * and rejects with DETACHED. `untimed`: no `answerTimeoutMs`, the request
   * waits for its answer as long as the connection lasts (a re-attach,
   * whose answer carries a whole replay, see `PtyClientSession.reattach`).
   */
  request<E extends PtyRequestEvent>(event: E, payload: PtyRequestMap[E][0], stale?: () => boolean, untimed?: boolean): Promise<PtySuccess<E>>;
  /**
   * An attach of this session succeeded on the server after the session
   * object here ended (detached while its re-attach was in flight): the
   * connection is attached with nobody following, so it is detached unless
   * a session object follows that session again (see `answeredLate`).
   */
  unfollowedAttach(sessionId: string): void;
  /** Sends a flow-control acknowledgement without asking for an answer; dropped when disconnected. */
  sendAck(sessionId: string, offset: number): void;
  /** The session no longer follows output (exited, detached or lost). */
  forget(sessionId: string, session: object): void;
}
