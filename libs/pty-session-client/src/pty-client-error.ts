import type { PtyWireError, PtyWireErrorCode } from './protocol.js';

/**
 * Stable error codes: the server's wire codes (see `PtyWireErrorCode`), plus
 * the client's own:
 * - `TIMEOUT`: no answer within `answerTimeoutMs`.
 * - `DISCONNECTED`: the connection dropped before the answer came (the request
 *   may or may not have taken effect), or the server ended the connection.
 * - `CLOSED`: the client was closed.
 * - `CONNECT_FAILED`: a connection attempt failed for a reason the server did
 *   not name (network, wrong URL or namespace), or reconnection gave up.
 * - `INPUT_QUEUE_FULL`: more input than `maxQueuedInputBytes` waiting for a re-attach.
 * - `DETACHED`: the session was detached from this client.
 * - `PROTOCOL_ERROR`: the server sent something this client does not understand.
 * New codes may be added; existing ones keep their meaning.
 */
export type PtyClientErrorCode =
  | PtyWireErrorCode
  | 'TIMEOUT'
  | 'DISCONNECTED'
  | 'CLOSED'
  | 'CONNECT_FAILED'
  | 'INPUT_QUEUE_FULL'
  | 'DETACHED'
  | 'PROTOCOL_ERROR';

/** Every error of this package: a stable `code` and a message that says what to do. */
export class PtyClientError extends Error {
  override readonly name = 'PtyClientError';

  constructor(
    /** A {@link PtyClientErrorCode}, or a newer server code this client does not know yet. */
    readonly code: PtyClientErrorCode | (string & {}),
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** A plain object, as on the wire: `{ code, message }`. */
  toJSON(): PtyWireError {
    return { code: this.code, message: this.message };
  }
}

/** Error factories: one place for every message. @internal */
export const PtyClientErrors = {
  fromWire: (error: PtyWireError | undefined, event: string) =>
    typeof error?.code === 'string'
      ? new PtyClientError(error.code, typeof error.message === 'string' ? error.message : `"${event}" failed with ${error.code}.`)
      : PtyClientErrors.protocol(`a failed "${event}" answer without an error code`),
  timeout: (event: string, ms: number) =>
    new PtyClientError(
      'TIMEOUT',
      `No answer to "${event}" within ${ms} ms (including any wait for a connection). The server may be unreachable or slow; raise "answerTimeoutMs" if this is expected.`,
    ),
  disconnected: (event: string) =>
    new PtyClientError(
      'DISCONNECTED',
      `The connection dropped before "${event}" was answered; it may or may not have taken effect on the server. The client reconnects by itself.`,
    ),
  serverDisconnected: () =>
    new PtyClientError(
      'DISCONNECTED',
      'The server ended the connection and the client does not reconnect after that; create a new PtySessionClient to connect again.',
    ),
  connectionLost: () =>
    new PtyClientError(
      'DISCONNECTED',
      'The connection dropped and reconnection is off (socketOptions.reconnection: false); create a new PtySessionClient to connect again.',
    ),
  closed: () => new PtyClientError('CLOSED', 'The client is closed; create a new PtySessionClient to connect again.'),
  connectError: (cause: unknown, willRetry: boolean) => {
    const data = (cause as { data?: { code?: unknown; message?: unknown } } | undefined)?.data;
    const reason = cause instanceof Error ? cause.message : String(cause);
    if (typeof data?.code === 'string') {
      const message = typeof data.message === 'string' ? data.message : reason;
      return new PtyClientError(data.code, `The server refused the connection: ${message}`, { cause });
    }
    return new PtyClientError(
      'CONNECT_FAILED',
      `Could not connect: ${reason}.${willRetry ? ' Retrying.' : ''} Check the URL (it must include the gateway's namespace, "/pty" by default) and that the server is up.`,
      { cause },
    );
  },
  reconnectFailed: () =>
    new PtyClientError(
      'CONNECT_FAILED',
      'Gave up reconnecting after the configured number of attempts ("reconnectionAttempts"); create a new PtySessionClient to try again.',
    ),
  inputQueueFull: (sessionId: string, bytes: number, queued: number, max: number) =>
    new PtyClientError(
      'INPUT_QUEUE_FULL',
      `Session "${sessionId}" is re-attaching and already holds ${queued} bytes of input; ${bytes} more would exceed "maxQueuedInputBytes" (${max}). Wait for the session to be attached again.`,
    ),
  detached: (sessionId: string) =>
    new PtyClientError('DETACHED', `Session "${sessionId}" was detached from this client; attach to it again to use it.`),
  sessionExited: (sessionId: string) =>
    new PtyClientError('SESSION_EXITED', `Session "${sessionId}" has exited and takes no more input.`),
  invalidArgument: (what: string, expected: string) =>
    new PtyClientError('INVALID_ARGUMENT', `Invalid ${what}: expected ${expected}.`),
  invalidSize: (cols: unknown, rows: unknown) =>
    new PtyClientError('INVALID_SIZE', `Invalid terminal size ${String(cols)}x${String(rows)}: cols and rows must be positive integers.`),
  protocol: (problem: string) =>
    new PtyClientError('PROTOCOL_ERROR', `The server sent ${problem}. Are the client and server versions compatible?`),
};
