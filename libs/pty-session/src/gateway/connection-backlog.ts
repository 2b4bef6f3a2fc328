import type { Socket } from 'socket.io';

/** A packet in engine.io's write buffer. */
interface EnginePacket {
  data?: unknown;
}

/** The parts of engine.io's connection that hold what was sent to a client and not yet written out. */
interface EngineConnection {
  /** Packets waiting for the transport (while it is busy writing, or long-polling: until the next poll). */
  writeBuffer?: EnginePacket[];
  /** The WebSocket transport's socket: `bufferedAmount` is what the kernel has not taken yet. */
  transport?: { socket?: { bufferedAmount?: number } };
  /** engine.io's events: `packetCreate` as a packet enters the write buffer, `flush` with the buffer as it leaves for the transport. */
  on(event: 'packetCreate', listener: (packet: EnginePacket) => void): unknown;
  on(event: 'flush', listener: (buffer: readonly EnginePacket[]) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/** Bytes in engine.io's write buffer, kept up to date by its events, per connection being tracked. */
const queuedBytes = new WeakMap<EngineConnection, { bytes: number }>();

function packetBytes(packet: EnginePacket): number {
  const data = packet.data;
  if (typeof data === 'string') return data.length;
  if (data && typeof (data as ArrayBufferLike).byteLength === 'number') return (data as ArrayBufferLike).byteLength;
  return 0;
}

function sumOf(packets: readonly EnginePacket[] | undefined): number {
  let bytes = 0;
  for (const packet of packets ?? []) bytes += packetBytes(packet);
  return bytes;
}

/** Called (once per turn of the event loop at most) when a packet takes the connection's backlog past `bytes`. */
export interface BacklogWatch {
  bytes: number;
  exceeded: () => void;
}

/**
 * Counts, from now on, what enters and leaves the connection's write
 * buffer, so that `connectionBacklogBytes` costs the same however many
 * packets wait there. (Summed packet by packet at every output and
 * acknowledgement, a client that stopped reading while its sessions printed
 * a byte at a time made each check walk tens of thousands of packets: it
 * held the host's event loop at 100% for seconds, everyone's terminals with
 * it, until it was dropped.) `watch`: told, after the packet that took the
 * backlog past its bytes, so that answers already on their way (a burst of
 * replays) are checked too, not only the next request or output.
 * Idempotent; for each new connection.
 */
export function trackConnectionBacklog(socket: Socket, watch?: BacklogWatch): void {
  const connection = socket.conn as unknown as EngineConnection;
  if (queuedBytes.has(connection) || typeof connection.on !== 'function') return;
  const queued = { bytes: sumOf(connection.writeBuffer) };
  let told = false;
  connection.on('packetCreate', (packet) => {
    queued.bytes += packetBytes(packet);
    if (watch && !told && queued.bytes + (connection.transport?.socket?.bufferedAmount ?? 0) > watch.bytes) {
      told = true;
      queueMicrotask(() => {
        told = false;
        watch.exceeded();
      });
    }
  });
  connection.on('flush', (buffer) => {
    // engine.io hands its whole buffer to the transport (the event carries the buffer itself): nothing is left
    // waiting, whatever became of the packets' data meanwhile. A partial flush would take out what it holds.
    queued.bytes = buffer === connection.writeBuffer ? 0 : Math.max(0, queued.bytes - sumOf(buffer));
  });
  // engine.io empties a closed connection's buffer without a `flush`: from then on, the sum.
  connection.on('close', () => queuedBytes.delete(connection));
  queuedBytes.set(connection, queued);
}

/**
 * Bytes sent to this client that are still queued in the server: a client
 * that does not read its socket makes this grow without bound. Constant
 * time for a connection being tracked (`trackConnectionBacklog`); summed
 * packet by packet otherwise.
 */
export function connectionBacklogBytes(socket: Socket): number {
  const connection = socket.conn as unknown as EngineConnection;
  const inTransport = connection.transport?.socket?.bufferedAmount ?? 0;
  return inTransport + (queuedBytes.get(connection)?.bytes ?? sumOf(connection.writeBuffer));
}

/** What waits in the write buffer, summed packet by packet (tests: the tracked count must equal it). @internal */
export function writeBufferBytes(socket: Socket): number {
  return sumOf((socket.conn as unknown as EngineConnection).writeBuffer);
}

/** What waits in the write buffer as counted by `trackConnectionBacklog`; undefined for a connection not tracked. @internal */
export function trackedWriteBufferBytes(socket: Socket): number | undefined {
  return queuedBytes.get(socket.conn as unknown as EngineConnection)?.bytes;
}
