import type { IPty } from 'node-pty';

/**
 * Makes node-pty give its output as Buffers, as read, instead of decoding
 * each read into a string: the session keeps and sends bytes, so the decode
 * (and the re-encode before sending) was work for nothing.
 *
 * Why not `encoding: null` at spawn: node-pty 1.1.0 then also leaves IUTF8
 * out of the terminal's flags, and the kernel's line editing (backspace in
 * `cat` or `read`) erases one byte of a multi-byte character instead of the
 * character. So the pty is spawned as UTF-8, and its read stream's decoder
 * is removed afterwards, before anything was read.
 *
 * Uses node-pty 1.x and Node stream internals (`_socket`, `_readableState`),
 * feature-detected: for a pty without them (a fake, another implementation,
 * one whose encoding is not UTF-8) nothing changes, and output keeps coming
 * as strings, which the session encodes.
 * @returns whether output now comes as Buffers.
 */
export function readPtyAsBytes(pty: IPty): boolean {
  type ReadableState = { decoder: { lastNeed?: number } | null; encoding: unknown; length?: number };
  const socket = (pty as unknown as { _socket?: { _readableState?: ReadableState } })._socket;
  const state = socket?._readableState;
  if (!state || typeof state !== 'object') return false;
  if (state.decoder == null && state.encoding == null) return true; // spawned with `encoding: null`
  if (String(state.encoding).toLowerCase().replace('-', '') !== 'utf8') return false;
  // Already read: holds decoded output, or part of a character. Leave it as it is.
  if (state.length || state.decoder?.lastNeed) return false;
  state.decoder = null;
  state.encoding = null;
  return true;
}
