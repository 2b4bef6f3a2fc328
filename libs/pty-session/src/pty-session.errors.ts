/**
 * Every error the library throws on purpose is a `PtySessionError` with a
 * stable `code`. Transports map codes to their own answers (the Socket.IO
 * gateway sends `{ ok: false, error: { code, message } }`); messages say what
 * to do next.
 */

import type { PtyWireErrorCode } from 'nestjs-pty-session-client/protocol';

/**
 * Stable error codes: those a client can receive (defined once, with the
 * wire protocol), plus INVALID_OPTIONS, which only a misconfigured host sees
 * at boot, and SCREEN_UNAVAILABLE, from `PtySession.snapshot()` (the gateway
 * falls back to the raw replay). New codes may be added; existing ones keep
 * their meaning.
 */
export type PtySessionErrorCode = PtyWireErrorCode | 'INVALID_OPTIONS' | 'SCREEN_UNAVAILABLE';

/** @publicApi */
export class PtySessionError extends Error {
  override readonly name = 'PtySessionError';

  /**
   * What clients are told instead of `message`, when the message holds the
   * server's details (a program's path, a cause from a profile factory, the
   * configured profiles). The gateway logs `message` then.
   */
  readonly clientMessage?: string;

  constructor(
    readonly code: PtySessionErrorCode,
    message: string,
    options?: { cause?: unknown; clientMessage?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.clientMessage !== undefined) this.clientMessage = options.clientMessage;
  }

  /** A plain object for a wire answer: `{ code, message }`, with the message meant for clients. */
  toJSON(): { code: PtySessionErrorCode; message: string } {
    return { code: this.code, message: this.clientMessage ?? this.message };
  }
}

/** A failed start as clients learn of it: the cause (a path, a factory's error) stays in the server's log. */
const SPAWN_FAILED_FOR_CLIENTS = "The session's program could not be started; the server's log has the reason.";

/** Error factories: one place for every message. */
export const PtySessionErrors = {
  invalidArgument: (what: string, expected: string) =>
    new PtySessionError('INVALID_ARGUMENT', `Invalid ${what}: expected ${expected}.`),
  screenUnavailable: (sessionId: string, why: string) =>
    new PtySessionError('SCREEN_UNAVAILABLE', `Session ${sessionId} has no screen snapshot: ${why}.`),
  invalidOptions: (problem: string) =>
    new PtySessionError('INVALID_OPTIONS', `Invalid PtySessionModule options: ${problem}.`),
  invalidSize: (cols: unknown, rows: unknown, maxCols: number, maxRows: number) =>
    new PtySessionError(
      'INVALID_SIZE',
      `Invalid terminal size ${String(cols)}x${String(rows)}: cols must be an integer from 1 to ${maxCols} and rows an integer from 1 to ${maxRows}.`,
    ),
  invalidOffset: (offset: unknown, end: number) =>
    new PtySessionError(
      'INVALID_OFFSET',
      `Invalid output offset ${String(offset)}: expected an integer from 0 to ${end} (the session's current output offset).`,
    ),
  ackBeyondSent: (offset: number, sent: number) =>
    new PtySessionError('INVALID_OFFSET', `Cannot acknowledge offset ${offset}: this client was sent output up to ${sent} only.`),
  profileNotFound: (name: string, known: readonly string[]) =>
    new PtySessionError(
      'PROFILE_NOT_FOUND',
      `Unknown spawn profile "${name}". Configured profiles: ${known.length ? known.map((k) => `"${k}"`).join(', ') : 'none'}; add it to the "profiles" option.`,
      { clientMessage: `Unknown spawn profile "${name}".` },
    ),
  keyInUse: (key: string) =>
    new PtySessionError(
      'KEY_IN_USE',
      `A live session already has the key "${key}". Attach to it (getSessionByKey / getOrCreateSession), or close it before creating another.`,
    ),
  sessionNotFound: (id: string) =>
    new PtySessionError('SESSION_NOT_FOUND', `No session with id "${id}". It may have been closed or expired; create a new one.`),
  sessionKeyNotFound: (key: string) =>
    new PtySessionError('SESSION_NOT_FOUND', `No session with key "${key}". It may have been closed or expired; create a new one.`),
  sessionExited: (id: string) =>
    new PtySessionError('SESSION_EXITED', `Session "${id}" has exited and takes no more input; its output and exit status stay readable until it is cleaned up.`),
  sessionLimit: (max: number) =>
    new PtySessionError('SESSION_LIMIT_REACHED', `The server runs its maximum of ${max} sessions. Close one, or raise the "maxSessions" option.`),
  ownerSessionLimit: (owner: string, max: number) =>
    new PtySessionError(
      'OWNER_SESSION_LIMIT_REACHED',
      `Owner "${owner}" already has ${max} live sessions. Close one, or raise the "maxSessionsPerOwner" option.`,
    ),
  ownerConnectionLimit: (max: number) =>
    new PtySessionError(
      'OWNER_CONNECTION_LIMIT_REACHED',
      `This principal already has ${max} connections open. Close one (another tab or window), or raise the "maxConnectionsPerOwner" option.`,
    ),
  spawnFailed: (file: string, cause: unknown) =>
    new PtySessionError(
      'SPAWN_FAILED',
      `Could not start "${file}": ${cause instanceof Error ? cause.message : String(cause)}. Check the profile's file, cwd and permissions.`,
      { cause, clientMessage: SPAWN_FAILED_FOR_CLIENTS },
    ),
  tooManyRequests: (max: number) =>
    new PtySessionError(
      'TOO_MANY_REQUESTS',
      `This connection already has ${max} create, attach, list or close requests waiting for their answers; send more once they are answered.`,
    ),
  shuttingDown: () =>
    new PtySessionError('SHUTTING_DOWN', 'The session manager is shutting down and starts no new sessions.'),
  unauthorized: (detail?: string) =>
    new PtySessionError('UNAUTHORIZED', `Authentication failed${detail ? `: ${detail}` : ''}. Send credentials in the Socket.IO "auth" option.`),
  originNotAllowed: (origin: string) =>
    new PtySessionError('ORIGIN_NOT_ALLOWED', `Origin "${origin}" may not connect. Add it to the "allowedOrigins" option.`),
  hostNotAllowed: (host: string) =>
    new PtySessionError('ORIGIN_NOT_ALLOWED', `Host "${host}" may not connect. Add it to the "allowedHosts" option.`),
  disconnected: () => new PtySessionError('DISCONNECTED', 'The connection closed before the request was done.'),
  notAttached: (id: string) =>
    new PtySessionError('NOT_ATTACHED', `This connection is not attached to session "${id}"; send "attach" first.`),
  inputBacklogFull: (sessionId: string, waiting: number, max: number) =>
    new PtySessionError(
      'INPUT_BACKLOG_FULL',
      `Session ${sessionId}'s program has not read ${waiting} bytes of input written to it (maxInputBacklogBytes ${max}); send more once it reads.`,
    ),
  inputTooLarge: (bytes: number, max: number) =>
    new PtySessionError('INPUT_TOO_LARGE', `Input of ${bytes} bytes exceeds the limit of ${max} bytes per message; send it in smaller pieces.`),
  clientLimit: (id: string, max: number) =>
    new PtySessionError('CLIENT_LIMIT_REACHED', `Session "${id}" already has ${max} clients attached. Detach one, or raise the "maxClientsPerSession" option.`),
  forbidden: (detail: string) => new PtySessionError('FORBIDDEN', detail || 'Forbidden.'),
  internal: () => new PtySessionError('INTERNAL_ERROR', 'The server failed to handle the message; it was logged.'),
};
