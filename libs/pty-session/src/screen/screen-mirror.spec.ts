import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Terminal } from '@xterm/headless';
import { readdirSync, readFileSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { ScreenMirror, type ScreenChannel, type ScreenMirrorSettings } from './screen-mirror.js';
import type { ScreenWorkerRequest } from './screen-worker.js';
import { ScreenWorkerPool } from './screen-worker-pool.js';
import { SCREEN_MAX_CELL_TEXT_LENGTH, SCREEN_MAX_TITLE_LENGTH } from '../pty-session.constants.js';

type WriteRequest = Extract<ScreenWorkerRequest, { op: 'write' }>;

/** A posted request with its output decoded (the worker gets UTF-8 bytes), for comparing with literals. */
function decoded(request: ScreenWorkerRequest) {
  return request.op === 'write' ? { ...request, data: Buffer.from(request.data).toString('utf8') } : request;
}

/** A channel that records what the mirror posts, and the transfer list of each post; the test plays the worker. */
function fakeChannel() {
  const posted: ScreenWorkerRequest[] = [];
  const transfers: Array<ArrayBuffer[] | undefined> = [];
  const forgotten: ScreenMirror[] = [];
  const channel: ScreenChannel = {
    post: (r, transfer) => {
      posted.push(r);
      transfers.push(transfer);
    },
    forget: (m) => void forgotten.push(m),
  };
  const writeRequests = () => posted.filter((r): r is WriteRequest => r.op === 'write');
  return {
    channel,
    posted,
    transfers,
    forgotten,
    /** Everything posted after the open, output decoded. */
    after: () => posted.slice(1).map(decoded),
    writeRequests,
    writes: () => writeRequests().map(decoded),
  };
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

/** Writes `data` to a fresh headless terminal of that size and returns what `read` finds in it. */
async function afterWriting<T>(data: string, size: { cols: number; rows: number; scrollback?: number }, read: (term: Terminal) => T): Promise<T> {
  const term = new Terminal({ ...size, allowProposedApi: true, logLevel: 'off' });
  try {
    await new Promise<void>((resolve) => term.write(data, resolve));
    return read(term);
  } finally {
    term.dispose();
  }
}

function settings(overrides: Partial<ScreenMirrorSettings> = {}) {
  const pressure: boolean[] = [];
  return { pressure, settings: { scrollback: 100, maxCells: 1 << 20, maxLagBytes: 1000, snapshotTimeoutMs: 1000, onBackpressure: (p: boolean) => void pressure.push(p), ...overrides } };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('ScreenMirror', () => {
  it('opens its emulator at the size given and posts output once per turn of the event loop', async () => {
    const { channel, posted, writes, writeRequests } = fakeChannel();
    const mirror = new ScreenMirror('s1', 80, 24, channel, settings().settings);
    expect(posted[0]).toEqual({ op: 'open', id: 's1', cols: 80, rows: 24, scrollback: 100 });
    mirror.write(utf8('ab'));
    mirror.write(utf8('é'));
    expect(writes()).toEqual([]);
    await turn();
    expect(writes()).toEqual([{ op: 'write', id: 's1', data: 'abé', end: 4 }]);
    expect([...writeRequests()[0]!.data]).toEqual([0x61, 0x62, 0xc3, 0xa9]);
    expect(mirror.lagBytes).toBe(4);
    mirror.parsed(4);
    expect(mirror.lagBytes).toBe(0);
  });

  it('posts the output in memory of its own, exactly its bytes, listed in the transfer list (moved to the worker, not cloned)', async () => {
    const { channel, writeRequests, transfers, posted } = fakeChannel();
    const mirror = new ScreenMirror('s1', 80, 24, channel, settings().settings);
    // Reads are views of larger memory (a pooled Buffer, a slice of a read buffer): that memory must not be what is moved.
    const memory = Buffer.alloc(64, 0x2e);
    memory.write('→ok', 10, 'utf8');
    const view = memory.subarray(10, 15);
    expect(view.byteOffset).toBe(10);
    for (const batch of [[view], [view, utf8('✓'), memory.subarray(20, 22)]]) {
      for (const bytes of batch) mirror.write(bytes);
      await turn();
      const request = writeRequests().at(-1)!;
      const { data } = request;
      expect(data).toBeInstanceOf(Uint8Array);
      expect(data.byteOffset === 0 && data.buffer.byteLength === data.length).toBe(true);
      expect(Buffer.from(data).equals(Buffer.concat(batch))).toBe(true);
      const transfer = transfers[posted.indexOf(request)];
      expect(transfer).toHaveLength(1);
      expect(transfer![0]).toBe(data.buffer);
      expect(data.buffer).not.toBe(memory.buffer);
    }
    expect(writeRequests().map((r) => [Buffer.from(r.data).toString('utf8'), r.end])).toEqual([
      ['→ok', 5],
      ['→ok✓..', 15],
    ]);
  });

  it("moving the posted memory to a worker leaves the caller's buffers as they were", async () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const received: ScreenWorkerRequest[] = [];
      port2.on('message', (r: ScreenWorkerRequest) => void received.push(r));
      let posted: Uint8Array | undefined;
      const channel: ScreenChannel = {
        post: (r, transfer) => {
          if (r.op === 'write') posted = r.data;
          port1.postMessage(r, transfer);
        },
        forget: () => {},
      };
      const mirror = new ScreenMirror('s1', 80, 24, channel, settings().settings);
      const parts = [utf8('héllo '), utf8('😀')];
      for (const part of parts) mirror.write(part);
      await turn();
      expect(posted).toBeDefined();
      expect(posted!.buffer.byteLength).toBe(0); // moved: detached here
      expect(parts.map((p) => p.toString('utf8'))).toEqual(['héllo ', '😀']);
      for (let waited = 0; received.length < 2 && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(received.map(decoded)).toEqual([
        { op: 'open', id: 's1', cols: 80, rows: 24, scrollback: 100 },
        { op: 'write', id: 's1', data: 'héllo 😀', end: 11 },
      ]);
    } finally {
      port1.close();
    }
  });

  it('posts at once, without waiting for the turn, when 256 KiB are waiting', () => {
    const { channel, writeRequests } = fakeChannel();
    const mirror = new ScreenMirror('s1', 80, 24, channel, settings({ maxLagBytes: 1 << 30 }).settings);
    mirror.write(Buffer.alloc(256 * 1024 - 1, 0x61));
    expect(writeRequests()).toEqual([]);
    mirror.write(utf8('b'));
    expect(writeRequests().map((r) => [r.data.length, r.end])).toEqual([[256 * 1024, 256 * 1024]]);
    mirror.dispose();
  });

  it('a resize goes after the output before it', () => {
    const { channel, after } = fakeChannel();
    const mirror = new ScreenMirror('s1', 80, 24, channel, settings().settings);
    mirror.write(utf8('x'));
    mirror.resize(100, 30);
    expect(after()).toEqual([
      { op: 'write', id: 's1', data: 'x', end: 1 },
      { op: 'resize', id: 's1', cols: 100, rows: 30, scrollback: 100 },
    ]);
  });

  it('keeps the lines of scrollback that fit in maxCells beside the two screens, at its opening and at each resize', () => {
    const { channel, posted, after } = fakeChannel();
    const mirror = new ScreenMirror('s1', 100, 20, channel, settings({ scrollback: 500, maxCells: 10_000 }).settings);
    // 10,000 cells at 100 columns are 100 lines: 20 of the screen, 20 of the alternate screen, 60 of scrollback.
    expect(posted[0]).toEqual({ op: 'open', id: 's1', cols: 100, rows: 20, scrollback: 60 });
    mirror.resize(20, 20);
    mirror.resize(250, 40);
    expect(after()).toEqual([
      { op: 'resize', id: 's1', cols: 20, rows: 20, scrollback: 460 },
      { op: 'resize', id: 's1', cols: 250, rows: 40, scrollback: 0 },
    ]);
  });

  it('a snapshot is asked after all output so far, and carries the offset it shows', async () => {
    const { channel, after } = fakeChannel();
    const mirror = new ScreenMirror('s1', 80, 24, channel, settings().settings);
    mirror.write(utf8('hello'));
    const snapshot = mirror.snapshot();
    expect(after()).toEqual([
      { op: 'write', id: 's1', data: 'hello', end: 5 },
      { op: 'snapshot', id: 's1', request: 1, scrollback: 100 },
    ]);
    mirror.write(utf8('later')); // after the request: not in the snapshot's offset
    mirror.snapshotDone(1, { data: 'SCREEN', cols: 80, rows: 24 });
    await expect(snapshot).resolves.toEqual({ data: 'SCREEN', offset: 5, cols: 80, rows: 24 });
  });

  it('snapshots asked with no output in between share one request; output in between asks again', async () => {
    const { channel, after } = fakeChannel();
    const mirror = new ScreenMirror('s1', 80, 24, channel, settings().settings);
    mirror.write(utf8('hello'));
    const burst = Array.from({ length: 100 }, () => mirror.snapshot());
    mirror.write(utf8('!'));
    const later = mirror.snapshot();
    expect(after().filter((r) => r.op === 'snapshot')).toEqual([
      { op: 'snapshot', id: 's1', request: 1, scrollback: 100 },
      { op: 'snapshot', id: 's1', request: 2, scrollback: 100 },
    ]);
    mirror.snapshotDone(1, { data: 'SCREEN', cols: 80, rows: 24 });
    mirror.snapshotDone(2, { data: 'SCREEN!', cols: 80, rows: 24 });
    for (const snapshot of await Promise.all(burst)) expect(snapshot).toEqual({ data: 'SCREEN', offset: 5, cols: 80, rows: 24 });
    await expect(later).resolves.toEqual({ data: 'SCREEN!', offset: 6, cols: 80, rows: 24 });
    // Once answered, the next one is asked afresh; and one asked before a resize is not shared after it.
    const beforeResize = mirror.snapshot();
    mirror.resize(120, 40);
    const afterResize = mirror.snapshot();
    expect(afterResize).not.toBe(beforeResize);
    expect(after().filter((r) => r.op === 'snapshot')).toHaveLength(4);
    for (const pending of [beforeResize, afterResize]) pending.catch(() => {}); // rejected by the dispose below
    mirror.dispose();
  });

  it('pauses the pty when the emulator lags more than maxLagBytes, resumes when half is parsed', () => {
    const { channel } = fakeChannel();
    const { settings: s, pressure } = settings({ maxLagBytes: 1000 });
    const mirror = new ScreenMirror('s1', 80, 24, channel, s);
    mirror.write(utf8('a'.repeat(600)));
    mirror.snapshot().catch(() => {}); // posts now
    expect(pressure).toEqual([]);
    mirror.write(utf8('b'.repeat(600)));
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
    mirror.write(utf8('x'.repeat(20)));
    const pending = mirror.snapshot();
    expect(pressure).toEqual([true]);
    mirror.fail(new Error('worker died'));
    await expect(pending).rejects.toThrow('worker died');
    expect(pressure).toEqual([true, false]);
    await expect(mirror.snapshot()).rejects.toThrow('worker died');
    mirror.write(utf8('more'));
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
  const noPressure = { scrollback: 50, maxCells: 1 << 20, maxLagBytes: 1 << 20, snapshotTimeoutMs: 10_000, onBackpressure: () => {} };

  it('snapshots redraw what the emulator was fed, modes and alternate screen included', async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    const mirror = pool.open('a', 40, 10, noPressure);
    const output = 'shell line\r\n\x1b[?1049h\x1b[?1h\x1b[2J\x1b[H\x1b[1;31mTITLE\x1b[0m\x1b[5;3Hmiddle';
    mirror.write(utf8(output));
    const snapshot = await mirror.snapshot();
    expect(snapshot).toMatchObject({ offset: Buffer.byteLength(output), cols: 40, rows: 10 });

    const render = (data: string) =>
      afterWriting(data, { cols: 40, rows: 10 }, (term) => {
        const buffer = term.buffer.active;
        const rows = Array.from({ length: 10 }, (_, y) => buffer.getLine(y)?.translateToString(true) ?? '');
        return { type: buffer.type, rows, cursor: [buffer.cursorX, buffer.cursorY], appCursor: term.modes.applicationCursorKeysMode };
      });
    const expected = await render(output);
    expect(expected.type).toBe('alternate');
    expect(await render(snapshot.data)).toEqual(expected);
  });

  it('keeps sessions apart (two workers) and follows resizes in order', async () => {
    pool = new ScreenWorkerPool({ workers: 2, workerNice: 0 });
    const a = pool.open('a', 20, 5, noPressure);
    const b = pool.open('b', 20, 5, noPressure);
    a.write(utf8('AAA'));
    b.write(utf8('BBB'));
    a.resize(30, 6);
    const [sa, sb] = await Promise.all([a.snapshot(), b.snapshot()]);
    expect(sa).toMatchObject({ cols: 30, rows: 6, offset: 3 });
    expect(sa.data).toContain('AAA');
    expect(sa.data).not.toContain('BBB');
    expect(sb).toMatchObject({ cols: 20, rows: 5 });
    expect(sb.data).toContain('BBB');
    expect(a.lagBytes).toBe(0);
  });

  it('resizes in a burst end at the last size, in order with the output around them', async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    const mirror = pool.open('a', 20, 5, noPressure);
    const reference = new Terminal({ cols: 20, rows: 5, scrollback: 50, allowProposedApi: true });
    const steps: Array<string | [number, number]> = ['0123456789'.repeat(3)];
    for (let i = 0; i < 300; i++) steps.push([10 + (i % 37), 3 + (i % 11)]);
    steps.push('\r\nwrapped at 46 columns: ' + 'x'.repeat(60), [15, 4], [33, 9], 'tail\r\n', [12, 6]);
    // The reference takes the last size of each run of resizes: a size that no output followed shows in
    // nothing but the emulator's reflows, which the worker spares (a reflow per resize is what a flood costs).
    for (const [i, step] of steps.entries()) {
      if (typeof step === 'string') {
        mirror.write(utf8(step));
        await new Promise<void>((resolve) => reference.write(step, resolve));
      } else {
        mirror.resize(...step);
        if (typeof steps[i + 1] !== 'object') reference.resize(...step);
      }
    }
    const snapshot = await mirror.snapshot();
    expect(snapshot).toMatchObject({ cols: 12, rows: 6 });
    const screen = (term: Terminal) => Array.from({ length: term.buffer.active.length }, (_, y) => term.buffer.active.getLine(y)?.translateToString(true));
    const expected = screen(reference);
    reference.dispose();
    expect(await afterWriting(snapshot.data, { cols: 12, rows: 6, scrollback: 50 }, screen)).toEqual(expected);
  });

  it('a narrower resize from a screen with no room for scrollback keeps the emulator whole (xterm.js 6 reflow, found by fuzzing)', async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    // 1200 cells: 39x15 leaves no line of scrollback, 2x17 leaves 50.
    const mirror = pool.open('a', 20, 5, { ...noPressure, maxCells: 1200 });
    const other = pool.open('b', 20, 5, noPressure);
    other.write(utf8('other session'));
    mirror.resize(39, 15);
    mirror.write(utf8('\x1b[11H'));
    mirror.write(utf8('\n\nu\x1b[?1049h\x1b[?1049lqdwxsafh\n'));
    mirror.resize(2, 17);
    mirror.write(utf8('c'));
    // Before, the scrollback was raised after the reflow, and printing the "c" threw in the worker: it ended, and
    // every session on it lost its screen.
    expect(await mirror.snapshot()).toMatchObject({ cols: 2, rows: 17 });
    expect((await other.snapshot()).data).toContain('other session');
  });

  it('keeps at most SCREEN_MAX_CELL_TEXT_LENGTH code units of text in a cell, wherever xterm.js joins them; the layout is its own', async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    const mirror = pool.open('a', 60, 5, noPressure);
    const acute = '\u0301';
    const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}';
    const scotland = '\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}';
    // Bytes xterm.js ignores (DEL, the C1 string terminator, a CSI it does not know) do not end a join;
    // a CSI it knows does, and the marks after it take cells of their own.
    const outputs = [
      `a${acute.repeat(5000)}b e${acute} ${family} ${scotland} c${acute.repeat(6)}`,
      `${acute.repeat(6)}d x${`${acute.repeat(8)}\x7f\u009c\x1b[<<m`.repeat(100)}y z${acute.repeat(3)}\x1b[1m.\x1b[m.`,
    ];
    mirror.write(utf8(outputs[0]!));
    await turn();
    mirror.write(utf8(outputs[1]!));
    const firstRow = (term: Terminal) => {
      const line = term.buffer.active.getLine(0)!;
      return { cells: Array.from({ length: 60 }, (_, x) => line.getCell(x)?.getChars()), cursor: term.buffer.active.cursorX };
    };
    const drawn = await afterWriting((await mirror.snapshot()).data, { cols: 60, rows: 5 }, firstRow);
    // What xterm.js draws from the whole output, each cell's text cut to the limit.
    const direct = await afterWriting(outputs.join(''), { cols: 60, rows: 5 }, firstRow);
    expect(drawn).toEqual({ cells: direct.cells.map((chars) => chars?.slice(0, SCREEN_MAX_CELL_TEXT_LENGTH)), cursor: direct.cursor });
    expect(drawn.cells.slice(0, 4)).toEqual([`a${acute.repeat(SCREEN_MAX_CELL_TEXT_LENGTH - 1)}`, 'b', ' ', `e${acute}`]);
    expect(drawn.cells).toContain(scotland);
    expect(drawn.cells).toContain(`c${acute.repeat(12)}`);
    expect(drawn.cells).toContain(`x${acute.repeat(SCREEN_MAX_CELL_TEXT_LENGTH - 1)}`);
  });

  it('bounds counts that repeat work by what they can change (IL, DL, SU, SD, CHT, CBT, REP) and cuts long titles', async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    const mirror = pool.open('a', 20, 5, noPressure);
    const huge = 2_147_483_647;
    // Each at 2^31 - 1 looped for minutes (REP: allocated for every repetition) and held the worker's every session.
    const output = (count: (final: string) => number) =>
      Array.from({ length: 12 }, (_, i) => `line ${i}\r\n`).join('') +
      `\x1b[${count('S')}S\x1b[${count('T')}T\x1b[2;4r\x1b[3H\x1b[${count('L')}L\x1b[${count('M')}M\x1b[r` +
      `\x1b[Hab\x1b[${count('I')}Ix\x1b[${count('Z')}Zy ` +
      `\x1b]2;${'t'.repeat(10_000)}\x07\r\nq\x1b[${count('b')}b`;
    mirror.write(utf8(output(() => huge)));
    const snapshot = await mirror.snapshot();
    const whole = (term: Terminal) => ({
      lines: Array.from({ length: term.buffer.active.length }, (_, y) => term.buffer.active.getLine(y)?.translateToString(true)),
      cursor: [term.buffer.active.cursorX, term.buffer.active.cursorY],
    });
    const size = { cols: 20, rows: 5, scrollback: 50 };
    // What xterm.js draws with the counts at their bounds: the rows, the columns, and for REP whole lines of
    // screen and scrollback and one more, plus what is left of the count on the last line.
    const repeat = 20 * (5 + 50 + 1);
    const bounds: Record<string, number> = { L: 5, M: 5, S: 5, T: 5, I: 20, Z: 20, b: repeat + ((huge - repeat) % 20) };
    const expected = await afterWriting(output((final) => bounds[final]!), size, whole);
    expect(await afterWriting(snapshot.data, size, whole)).toEqual(expected);
    // And with counts past the bounds that xterm.js can follow to the letter, the very screen it draws.
    const other = pool.open('b', 20, 5, noPressure);
    other.write(utf8(output((final) => 5000 + final.charCodeAt(0))));
    const unbounded = await afterWriting(output((final) => 5000 + final.charCodeAt(0)), size, whole);
    expect(await afterWriting((await other.snapshot()).data, size, whole)).toEqual(unbounded);
    // REP, printed in slices, prints what xterm.js prints at once: in insert mode, of a wide character, of a
    // cell with marks.
    const sliced = `line 1\r\nline 2\x1b[H\x1b[4hab\x1b[700bc\x1b[4l\r\n\u4e2d\x1b[333b\r\ne\u0301\u0302\x1b[1000b.`;
    const third = pool.open('c', 20, 5, noPressure);
    third.write(utf8(sliced));
    expect(await afterWriting((await third.snapshot()).data, size, whole)).toEqual(await afterWriting(sliced, size, whole));
    expect(snapshot.data).toContain(`\x1b]2;${'t'.repeat(SCREEN_MAX_TITLE_LENGTH)}\x07`);
    expect(snapshot.data).not.toContain('t'.repeat(SCREEN_MAX_TITLE_LENGTH + 1));
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

  it("one session's emulator failing takes only that session's screen, not the worker's other sessions", async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    const a = pool.open('a', 20, 5, noPressure);
    const b = pool.open('b', 20, 5, noPressure);
    a.write(utf8('AAA'));
    b.write(utf8('BBB'));
    // What xterm.js throws past 50 MB waiting, made certain: a write it cannot take.
    (a as unknown as { channel: { post(r: unknown): void } }).channel.post({ op: 'write', id: 'a', data: null, end: 99 });
    await expect(a.snapshot()).rejects.toThrow('screen emulator failed');
    b.write(utf8(' more'));
    const snapshot = await b.snapshot();
    expect(snapshot.data).toContain('BBB more');
    expect(pool.open('c', 20, 5, noPressure)).toBeDefined(); // the same worker serves new sessions
  });

  it('puts the cursor back where it was, also after a full last row and in origin mode', async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    const cases = [
      // A full-width status bar on the last row, the cursor back at the top: the addon's relative move ends a column short.
      `\x1b[24;1H\x1b[7m${' status'.padEnd(80)}\x1b[0m\x1b[1;1Htop`,
      // Origin mode without a scroll region: the addon's ?6h homes the cursor.
      '\x1b[?6h\x1b[12;7Hmid',
      // Origin mode in a scroll region.
      '\x1b[5;20r\x1b[?6h\x1b[3;4Hin region',
      // Waiting to wrap at the end of a row: kept.
      `\x1b[10;1H${'w'.repeat(80)}`,
    ];
    for (const [i, output] of cases.entries()) {
      const mirror = pool.open(`cursor-${i}`, 80, 24, noPressure);
      mirror.write(utf8(output));
      const snapshot = await mirror.snapshot();
      // Where the next character lands.
      const cursorAfter = (data: string) =>
        afterWriting(data + 'Z', { cols: 80, rows: 24 }, ({ buffer: { active: buffer } }) => ({
          x: buffer.cursorX,
          y: buffer.cursorY,
          row: buffer.getLine(buffer.cursorY)?.translateToString(true),
        }));
      expect({ i, ...(await cursorAfter(snapshot.data)) }).toEqual({ i, ...(await cursorAfter(output)) });
    }
  });

  it("puts the cursor on the right row of a client's terminal taller than the session's (resizePolicy 'smallest')", async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    const mirror = pool.open('tall', 80, 24, noPressure);
    mirror.write(utf8(Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\r\n') + '\r\n$ '));
    const snapshot = await mirror.snapshot();
    for (const [cols, rows] of [[80, 24], [80, 40], [100, 30]] as const) {
      const line = await afterWriting(snapshot.data + 'Z', { cols, rows, scrollback: 200 }, ({ buffer: { active: buffer } }) =>
        buffer.getLine(buffer.baseY + buffer.cursorY)?.translateToString(true),
      );
      expect({ cols, rows, line }).toEqual({ cols, rows, line: '$ Z' });
    }
  });

  it("a snapshot taken in the alternate screen keeps the normal screen's scroll region for when the program leaves it", async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    const mirror = pool.open('regions', 80, 24, noPressure);
    const before = Array.from({ length: 30 }, (_, i) => `filler line ${i}`).join('\r\n');
    const output = `\x1b[3;20r${before}\x1b[?1049h\x1b[2J\x1b[Hfull screen`;
    mirror.write(utf8(output));
    const snapshot = await mirror.snapshot();
    const after = '\x1b[?1049l' + Array.from({ length: 10 }, (_, i) => `\r\nmore ${i}`).join('');
    const screenOf = (data: string) =>
      afterWriting(data + after, { cols: 80, rows: 24 }, ({ buffer: { active: buffer } }) =>
        Array.from({ length: 24 }, (_, y) => buffer.getLine(buffer.viewportY + y)?.translateToString(true)),
      );
    expect(await screenOf(snapshot.data)).toEqual(await screenOf(output));
  });

  it('a snapshot taken in the alternate screen: filled and left with the pen the program entered it with, not the one in use; the normal cursor kept; no stray fill', async () => {
    pool = new ScreenWorkerPool({ workers: 1, workerNice: 0 });
    const cases = [
      // A full-screen program caught between a colour and its text (a pty read can end there).
      { before: '\x1b[?1049h\x1b[H\x1b[2Jplain editor text\r\nsecond line \x1b[1;41m', after: 'ERROR\x1b[0m' },
      { before: '\x1b[?1049h\x1b[H\x1b[2Jfile line 1\r\nline 2\x1b[10;1H\x1b[7m', after: ' NORMAL  main.c \x1b[0m\x1b[1;1H' },
      // Entered with the cursor after a full row: the program finds the normal screen's cursor where it left it.
      { before: `${'-'.repeat(40)}\r\n\x1b[5C\x1b[?1049h\x1b[H\x1b[2Jin the editor`, after: '\x1b[?1049lZ' },
      // Entered with a pen of its own: the alternate screen was filled with its background, and the pen comes back on leaving.
      { before: '\x1b[44m\x1b[?1049h\x1b[Htitle', after: 'Z' },
      { before: '\x1b[31mred\x1b[?1049h\x1b[Hed', after: '\x1b[?1049lZ' },
      { before: '\x1b[1;38;2;10;200;30;48;5;100m\x1b[?1049h\x1b[0m\x1b[Hed', after: '\x1b[?1049lZ' },
      // Not the alternate screen: a wrapped line whose first row was erased (the addon's "ESC[0C" moved a column).
      { before: `${'x'.repeat(45)}\r\x1b[A\x1b[2K\x1b[B\x1b[6G`, after: 'Z' },
    ];
    /** Every cell's character, colours and boldness, and the cursor: what a client's terminal shows. */
    const shown = (data: string) =>
      afterWriting(data, { cols: 40, rows: 10 }, ({ buffer: { active: buffer } }) => ({
        cursor: [buffer.cursorX, buffer.cursorY],
        rows: Array.from({ length: 10 }, (_, y) => {
          const line = buffer.getLine(buffer.viewportY + y)!;
          return Array.from({ length: 40 }, (_, x) => {
            const cell = line.getCell(x)!;
            return `${cell.getChars() || ' '}${cell.getBgColor()}.${cell.getFgColor()}.${cell.isBold()}.${cell.isInverse()}`;
          }).join('|');
        }),
      }));
    for (const [i, { before, after }] of cases.entries()) {
      const mirror = pool.open(`alternate-${i}`, 40, 10, noPressure);
      mirror.write(utf8(before));
      const snapshot = await mirror.snapshot();
      expect({ i, ...(await shown(snapshot.data + after)) }).toEqual({ i, ...(await shown(before + after)) });
    }
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
