import { afterEach, describe, expect, it } from '@jest/globals';
import { Socket } from 'node:net';
import * as nodePty from 'node-pty';
import type { IPty } from 'node-pty';
import { readPtyAsBytes, readPtyIntoSharedMemory } from './pty-byte-output.js';

const ENV = { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };
/** Time a program sleeps after its output, so that node-pty reads all of it before the exit (microsoft/node-pty#72). */
const AFTER_OUTPUT_S = 0.3;

const spawned: IPty[] = [];

function spawn(script: string): IPty {
  const pty = nodePty.spawn('/bin/sh', ['-c', script], { name: 'xterm-256color', cols: 80, rows: 24, env: ENV });
  spawned.push(pty);
  return pty;
}

const exited = (pty: IPty) => new Promise<void>((resolve) => pty.onExit(() => resolve()));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** What `seq 1 n` shows through a terminal (onlcr: \n becomes \r\n). */
const seqText = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\r\n`).join('');

afterEach(() => {
  for (const pty of spawned.splice(0)) {
    try {
      pty.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

describe('readPtyIntoSharedMemory (real node-pty)', () => {
  it("gives every read to onRead, not to node-pty's onData, as a view of one memory that all ptys share", async () => {
    const lines = 30_000; // ~190 KB: many reads
    const ptys = [spawn(`seq 1 ${lines}; sleep ${AFTER_OUTPUT_S}`), spawn(`seq 1 ${lines}; sleep ${AFTER_OUTPUT_S}`)];
    const copies: Buffer[][] = [[], []];
    const memories = new Set<ArrayBufferLike>();
    let onDataCalls = 0;
    for (const [i, pty] of ptys.entries()) {
      expect(readPtyAsBytes(pty)).toBe(true);
      expect(
        readPtyIntoSharedMemory(pty, (read) => {
          memories.add(read.buffer);
          copies[i]!.push(Buffer.from(read)); // what a reader keeps, it copies
        }),
      ).toBe(true);
      pty.onData(() => onDataCalls++);
    }
    await Promise.all(ptys.map(exited));
    const expected = seqText(lines);
    for (const [i, reads] of copies.entries()) {
      expect({ i, reads: reads.length > 10, text: Buffer.concat(reads).toString() === expected }).toEqual({ i, reads: true, text: true });
    }
    expect(onDataCalls).toBe(0);
    expect(memories.size).toBe(1);
  });

  it('pause() holds the program (no read until resume()), and resume() brings the rest', async () => {
    const lines = 200_000; // ~1.3 MB: far more than the pty holds
    const pty = spawn(`seq 1 ${lines}; sleep ${AFTER_OUTPUT_S}`);
    const reads: Buffer[] = [];
    readPtyAsBytes(pty);
    readPtyIntoSharedMemory(pty, (read) => {
      reads.push(Buffer.from(read));
      if (reads.length === 1) pty.pause();
    });
    const exit = exited(pty);
    await sleep(300);
    const whilePaused = reads.length;
    await sleep(300);
    expect({ whilePaused, later: reads.length }).toEqual({ whilePaused: 1, later: 1 });
    pty.resume();
    await exit;
    expect(Buffer.concat(reads).toString() === seqText(lines)).toBe(true);
  });

  it('pause() right after the setup holds reading from the start', async () => {
    const pty = spawn(`printf start; seq 1 1000; sleep ${AFTER_OUTPUT_S}`);
    let reads = 0;
    readPtyAsBytes(pty);
    readPtyIntoSharedMemory(pty, () => reads++);
    pty.pause();
    await sleep(400);
    expect(reads).toBe(0);
    pty.resume();
    await exited(pty);
    expect(reads).toBeGreaterThan(0);
  });

  it('leaves alone a pty without the internals it needs, one already reading into memory, and a runtime whose useUserBuffer does nothing', () => {
    expect(readPtyIntoSharedMemory({} as IPty, () => {})).toBe(false);
    expect(readPtyIntoSharedMemory({ _socket: {} } as unknown as IPty, () => {})).toBe(false);
    // The same properties as a real socket, but a handle that only pretends: nothing is set.
    const real = new Socket();
    const socket: Record<string | symbol, unknown> = { _handle: { useUserBuffer: () => undefined }, read: () => null };
    for (const symbol of Object.getOwnPropertySymbols(real)) socket[symbol] = null;
    expect(readPtyIntoSharedMemory({ _socket: socket } as unknown as IPty, () => {})).toBe(false);
    expect(Object.getOwnPropertySymbols(socket).every((symbol) => socket[symbol] === null)).toBe(true);
    const pty = spawn(`sleep ${AFTER_OUTPUT_S}`);
    readPtyAsBytes(pty);
    expect(readPtyIntoSharedMemory(pty, () => {})).toBe(true);
    expect(readPtyIntoSharedMemory(pty, () => {})).toBe(false);
  });
});
