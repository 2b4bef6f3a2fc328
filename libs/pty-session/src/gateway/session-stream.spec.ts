import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { PtyWireExitEvent, PtyWireOutput } from 'nestjs-pty-session-client/protocol';
import type { PtyReplaySlice } from '../interfaces/pty-session-info.interface.js';
import { attachOutputText, outputBytes } from '../output-text.js';
import { PtySession } from '../pty-session.js';
import { exitAllFakePtys, FakePty, flushImmediates } from '../testing-fakes/fake-pty.js';
import { expectThrowsCode, mulberry32, randomSequence } from '../testing-fakes/test-helpers.js';
import { ScreenMirror, type ScreenChannel } from '../screen/screen-mirror.js';
import { SessionStream, type SessionStreamSettings, type SessionStreamTransport } from './session-stream.js';

/** A raw-mode attach answer as the slice it was made from (these tests predate the wire form). */
function sliceOf(replay: PtyWireOutput | Promise<PtyWireOutput>): PtyReplaySlice {
  if (replay instanceof Promise) throw new Error('expected a raw replay, got a snapshot promise');
  const { offset, byteLength, reset } = replay;
  return attachOutputText({ offset, endOffset: offset + byteLength, truncated: reset === true }, outputBytes(replay) ?? Buffer.from(replay.data, 'utf8'));
}

/** The batch size of these tests; the time window is off (0) unless a test sets one. */
const OUTPUT_BATCH_MAX_BYTES = 128 * 1024;

// ---------------------------------------------------------------------------
// Fakes and helpers
// ---------------------------------------------------------------------------

type Call = { kind: 'output'; ids: string[]; output: PtyWireOutput } | { kind: 'exit'; ids: string[]; exit: PtyWireExitEvent };

/** Records every call; `onCall` lets a test model its clients synchronously. */
class RecordingTransport implements SessionStreamTransport {
  readonly calls: Call[] = [];
  /** The output objects themselves, in order (calls keep copies). */
  readonly sentObjects: PtyWireOutput[] = [];
  onCall?: (call: Call) => void;

  output(socketIds: readonly string[], output: PtyWireOutput): void {
    this.sentObjects.push(output);
    const call: Call = { kind: 'output', ids: [...socketIds], output: { ...output } };
    this.calls.push(call);
    this.onCall?.(call);
  }

  exit(socketIds: readonly string[], exit: PtyWireExitEvent): void {
    const call: Call = { kind: 'exit', ids: [...socketIds], exit: { ...exit } };
    this.calls.push(call);
    this.onCall?.(call);
  }

  outputCalls(): Array<{ ids: string[]; output: PtyWireOutput }> {
    return this.calls.flatMap((c) => (c.kind === 'output' ? [{ ids: c.ids, output: c.output }] : []));
  }

  exitCalls(): Array<{ ids: string[]; exit: PtyWireExitEvent }> {
    return this.calls.flatMap((c) => (c.kind === 'exit' ? [{ ids: c.ids, exit: c.exit }] : []));
  }

  /** What one socket received, in order. */
  eventsFor(id: string): Call[] {
    return this.calls.filter((c) => c.ids.includes(id));
  }

  outputsFor(id: string): PtyWireOutput[] {
    return this.eventsFor(id).flatMap((c) => (c.kind === 'output' ? [c.output] : []));
  }

  textFor(id: string): string {
    return this.outputsFor(id)
      .map((o) => o.data)
      .join('');
  }

