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

/** A tracked connection: the bytes in engine.io's write buffer, kept up to date by its events, and its sockets' watches. */
interface TrackedConnection {
  bytes: number;
  watches: Set<BacklogWatch>;
  /** A check is queued for this turn of the event loop. */
  told: boolean;
}

const tracked = new WeakMap<EngineConnection, TrackedConnection>();

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
 * replays) are checked too, not only the next request or output; kept for
 * as long as this socket is connected (the connection counts once for all
 * its sockets: namespaces, a socket that left and joined again).
 */
export function trackConnectionBacklog(socket: Socket, watch?: BacklogWatch): void {
  const connection = socket.conn as unknown as EngineConnection;
  if (typeof connection.on !== 'function') return;
  const entry = tracked.get(connection) ?? countFrom(connection);
  if (watch) {
    entry.watches.add(watch);
    socket.once?.('disconnect', () => entry.watches.delete(watch));
  }
}

/** What the WebSocket transport's socket holds that the kernel has not taken yet. */
function inTransport(connection: EngineConnection): number {
  return connection.transport?.socket?.bufferedAmount ?? 0;
}

function countFrom(connection: EngineConnection): TrackedConnection {
  const entry: TrackedConnection = { bytes: sumOf(connection.writeBuffer), watches: new Set(), told: false };
  const exceeded = (watch: BacklogWatch) => entry.bytes + inTransport(connection) > watch.bytes;
  const tell = () => {
    entry.told = false;
    for (const watch of [...entry.watches]) if (exceeded(watch)) watch.exceeded();
  };
  connection.on('packetCreate', (packet) => {
    entry.bytes += packetBytes(packet);
    if (entry.told) return;
    for (const watch of entry.watches) {
      if (exceeded(watch)) {
        entry.told = true;
        queueMicrotask(tell);
        return;
      }
    }
  });
  connection.on('flush', (buffer) => {
    // engine.io hands its whole buffer to the transport (the event carries the buffer itself): nothing is left
    // waiting, whatever became of the packets' data meanwhile. A partial flush would take out what it holds.
    entry.bytes = buffer === connection.writeBuffer ? 0 : Math.max(0, entry.bytes - sumOf(buffer));
  });
  // engine.io empties a closed connection's buffer without a `flush`: from then on, the sum.
  connection.on('close', () => tracked.delete(connection));
  tracked.set(connection, entry);
  return entry;
}

/**
 * Bytes sent to this client that are still queued in the server: a client
 * that does not read its socket makes this grow without bound. Constant
 * time for a connection being tracked (`trackConnectionBacklog`); summed
 * packet by packet otherwise.
 */
export function connectionBacklogBytes(socket: Socket): number {
  const connection = socket.conn as unknown as EngineConnection;
  return inTransport(connection) + (tracked.get(connection)?.bytes ?? sumOf(connection.writeBuffer));
}

/** What waits in the write buffer, summed packet by packet (tests: the tracked count must equal it). @internal */
export function writeBufferBytes(socket: Socket): number {
  return sumOf((socket.conn as unknown as EngineConnection).writeBuffer);
}

/** What waits in the write buffer as counted by `trackConnectionBacklog`; undefined for a connection not tracked. @internal */
export function trackedWriteBufferBytes(socket: Socket): number | undefined {
  return tracked.get(socket.conn as unknown as EngineConnection)?.bytes;
}
