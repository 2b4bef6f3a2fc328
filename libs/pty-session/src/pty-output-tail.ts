import { closeSync, constants as fsConstants, openSync, readSync } from 'node:fs';
import type { IPty } from 'node-pty';
import type { Disposable } from './interfaces/pty-session-info.interface.js';

/** Read size of the final synchronous drain of the pty at exit. */
const EXIT_DRAIN_READ_BYTES = 64 * 1024;

/**
 * Makes node-pty deliver the last output of a process that exits right after
 * writing it (microsoft/node-pty#72). Two things lose it otherwise:
 *
 * 1. As soon as the child closes its side of the pty, Linux answers the
 *    master's reads with EIO even while output is still queued, and node-pty
 *    ends the stream: `cat` of a 28 MB file lost 2 to 8 KB that way in every
 *    run here. Holding our own descriptor of the slave side open while the
 *    child runs means the master never sees EIO, so it reads to the end.
 * 2. node-pty then ends its read stream on a timer, `socket.destroy()` 200 ms
 *    after the child's exit; if the event loop was busy meanwhile, what the
 *    kernel still held is dropped. So just before that destroy, the rest is
 *    read synchronously (the master is non-blocking: EAGAIN once drained) and
 *    pushed through the socket (the session keeps split characters whole).
 *    The stream may be paused then (flow control held the program, which
 *    exited anyway): what it holds is read out to its listeners first, or
 *    `destroy` would drop it, the program's last words; so is what a text
 *    decoder (a pty read as strings) holds of a character cut by the exit.
 *
 * `beforeClose` runs just before node-pty closes the master descriptor: after
 * that its number may belong to the next socket or pty the process opens.
 *
 * Uses node-pty 1.x internals (`ptsName`, `_socket`, `fd`), feature-detected:
 * a pty without them (a fake, another implementation) is left alone.
 * Dispose once the process has exited, to close the slave descriptor.
 */
export function keepTrailingOutput(pty: IPty, beforeClose: () => void = () => {}): Disposable {
  const ptsName = (pty as { ptsName?: unknown }).ptsName;
  if (typeof ptsName !== 'string' || !ptsName.startsWith('/dev/')) return { dispose() {} };
  let slaveFd: number | undefined;
  try {
    slaveFd = openSync(ptsName, fsConstants.O_RDWR | fsConstants.O_NOCTTY);
  } catch {
    return { dispose() {} }; // the child is already gone: nothing left to protect
  }
  drainBeforeDestroy(pty, beforeClose);
  return {
    dispose() {
      if (slaveFd === undefined) return;
      try {
        closeSync(slaveFd);
      } catch {
        /* already closed */
      }
      slaveFd = undefined;
    },
  };
}

function drainBeforeDestroy(pty: IPty, beforeClose: () => void): void {
  type Socket = {
    destroy: (...args: unknown[]) => unknown;
    push: (chunk: Buffer) => boolean;
    read: () => unknown;
    emit: (event: string, chunk: unknown) => boolean;
    destroyed?: boolean;
    _readableState?: { decoder?: { end(): string } | null };
  };
  const socket = (pty as unknown as { _socket?: Partial<Socket> })._socket;
  const fd = (pty as unknown as { fd?: unknown }).fd;
  if (typeof socket?.destroy !== 'function' || typeof socket.push !== 'function' || typeof socket.read !== 'function' || typeof fd !== 'number') return;
  const destroy = socket.destroy;
  const push = socket.push;
  const read = socket.read;
  // A paused stream hands what it holds to its 'data' listeners (node-pty's onData) on read().
  const readOut = () => {
    while (!socket.destroyed && read.call(socket) !== null);
  };
  socket.destroy = (...args: unknown[]) => {
    socket.destroy = destroy;
    readOut();
    const buffer = Buffer.allocUnsafe(EXIT_DRAIN_READ_BYTES);
    while (!socket.destroyed) {
      let n = 0;
      try {
        n = readSync(fd, buffer, 0, buffer.length, null);
      } catch {
        break; // EAGAIN: drained; EIO or EBADF: closed
      }
      if (n <= 0) break;
      push.call(socket, Buffer.from(buffer.subarray(0, n)));
    }
    readOut();
    // A pty read as text (an adopted one) holds the start of a character cut by the exit in its
    // decoder, which destroy would drop: end it (U+FFFD), as a session reading bytes does.
    const rest = !socket.destroyed ? socket._readableState?.decoder?.end() : undefined;
    if (rest) socket.emit!.call(socket, 'data', rest);
    let result: unknown;
    try {
      beforeClose();
    } finally {
      result = destroy.apply(socket, args);
    }
    return result;
  };
}
