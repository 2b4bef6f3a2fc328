/**
 * nestjs-pty-session: persistent terminal sessions for NestJS.
 * This file is the whole public API.
 */
export { PtySessionModule } from './pty-session.module.js';
export type { PtySessionModuleExtras } from './pty-session.module-definition.js';
export { PtySessionManager } from './pty-session.manager.js';
export { PtySessionGatewayBase, type PtyGatewayOptions } from './gateway/pty-session.gateway.js';
export { PtyGatewayExceptionFilter } from './gateway/gateway-exception.filter.js';
export { PtySession } from './pty-session.js';
export { ReplayBuffer } from './replay-buffer.js';
export { stripTerminalQueries } from './terminal-queries.js';
export type { PtyScreenSnapshot } from './screen/screen-mirror.js';
export { PtySessionError, type PtySessionErrorCode } from './pty-session.errors.js';
export { resolvePtySessionOptions, type ResolvedPtySessionOptions } from './pty-session.options.js';
export type { PtySpawnFunction } from './pty-spawner.provider.js';
export {
  DEFAULT_PROFILE_NAME,
  PTY_SESSION_CLEANUP_JOB,
  PTY_GATEWAY_DEFAULTS,
  PTY_SESSION_DEFAULTS,
  PTY_SESSION_MODULE_OPTIONS,
  PTY_SPAWNER,
} from './pty-session.constants.js';
export type {
  PtyAuthenticateFunction,
  PtyFlowControlOptions,
  PtyHandshake,
  PtyOutputBatchingOptions,
  PtyPrincipal,
  PtyScreenOptions,
  PtySessionModuleOptions,
  PtySpawnContext,
  PtySpawnProfile,
  PtySpawnProfileFactory,
} from './interfaces/pty-session-module-options.interface.js';
export type {
  CreatePtySessionOptions,
  Disposable,
  PtyAttachment,
  PtyAttachOptions,
  PtyExitStatus,
  PtyOutputChunk,
  PtyReplaySlice,
  PtySessionEndReason,
  PtySessionFilter,
  PtySessionInfo,
} from './interfaces/pty-session-info.interface.js';
