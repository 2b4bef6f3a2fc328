import type {
  PtyAckRequest,
  PtyAttachRequest,
  PtyCreateRequest,
  PtyInputRequest,
  PtyResizeRequest,
  PtySessionRequest,
} from 'nestjs-pty-session-client/protocol';
import { MAX_WIRE_ID_LENGTH } from '../pty-session.constants.js';
import { PtySessionErrors } from '../pty-session.errors.js';

/**
 * Checks of every client payload, by hand: four small message shapes do not
 * need a validation library, and the gateway must not depend on the host's
 * pipes. Each parser returns a clean object holding only the known fields,
 * or throws INVALID_ARGUMENT naming the field. Sizes and offsets are checked
 * for type here and for range by the session (INVALID_SIZE, INVALID_OFFSET).
 */

type Payload = Record<string, unknown>;

function object(event: string, body: unknown): Payload {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw PtySessionErrors.invalidArgument(`"${event}" payload`, 'an object');
  }
  return body as Payload;
}

function identifier(event: string, body: Payload, field: string, maxLength: number, required: true): string;
function identifier(event: string, body: Payload, field: string, maxLength: number, required: false): string | undefined;
function identifier(event: string, body: Payload, field: string, maxLength: number, required: boolean): string | undefined {
  const value = body[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw PtySessionErrors.invalidArgument(`"${event}" field ${field}`, `a non-empty string of at most ${maxLength} characters`);
  }
  return value;
}

function integer(event: string, body: Payload, field: string, required: boolean): number | undefined {
  const value = body[field];
  if (value === undefined && !required) return undefined;
  if (!Number.isSafeInteger(value)) throw PtySessionErrors.invalidArgument(`"${event}" field ${field}`, 'an integer');
  return value as number;
}

function flag(event: string, body: Payload, field: string): true | undefined {
  const value = body[field];
  if (value !== undefined && typeof value !== 'boolean') throw PtySessionErrors.invalidArgument(`"${event}" field ${field}`, 'a boolean');
  return value === true ? true : undefined;
}

function size(event: string, body: Payload, required: boolean): { cols?: number; rows?: number } {
  const cols = integer(event, body, 'cols', required);
  const rows = integer(event, body, 'rows', required);
  if ((cols === undefined) !== (rows === undefined)) throw PtySessionErrors.invalidArgument(`"${event}" size`, 'both cols and rows, or neither');
  return cols === undefined ? {} : { cols, rows };
}

export function parseCreate(body: unknown, maxKeyLength: number): PtyCreateRequest {
  const p = object('create', body);
  const attach = flag('create', p, 'attach');
  const binary = flag('create', p, 'binary');
  const smallAsText = flag('create', p, 'smallAsText');
  return {
    profile: identifier('create', p, 'profile', MAX_WIRE_ID_LENGTH, false),
    key: identifier('create', p, 'key', maxKeyLength, false),
    ...size('create', p, false),
    ...(attach ? { attach } : {}),
    ...(binary ? { binary } : {}),
    ...(smallAsText ? { smallAsText } : {}),
  };
}

export function parseAttach(body: unknown, maxKeyLength: number): PtyAttachRequest {
  const p = object('attach', body);
  const sessionId = identifier('attach', p, 'sessionId', MAX_WIRE_ID_LENGTH, false);
  const key = identifier('attach', p, 'key', maxKeyLength, false);
  if ((sessionId === undefined) === (key === undefined)) throw PtySessionErrors.invalidArgument('"attach" payload', 'exactly one of sessionId and key');
  const since = integer('attach', p, 'since', false);
  if (since !== undefined && since < 0) throw PtySessionErrors.invalidArgument('"attach" field since', 'an integer >= 0');
  const acked = integer('attach', p, 'acked', false);
  if (acked !== undefined && (since === undefined || acked < 0 || acked > since)) {
    throw PtySessionErrors.invalidArgument('"attach" field acked', 'an integer from 0 to since (and since given)');
  }
  const binary = flag('attach', p, 'binary');
  const smallAsText = flag('attach', p, 'smallAsText');
  const resume = integer('attach', p, 'resume', false);
  if (resume !== undefined && resume < 0) throw PtySessionErrors.invalidArgument('"attach" field resume', 'an integer >= 0');
  return {
    sessionId,
    key,
    since,
    ...(acked !== undefined ? { acked } : {}),
    ...size('attach', p, false),
    ...(binary ? { binary } : {}),
    ...(smallAsText ? { smallAsText } : {}),
    ...(resume !== undefined ? { resume } : {}),
  };
}

export function parseInput(body: unknown): PtyInputRequest {
  const p = object('input', body);
  const data = p.data;
  if (typeof data !== 'string') throw PtySessionErrors.invalidArgument('"input" field data', 'a string');
  return { sessionId: identifier('input', p, 'sessionId', MAX_WIRE_ID_LENGTH, true), data };
}

export function parseResize(body: unknown): PtyResizeRequest {
  const p = object('resize', body);
  const { cols, rows } = size('resize', p, true);
  return { sessionId: identifier('resize', p, 'sessionId', MAX_WIRE_ID_LENGTH, true), cols: cols!, rows: rows! };
}

export function parseAck(body: unknown): PtyAckRequest {
  const p = object('ack', body);
  const offset = integer('ack', p, 'offset', true)!;
  if (offset < 0) throw PtySessionErrors.invalidArgument('"ack" field offset', 'an integer >= 0');
  return { sessionId: identifier('ack', p, 'sessionId', MAX_WIRE_ID_LENGTH, true), offset };
}

export function parseSessionRequest(event: string, body: unknown): PtySessionRequest {
  return { sessionId: identifier(event, object(event, body), 'sessionId', MAX_WIRE_ID_LENGTH, true) };
}

/** `list` takes nothing; an object (or nothing) is accepted. */
export function parseList(body: unknown): void {
  if (body !== undefined && body !== null) object('list', body);
}
