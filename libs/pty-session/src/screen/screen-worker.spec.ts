import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { screenWorkerMain, type ScreenWorkerData, type ScreenWorkerRequest } from './screen-worker.js';

const KiB = 1024;

/** A screen worker running on the fake emulator, which reports what it was handed. */
function startWorker(parseAheadBytes: number) {
  const fake = fileURLToPath(new URL('../testing-fakes/fake-headless-terminal.cjs', import.meta.url));
  const workerData: ScreenWorkerData = { headlessPath: fake, serializePath: fake, nice: 0, parseAheadBytes, parsePieceBytes: 64 * KiB, maxCellTextLength: 16, maxTitleLength: 4096 };
  const worker = new Worker(`(${screenWorkerMain.toString()})()`, { eval: true, workerData });
  let handed = 0;
  const replies: Array<{ op: string; id?: string; end?: number }> = [];
  worker.on('message', (message: { op: string; bytes?: number }) => {
    if (message.op === 'handed') handed += message.bytes!;
    else replies.push(message);
  });
  const post = (request: ScreenWorkerRequest) => worker.postMessage(request);
  /** Resolves once the worker has answered a snapshot of a fresh screen: every request posted before it has been read. */
  const settled = async (id: string) => {
    post({ op: 'open', id, cols: 80, rows: 24, scrollback: 0 });
    post({ op: 'snapshot', id, request: 1, scrollback: 0 });
    while (!replies.some((r) => r.op === 'snapshot' && r.id === id)) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  return { worker, post, settled, replies, handed: () => handed };
}

describe('screen worker', () => {
  it('hands an emulator at most parseAheadBytes ahead of what it parsed, and drops the rest when the session closes', async () => {
    const { worker, post, settled, replies, handed } = startWorker(256 * KiB);
    try {
      post({ op: 'open', id: 'a', cols: 80, rows: 24, scrollback: 0 });
      const chunk = 64 * KiB;
      for (let n = 1; n <= 100; n++) post({ op: 'write', id: 'a', data: new Uint8Array(chunk), end: n * chunk });
      post({ op: 'close', id: 'a' });
      await settled('b');
      const handedAtClose = handed();
      // 6.25 MiB was posted; the emulator got a few writes' worth, and nothing after the close.
      expect(handedAtClose).toBeGreaterThanOrEqual(256 * KiB);
      expect(handedAtClose).toBeLessThan(1024 * KiB);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(handed()).toBe(handedAtClose);
      expect(replies.filter((r) => r.op === 'parsed' && r.id === 'a').length).toBeLessThan(16);
    } finally {
      await worker.terminate();
    }
  });

  it('goes on handing output as the emulator parses it, and answers a snapshot after all of it, in order', async () => {
    const { worker, post, replies, handed } = startWorker(128 * KiB);
    try {
      post({ op: 'open', id: 'a', cols: 80, rows: 24, scrollback: 0 });
      const chunk = 64 * KiB;
      for (let n = 1; n <= 8; n++) post({ op: 'write', id: 'a', data: new Uint8Array(chunk), end: n * chunk });
      post({ op: 'snapshot', id: 'a', request: 7, scrollback: 0 });
      while (!replies.some((r) => r.op === 'snapshot')) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(handed()).toBe(8 * chunk);
      const order = replies.map((r) => (r.op === 'parsed' ? r.end : r.op));
      expect(order).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => n * chunk).concat(['snapshot'] as never[]));
    } finally {
      await worker.terminate();
    }
  });

  it("an exception in one emulator's parsing (from its own timer) fails that session only; the worker and its other sessions go on", async () => {
    const { worker, post, replies } = startWorker(128 * KiB);
    let exited = false;
    worker.on('exit', () => (exited = true));
    try {
      post({ op: 'open', id: 'a', cols: 80, rows: 24, scrollback: 0 });
      post({ op: 'open', id: 'b', cols: 80, rows: 24, scrollback: 0 });
      post({ op: 'write', id: 'a', data: new Uint8Array([0xfe, 1, 2]), end: 3 });
      post({ op: 'write', id: 'a', data: new Uint8Array(10), end: 13 });
      post({ op: 'write', id: 'b', data: new Uint8Array(10), end: 10 });
      post({ op: 'snapshot', id: 'b', request: 1, scrollback: 0 });
      while (!replies.some((r) => r.op === 'snapshot')) await new Promise((resolve) => setTimeout(resolve, 5));
      post({ op: 'snapshot', id: 'a', request: 2, scrollback: 0 });
      while (replies.filter((r) => r.op === 'snapshot').length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(exited).toBe(false);
      expect(replies.filter((r) => r.id === 'a').map((r) => r.op)).toEqual(['failed', 'snapshot']);
      expect(replies.find((r) => r.op === 'failed')).toMatchObject({ error: expect.stringContaining('the fake parser failed') });
      // Session a parsed nothing more; its later snapshot finds no screen. Session b is whole.
      expect(replies.find((r) => r.op === 'snapshot' && r.id === 'a')).toMatchObject({ error: 'no such screen' });
      expect(replies.filter((r) => r.id === 'b').map((r) => (r.op === 'parsed' ? r.end : r.op))).toEqual([10, 'snapshot']);
    } finally {
      await worker.terminate();
    }
  });
});
