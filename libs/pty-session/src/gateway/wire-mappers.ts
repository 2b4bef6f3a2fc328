import type { Logger } from '@nestjs/common';
import type { PtyAnswer, PtyWireBinaryOutput, PtyWireError, PtyWireOutput, PtyWireSessionInfo } from 'nestjs-pty-session-client/protocol';
import type { PtyReplaySlice, PtySessionInfo } from '../interfaces/pty-session-info.interface.js';
import { attachOutputText, outputBytes } from '../output-text.js';
import { PtySessionError, PtySessionErrors } from '../pty-session.errors.js';

/** What a client may see of a session: no owner, no pid, no buffer internals. */
export function toWireSessionInfo(info: PtySessionInfo): PtyWireSessionInfo {
  return {
    id: info.id,
    ...(info.key !== undefined ? { key: info.key } : {}),
    ...(info.profile !== undefined ? { profile: info.profile } : {}),
    cols: info.cols,
    rows: info.rows,
    createdAt: info.createdAt,
    lastActivity: info.lastActivity,
    status: info.status,
    attachedClients: info.attachedClients,
    outputOffset: info.outputOffset,
    ...(info.exit ? { exit: info.exit } : {}),
  };
}

/**
 * Output for the wire from `offset`, covering `byteLength` bytes of the
 * session's output (`bytes` may be fewer: a replay leaves terminal queries
 * out). Its `data` is decoded from `bytes` only when read, for clients that
 * take text; clients that take bytes get `toBinaryOutput`'s form.
 */
export function toWireOutput(sessionId: string, offset: number, byteLength: number, bytes: Buffer, reset = false): PtyWireOutput {
  return attachOutputText(reset ? { sessionId, offset, byteLength, reset } : { sessionId, offset, byteLength }, bytes) as PtyWireOutput;
}

/** A replay: what the buffer holds from the slice's offset, `reset` when part of what was asked for is gone. */
export function toWireReplay(sessionId: string, slice: PtyReplaySlice, bytes: Buffer = slice.bytes): PtyWireOutput {
  return toWireOutput(sessionId, slice.offset, slice.endOffset - slice.offset, bytes, slice.truncated);
}

/** A live batch: the session's reads from `offset` on, `byteLength` bytes in all, sent as one message. */
export function toWireBatch(sessionId: string, offset: number, byteLength: number, parts: readonly Buffer[]): PtyWireOutput {
  return toWireOutput(sessionId, offset, byteLength, parts.length === 1 ? parts[0]! : Buffer.concat(parts, byteLength));
}

/** The form made for `binary` attachments, kept on the output: a catch-up shared by several viewers goes out in separate emits. */
const BINARY = Symbol('binary');

/** The same output with `data` as UTF-8 bytes, for an attachment that asked for `binary` (made once per output object). */
export function toBinaryOutput(output: PtyWireOutput): PtyWireBinaryOutput {
  const made = (output as { [BINARY]?: PtyWireBinaryOutput })[BINARY];
  if (made) return made;
  const { sessionId, offset, byteLength, reset, snapshot } = output;
  // A snapshot is text from the emulator; everything else has its bytes.
  const data = outputBytes(output) ?? Buffer.from(output.data, 'utf8');
  const binary: PtyWireBinaryOutput = { sessionId, offset, byteLength, data, ...(reset ? { reset } : {}), ...(snapshot ? { snapshot } : {}) };
  Object.defineProperty(output, BINARY, { value: binary });
  return binary;
}

/**
 * The library's errors keep their code, with the message meant for clients
 * (the detail it leaves out is logged); anything else is logged and answered
 * as INTERNAL_ERROR.
 */
export function toWireError(error: unknown, logger: Logger): PtyWireError {
  if (error instanceof PtySessionError) {
    // A program that cannot start is the server's problem; an unknown profile is the client's.
    if (error.clientMessage !== undefined) (error.code === 'SPAWN_FAILED' ? logger.warn : logger.debug).call(logger, `${error.code}: ${error.message}`);
    return error.toJSON();
  }
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return PtySessionErrors.internal().toJSON();
}

/** `answer` for work that is synchronous, answered in the same turn (no promise). Never throws. */
export function answerNow<T extends object>(logger: Logger, work: () => T): PtyAnswer<T> {
  try {
    return { ok: true, ...work() };
  } catch (error) {
    return { ok: false, error: toWireError(error, logger) };
  }
}

/** Runs a handler's work and turns its result or error into an answer. Never throws. */
export async function answer<T extends object>(logger: Logger, work: () => T | Promise<T>): Promise<PtyAnswer<T>> {
  try {
    return { ok: true, ...(await work()) };
  } catch (error) {
    return { ok: false, error: toWireError(error, logger) };
  }
}
