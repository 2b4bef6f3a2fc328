import type { Socket } from 'socket.io';

/** The parts of engine.io's connection that hold what was sent to a client and not yet written out. */
interface EngineConnection {
  /** Packets waiting for the transport (long-polling: until the next poll). */
  writeBuffer?: Array<{ data?: unknown }>;
  /** The WebSocket transport's socket: `bufferedAmount` is what the kernel has not taken yet. */
  transport?: { socket?: { bufferedAmount?: number } };
}

/**
 * Bytes sent to this client that are still queued in the server: a client
 * that does not read its socket makes this grow without bound.
 */
export function connectionBacklogBytes(socket: Socket): number {
  const connection = socket.conn as unknown as EngineConnection;
  let bytes = connection.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of connection.writeBuffer ?? []) {
    const data = packet.data;
    if (typeof data === 'string') bytes += data.length;
    else if (data && typeof (data as ArrayBufferLike).byteLength === 'number') bytes += (data as ArrayBufferLike).byteLength;
  }
  return bytes;
}
