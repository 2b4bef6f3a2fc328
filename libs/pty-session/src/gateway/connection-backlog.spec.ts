import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import type { Socket } from 'socket.io';
import { connectionBacklogBytes, trackConnectionBacklog, trackedWriteBufferBytes, writeBufferBytes } from './connection-backlog.js';

/**
 * engine.io's connection as far as the backlog goes: packets are pushed to
 * the write buffer with `packetCreate`, and handed to the transport with
 * `flush` while it is writable (engine.io's Socket.sendPacket and flush).
 */
class FakeEngineConnection extends EventEmitter {
  writeBuffer: Array<{ type: string; data?: unknown }> = [];
  transport = { writable: true, socket: { bufferedAmount: 0 } };

  send(data?: unknown): void {
    const packet = data === undefined ? { type: 'ping' } : { type: 'message', data };
    this.emit('packetCreate', packet);
    this.writeBuffer.push(packet);
    this.flush();
  }

  flush(): void {
    if (!this.transport.writable || this.writeBuffer.length === 0) return;
    this.emit('flush', this.writeBuffer);
    for (const packet of this.writeBuffer) this.transport.socket.bufferedAmount += typeof packet.data === 'string' ? packet.data.length : ((packet.data as Buffer | undefined)?.byteLength ?? 0);
    this.writeBuffer = [];
  }
}

const socketOf = (conn: FakeEngineConnection) => ({ conn }) as unknown as Socket;

describe('connectionBacklogBytes', () => {
  it('counts what waits in the write buffer and in the transport, tracked or summed', () => {
    const conn = new FakeEngineConnection();
    conn.transport.writable = false; // the transport is busy: packets wait in the write buffer
    conn.send('before tracking'); // 15
    const socket = socketOf(conn);
    expect(connectionBacklogBytes(socket)).toBe(15); // not tracked: summed
    expect(trackedWriteBufferBytes(socket)).toBeUndefined();

    trackConnectionBacklog(socket);
    trackConnectionBacklog(socket); // idempotent: one count
    conn.send(Buffer.alloc(1000));
    conn.send(); // a packet without data
    conn.send('x'.repeat(20));
    expect(trackedWriteBufferBytes(socket)).toBe(1035);
    expect(connectionBacklogBytes(socket)).toBe(writeBufferBytes(socket));

    // Written out to the transport: out of the write buffer, into the socket's bufferedAmount.
    conn.transport.writable = true;
    conn.flush();
    expect(writeBufferBytes(socket)).toBe(0);
    expect(connectionBacklogBytes(socket)).toBe(1035);
    conn.transport.socket.bufferedAmount = 0; // the kernel took it
    expect(connectionBacklogBytes(socket)).toBe(0);

    // Many small packets while the transport is busy, some flushes in between: the count follows.
    for (let i = 0; i < 10_500; i++) {
      conn.transport.writable = i % 1000 === 999;
      conn.send(`#${i}`);
    }
    expect(writeBufferBytes(socket)).toBeGreaterThan(0);
    expect(trackedWriteBufferBytes(socket)).toBe(writeBufferBytes(socket));
    expect(connectionBacklogBytes(socket)).toBe(writeBufferBytes(socket) + conn.transport.socket.bufferedAmount);
  });

  it('takes out what it counted when a packet leaves, even if its data changed while it waited', () => {
    const conn = new FakeEngineConnection();
    const socket = socketOf(conn);
    trackConnectionBacklog(socket);
    conn.transport.writable = false;
    const data = Buffer.alloc(100);
    conn.send(data);
    (conn.writeBuffer[0] as { data?: unknown }).data = data.subarray(0, 10); // shrunk while waiting
    conn.transport.writable = true;
    conn.flush();
    expect(trackedWriteBufferBytes(socket)).toBe(0);

    // An engine that handed the transport only part of its buffer: what it handed over leaves the count.
    conn.transport.writable = false;
    conn.send('first');
    conn.send('second');
    const [first, ...rest] = conn.writeBuffer;
    conn.emit('flush', [first]);
    conn.writeBuffer = rest;
    expect(trackedWriteBufferBytes(socket)).toBe(writeBufferBytes(socket));
  });

  it('stops counting a closed connection (engine.io empties its buffer without a flush): the sum again', () => {
    const conn = new FakeEngineConnection();
    const socket = socketOf(conn);
    trackConnectionBacklog(socket);
    conn.transport.writable = false;
    conn.send('waiting');
    conn.emit('close');
    conn.writeBuffer = [];
    expect(trackedWriteBufferBytes(socket)).toBeUndefined();
    expect(connectionBacklogBytes(socket)).toBe(0);
  });

  it('tells its watch, once per turn of the event loop, after a packet takes the backlog past its bytes', async () => {
    const conn = new FakeEngineConnection();
    let told = 0;
    trackConnectionBacklog(socketOf(conn), { bytes: 100, exceeded: () => told++ });
    conn.transport.writable = false;
    conn.send('x'.repeat(100)); // at the bytes, not past them
    await Promise.resolve();
    expect(told).toBe(0);
    conn.send('y');
    conn.send('z');
    expect(told).toBe(0); // after the packet: not in the middle of what sends it
    await Promise.resolve();
    expect(told).toBe(1);
    conn.send('again');
    await Promise.resolve();
    expect(told).toBe(2);
  });

  it("counts a connection once for all its sockets, and tells each connected socket's watch", async () => {
    const conn = new FakeEngineConnection();
    const socketOn = () => Object.assign(new EventEmitter(), { conn }) as unknown as Socket;
    const [first, second] = [socketOn(), socketOn()];
    const told: string[] = [];
    trackConnectionBacklog(first, { bytes: 10, exceeded: () => told.push('first') });
    trackConnectionBacklog(second, { bytes: 10, exceeded: () => told.push('second') });
    conn.transport.writable = false;
    conn.send('x'.repeat(20));
    expect(trackedWriteBufferBytes(second)).toBe(20);
    await Promise.resolve();
    expect(told).toEqual(['first', 'second']);
    (first as unknown as EventEmitter).emit('disconnect'); // it left: its watch with it
    conn.send('y');
    await Promise.resolve();
    expect(told).toEqual(['first', 'second', 'second']);
  });

  it('leaves a connection that is not engine.io-like to the sum (no events to listen to)', () => {
    const conn = { writeBuffer: [{ data: 'abc' }], transport: { socket: { bufferedAmount: 5 } } };
    const socket = { conn } as unknown as Socket;
    trackConnectionBacklog(socket);
    expect(connectionBacklogBytes(socket)).toBe(8);
  });
});
