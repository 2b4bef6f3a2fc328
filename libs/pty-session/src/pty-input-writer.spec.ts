import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { PtyInputWriter } from './pty-input-writer.js';

/** A deterministic sequence in [0, 1): the same inputs, writes and reads in every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/**
 * A FIFO opened non-blocking at both ends stands for the pty's master: the
 * kernel takes at most its 64 KiB buffer, then EAGAIN, as from a program
 * that does not read; reading its other end is the program reading.
 */
function fifo(): { fd: number; readEnd: number } {
  const dir = mkdtempSync(join(tmpdir(), 'pty-input-writer-'));
  const path = join(dir, 'pty');
  execFileSync('mkfifo', [path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const readEnd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  cleanups.push(() => {
    closeSync(fd);
    closeSync(readEnd);
    rmSync(dir, { recursive: true, force: true });
  });
  return { fd, readEnd };
}

describe('PtyInputWriter', () => {
  it('gets every byte to the program in order through partial writes, waits and retries: keystrokes, pastes and refusals mixed', async () => {
    for (const seed of [1, 2, 3]) {
      const random = seeded(seed);
      const { fd, readEnd } = fifo();
      const pty = { fd, _socket: { destroyed: false }, write: () => expect('a direct write').toBe('not node-pty') };
      const writer = new PtyInputWriter(pty as never, 'session', 256 * 1024);
      const written: Buffer[] = [];
      const read: Buffer[] = [];
      const scratch = Buffer.alloc(256 * 1024);
      const programReads = (most: number) => {
        for (let total = 0; total < most; ) {
          let n = 0;
          try {
            n = readSync(readEnd, scratch, 0, Math.min(scratch.length, most - total), null);
          } catch {
            return; // EAGAIN: nothing more to read now
          }
          if (n <= 0) return;
          read.push(Buffer.from(scratch.subarray(0, n)));
          total += n;
        }
      };
      let refused = 0;
      let letter = 0;
      for (let step = 0; step < 1500; step++) {
        const what = random();
        if (what < 0.8) {
          // Mostly keystrokes (1-40 bytes), sometimes a paste of up to 40 KB.
          const length = random() < 0.9 ? 1 + Math.floor(random() * 40) : 1 + Math.floor(random() * 40_000);
          const text = Array.from({ length }, (_, i) => String.fromCharCode(97 + ((letter + i) % 26))).join('');
          try {
            writer.write(text);
            written.push(Buffer.from(text));
            letter += length;
          } catch (error) {
            expect((error as { code?: string }).code).toBe('INPUT_BACKLOG_FULL');
            refused++;
          }
        } else if (what < 0.83) {
          programReads(Math.floor(random() * 100_000));
        } else {
          await new Promise((resolve) => setTimeout(resolve, 2)); // the writer's retry timer runs
        }
      }
      for (let i = 0; i < 1000 && writer.backlogBytes > 0; i++) {
        programReads(1 << 20);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      programReads(1 << 24);
      expect(writer.backlogBytes).toBe(0);
      const expected = Buffer.concat(written);
      const got = Buffer.concat(read);
      expect(got.length).toBe(expected.length);
      expect(got.equals(expected)).toBe(true);
      // The case at stake: input waited, and some was refused.
      expect(expected.length).toBeGreaterThan(1024 * 1024);
      expect(refused).toBeGreaterThan(0);
      writer.close();
    }
  }, 60_000);
});