  clear(): void {
    this.calls.length = 0;
  }
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Lets every chain of `setImmediate` callbacks queued so far (a few levels deep) run. */
async function settle(levels = 5): Promise<void> {
  for (let i = 0; i < levels; i++) await flushImmediates();
}

let sessionCounter = 0;

interface SetupOptions {
  replayBufferBytes?: number;
  high?: number;
  low?: number;
  ackInterval?: number;
  resizePolicy?: 'latest' | 'smallest';
  maxClientsPerSession?: number;
  batchWindowMs?: number;
  /** outputBatching.busyBytes: 0 (every message opens a window) unless set. */
  busyBytes?: number;
  /** flowControl.pauseProgram (off in these tests unless set: most test what a paused client misses). */
  pauseProgram?: boolean;
  /** Screen replay mode, with an emulator the test plays (see `screen.answer`). */
  screen?: boolean;
}

/** The screen mode's emulator, played by the test: it records snapshot requests and answers them on demand. */
function fakeScreen() {
  const requests: number[] = [];
  let mirror: ScreenMirror | undefined;
  const channel: ScreenChannel = {
    post: (request) => {
      if (request.op === 'snapshot') requests.push(request.request);
    },
    forget: () => {},
  };
  return {
    requests,
    open: (cols: number, rows: number, onBackpressure: (paused: boolean) => void) =>
      (mirror = new ScreenMirror('fake', cols, rows, channel, { scrollback: 10, maxCells: 1 << 20, maxLagBytes: 1 << 30, snapshotTimeoutMs: 10_000, onBackpressure })),
    /** Answers the oldest waiting request with `data` (or fails it). */
    answer(data: string | Error) {
      const request = requests.shift()!;
      mirror!.snapshotDone(request, data instanceof Error ? { error: data.message } : { data, cols: 80, rows: 24 });
    },
  };
}

function setup(options: SetupOptions = {}) {
  const pty = new FakePty({ cols: 80, rows: 24 });
  const screen = fakeScreen();
  const session = new PtySession(pty, {
    id: `session-${++sessionCounter}`,
    ...(options.screen ? { openScreen: screen.open } : {}),
    replayBufferBytes: options.replayBufferBytes ?? 64 * 1024,
    maxInputBacklogBytes: 1024 * 1024,
    idleTimeoutMs: 0,
    maxCols: 500,
    maxRows: 200,
    hangupGracePeriodMs: 10,
    terminateGracePeriodMs: 10,
    killTimeoutMs: 10,
  });
  const high = options.high ?? 1_000_000;
  const settings: SessionStreamSettings = {
    flowControl: {
      highWaterMarkBytes: high,
      lowWaterMarkBytes: options.low ?? Math.floor(high / 4),
      ackIntervalBytes: options.ackInterval ?? Math.floor(high / 16),
      pauseProgram: options.pauseProgram ?? false,
    },
    outputBatching: { windowMs: options.batchWindowMs ?? 0, maxBytes: OUTPUT_BATCH_MAX_BYTES, busyBytes: options.busyBytes ?? 0 },
    resizePolicy: options.resizePolicy ?? 'latest',
    maxClientsPerSession: options.maxClientsPerSession ?? 10,
    maxCols: 500,
    maxRows: 200,
  };
  const transport = new RecordingTransport();
  const removed: string[] = [];
  const emptied: SessionStream[] = [];
  const makeStream = () =>
    new SessionStream(
      session,
      transport,
      settings,
      (socketId) => removed.push(socketId),
      (s) => emptied.push(s),
    );
  const stream = makeStream();
  return { pty, session, settings, transport, removed, emptied, stream, makeStream, screen };
}

afterEach(async () => {
  exitAllFakePtys();
  await settle();
});

// ---------------------------------------------------------------------------
// Fan-out and batching
// ---------------------------------------------------------------------------

describe('SessionStream: fan-out and batching', () => {
  it('sends output read in one turn as one message, encoded once for every in-step viewer', async () => {
    const { pty, session, stream, transport } = setup();
    for (const id of ['a', 'b', 'c']) stream.addViewer(id, undefined, {});
    pty.emitData('one ');
    pty.emitData('two ');
    pty.emitData('three');
    expect(transport.calls).toEqual([]); // not before the immediate
    await settle();
    expect(transport.calls).toEqual([
      { kind: 'output', ids: ['a', 'b', 'c'], output: { sessionId: session.id, offset: 0, byteLength: 13, data: 'one two three' } },
    ]);
    pty.emitData('four');
    await settle();
    expect(transport.calls).toHaveLength(2);
    expect(transport.calls[1]).toEqual({ kind: 'output', ids: ['a', 'b', 'c'], output: { sessionId: session.id, offset: 13, byteLength: 4, data: 'four' } });
  });

  it('sends the first output after a quiet moment on the next turn, and batches what follows within the window', async () => {
    const { pty, stream, transport } = setup({ batchWindowMs: 40 });
    stream.addViewer('a', undefined, {});
    pty.emitData('k');
    await flushImmediates();
    expect(transport.outputCalls().map((c) => c.output.data)).toEqual(['k']);
    // Right after a message: held for the rest of the window, then sent as one.
    pty.emitData('1');
    await flushImmediates();
    pty.emitData('2');
    await flushImmediates();
    expect(transport.outputCalls()).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(transport.outputCalls().map((c) => c.output.data)).toEqual(['k', '12']);
    // After a quiet window: at once again.
    await new Promise((resolve) => setTimeout(resolve, 60));
    pty.emitData('e');
    await flushImmediates();
    expect(transport.outputCalls().map((c) => c.output.data)).toEqual(['k', '12', 'e']);
  });

  it('flushes at once when a batch reaches OUTPUT_BATCH_MAX_BYTES, without waiting for the immediate', async () => {
    const { pty, stream, transport } = setup({ replayBufferBytes: 2 * OUTPUT_BATCH_MAX_BYTES });
    stream.addViewer('a', undefined, {});
    const piece = 'x'.repeat(50 * 1024);
    pty.emitData(piece);
    pty.emitData(piece);
    expect(transport.calls).toHaveLength(0);
    pty.emitData(piece); // 150 KiB > 128 KiB: the first two go out, this one starts the next batch
    expect(transport.outputCalls()).toHaveLength(1);
    const first = transport.outputCalls()[0].output;
    expect(first.offset).toBe(0);
    expect(first.byteLength).toBe(2 * piece.length);
    // Up to the cap exactly: out at once, with nothing past it.
    pty.emitData('y'.repeat(OUTPUT_BATCH_MAX_BYTES - piece.length));
    expect(transport.outputCalls().map((c) => c.output.byteLength)).toEqual([2 * piece.length, OUTPUT_BATCH_MAX_BYTES]);
    pty.emitData('tail');
    await settle();
    const outputs = transport.outputCalls().map((c) => c.output);
    expect(outputs.at(-1)!.data.endsWith('tail')).toBe(true);
    expect(outputs.map((o) => o.data).join('')).toBe(piece.repeat(3) + 'y'.repeat(OUTPUT_BATCH_MAX_BYTES - piece.length) + 'tail');
    for (let i = 1; i < outputs.length; i++) expect(outputs[i].offset).toBe(outputs[i - 1].offset + outputs[i - 1].byteLength);
  });

  it('caps a batch at half its session buffer, so that a viewer paused at one batch catches up exactly', async () => {
    const piece = 'x'.repeat(8 * 1024);
    // maxBytes is 128 KiB; this session buffers 64 KiB: its batches hold at most 32 KiB.
    const { pty, stream, transport } = setup({ replayBufferBytes: 64 * 1024, high: 64 * 1024, low: 32 * 1024, ackInterval: 1024 });
    stream.addViewer('fast', undefined, {});
    stream.addViewer('slow', undefined, {});
    const fastKeepsUp = () => {
      const last = transport.outputsFor('fast').at(-1);
      if (last) stream.acknowledge('fast', last.offset + last.byteLength);
    };
    // 96 KiB read in one turn of the event loop: three batches, not one.
    for (let i = 0; i < 12; i++) {
      pty.emitData(piece);
      fastKeepsUp();
    }
    await settle();
    expect(transport.outputsFor('fast').map((o) => o.byteLength)).toEqual([32 * 1024, 32 * 1024, 32 * 1024]);
    // The slow viewer, its acknowledgements still on their way, was paused at the third: it missed one batch.
    expect(transport.outputsFor('slow').map((o) => o.byteLength)).toEqual([32 * 1024, 32 * 1024]);
    stream.acknowledge('slow', 64 * 1024);
    const catchUp = transport.outputsFor('slow').at(-1)!;
    expect(catchUp).toMatchObject({ offset: 64 * 1024, byteLength: 32 * 1024 });
    expect(catchUp.reset).toBeUndefined();
    expect(transport.textFor('slow')).toBe(piece.repeat(12));
  });

  it('counts offsets and byteLength in UTF-8 bytes for multi-byte characters', async () => {
    const { pty, session, stream, transport } = setup();
    stream.addViewer('a', undefined, {});
    const chunks = ['é', '€uro', '😀', 'a😀é€', '\u{10FFFF}z'];
    let expectedOffset = 0;
    for (const chunk of chunks) {
      pty.emitData(chunk);
      await settle();
      const last = transport.outputCalls().at(-1)!.output;
      expect(last.data).toBe(chunk);
      expect(last.offset).toBe(expectedOffset);
      expect(last.byteLength).toBe(Buffer.byteLength(last.data));
      expectedOffset += bytes(chunk);
    }
    expect(session.outputOffset).toBe(expectedOffset);
    // A batch of several multi-byte chunks too.
    pty.emitData('ü');
    pty.emitData('😀😀');
    await settle();
    const batch = transport.outputCalls().at(-1)!.output;
    expect(batch).toMatchObject({ offset: expectedOffset, data: 'ü😀😀' });
    expect(batch.byteLength).toBe(Buffer.byteLength(batch.data));
    expect(batch.byteLength).toBe(10);
  });

  it('returns the replay on attach, and live output continues exactly at its end', async () => {
    const { pty, stream, transport } = setup();
    pty.emitData('before ');
    const replay = sliceOf(stream.addViewer('a', undefined, {}));
    expect(replay).toEqual({ data: 'before ', offset: 0, endOffset: 7, truncated: false });
    pty.emitData('after');
    await settle();
    expect(transport.outputsFor('a')).toEqual([expect.objectContaining({ offset: 7, byteLength: 5, data: 'after' })]);
  });

  it('gives a pending batch to the viewers already there before a new viewer attaches, so the new replay has no gap or duplicate', async () => {
    const { pty, stream, transport } = setup();
    stream.addViewer('a', undefined, {});
    pty.emitData('pending'); // not yet sent
    const replay = sliceOf(stream.addViewer('b', 3, {}));
    // 'a' got the pending batch synchronously, before the attach answer.
    expect(transport.outputsFor('a')).toEqual([expect.objectContaining({ offset: 0, data: 'pending' })]);
    expect(replay).toEqual({ data: 'ding', offset: 3, endOffset: 7, truncated: false });
    pty.emitData('!');
    await settle();
    expect(transport.outputCalls().at(-1)).toEqual({ ids: ['a', 'b'], output: expect.objectContaining({ offset: 7, data: '!' }) });
    expect(transport.outputsFor('b')).toHaveLength(1);
  });

  it('attach with since beyond the output is INVALID_OFFSET and adds no viewer', () => {
    const { pty, session, stream } = setup();
    pty.emitData('abc');
    expectThrowsCode(() => stream.addViewer('a', 4, {}), 'INVALID_OFFSET');
    expect(stream.hasViewer('a')).toBe(false);
    expect(session.attachedClients).toBe(0);
  });

  it('never pauses the process with pauseProgram off (the setting of these tests)', async () => {
    const { pty, stream } = setup({ high: 100, low: 50, ackInterval: 10 });
    stream.addViewer('a', undefined, {});
    for (let i = 0; i < 10; i++) {
      pty.emitData('y'.repeat(80));
      await settle();
    }
    expect(pty.paused).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// Flow control
// ---------------------------------------------------------------------------

describe('SessionStream: per-viewer flow control', () => {
  /** Three viewers sent 0..600 and paused there; 600..900 is buffered behind them. */
  async function threePausedAt600(replayBufferBytes = 64 * 1024) {
    const setUp = setup({ high: 500, low: 200, ackInterval: 100, replayBufferBytes });
    const { pty, stream, transport } = setUp;
    for (const id of ['a', 'b', 'c']) stream.addViewer(id, undefined, {});
    let all = '';
    for (const text of ['x'.repeat(300), 'y'.repeat(300), 'z'.repeat(300)]) {
      all += text;
      pty.emitData(text);
      await settle();
    }
    for (const id of ['a', 'b', 'c']) expect(bytes(transport.textFor(id))).toBe(600);
    return { ...setUp, all };
  }

  it('a client coming back with output it has not processed yet (acked < since) has it counted as unacknowledged, up to a high mark and a buffer', async () => {
    const { pty, stream, transport } = setup({ high: 500, low: 200, ackInterval: 100, replayBufferBytes: 1024 });
    pty.emitData('x'.repeat(900));
    await settle();
    // Back from a drop at 900, its terminal still parsing from 700: 200 bytes count as sent and not acknowledged.
    stream.addViewer('back', 900, {}, 700);
    expect(stream.unacknowledgedOf('back')).toBe(200);
    // So it reaches the high mark 200 bytes sooner than a client that had processed all: paused after 300 more, not 500.
    pty.emitData('y'.repeat(300));
    await settle();
    pty.emitData('z'.repeat(10));
    await settle();
    expect(transport.textFor('back')).toBe('y'.repeat(300));
    // Claiming to have processed nothing counts at most a high mark and a buffer (1524 bytes), not 900 + 310.
    const other = setup({ high: 500, low: 200, ackInterval: 100, replayBufferBytes: 1024 });
    other.pty.emitData('x'.repeat(3000));
    await settle();
    other.stream.addViewer('claims', 3000, {}, 0);
    expect(other.stream.unacknowledgedOf('claims')).toBe(500 + 1024);
    // A replay that is a reset (100 fell out of the buffer) starts over: the replay is counted, nothing before it.
    other.stream.addViewer('reset', 100, {}, 0);
    expect(other.stream.unacknowledgedOf('reset')).toBe(1024);
  });

  it('makes one catch-up for the viewers resuming from the same offset: one read of the buffer, one message object', async () => {
    const { session, stream, transport, all } = await threePausedAt600();
    const reads = jest.spyOn(session, 'getReplayBuffer');
    for (const id of ['a', 'b', 'c']) stream.acknowledge(id, 600);
    expect(reads).toHaveBeenCalledTimes(1);
    const catchUps = transport.sentObjects.slice(-3);
    expect(catchUps[1]).toBe(catchUps[0]);
    expect(catchUps[2]).toBe(catchUps[0]);
    expect(catchUps[0]).toEqual({ sessionId: session.id, offset: 600, byteLength: 300, data: 'z'.repeat(300) });
    for (const id of ['a', 'b', 'c']) expect(transport.textFor(id)).toBe(all);
  });

  it('keeps the shared catch-up only while a viewer is still paused (a quiet session holds no second copy of its buffer)', async () => {
    const { stream } = await threePausedAt600();
    // Private state, read on purpose: what is retained is the point of this test.
    const retained = () => (stream as unknown as { lastCatchUp?: unknown }).lastCatchUp;
    stream.acknowledge('a', 600);
    stream.acknowledge('b', 600);
    expect(retained()).toBeDefined(); // 'c' is still paused
    stream.acknowledge('c', 600);
    expect(retained()).toBeUndefined();
  });

  it('makes a new catch-up once output came, or the buffer was cleared, since the last one', async () => {
    const { pty, session, stream, transport, all } = await threePausedAt600();
    stream.acknowledge('a', 600);
    pty.emitData('more');
    stream.acknowledge('b', 600); // its catch-up includes 'more' (the pending batch went to 'a' first)
    expect(transport.textFor('a')).toBe(`${all}more`);
    expect(transport.textFor('b')).toBe(`${all}more`);
    expect(transport.sentObjects.at(-1)).toMatchObject({ offset: 600, byteLength: 304 });
    session.clearBuffer();
    stream.acknowledge('c', 600); // 600.. is gone: a reset with what the buffer holds (nothing)
    expect(transport.outputsFor('c').at(-1)).toEqual({ sessionId: session.id, offset: 904, byteLength: 0, data: '', reset: true });
  });

  it('sends while unacknowledged < high and pauses at high (the batch that would pass it is still sent)', async () => {
    const { pty, stream, transport } = setup({ high: 1000, low: 300, ackInterval: 100 });
    stream.addViewer('a', undefined, {});
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      pty.emitData('z'.repeat(400));
      await settle();
      sizes.push(transport.outputsFor('a').length);
    }
    // unacknowledged before each batch: 0, 400, 800 (< 1000: sent), 1200 (paused), paused.
    expect(sizes).toEqual([1, 2, 3, 3, 3]);
  });

  it('pauses exactly when unacknowledged reaches high', async () => {
    const { pty, stream, transport } = setup({ high: 1000, low: 300, ackInterval: 100 });
    stream.addViewer('a', undefined, {});
    pty.emitData('k'.repeat(500));
    await settle();
    pty.emitData('k'.repeat(499));
    await settle();
    pty.emitData('k');
    await settle(); // 999 < 1000: sent
    expect(transport.outputsFor('a')).toHaveLength(3);
    pty.emitData('k');
    await settle(); // 1000: paused
    expect(transport.outputsFor('a')).toHaveLength(3);
  });

  it('a paused viewer never holds up the others', async () => {
    const { pty, stream, transport } = setup({ high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('slow', undefined, {});
    stream.addViewer('fast', undefined, {});
    let all = '';
    for (let i = 0; i < 20; i++) {
      const text = `line ${i} ${'-'.repeat(90)}\r\n`;
      all += text;
      pty.emitData(text);
      await settle();
      const last = transport.outputsFor('fast').at(-1)!;
      stream.acknowledge('fast', last.offset + last.byteLength);
    }
    expect(transport.textFor('fast')).toBe(all);
    expect(bytes(transport.textFor('slow'))).toBeLessThan(600);
    // Once paused, the slow viewer is simply not among the recipients: one call per batch still.
    for (const call of transport.outputCalls().slice(-5)) expect(call.ids).toEqual(['fast']);
  });

  it('resumes a paused viewer exactly at its sentOffset when the data is still buffered', async () => {
    const { pty, session, stream, transport } = setup({ high: 500, low: 200, ackInterval: 100, replayBufferBytes: 64 * 1024 });
    stream.addViewer('a', undefined, {});
    let all = '';
    for (let i = 0; i < 6; i++) {
      const text = `${i}`.repeat(300);
      all += text;
      pty.emitData(text);
      await settle();
    }
    const sent = transport.outputsFor('a');
    const sentOffset = sent.at(-1)!.offset + sent.at(-1)!.byteLength;
    expect(sentOffset).toBe(600); // 0 -> 300 -> 600, then paused
    // Acknowledging something still above low keeps it paused.
    stream.acknowledge('a', 300);
    expect(transport.outputsFor('a')).toHaveLength(sent.length);
    stream.acknowledge('a', 450); // 150 <= low: catch up
    const catchUp = transport.outputsFor('a').at(-1)!;
    expect(catchUp).toEqual({ sessionId: session.id, offset: 600, byteLength: session.outputOffset - 600, data: all.slice(600) });
    expect(catchUp.reset).toBeUndefined();
    expect(transport.textFor('a')).toBe(all);
    // ...and it is in step again: the next batch goes to it with the others.
    stream.acknowledge('a', session.outputOffset);
    pty.emitData('next');
    await settle();
    expect(transport.outputsFor('a').at(-1)).toMatchObject({ offset: all.length, data: 'next' });
  });

  it('brings a paused viewer whose offset was evicted back with reset: true and the buffer from its start', async () => {
    const { pty, session, stream, transport } = setup({ high: 500, low: 200, ackInterval: 100, replayBufferBytes: 1024 });
    stream.addViewer('a', undefined, {});
    for (let i = 0; i < 10; i++) {
      pty.emitData(String.fromCharCode(65 + i).repeat(300));
      await settle();
    }
    expect(transport.outputsFor('a').length).toBe(2);
    stream.acknowledge('a', 600);
    const last = transport.outputsFor('a').at(-1)!;
    const buffered = session.getReplayBuffer();
    expect(buffered.truncated).toBe(true);
    expect(last).toEqual({ sessionId: session.id, offset: buffered.offset, byteLength: buffered.endOffset - buffered.offset, data: buffered.data, reset: true });
    expect(last.offset).toBeGreaterThan(600);
    // Its acknowledgements now count from the reset: acking the end is valid, an old one is ignored.
    stream.acknowledge('a', 100);
    stream.acknowledge('a', session.outputOffset);
  });

  it('after a reset, unacknowledged bytes count from the reset, not from the last ack before it', async () => {
    const { pty, session, stream, transport } = setup({ high: 2000, low: 800, ackInterval: 100, replayBufferBytes: 1024 });
    stream.addViewer('a', undefined, {});
    for (let i = 0; i < 4; i++) {
      pty.emitData('s'.repeat(700));
      await settle();
    }
    expect(transport.outputsFor('a')).toHaveLength(3); // 0, 700, 1400 < 2000; then 2100: paused
    for (let i = 0; i < 4; i++) {
      pty.emitData('t'.repeat(700));
      await settle();
    }
    stream.acknowledge('a', 1400); // 700 <= low: catch up, from an evicted offset
    const reset = transport.outputsFor('a').at(-1)!;
    expect(reset.reset).toBe(true);
    expect(reset.offset + reset.byteLength).toBe(session.outputOffset);
    expect(reset.byteLength).toBeLessThan(2000);
    // In step again with fewer than `high` bytes unacknowledged since the reset: the next batch goes to it.
    pty.emitData('u');
    await settle();
    expect(transport.outputsFor('a').at(-1)).toMatchObject({ offset: session.outputOffset - 1, data: 'u' });
  });

  it('an ack beyond what was sent is INVALID_OFFSET (also while paused); an older ack is ignored', async () => {
    const { pty, session, stream, transport } = setup({ high: 600, low: 300, ackInterval: 100 });
    stream.addViewer('a', undefined, {});
    pty.emitData('a'.repeat(900));
    await settle();
    expectThrowsCode(() => stream.acknowledge('a', 901), 'INVALID_OFFSET');
    stream.acknowledge('a', 500); // unacknowledged 400
    stream.acknowledge('a', 100); // older: ignored (would make it 800 >= 600)
    pty.emitData('b'.repeat(10));
    await settle();
    expect(transport.outputsFor('a')).toHaveLength(2); // sent: 400 < 600
    // Now 510 unacknowledged: the next batch is sent, the one after that pauses it.
    pty.emitData('c'.repeat(200));
    await settle();
    pty.emitData('d');
    await settle();
    expect(transport.outputsFor('a')).toHaveLength(3);
    // Paused with sentOffset 1110 while the session is at 1111: 1111 was never sent to it.
    expect(session.outputOffset).toBe(1111);
    expectThrowsCode(() => stream.acknowledge('a', 1111), 'INVALID_OFFSET');
    expectThrowsCode(() => stream.acknowledge('nobody', 0), 'NOT_ATTACHED');
  });

  it('a client with ackInterval > low can stall (why the options forbid it): the deadlock check is not vacuous', async () => {
    const { pty, stream, transport } = setup({ high: 1000, low: 300, ackInterval: 500 });
    stream.addViewer('a', undefined, {});
    pty.emitData('q'.repeat(1400));
    await settle();
    pty.emitData('r'.repeat(100));
    await settle(); // 1400 unacknowledged: paused
    stream.acknowledge('a', 1000); // the client acks at multiples of 500; 400 > low stays paused
    await settle();
    expect(bytes(transport.textFor('a'))).toBe(1400);
  });
});

// ---------------------------------------------------------------------------
// Exit
// ---------------------------------------------------------------------------

describe('SessionStream: exit', () => {
  it('sends the exit after the last output, then removes the viewer and releases the session', async () => {
    const { pty, session, stream, transport, removed, emptied } = setup();
    stream.addViewer('a', undefined, {});
    stream.addViewer('b', undefined, {});
    pty.emitData('bye');
    pty.emitExit(3);
    pty.emitData(' late'); // node-pty can deliver output after its exit event
    await settle();
    expect(transport.calls.map((c) => c.kind)).toEqual(['output', 'exit']);
    expect(transport.outputCalls()[0]).toEqual({ ids: ['a', 'b'], output: expect.objectContaining({ data: 'bye late', offset: 0 }) });
    expect(transport.exitCalls()[0]).toEqual({
      ids: ['a', 'b'],
      exit: { sessionId: session.id, exitCode: 3, reason: 'exited', exitedAt: expect.any(Number) },
    });
    expect(removed).toEqual(['a', 'b']);
    expect(stream.viewerCount).toBe(0);
    expect(emptied).toEqual([stream]);
    expect(session.attachedClients).toBe(0);
  });

  it('output that follows the exit event in the same turn still goes out before the exit', async () => {
    const { pty, stream, transport } = setup();
    stream.addViewer('a', undefined, {});
    pty.emitExit(0); // node-pty reports the exit...
    pty.emitData('trailing'); // ...and then the last output it read
    await settle();
    expect(transport.calls.map((c) => c.kind)).toEqual(['output', 'exit']);
    expect(transport.textFor('a')).toBe('trailing');
  });

  it('gives a paused viewer its exit only after it has caught up; the others get it at once', async () => {
    const { pty, stream, transport, removed } = setup({ high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('slow', undefined, {});
    stream.addViewer('fast', undefined, {});
    for (let i = 0; i < 4; i++) {
      pty.emitData('w'.repeat(300));
      await settle();
      stream.acknowledge('fast', (i + 1) * 300);
    }
    pty.emitExit(0);
    await settle();
    expect(transport.eventsFor('fast').at(-1)!.kind).toBe('exit');
    expect(transport.eventsFor('slow').some((c) => c.kind === 'exit')).toBe(false);
    expect(stream.hasViewer('slow')).toBe(true);
    expect(removed).toEqual(['fast']);

    stream.acknowledge('slow', 600);
    const slowEvents = transport.eventsFor('slow');
    expect(slowEvents.at(-2)).toMatchObject({ kind: 'output', output: { offset: 600, byteLength: 600 } });
    expect(slowEvents.at(-1)!.kind).toBe('exit');
    expect(bytes(transport.textFor('slow'))).toBe(1200);
    expect(removed).toEqual(['fast', 'slow']);
    expect(stream.viewerCount).toBe(0);
  });

  it('a paused viewer that already has everything gets only its exit when it acknowledges', async () => {
    const { pty, stream, transport } = setup({ high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('a', undefined, {});
    pty.emitData('m'.repeat(600));
    await settle();
    pty.emitExit(0);
    await settle();
    expect(transport.exitCalls()).toHaveLength(1); // in step with nothing more to send: it has all the output
    // Now one that is paused by the final batch.
    const second = setup({ high: 500, low: 200, ackInterval: 100 });
    second.stream.addViewer('b', undefined, {});
    second.pty.emitData('n'.repeat(600));
    await settle();
    second.pty.emitData('o');
    second.pty.emitExit(0);
    await settle();
    expect(second.transport.exitCalls()).toHaveLength(0);
    second.stream.acknowledge('b', 600);
    expect(second.transport.calls.map((c) => c.kind)).toEqual(['output', 'output', 'exit']);
    expect(second.transport.outputCalls()[1].output).toMatchObject({ offset: 600, data: 'o' });
  });

  it('an exited session attached later gets its replay in the answer and the exit on a later turn, not synchronously', async () => {
    const { pty, session, makeStream, transport, removed, emptied } = setup();
    pty.emitData('final words');
    pty.emitExit(0);
    await settle();
    expect(session.status).toBe('exited');
    const stream = makeStream(); // like the gateway: a stream made for this attach
    const replay = sliceOf(stream.addViewer('late', undefined, {}));
    expect(replay).toEqual({ data: 'final words', offset: 0, endOffset: 11, truncated: false });
    expect(transport.calls).toEqual([]);
    await Promise.resolve();
    await Promise.resolve();
    expect(transport.calls).toEqual([]);
    await settle();
    expect(transport.calls).toEqual([{ kind: 'exit', ids: ['late'], exit: expect.objectContaining({ sessionId: session.id, exitCode: 0 }) }]);
    expect(removed).toEqual(['late']);
    expect(emptied).toEqual([stream]);
  });

  it('a viewer attaching to a stream whose session has exited (another viewer still paused) gets the exit on the next turn', async () => {
    const { pty, stream, transport } = setup({ high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('paused', undefined, {});
    pty.emitData('p'.repeat(600));
    await settle();
    pty.emitData('q');
    pty.emitExit(0);
    await settle();
    expect(stream.hasViewer('paused')).toBe(true);
    stream.addViewer('new', 0, {});
    expect(transport.eventsFor('new')).toEqual([]);
    await settle();
    expect(transport.eventsFor('new')).toEqual([expect.objectContaining({ kind: 'exit' })]);
    expect(stream.hasViewer('paused')).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// Viewers: re-attach, limit, resize, dispose
// ---------------------------------------------------------------------------

describe('SessionStream: viewers', () => {
  it('re-attach by the same socket replaces its viewer (one attachment, one copy of the output, not paused)', async () => {
    const { pty, session, stream, transport } = setup({ high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('a', undefined, {});
    pty.emitData('x'.repeat(600));
    await settle();
    pty.emitData('y');
    await settle(); // paused
    expect(transport.outputsFor('a')).toHaveLength(1);
    const replay = sliceOf(stream.addViewer('a', 600, {}));
    expect(replay).toMatchObject({ offset: 600, data: 'y', truncated: false });
    expect(stream.viewerCount).toBe(1);
    expect(session.attachedClients).toBe(1);
    pty.emitData('z');
    await settle();
    expect(transport.outputCalls().at(-1)).toEqual({ ids: ['a'], output: expect.objectContaining({ offset: 601, data: 'z' }) });
  });

  it('refuses a client above maxClientsPerSession with CLIENT_LIMIT_REACHED, but lets an attached one re-attach', () => {
    const { session, stream } = setup({ maxClientsPerSession: 2 });
    stream.addViewer('a', undefined, {});
    stream.addViewer('b', undefined, {});
    const error = expectThrowsCode(() => stream.addViewer('c', undefined, {}), 'CLIENT_LIMIT_REACHED');
    expect(error.message).toContain('2');
    expect(stream.hasViewer('c')).toBe(false);
    expect(session.attachedClients).toBe(2);
    stream.addViewer('a', 0, {});
    expect(stream.viewerCount).toBe(2);
    stream.removeViewer('b');
    stream.addViewer('c', undefined, {});
    expect(stream.viewerCount).toBe(2);
  });

  it("resize policy 'latest': the session takes the size of the latest client; when that client leaves, the one that sized it before", () => {
    const { pty, session, stream } = setup({ resizePolicy: 'latest' });
    stream.addViewer('a', undefined, { cols: 100, rows: 30 });
    expect([session.cols, session.rows]).toEqual([100, 30]);
    stream.addViewer('b', undefined, {});
    stream.addViewer('c', undefined, {});
    expect([session.cols, session.rows]).toEqual([100, 30]);
    expect(stream.resize('b', 60, 50)).toMatchObject({ cols: 60, rows: 50 });
    expect(stream.resize('a', 120, 40)).toMatchObject({ cols: 120, rows: 40 });
    stream.removeViewer('c'); // never sized it: nothing changes
    expect([session.cols, session.rows]).toEqual([120, 40]);
    stream.removeViewer('a');
    expect([session.cols, session.rows]).toEqual([60, 50]);
    stream.addViewer('a', undefined, { cols: 90, rows: 20 });
    stream.addViewer('b', undefined, {}); // attaches again without a size: keeps its size and its place
    expect(stream.resize('a', 100, 25)).toMatchObject({ cols: 100, rows: 25 });
    stream.removeViewer('a');
    expect([session.cols, session.rows]).toEqual([60, 50]);
    stream.removeViewer('b'); // the last one: the size stays
    expect([session.cols, session.rows]).toEqual([60, 50]);
    expect(pty.resizes).toEqual([
      [100, 30],
      [60, 50],
      [120, 40],
      [60, 50],
      [90, 20],
      [100, 25],
      [60, 50],
    ]);
  });

  it("resize policy 'latest': a client coming back after a drop (resume) keeps its place among the sizers, on a new connection", () => {
    const { pty, session, stream } = setup({ resizePolicy: 'latest' });
    stream.addViewer('b', undefined, { cols: 80, rows: 24 });
    const b = stream.sizedAtOf('b')!;
    stream.addViewer('a', undefined, { cols: 132, rows: 43 }); // the client in use sized it last
    const a = stream.sizedAtOf('a')!;
    expect(a).toBeGreaterThan(b);

    // b's connection drops and comes back: the session keeps a's size.
    stream.removeViewer('b');
    stream.addViewer('b2', 0, { cols: 80, rows: 24, resume: b });
    expect([session.cols, session.rows]).toEqual([132, 43]);
    expect(stream.sizedAtOf('b2')).toBe(b);

    // a's connection drops: the session goes to b's size meanwhile, and back to a's when a resumes.
    stream.removeViewer('a');
    expect([session.cols, session.rows]).toEqual([80, 24]);
    stream.addViewer('a2', 0, { cols: 132, rows: 43, resume: a });
    expect([session.cols, session.rows]).toEqual([132, 43]);

    // A number from the future counts as the latest sizing so far, no later: it takes nothing from a2, and a resize after it wins.
    stream.addViewer('c', 0, { cols: 70, rows: 20, resume: Number.MAX_SAFE_INTEGER });
    expect([session.cols, session.rows]).toEqual([132, 43]);
    expect(stream.resize('b2', 100, 30)).toMatchObject({ cols: 100, rows: 30 });
    stream.removeViewer('b2');
    expect([session.cols, session.rows]).toEqual([132, 43]);
    expect(pty.resizes).toEqual([
      [132, 43], // (the session started at 80x24)
      [80, 24],
      [132, 43],
      [100, 30],
      [132, 43],
    ]);
  });

  it("resize policy 'latest': a client alone that comes back after its stream ended takes back its size from one that left meanwhile", () => {
    const { session, stream, makeStream } = setup({ resizePolicy: 'latest' });
    stream.addViewer('a', undefined, { cols: 100, rows: 30 });
    const a = stream.sizedAtOf('a')!;
    stream.removeViewer('a'); // the last viewer: the stream ends, and the gateway makes a new one
    const next = makeStream();
    next.addViewer('a2', 0, { cols: 100, rows: 30, resume: a });
    next.addViewer('c', undefined, { cols: 60, rows: 15 });
    expect([session.cols, session.rows]).toEqual([60, 15]);
    next.removeViewer('c');
    expect([session.cols, session.rows]).toEqual([100, 30]);
  });

  it("resize policy 'latest': a resume on the same connection keeps a later sizing of it; a resumed number ties lose to a sizing made here; an old connection and its resumed one agree", () => {
    const { session, stream } = setup({ resizePolicy: 'latest' });
    stream.addViewer('a', undefined, { cols: 100, rows: 30 });
    const a1 = stream.sizedAtOf('a')!;
    stream.addViewer('b', undefined, { cols: 80, rows: 24 });
    stream.resize('a', 120, 40); // its answer not read yet when a gap makes the client re-attach with the older number
    stream.addViewer('a', 0, { cols: 120, rows: 40, resume: a1 });
    expect([session.cols, session.rows]).toEqual([120, 40]);
    stream.removeViewer('a'); // b alone: its size
    expect([session.cols, session.rows]).toEqual([80, 24]);

    // A number from the future ties with the latest sizing at most, and loses the tie, whatever the order of joining.
    stream.addViewer('x', undefined, {});
    stream.addViewer('c', undefined, { cols: 132, rows: 43 });
    stream.addViewer('x', 0, { cols: 70, rows: 20, resume: Number.MAX_SAFE_INTEGER });
    expect([session.cols, session.rows]).toEqual([132, 43]);

    stream.removeViewer('x');

    // c back on a new connection before the server saw the old one go: same place, same size.
    const c = stream.sizedAtOf('c')!;
    stream.addViewer('c2', 0, { cols: 132, rows: 43, resume: c });
    stream.removeViewer('c');
    expect([session.cols, session.rows]).toEqual([132, 43]);
  });

  it("resize policy 'smallest': a resuming client's size counts as any client's", () => {
    const { session, stream } = setup({ resizePolicy: 'smallest' });
    stream.addViewer('a', undefined, { cols: 132, rows: 43 });
    stream.addViewer('b', 0, { cols: 80, rows: 24, resume: 1 });
    expect([session.cols, session.rows]).toEqual([80, 24]);
  });

  it("resize policy 'smallest': the smallest cols and rows of the clients that sent a size, recomputed on detach", () => {
    const { session, stream } = setup({ resizePolicy: 'smallest' });
    stream.addViewer('a', undefined, { cols: 100, rows: 30 });
    expect([session.cols, session.rows]).toEqual([100, 30]);
    stream.addViewer('b', undefined, { cols: 80, rows: 40 });
    expect([session.cols, session.rows]).toEqual([80, 30]);
    stream.addViewer('c', undefined, {}); // no size: not counted
    expect([session.cols, session.rows]).toEqual([80, 30]);
    expect(stream.resize('a', 200, 100)).toMatchObject({ cols: 80, rows: 40 });
    stream.removeViewer('b');
    expect([session.cols, session.rows]).toEqual([200, 100]);
    stream.removeViewer('a');
    expect([session.cols, session.rows]).toEqual([200, 100]); // nobody sized left: unchanged
  });

  it("resize policy 'smallest': re-attaching without a size leaves the session's size consistent with the clients' sizes", () => {
    const { session, stream } = setup({ resizePolicy: 'smallest' });
    stream.addViewer('a', undefined, { cols: 40, rows: 10 });
    stream.addViewer('b', undefined, { cols: 100, rows: 30 });
    expect([session.cols, session.rows]).toEqual([40, 10]);
    stream.addViewer('a', undefined, {}); // same socket attaches again, without a size
    // Fails today: addViewer replaces a sized viewer by an unsized one without re-applying the
    // 'smallest' policy, so the session stays 40x10 although no recorded size says so.
    const afterReattach = [session.cols, session.rows];
    // 'b' sends the size it already had: by the policy nothing may change.
    stream.resize('b', 100, 30);
    expect([session.cols, session.rows]).toEqual(afterReattach);
  });

  it('checks sizes: INVALID_SIZE on attach and resize, NOT_ATTACHED for a stranger', () => {
    const { session, stream } = setup();
    expectThrowsCode(() => stream.addViewer('a', undefined, { cols: 0, rows: 10 }), 'INVALID_SIZE');
    expectThrowsCode(() => stream.addViewer('a', undefined, { cols: 501, rows: 10 }), 'INVALID_SIZE');
    expectThrowsCode(() => stream.addViewer('a', undefined, { cols: 80 }), 'INVALID_SIZE');
    expect(stream.viewerCount).toBe(0);
    expect(session.attachedClients).toBe(0);
    stream.addViewer('a', undefined, {});
    expectThrowsCode(() => stream.resize('a', 80.5, 24), 'INVALID_SIZE');
    expectThrowsCode(() => stream.resize('a', 80, 201), 'INVALID_SIZE');
    expectThrowsCode(() => stream.resize('a', 80, -1), 'INVALID_SIZE');
    expectThrowsCode(() => stream.resize('b', 80, 24), 'NOT_ATTACHED');
    expect([session.cols, session.rows]).toEqual([80, 24]);
  });

  it('disposes when the last viewer leaves: the session output no longer reaches the transport', async () => {
    const { pty, session, stream, transport, emptied } = setup();
    stream.addViewer('a', undefined, {});
    stream.addViewer('b', undefined, {});
    stream.removeViewer('a');
    stream.removeViewer('a'); // idempotent
    expect(emptied).toEqual([]);
    stream.removeViewer('b');
    expect(emptied).toEqual([stream]);
    expect(session.attachedClients).toBe(0);
    pty.emitData('nobody listens');
    pty.emitExit(0);
    await settle();
    expect(transport.calls).toEqual([]);
    stream.dispose();
    expect(emptied).toHaveLength(1);
  });

  it('dispose cancels the immediate it scheduled (fake timers)', () => {
    jest.useFakeTimers();
    try {
      const { pty, stream, transport } = setup();
      stream.addViewer('a', undefined, {});
      pty.emitData('scheduled');
      expect(jest.getTimerCount()).toBe(1);
      stream.dispose();
      expect(jest.getTimerCount()).toBe(0);
      jest.runAllTimers();
      expect(transport.calls).toEqual([]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('dispose removes its listeners from the session', () => {
    const { session, stream } = setup();
    // White box: PtySession's listener sets (a disposed stream must hold none).
    const listeners = session as unknown as { outputListeners: { size: number }; exitListeners: { size: number } };
    const before = { output: listeners.outputListeners.size, exit: listeners.exitListeners.size };
    expect(before.output).toBeGreaterThan(0);
    expect(before.exit).toBeGreaterThan(0);
    stream.addViewer('a', undefined, {});
    stream.dispose();
    expect({ output: listeners.outputListeners.size, exit: listeners.exitListeners.size }).toEqual({ output: 0, exit: 0 });
  });

  it('dispose clears a scheduled immediate and detaches everyone', async () => {
    const { pty, session, stream, transport, emptied } = setup();
    stream.addViewer('a', undefined, {});
    stream.addViewer('b', undefined, {});
    pty.emitData('scheduled');
    stream.dispose();
    expect(session.attachedClients).toBe(0);
    expect(stream.viewerCount).toBe(0);
    expect(emptied).toEqual([stream]);
    await settle();
    pty.emitData('more');
    pty.emitExit(0);
    await settle();
    expect(transport.calls).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Property: what each viewer receives is the session's output, whatever happens
// ---------------------------------------------------------------------------

type AckPolicy = 'eager' | 'interval' | 'multiple';

interface SimClient {
  id: string;
  policy: AckPolicy;
  /** Offset of the first byte of `parts` (since the last attach or reset). */
  start: number;
  end: number;
  parts: Buffer[];
  lastAckSent: number;
  /** The server's acknowledged offset, as the protocol defines it. */
  serverAcked: number;
  exited: boolean;
  resets: number;
}

const CHARS = ['a', 'b', ' ', '\r\n', 'é', 'ß', '€', '中', '😀', '🎉', '\t', '0'];

function randomChunk(rand: () => number): string {
  const roll = rand();
  const target = roll < 0.05 ? 2000 + Math.floor(rand() * 4000) : roll < 0.5 ? 1 + Math.floor(rand() * 20) : 1 + Math.floor(rand() * 600);
  let s = '';
  while (bytes(s) < target) s += rand() < 0.15 ? randomSequence(rand) : CHARS[Math.floor(rand() * CHARS.length)];
  return s;
}

async function runProperty(seed: number): Promise<{ violations: string[]; stats: Record<string, number> }> {
  const rand = mulberry32(seed);
  const int = (min: number, max: number) => min + Math.floor(rand() * (max - min + 1));
  const high = int(1500, 5000);
  const low = int(200, high - 100);
  const ackInterval = int(1, low);
  const replayBufferBytes = int(1024, 8000);
  const fixture = setup({ high, low, ackInterval, replayBufferBytes, maxClientsPerSession: 4 });
  const { pty, session, transport, settings } = fixture;
  fixture.stream.dispose(); // the harness makes its own streams, like the gateway
  const violations: string[] = [];
  const fail = (msg: string) => violations.length < 20 && violations.push(`seed ${seed}: ${msg}`);
  const stats = { outputs: 0, resets: 0, attaches: 0, reattaches: 0, detaches: 0, acks: 0, exits: 0, catchUpOutputs: 0, exitsOnAck: 0 };
  let inAck = false;

  let all = Buffer.alloc(0);
  const allParts: Buffer[] = [];
  const total = () => {
    if (allParts.length > 0) {
      all = Buffer.concat([all, ...allParts]);
      allParts.length = 0;
    }
    return all;
  };
  const clients = new Map<string, SimClient>();
  let stream: SessionStream | undefined;
  let nextId = 0;

  transport.onCall = (call) => {
    if (new Set(call.ids).size !== call.ids.length) fail(`duplicate recipients ${call.ids.join(',')}`);
    if (!stream) fail(`${call.kind} while no stream is live`);
    for (const id of call.ids) {
      const client = clients.get(id);
      if (!client) {
        fail(`${call.kind} to ${id}, which is not attached`);
        continue;
      }
      if (client.exited) fail(`${call.kind} to ${id} after its exit`);
      if (call.kind === 'exit') {
        if (client.end !== session.outputOffset) fail(`exit to ${id} at ${client.end}, output is at ${session.outputOffset}`);
        client.exited = true;
        stats.exits++;
        if (inAck) stats.exitsOnAck++;
        continue;
      }
      const out = call.output;
      stats.outputs++;
      if (inAck) stats.catchUpOutputs++;
      if (out.sessionId !== session.id) fail('wrong sessionId');
      if (out.byteLength !== Buffer.byteLength(out.data)) fail(`byteLength ${out.byteLength} != ${Buffer.byteLength(out.data)}`);
      const data = Buffer.from(out.data, 'utf8');
      if (!data.equals(total().subarray(out.offset, out.offset + out.byteLength))) fail(`data at ${out.offset} differs from the session's output`);
      if (client.end - client.serverAcked >= high) fail(`sent to ${id} with ${client.end - client.serverAcked} unacknowledged (high ${high})`);
      if (out.reset) {
        stats.resets++;
        client.resets++;
        if (!(out.offset > client.end)) fail(`reset at ${out.offset} for ${id} that is at ${client.end}`);
        client.start = out.offset;
        client.parts = [data];
        client.serverAcked = out.offset;
      } else {
        if (out.offset !== client.end) fail(`gap or overlap for ${id}: output at ${out.offset}, client at ${client.end}`);
        client.parts.push(data);
      }
      client.end = out.offset + out.byteLength;
    }
  };

  const makeLiveStream = () => {
    const s = new SessionStream(
      session,
      transport,
      settings,
      (socketId) => {
        const client = clients.get(socketId);
        if (!client?.exited) fail(`${socketId} removed without its exit`);
        clients.delete(socketId);
      },
      (emptied) => {
        if (emptied === stream) stream = undefined;
      },
    );
    return s;
  };

  const checkContent = (client: SimClient, when: string) => {
    const got = Buffer.concat(client.parts);
    if (got.length !== client.end - client.start || !got.equals(total().subarray(client.start, client.end))) {
      fail(`${when}: ${client.id}'s screen differs from the output [${client.start}, ${client.end})`);
    }
  };

  const ackValue = (client: SimClient): number | undefined => {
    switch (client.policy) {
      case 'eager':
        return client.end > client.lastAckSent ? client.end : undefined;
      case 'interval':
        return client.end - client.lastAckSent >= ackInterval ? client.end : undefined;
      case 'multiple': {
        const m = Math.floor(client.end / ackInterval) * ackInterval;
        return m > client.lastAckSent ? m : undefined;
      }
    }
  };

  const sendAck = (client: SimClient, offset: number) => {
    stats.acks++;
    client.lastAckSent = Math.max(client.lastAckSent, offset);
    client.serverAcked = Math.max(client.serverAcked, offset);
    inAck = true;
    try {
      stream!.acknowledge(client.id, offset);
    } catch (error) {
      fail(`ack ${offset} by ${client.id} threw ${String(error)}`);
    } finally {
      inAck = false;
    }
  };

  const attach = (id: string, since: number | undefined) => {
    if (!stream) stream = makeLiveStream();
    const existing = clients.get(id);
    if (existing) stats.reattaches++;
    else stats.attaches++;
    const client: SimClient = existing ?? { id, policy: (['eager', 'interval', 'multiple'] as const)[int(0, 2)], start: 0, end: 0, parts: [], lastAckSent: 0, serverAcked: 0, exited: false, resets: 0 };
    clients.set(id, client);
    let replay: PtyReplaySlice;
    try {
      replay = sliceOf(stream.addViewer(id, since, {}));
    } catch (error) {
      fail(`attach ${id} since ${since} threw ${String(error)}`);
      if (!existing) clients.delete(id);
      return;
    }
    const data = Buffer.from(replay.data, 'utf8');
    if (replay.endOffset !== session.outputOffset) fail(`replay ends at ${replay.endOffset}, output at ${session.outputOffset}`);
    if (data.length !== replay.endOffset - replay.offset || !data.equals(total().subarray(replay.offset, replay.endOffset))) fail(`replay for ${id} differs`);
    if (since !== undefined && !replay.truncated && !(replay.offset >= since && replay.offset - since < 4)) fail(`replay from ${replay.offset} for since ${since}`);
    if (since !== undefined && replay.truncated && !(replay.offset > since)) fail(`truncated replay from ${replay.offset} for since ${since}`);
    client.start = replay.offset;
    client.end = replay.endOffset;
    client.parts = [data];
    client.serverAcked = replay.offset;
    client.lastAckSent = replay.offset;
    client.exited = false;
  };

  const steps = 250;
  for (let step = 0; step < steps; step++) {
    const roll = rand();
    const attached = [...clients.values()];
    const pick = () => attached[int(0, attached.length - 1)];
    if (roll < 0.32) {
      const n = rand() < 0.2 ? int(2, 6) : 1;
      for (let i = 0; i < n; i++) {
        const chunk = randomChunk(rand);
        allParts.push(Buffer.from(chunk, 'utf8'));
        pty.emitData(chunk);
      }
    } else if (roll < 0.52) {
      await flushImmediates();
    } else if (roll < 0.72 && attached.length > 0) {
      const client = pick();
      const value = ackValue(client);
      if (value !== undefined) sendAck(client, value);
    } else if (roll < 0.76 && attached.length > 0) {
      // A stale (older) ack, as from before a reset or reordered: ignored, never an error.
      const client = pick();
      const value = int(0, client.serverAcked);
      try {
        stream!.acknowledge(client.id, value);
      } catch (error) {
        fail(`stale ack ${value} by ${client.id} threw ${String(error)}`);
      }
    } else if (roll < 0.88) {
      const reattach = attached.length > 0 && (attached.length >= 4 || rand() < 0.4);
      const id = reattach ? pick().id : `c${nextId++}`;
      const existing = clients.get(id);
      const sinceRoll = rand();
      const since =
        sinceRoll < 0.25 ? undefined : sinceRoll < 0.5 && existing ? existing.end : sinceRoll < 0.6 ? 0 : int(0, session.outputOffset);
      attach(id, since);
    } else if (roll < 0.93 && attached.length > 0) {
      const client = pick();
      checkContent(client, 'detach');
      stats.detaches++;
      clients.delete(client.id);
      stream!.removeViewer(client.id);
    } else {
      for (const client of attached) checkContent(client, `step ${step}`);
    }
  }

  // Make sure somebody is there for the end.
  if (clients.size === 0) attach(`c${nextId++}`, undefined);
  total();
  if (session.outputOffset !== all.length) fail(`session at ${session.outputOffset}, test wrote ${all.length}`);

  // The end: the process exits (node-pty may still deliver output after its exit event);
  // every client processes what it gets and acks by its policy.
  pty.emitExit(0);
  if (rand() < 0.5) {
    const chunk = randomChunk(rand);
    allParts.push(Buffer.from(chunk, 'utf8'));
    pty.emitData(chunk);
    total();
  }
  const ending = [...clients.values()];
  for (let i = 0; i < 200 && ending.some((c) => !c.exited); i++) {
    await flushImmediates();
    for (const client of ending) {
      if (client.exited || !clients.has(client.id)) continue;
      const value = ackValue(client);
      if (value !== undefined) sendAck(client, value);
    }
  }
  for (const client of ending) {
    if (!client.exited) fail(`deadlock: ${client.id} (${client.policy}) never got its exit; at ${client.end} of ${all.length}, acked ${client.serverAcked}`);
    if (client.end !== all.length) fail(`${client.id} ended at ${client.end} of ${all.length}`);
    checkContent(client, 'end');
  }
  if (clients.size !== 0) fail(`${clients.size} viewers left after the exit`);

  // A client attaching after the exit gets the replay and then the exit.
  attach('after-exit', undefined);
  await settle();
  const late = clients.get('after-exit');
  if (late && !late.exited) fail('after-exit client never got its exit');
  return { violations, stats };
}

describe('SessionStream: property (seeded random interleavings)', () => {
  it.each(Array.from({ length: 24 }, (_, i) => 1000 + i * 7919))(
    'seed %i: every viewer receives the output from its since, contiguous, under the high mark, then its exit',
    async (seed) => {
      const { violations } = await runProperty(seed);
      expect(violations).toEqual([]);
    },
  );

  it('the random runs exercise pausing, resets, re-attaches and detaches', async () => {
    const totals: Record<string, number> = {};
    for (const seed of [1000, 8919, 16838, 24757]) {
      const { stats } = await runProperty(seed);
      for (const [k, v] of Object.entries(stats)) totals[k] = (totals[k] ?? 0) + v;
    }
    expect(totals.resets).toBeGreaterThan(0);
    expect(totals.reattaches).toBeGreaterThan(0);
    expect(totals.detaches).toBeGreaterThan(0);
    expect(totals.exits).toBeGreaterThan(0);
    expect(totals.catchUpOutputs).toBeGreaterThan(0);
    expect(totals.exitsOnAck).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------
// Replay hygiene and screen mode
// ---------------------------------------------------------------------------

describe('SessionStream: replays without terminal queries', () => {
  it('an attach replay leaves out queries but covers the same bytes; live output keeps them', async () => {
    const { pty, stream, transport } = setup();
    pty.emitData('a\x1b[6nb\x1b]11;?\x07c');
    const replay = await stream.addViewer('x', undefined, {});
    expect(replay).toEqual({ sessionId: expect.any(String), offset: 0, byteLength: bytes('a\x1b[6nb\x1b]11;?\x07c'), data: 'abc' });
    pty.emitData('live\x1b[6n');
    await settle();
    expect(transport.outputsFor('x')).toEqual([expect.objectContaining({ data: 'live\x1b[6n' })]);
  });

  it('a reset catch-up of a paused client leaves out queries; an in-step catch-up does not', async () => {
    const { pty, stream, transport } = setup({ replayBufferBytes: 1024, high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('a', undefined, {});
    pty.emitData('x'.repeat(600));
    await settle();
    pty.emitData('\x1b[c' + 'y'.repeat(2000) + '\x1b[6n');
    await settle(); // paused; its missed output is partly evicted
    stream.acknowledge('a', 600);
    const reset = transport.outputsFor('a').at(-1)!;
    expect(reset.reset).toBe(true);
    expect(reset.data.endsWith('y')).toBe(true);
    expect(reset.data).not.toContain('\x1b[');
  });
});

describe('SessionStream: screen mode', () => {
  it('an attach whose offset is still buffered gets the missed bytes, not a snapshot', async () => {
    const { pty, stream, screen } = setup({ screen: true, replayBufferBytes: 1024 });
    pty.emitData('hello');
    const replay = stream.addViewer('a', 2, {});
    expect(replay).not.toBeInstanceOf(Promise);
    expect(await replay).toMatchObject({ offset: 2, byteLength: 3, data: 'llo' });
    expect(screen.requests).toEqual([]);
  });

  it('an attach whose offset fell out of the buffer gets a snapshot at the current offset; live output follows from there', async () => {
    const { pty, session, stream, transport, screen } = setup({ screen: true, replayBufferBytes: 1024 });
    pty.emitData('\x1b[?1049h' + 'z'.repeat(3000));
    const end = session.outputOffset;
    const pending = stream.addViewer('a', undefined, {});
    expect(pending).toBeInstanceOf(Promise);
    pty.emitData('live'); // before the snapshot comes: still sent, from the snapshot's offset
    await settle();
    expect(transport.outputsFor('a')).toEqual([expect.objectContaining({ offset: end, data: 'live' })]);
    screen.answer('SCREEN');
    expect(await pending).toEqual({ sessionId: session.id, offset: end, byteLength: 0, data: 'SCREEN', reset: true, snapshot: true });
    stream.acknowledge('a', end + 4); // the snapshot covers nothing to acknowledge
  });

  it('without an emulator answer (failure), the attach gets the raw replay, as in raw mode', async () => {
    const { pty, session, stream, screen } = setup({ screen: true, replayBufferBytes: 1024 });
    pty.emitData('w'.repeat(3000) + '\x1b[6n');
    const pending = stream.addViewer('a', undefined, {});
    screen.answer(new Error('emulator gone'));
    const replay = await pending;
    expect(replay).toMatchObject({ reset: true, byteLength: session.outputOffset - replay.offset });
    expect(replay.snapshot).toBeUndefined();
    expect(replay.data).not.toContain('\x1b');
  });

  it('a paused client whose missed output fell out of the buffer waits for a snapshot, then continues from its offset', async () => {
    const { pty, session, stream, transport, screen } = setup({ screen: true, replayBufferBytes: 1024, high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('slow', undefined, {});
    stream.addViewer('fast', undefined, {});
    pty.emitData('x'.repeat(600));
    await settle();
    stream.acknowledge('fast', 600);
    pty.emitData('y'.repeat(3000));
    await settle(); // 'slow' paused; what it missed is evicted
    stream.acknowledge('fast', 3600);
    const before = transport.outputsFor('slow').length;
    stream.acknowledge('slow', 600);
    expect(screen.requests).toHaveLength(1);
    const snapshotAt = session.outputOffset;
    pty.emitData('after the request');
    await settle();
    expect(transport.outputsFor('slow')).toHaveLength(before); // nothing until the snapshot
    expect(transport.outputsFor('fast').at(-1)).toMatchObject({ data: 'after the request' });
    screen.answer('SCREEN');
    await settle();
    const got = transport.outputsFor('slow').slice(before);
    expect(got).toEqual([
      expect.objectContaining({ offset: snapshotAt, byteLength: 0, data: 'SCREEN', reset: true, snapshot: true }),
      expect.objectContaining({ offset: snapshotAt, data: 'after the request' }),
    ]);
    pty.emitData('!');
    await settle();
    expect(transport.outputCalls().at(-1)).toEqual({ ids: ['slow', 'fast'], output: expect.objectContaining({ data: '!' }) });
  });

  it("a snapshot taken inside an escape sequence ends with that sequence's start, so its rest is not printed", async () => {
    const { pty, session, stream, screen } = setup({ screen: true, replayBufferBytes: 1024 });
    pty.emitData('z'.repeat(3000) + 'ok \x1b[9'); // a colour cut between two reads
    const end = session.outputOffset;
    const pending = stream.addViewer('a', undefined, {});
    pty.emitData('6mRED'); // before the snapshot comes
    screen.answer('SCREEN');
    expect(await pending).toMatchObject({ offset: end, byteLength: 0, data: 'SCREEN\x1b[9', snapshot: true });
  });

  it('inside an escape string longer than the buffer, a snapshot and a raw reset replay tell the terminal to swallow its rest', async () => {
    const { pty, session, stream, screen } = setup({ screen: true, replayBufferBytes: 1024 });
    pty.emitData('before\r\n\x1bPq');
    for (let i = 0; i < 30; i++) pty.emitData('#0;2;0;0;0' + '~'.repeat(100)); // a sixel image: no safe cut, the buffer empties
    expect(session.bufferedBytes).toBe(0);
    const end = session.outputOffset;
    const pending = stream.addViewer('a', undefined, {});
    pty.emitData('~'.repeat(50));
    screen.answer('SCREEN');
    // An APC: terminals ignore it up to its end, which is the image's ST (an OSC would end at a BEL in the data).
    expect(await pending).toMatchObject({ offset: end, data: 'SCREEN\x1b_', snapshot: true });
    expect(screen.requests).toEqual([]);
    // Without an emulator answer, the raw replay (empty: the buffer holds nothing) says the same.
    const raw = stream.addViewer('b', undefined, {});
    screen.answer(new Error('emulator gone'));
    expect(await raw).toMatchObject({ offset: session.outputOffset, byteLength: 0, data: '\x1b_', reset: true });
    // Once the string has ended, a reset replay is the buffer again (from after the ST), with nothing added.
    pty.emitData('\x1b\\after\r\n');
    const later = stream.addViewer('c', undefined, {});
    screen.answer(new Error('emulator gone'));
    expect((await later).data).toBe('after\r\n');
  });

  it('at shutdown a client waiting for a snapshot gets what the buffer holds and its exit', async () => {
    const { pty, stream, transport, screen } = setup({ screen: true, replayBufferBytes: 1024, high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('slow', undefined, {});
    pty.emitData('x'.repeat(600));
    await settle();
    pty.emitData('y'.repeat(3000));
    await settle();
    stream.acknowledge('slow', 600);
    expect(screen.requests).toHaveLength(1);
    pty.emitExit(0);
    await settle();
    stream.drain({ includingPaused: true });
    const events = transport.eventsFor('slow');
    expect(events.at(-2)).toMatchObject({ kind: 'output', output: { reset: true } });
    expect(events.at(-1)).toMatchObject({ kind: 'exit' });
    screen.answer('LATE'); // ignored
    await settle();
    expect(transport.eventsFor('slow')).toHaveLength(events.length);
  });
});

describe('SessionStream: flowControl.pauseProgram', () => {
  it('pauses the program once its only client is at its high mark, and resumes it once the client catches up, without a reset', async () => {
    const { pty, stream, transport } = setup({ pauseProgram: true, replayBufferBytes: 1024, high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('a', undefined, {});
    pty.emitData('x'.repeat(300));
    await settle();
    expect(pty.paused).toBe(false);
    pty.emitData('x'.repeat(300));
    await settle();
    expect(pty.paused).toBe(true); // 600 sent, none acknowledged: at the high mark
    pty.emitData('y'.repeat(100)); // read before the pause took effect: the client is paused, not sent this
    await settle();
    expect(transport.textFor('a')).toBe('x'.repeat(600));
    stream.acknowledge('a', 600);
    expect(pty.paused).toBe(false);
    const catchUp = transport.outputsFor('a').at(-1)!;
    expect(catchUp).toMatchObject({ offset: 600, byteLength: 100, data: 'y'.repeat(100) });
    expect(catchUp.reset).toBeUndefined();
  });

  it('an acknowledgement under the high mark lets the program go on before any pause', async () => {
    const { pty, stream } = setup({ pauseProgram: true, high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('a', undefined, {});
    pty.emitData('x'.repeat(600));
    await settle();
    expect(pty.paused).toBe(true);
    stream.acknowledge('a', 300);
    expect(pty.paused).toBe(false);
  });

  it('a client able to take more keeps the program running; it pauses only when no client can', async () => {
    const { pty, stream } = setup({ pauseProgram: true, high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('slow', undefined, {});
    stream.addViewer('fast', undefined, {});
    pty.emitData('x'.repeat(600));
    await settle();
    expect(pty.paused).toBe(true); // both at the high mark
    stream.acknowledge('fast', 600);
    expect(pty.paused).toBe(false);
    pty.emitData('y');
    await settle(); // 'slow' paused, 'fast' takes it
    expect(pty.paused).toBe(false);
    pty.emitData('z'.repeat(600));
    await settle(); // 'fast' at its high mark too
    expect(pty.paused).toBe(true);
    stream.removeViewer('fast');
    expect(pty.paused).toBe(true); // the one left is paused
    stream.removeViewer('slow');
    expect(pty.paused).toBe(false); // nobody attached: the program runs
  });

  it('a catch-up larger than the high mark (a buffer bigger than high - low) keeps the program held while no client can take more', async () => {
    const { pty, stream } = setup({ pauseProgram: true, replayBufferBytes: 4000, high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('slow', undefined, {});
    stream.addViewer('fast', undefined, {});
    // 'fast' keeps up, 'slow' never acknowledges: it pauses at its high mark, and 'fast' keeps the program running.
    for (let i = 1; i <= 6; i++) {
      pty.emitData('x'.repeat(300));
      await settle();
      stream.acknowledge('fast', i * 300);
    }
    expect(pty.paused).toBe(false);
    pty.emitData('y'.repeat(600));
    await settle(); // now 'fast' is at its high mark too
    expect(pty.paused).toBe(true);
    // 'slow' acknowledges what it had: it is sent the rest from the buffer (~2 KB, past its high mark).
    stream.acknowledge('slow', 600);
    expect(pty.paused).toBe(true); // still nobody able to take more: the program stays held
    stream.acknowledge('fast', 2400);
    expect(pty.paused).toBe(false);
  });

  it('with pauseProgram false the program is never paused', async () => {
    const { pty, stream } = setup({ pauseProgram: false, high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('a', undefined, {});
    pty.emitData('x'.repeat(600));
    await settle();
    pty.emitData('y');
    await settle();
    expect(pty.paused).toBe(false);
  });

  it('the exit of a paused program releases it, and the client gets all the output and the exit once it acknowledges', async () => {
    const { pty, session, stream, transport } = setup({ pauseProgram: true, high: 500, low: 200, ackInterval: 100 });
    stream.addViewer('a', undefined, {});
    pty.emitData('x'.repeat(600));
    await settle();
    pty.emitData('y');
    await settle();
    expect(pty.paused).toBe(true);
    pty.emitExit(0);
    await settle();
    expect(session.status).toBe('exited');
    expect(pty.paused).toBe(false);
    stream.acknowledge('a', 600);
    expect(transport.textFor('a')).toBe('x'.repeat(600) + 'y');
    expect(transport.eventsFor('a').at(-1)).toMatchObject({ kind: 'exit' });
  });
});

describe('SessionStream: batching only while busy (outputBatching.busyBytes)', () => {
  it('an echo into a quiet stream goes out at once; what follows in the same turn goes out together at its end', async () => {
    const { pty, stream, transport } = setup({ batchWindowMs: 200, busyBytes: 1024 });
    stream.addViewer('a', undefined, {});
    pty.emitData('k');
    // Sent before this turn ends: no wait for an immediate.
    expect(transport.outputsFor('a').map((o) => o.data)).toEqual(['k']);
    pty.emitData('l');
    pty.emitData('m');
    expect(transport.outputsFor('a')).toHaveLength(1);
    await settle();
    expect(transport.outputsFor('a').map((o) => ({ data: o.data, offset: o.offset }))).toEqual([
      { data: 'k', offset: 0 },
      { data: 'lm', offset: 1 },
    ]);
    // Output of busyBytes or more is never sent in its own turn: it waits for the turn's end.
    await new Promise((resolve) => setImmediate(resolve));
    pty.emitData('x'.repeat(1024));
    expect(transport.outputsFor('a')).toHaveLength(2);
    await settle();
    expect(transport.outputsFor('a')).toHaveLength(3);
    // Right after it, the window is open: even an echo waits for it.
    pty.emitData('e');
    expect(transport.outputsFor('a')).toHaveLength(3);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(transport.outputsFor('a').at(-1)).toMatchObject({ data: 'e' });
  });

  it('small outputs in quick succession (fast typing) each go out on the next turn; a large one opens the window', async () => {
    const { pty, stream, transport } = setup({ batchWindowMs: 200, busyBytes: 1024 });
    stream.addViewer('a', undefined, {});
    for (const key of ['a', 'b', 'c']) {
      pty.emitData(key);
      await settle();
    }
    expect(transport.outputsFor('a').map((o) => o.data)).toEqual(['a', 'b', 'c']);
    pty.emitData('x'.repeat(2000));
    await settle();
    pty.emitData('d');
    await settle();
    expect(transport.outputsFor('a')).toHaveLength(4); // 'd' waits for the window the large message opened
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(transport.outputsFor('a').at(-1)).toMatchObject({ data: 'd' });
  });
});
