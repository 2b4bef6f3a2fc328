import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Terminal } from '@xterm/headless';
import { readdirSync, readFileSync } from 'node:fs';
import { ScreenMirror, type ScreenChannel, type ScreenMirrorSettings } from './screen-mirror.js';
import type { ScreenWorkerRequest } from './screen-worker.js';
import { ScreenWorkerPool } from './screen-worker-pool.js';

/** A channel that records what the mirror posts; the test plays the worker. */
function fakeChannel() {
  const posted: ScreenWorkerRequest[] = [];
  const forgotten: ScreenMirror[] = [];
  const channel: ScreenChannel = { post: (r) => void posted.push(r), forget: (m) => void forgotten.push(m) };
  return { channel, posted, forgotten, writes: () => posted.filter((r) => r.op === 'write') };
}

function settings(overrides: Partial<ScreenMirrorSettings> = {}) {
  const pressure: boolean[] = [];
  return { pressure, settings: { scrollback: 100, maxLagBytes: 1000, snapshotTimeoutMs: 1000, onBackpressure: (p: boolean) => void pressure.push(p), ...overrides } };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('ScreenMirror', () => {
  it('opens its emulator at the size given and posts output once per turn of the event loop', async () => {
    const { channel, posted, writes } = fakeChannel();
    const mirror = new ScreenMirror('s1', 80, 24, channel, settings().settings);
    expect(posted[0]).toEqual({ op: 'open', id: 's1', cols: 80, rows: 24, scrollback: 100 });
    mirror.write('ab', 2);
    mirror.write('é', 2);
    expect(writes()).toEqual([]);
    await turn();
    expect(writes()).toEqual([{ op: 'write', id: 's1', data: 'abé', end: 4 }]);
    expect(mirror.lagBytes).toBe(4);
    mirror.parsed(4);
    expect(mirror.lagBytes).toBe(0);
  });

  it('a resize goes after the output before it', () => {
    const { channel, posted } = fakeChannel();
    const mirror = new ScreenMirror('s1', 80, 24, channel, settings().settings);
    mirror.write('x', 1);
    mirror.resize(100, 30);
    expect(posted.slice(1)).toEqual([
      { op: 'write', id: 's1', data: 'x', end: 1 },
      { op: 'resize', id: 's1', cols: 100, rows: 30 },
    ]);
  });

  it('a snapshot is asked after all output so far, and carries the offset it shows', async () => {
    const { channel, posted } = fakeChannel();
    const mirror = new ScreenMirror('s1', 80, 24, channel, settings().settings);
    mirror.write('hello', 5);
    const snapshot = mirror.snapshot();
    expect(posted.slice(1)).toEqual([
      { op: 'write', id: 's1', data: 'hello', end: 5 },
      { op: 'snapshot', id: 's1', request: 1, scrollback: 100 },
    ]);
    mirror.write('later', 5); // after the request: not in the snapshot's offset
    mirror.snapshotDone(1, { data: 'SCREEN', cols: 80, rows: 24 });
    await expect(snapshot).resolves.toEqual({ data: 'SCREEN', offset: 5, cols: 80, rows: 24 });
  });

  it('pauses the pty when the emulator lags more than maxLagBytes, resumes when half is parsed', () => {
    const { channel } = fakeChannel();
    const { settings: s, pressure } = settings({ maxLagBytes: 1000 });
    const mirror = new ScreenMirror('s1', 80, 24, channel, s);
    mirror.write('a'.repeat(600), 600);
    mirror.snapshot().catch(() => {}); // posts now
    expect(pressure).toEqual([]);
    mirror.write('b'.repeat(600), 600);
    mirror.resize(81, 24); // posts: lag 1200 > 1000
    expect(pressure).toEqual([true]);
    mirror.parsed(600); // lag 600 > 500: still paused
    expect(pressure).toEqual([true]);
    mirror.parsed(1200);
    expect(pressure).toEqual([true, false]);
    mirror.dispose();
  });

  it('rejects a snapshot that does not come within snapshotTimeoutMs', async () => {
    jest.useFakeTimers();
    try {
      const { channel } = fakeChannel();
      const mirror = new ScreenMirror('s1', 80, 24, channel, settings({ snapshotTimeoutMs: 50 }).settings);
      const snapshot = mirror.snapshot();
      jest.advanceTimersByTime(60);
      await expect(snapshot).rejects.toThrow('no snapshot within 50 ms');
      mirror.snapshotDone(1, { data: 'late', cols: 80, rows: 24 }); // ignored
    } finally {
      jest.useRealTimers();
    }
  });

  it('after a worker failure: snapshots reject, a paused pty is resumed, output is dropped', async () => {
    const { channel, writes } = fakeChannel();
    const { settings: s, pressure } = settings({ maxLagBytes: 10 });
    const mirror = new ScreenMirror('s1', 80, 24, channel, s);
    mirror.write('x'.repeat(20), 20);
    const pending = mirror.snapshot();
    expect(pressure).toEqual([true]);
    mirror.fail(new Error('worker died'));
    await expect(pending).rejects.toThrow('worker died');
    expect(pressure).toEqual([true, false]);
    await expect(mirror.snapshot()).rejects.toThrow('worker died');
    mirror.write('more', 4);
    await turn();
    expect(writes()).toHaveLength(1);
  });

  it('dispose closes the emulator once, rejects waiting snapshots and leaves the channel', async () => {
    const { channel, posted, forgotten } = fakeChannel();
    const mirror = new ScreenMirror('s1', 80, 24, channel, settings().settings);
    const pending = mirror.snapshot();
    mirror.dispose();
    mirror.dispose();
    await expect(pending).rejects.toThrow('screen disposed');
    expect(posted.filter((r) => r.op === 'close')).toEqual([{ op: 'close', id: 's1' }]);
    expect(forgotten).toEqual([mirror]);
  });
});

describe('ScreenWorkerPool (a real worker thread)', () => {
  let pool: ScreenWorkerPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });
  const noPressure = { scrollback: 50, maxLagBytes: 1 << 20, snapshotTimeoutMs: 10_000, onBackpressure: () => {} };

  it('snapshots redraw what the emulator was fed, modes and alternate screen included', async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    const mirror = pool.open('a', 40, 10, noPressure);
    const output = 'shell line\r\n\x1b[?1049h\x1b[?1h\x1b[2J\x1b[H\x1b[1;31mTITLE\x1b[0m\x1b[5;3Hmiddle';
    mirror.write(output, Buffer.byteLength(output));
    const snapshot = await mirror.snapshot();
    expect(snapshot).toMatchObject({ offset: Buffer.byteLength(output), cols: 40, rows: 10 });

    const render = async (data: string) => {
      const term = new Terminal({ cols: 40, rows: 10, allowProposedApi: true });
      await new Promise<void>((resolve) => term.write(data, resolve));
      const buffer = term.buffer.active;
      const rows = Array.from({ length: 10 }, (_, y) => buffer.getLine(y)?.translateToString(true) ?? '');
      const state = { type: buffer.type, rows, cursor: [buffer.cursorX, buffer.cursorY], appCursor: term.modes.applicationCursorKeysMode };
      term.dispose();
      return state;
    };
    const expected = await render(output);
    expect(expected.type).toBe('alternate');
    expect(await render(snapshot.data)).toEqual(expected);
  });

  it('keeps sessions apart (two workers) and follows resizes in order', async () => {
    pool = new ScreenWorkerPool({ workers: 2, workerNice: 0 });
    const a = pool.open('a', 20, 5, noPressure);
    const b = pool.open('b', 20, 5, noPressure);
    a.write('AAA', 3);
    b.write('BBB', 3);
    a.resize(30, 6);
    const [sa, sb] = await Promise.all([a.snapshot(), b.snapshot()]);
    expect(sa).toMatchObject({ cols: 30, rows: 6, offset: 3 });
    expect(sa.data).toContain('AAA');
    expect(sa.data).not.toContain('BBB');
    expect(sb).toMatchObject({ cols: 20, rows: 5 });
    expect(sb.data).toContain('BBB');
    expect(a.lagBytes).toBe(0);
  });

  it('lowers the priority of its worker threads only (Linux: the niceness of one thread of this process)', async () => {
    const niceness = () =>
      readdirSync('/proc/self/task').map((tid) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[16]));
    expect(niceness().filter((n) => n === 7)).toEqual([]);
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 7 });
    await pool.open('a', 20, 5, noPressure).snapshot();
    expect(niceness().filter((n) => n === 7)).toHaveLength(1);
    expect(niceness().filter((n) => n === 0).length).toBeGreaterThan(0); // the event loop's thread and the others keep theirs
  });

  it('when the pool stops, waiting and later snapshots reject (the gateway then replays raw)', async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    const mirror = pool.open('a', 20, 5, noPressure);
    await mirror.snapshot();
    const stopping = pool.close();
    await expect(mirror.snapshot()).rejects.toThrow('screen worker stopped');
    await stopping;
    expect(() => pool!.open('b', 20, 5, noPressure)).toThrow('screen workers stopped');
  });
});
