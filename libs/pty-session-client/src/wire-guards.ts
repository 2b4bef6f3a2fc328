import type { PtyRequestEvent } from './pty-client-link.js';
import type { PtyWireExit, PtyWireExitEvent, PtyWireOutput, PtyWireSessionInfo } from './protocol.js';

/**
 * Shape checks of what the server sends, so that a mismatched server is
 * reported as PROTOCOL_ERROR instead of failing somewhere deep inside.
 * They check what this client relies on, not every field.
 */

type Loose = Record<string, unknown>;

const isObject = (value: unknown): value is Loose => typeof value === 'object' && value !== null;
const isOffset = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

export const isPositiveInteger = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

export function isWireOutput(value: unknown): value is InboundOutput {
  return (
    isObject(value) &&
    typeof value.sessionId === 'string' &&
    isOffset(value.offset) &&
    isOffset(value.byteLength) &&
    (typeof value.data === 'string' || value.data instanceof Uint8Array) &&
    (value.reset === undefined || typeof value.reset === 'boolean') &&
    (value.snapshot === undefined || typeof value.snapshot === 'boolean')
  );
}

/** An output as received: `data` as text, or as UTF-8 bytes from a server that sends bytes (`binary`). */
export type InboundOutput = Omit<PtyWireOutput, 'data'> & { data: string | Uint8Array };

/**
 * An output whose `data` came as an ArrayBuffer (browsers) with `data` as a
 * Uint8Array over it (Node's Buffers already are); anything else as it is,
 * for `isWireOutput` to judge.
 */
export function withByteView(value: unknown): unknown {
  return isObject(value) && value.data instanceof ArrayBuffer ? { ...value, data: new Uint8Array(value.data) } : value;
}

export function isWireExit(value: unknown): value is PtyWireExit {
  return isObject(value) && typeof value.exitCode === 'number' && typeof value.reason === 'string';
}

export function isWireExitEvent(value: unknown): value is PtyWireExitEvent {
  return isWireExit(value) && typeof (value as unknown as Loose).sessionId === 'string';
}

function isSessionInfo(value: unknown): value is PtyWireSessionInfo {
  return isObject(value) && typeof value.id === 'string' && (value.exit === undefined || isWireExit(value.exit));
}

/** A PtyWireExit without the event's `sessionId`. */
export function toExit(exit: PtyWireExit): PtyWireExit {
  return {
    exitCode: exit.exitCode,
    ...(exit.signal !== undefined ? { signal: exit.signal } : {}),
    reason: exit.reason,
    exitedAt: exit.exitedAt,
  };
}

export function isAnswer(value: unknown): value is { ok: boolean } & Loose {
  return isObject(value) && typeof value.ok === 'boolean';
}

/** What each successful answer must contain. */
export const SUCCESS_CHECKS: { readonly [E in PtyRequestEvent]: (answer: Loose) => boolean } = {
  create: (a) =>
    isSessionInfo(a.session) &&
    typeof a.created === 'boolean' &&
    (a.replay === undefined || (isWireOutput(a.replay) && a.replay.sessionId === a.session.id && isObject(a.flowControl))),
  attach: (a) => isSessionInfo(a.session) && isWireOutput(a.replay) && a.replay.sessionId === a.session.id && isObject(a.flowControl),
  input: () => true,
  resize: (a) => isPositiveInteger(a.cols) && isPositiveInteger(a.rows),
  detach: () => true,
  close: (a) => isWireExit(a.exit),
  list: (a) => Array.isArray(a.sessions) && a.sessions.every(isSessionInfo),
};
