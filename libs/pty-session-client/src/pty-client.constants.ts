/**
 * Defaults of {@link PtySessionClientOptions}, in one place (the README's
 * option table lists the same values).
 */
export const PTY_CLIENT_DEFAULTS = Object.freeze({
  /** The client acknowledges output itself once the output listeners have returned. */
  ackMode: 'auto' as const,
  /** How long a request waits for its answer, including any wait for a connection. */
  answerTimeoutMs: 10_000,
  /** UTF-8 bytes of input held while a session re-attaches (the server's default input limit). */
  maxQueuedInputBytes: 64 * 1024,
  /**
   * Acknowledgement interval used only when an attach answer carries no
   * valid `flowControl.ackIntervalBytes`: smaller than the server's default
   * (128 KiB), because acknowledging more often than asked is never wrong,
   * and less often can stall a server whose low mark is lower.
   */
  ackIntervalBytes: 32 * 1024,
  /**
   * `create`, `attach` and `list` requests waiting for their answers at once;
   * more wait in the client, in order. The server answers 16 at a time per
   * connection by default (its `maxRequestsInFlight`) and refuses more with
   * TOO_MANY_REQUESTS.
   */
  maxRequestsInFlight: 16,
  /**
   * A re-attach the server refuses with CLIENT_LIMIT_REACHED or
   * TOO_MANY_REQUESTS, and a reconnection refused with
   * OWNER_CONNECTION_LIMIT_REACHED, are tried again after `firstDelayMs`,
   * doubling up to `maxDelayMs`, for `giveUpAfterMs`: after a network drop
   * the server keeps the vanished connection, and its places, until its ping
   * timeout (Socket.IO's defaults: 25 + 20 s).
   */
  limitRetry: Object.freeze({ firstDelayMs: 1000, maxDelayMs: 8000, giveUpAfterMs: 60_000 }),
});

/** The longest timer Node and browsers keep (2^31 - 1 ms, ~24.8 days); a longer one fires at once. The bound of `answerTimeoutMs`. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The namespace the server's gateway listens on unless configured otherwise;
 * the client's `url` ends with it, e.g. `https://example.com/pty`.
 */
export const PTY_DEFAULT_NAMESPACE = '/pty';
