/**
 * nestjs-pty-session-client: a typed Socket.IO client for nestjs-pty-session.
 * Attach to persistent terminal sessions from a browser or Node, get exactly
 * the output you missed after a reconnect, with flow control.
 */
export { PtySessionClient } from './pty-session-client.js';
export type { PtyClientSession, PtyTerminalSize } from './pty-client-session.js';
export { PtyClientError, type PtyClientErrorCode } from './pty-client-error.js';
export { PTY_CLIENT_DEFAULTS, PTY_DEFAULT_NAMESPACE } from './pty-client.constants.js';
export type { Disposable } from './listeners.js';
export type {
  PtyAckMode,
  PtyAttachOptions,
  PtyAttachTarget,
  PtyClientAuth,
  PtyClientOutput,
  PtyClientSessionState,
  PtyClientState,
  PtyCreateResult,
  PtyLimitRetry,
  PtyOpenResult,
  PtySessionClientOptions,
} from './pty-session-client.options.js';
export * from './protocol.js';
