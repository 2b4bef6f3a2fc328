import type { Logger } from '@nestjs/common';
import type { PtyAnswer, PtyWireBinaryOutput, PtyWireError, PtyWireOutput, PtyWireSessionInfo } from 'nestjs-pty-session-client/protocol';
import type { PtyReplaySlice, PtySessionInfo } from '../interfaces/pty-session-info.interface.js';
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

export function toWireReplay(sessionId: string, slice: PtyReplaySlice): PtyWireOutput {
  return {
    sessionId,
    offset: slice.offset,
    byteLength: slice.endOffset - slice.offset,
    data: slice.data,
    ...(slice.truncated ? { reset: true } : {}),
  };
}

/** The pieces of a batch built by `toWireBatch`, for encoding them without joining them first. */
const batchParts = new WeakMap<PtyWireOutput, readonly string[]>();
/** A batch's `data` once joined (non-enumerable: not sent, not copied). */
const JOINED = Symbol('joined');

/** One getter for every batch: a closure per batch would give each batch a hidden class of its own. */
function joinedData(this: PtyWireOutput & { [JOINED]?: string }): string {
  return (this[JOINED] ??= batchParts.get(this)!.join(''));
}

const BATCH_DATA: PropertyDescriptor = { enumerable: true, get: joinedData };

/**
 * A live batch: output from `offset`, made of `parts` (whole characters
 * each), `byteLength` UTF-8 bytes in all. Its `data` is joined only when
 * read, for clients that take text: for clients that take bytes,
 * `toBinaryOutput` encodes the parts straight into one buffer.
 */
export function toWireBatch(sessionId: string, offset: number, byteLength: number, parts: readonly string[]): PtyWireOutput {
  const output = { sessionId, offset, byteLength } as PtyWireOutput;
  Object.defineProperty(output, JOINED, { value: parts.length === 1 ? parts[0] : undefined, writable: true });
  Object.defineProperty(output, 'data', BATCH_DATA);
  batchParts.set(output, parts);
  return output;
}

/** Each output's bytes form, made once: a catch-up shared by several viewers goes out in separate emits. */
const binaryForms = new WeakMap<PtyWireOutput, PtyWireBinaryOutput>();

/** The same output with `data` as UTF-8 bytes, for an attachment that asked for `binary` (encoded once per output object). */
export function toBinaryOutput(output: PtyWireOutput): PtyWireBinaryOutput {
  const made = binaryForms.get(output);
  if (made) return made;
  const parts = batchParts.get(output);
  const { sessionId, offset, byteLength, reset, snapshot } = output;
  let data: Buffer;
  if (parts) {
    data = Buffer.allocUnsafe(byteLength);
    let written = 0;
    for (const part of parts) written += data.write(part, written, 'utf8');
    if (written !== byteLength) data = data.subarray(0, written); // not expected: parts are whole characters
  } else {
    data = Buffer.from(output.data, 'utf8');
  }
  const binary: PtyWireBinaryOutput = { sessionId, offset, byteLength, data, ...(reset ? { reset } : {}), ...(snapshot ? { snapshot } : {}) };
  binaryForms.set(output, binary);
  return binary;
}

/** The library's errors keep their code; anything else is logged and answered as INTERNAL_ERROR. */
export function toWireError(error: unknown, logger: Logger): PtyWireError {
  if (error instanceof PtySessionError) return error.toJSON();
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return PtySessionErrors.internal().toJSON();
}

/** Runs a handler's work and turns its result or error into an answer. Never throws. */
export async function answer<T extends object>(logger: Logger, work: () => T | Promise<T>): Promise<PtyAnswer<T>> {
  try {
    return { ok: true, ...(await work()) };
  } catch (error) {
    return { ok: false, error: toWireError(error, logger) };
  }
}
