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

/**
 * Size of the memory every pty is read into (see `readPtyIntoSharedMemory`):
 * what Node allocates for a stream read, so reads are as large as before.
 */
const SHARED_READ_BYTES = 64 * 1024;

/** One region for every pty of the process: a read is handled, and copied out, before the next. */
let sharedReadMemory: Buffer | undefined;

/**
 * Makes node-pty's read stream read into one region of memory shared by
 * every pty of the process and call `onRead` with a view of what was read,
 * instead of giving each read a Buffer of its own through the stream's
 * `'data'` event. Per read, Node otherwise allocates 64 KiB, shrinks it to
 * the bytes read and wraps it in an ArrayBuffer that the garbage collector
 * must find and free; a 33 MiB `cat` is ~8,000 of them, and they are what
 * sets off the collector's full collections in a busy host.
 *
 * `onRead` must copy what it keeps before it returns: the view is
 * overwritten by the next read of any pty. Reads no longer come as `'data'`
 * events, so node-pty's `onData` listeners get none of them (only what is
 * pushed into the stream: the drain at exit, see `keepTrailingOutput`).
 * Pausing, the end of the stream and node-pty's exit work as before.
 *
 * Uses Node's `onread` option of `net.Socket` on a socket that was created
 * without it (its `kBuffer` and `kBufferCb` properties, found by name, and
 * the handle's `useUserBuffer`), feature-detected: when any of it is
 * missing, or the stream was already given output, nothing changes.
 * Call after `readPtyAsBytes` succeeded, before the event loop turns.
 * @returns whether output now comes through `onRead`.
 */
export function readPtyIntoSharedMemory(pty: IPty, onRead: (read: Buffer) => void): boolean {
  type Handle = { useUserBuffer?: (buffer: Uint8Array) => unknown };
  type Socket = Record<symbol, unknown> & { _handle?: Handle; destroyed?: boolean; _readableState?: { length?: number }; read?: (size: number) => unknown };
  const socket = (pty as unknown as { _socket?: Socket })._socket;
  if (!socket || typeof socket !== 'object' || socket.destroyed || socket._readableState?.length) return false;
  const symbols = Object.getOwnPropertySymbols(socket);
  const named = (description: string) => symbols.find((symbol) => symbol.description === description);
  const kBuffer = named('kBuffer');
  const kBufferCb = named('kBufferCb');
  const kBufferGen = named('kBufferGen');
  const handle = socket._handle;
  if (!kBuffer || !kBufferCb || !kBufferGen || socket[kBuffer] != null || socket[kBufferGen] != null) return false;
  if (typeof handle?.useUserBuffer !== 'function' || typeof socket.read !== 'function') return false;
  const memory = (sharedReadMemory ??= Buffer.allocUnsafeSlow(SHARED_READ_BYTES));
  // Node's answers 0; anything else (a runtime that only pretends to) leaves the stream as it was.
  if (handle.useUserBuffer(memory) !== 0) return false;
  socket[kBuffer] = memory;
  socket[kBufferCb] = (bytesRead: number, buffer: Buffer) => {
    onRead(buffer.subarray(0, bytesRead));
  };
  // Reading starts now rather than on the stream's next tick: a socket reading into memory of its
  // own stops at `pause()` only if it was reading already (nothing is pushed to fill its buffer).
  socket.read(0);
  return true;
}
