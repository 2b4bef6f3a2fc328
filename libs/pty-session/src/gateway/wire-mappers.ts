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

/*
 * What a batch and its encodings carry besides the wire fields lives on the
 * output object itself, in non-enumerable symbol properties (never sent,
 * never copied by a spread), so that it dies with the output. Not in
 * WeakMaps: V8's young-generation collector keeps a WeakMap value alive
 * through the collection in which its key dies, so every batch of the last
 * ~100 ms (its strings, its bytes) was copied once more, and its buffer
 * freed a collection later. Measured on a busy `cat`: 5.7–6.4 MB survived
 * each scavenge, against 0.6 MB now, and the external memory peaked at
 * 15–52 MB, against 11 MB.
 */
const PARTS = Symbol('parts');
const JOINED = Symbol('joined');
const BINARY = Symbol('binary');

interface BatchInternals {
  /** A batch's pieces (whole characters each), for encoding them without joining them first. */
  [PARTS]?: readonly string[];
  /** A batch's `data` once joined. */
  [JOINED]?: string;
  /** The bytes form, made once: a catch-up shared by several viewers goes out in separate emits. */
  [BINARY]?: PtyWireBinaryOutput;
}

/** One getter for every batch: a closure per batch would give each batch a hidden class of its own. */
function joinedData(this: PtyWireOutput & BatchInternals): string {
  return (this[JOINED] ??= this[PARTS]!.join(''));
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
  Object.defineProperty(output, PARTS, { value: parts });
  Object.defineProperty(output, JOINED, { value: parts.length === 1 ? parts[0] : undefined, writable: true });
  Object.defineProperty(output, 'data', BATCH_DATA);
  return output;
}

/** The same output with `data` as UTF-8 bytes, for an attachment that asked for `binary` (encoded once per output object). */
export function toBinaryOutput(output: PtyWireOutput): PtyWireBinaryOutput {
  const internals = output as PtyWireOutput & BatchInternals;
  const made = internals[BINARY];
  if (made) return made;
  const parts = internals[PARTS];
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
  Object.defineProperty(output, BINARY, { value: binary });
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
