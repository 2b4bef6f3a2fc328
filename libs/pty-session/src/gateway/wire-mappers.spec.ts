import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PtyWireOutput } from 'nestjs-pty-session-client/protocol';
import type { PtyReplaySlice } from '../interfaces/pty-session-info.interface.js';
import { attachOutputText, outputBytes } from '../output-text.js';
import { toBinaryOutput, toWireBatch, toWireOutput, toWireReplay } from './wire-mappers.js';

/** V8's `gc()`: `npm run test:jest` starts Node with --expose-gc; run otherwise, the flag is set now (a fresh context picks it up). */
function exposeGc(): (options: { type: 'minor' | 'major' }) => void {
  if (runInNewContext('typeof gc') !== 'function') setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as (options: { type: 'minor' | 'major' }) => void;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('toWireBatch, toWireOutput, toWireReplay and toBinaryOutput', () => {
  const utf8 = (text: string) => Buffer.from(text, 'utf8');
  /** Whole characters per part, multi-byte ones included (2, 3 and 4 bytes). */
  const texts = ['héllo ', '─ → ✓ ', '😀', '\x1b[32mgreen\x1b[0m'];
  const text = texts.join('');
  const byteLength = Buffer.byteLength(text);
  const parts = () => texts.map(utf8);

  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** Counts the decodings of `output`'s bytes (`data` is decoded from them with Buffer's toString). */
  function countDecodes(output: object): () => number {
    const bytes = outputBytes(output);
    expect(bytes).toBeDefined();
    const toString = jest.spyOn(Buffer.prototype, 'toString');
    return () => toString.mock.contexts.filter((context) => context === bytes).length;
  }

  it('decodes data only when it is read, once', () => {
    const batch = toWireBatch('s1', 100, byteLength, parts());
    const decodes = countDecodes(batch);
    expect(Object.getOwnPropertyDescriptor(batch, 'data')).toMatchObject({ enumerable: true, get: expect.any(Function) });
    expect(decodes()).toBe(0);
    expect(batch).toEqual({ sessionId: 's1', offset: 100, byteLength, data: text });
    expect(batch.data).toBe(text);
    expect(JSON.parse(JSON.stringify(batch))).toEqual({ sessionId: 's1', offset: 100, byteLength, data: text });
    expect(decodes()).toBe(1);
  });

  it('a batch of parts with multi-byte characters holds their bytes in order and decodes to the joined text', () => {
    const batch = toWireBatch('s1', 0, byteLength, parts());
    expect(outputBytes(batch)!.equals(utf8(text))).toBe(true);
    expect(outputBytes(batch)!.length).toBe(byteLength);
    expect(batch.data).toBe(text);
    expect(toWireBatch('s1', 0, 9, [utf8('─'), utf8('→'), utf8('✓')]).data).toBe('─→✓');
    expect(toWireBatch('s1', 0, 8, [utf8('😀'), utf8('😀')]).data).toBe('😀😀');
  });

  it('a batch of one part uses that very Buffer, no copy, also for the binary form', () => {
    const part = utf8('only part ✓');
    const batch = toWireBatch('s1', 5, part.length, [part]);
    expect(outputBytes(batch)).toBe(part);
    expect(toBinaryOutput(batch).data).toBe(part);
    expect(batch.data).toBe('only part ✓');
  });

  it('encodes a batch straight from its bytes, never decoding them', () => {
    const batch = toWireBatch('s1', 100, byteLength, parts());
    const decodes = countDecodes(batch);
    const binary = toBinaryOutput(batch);
    expect(binary).toEqual({ sessionId: 's1', offset: 100, byteLength, data: utf8(text) });
    expect(Buffer.isBuffer(binary.data)).toBe(true);
    expect(binary.data).toBe(outputBytes(batch));
    expect(decodes()).toBe(0);
  });

  it('gives every output the same getter (a closure per output would give each a hidden class of its own); spreads and JSON carry data, not bytes', () => {
    const a = toWireBatch('s1', 0, 2, [utf8('a'), utf8('b')]);
    const b = toWireBatch('s1', 2, 1, [utf8('c')]);
    const c = toWireOutput('s1', 3, 2, utf8('é'), true);
    const getter = (o: object) => Object.getOwnPropertyDescriptor(o, 'data')!.get;
    expect(getter(a)).toBeDefined();
    expect(getter(b)).toBe(getter(a));
    expect(getter(c)).toBe(getter(a));
    expect([a.data, b.data, c.data]).toEqual(['ab', 'c', 'é']);
    expect(Object.keys({ ...a })).toEqual(['sessionId', 'offset', 'byteLength', 'data']);
    expect({ ...a }).toStrictEqual({ sessionId: 's1', offset: 0, byteLength: 2, data: 'ab' });
    expect(Object.keys({ ...c })).toEqual(['sessionId', 'offset', 'byteLength', 'reset', 'data']);
    expect(JSON.stringify(c)).toBe('{"sessionId":"s1","offset":3,"byteLength":2,"reset":true,"data":"é"}');
    expect('bytes' in { ...b }).toBe(false);
    expect(Object.getOwnPropertyDescriptor(b, 'bytes')).toMatchObject({ enumerable: false });
  });

  it('toWireOutput sets reset only when asked', () => {
    const plain = toWireOutput('s1', 10, 3, utf8('abc'));
    expect(Object.keys(plain)).toEqual(['sessionId', 'offset', 'byteLength', 'data']);
    expect(plain).toEqual({ sessionId: 's1', offset: 10, byteLength: 3, data: 'abc' });
    const reset = toWireOutput('s1', 10, 3, utf8('abc'), true);
    expect(reset).toEqual({ sessionId: 's1', offset: 10, byteLength: 3, data: 'abc', reset: true });
    expect(Object.keys(toBinaryOutput(plain))).not.toContain('reset');
    expect(toBinaryOutput(reset)).toEqual({ sessionId: 's1', offset: 10, byteLength: 3, data: utf8('abc'), reset: true });
  });

  it("toWireReplay covers the slice's offsets, with its bytes or the bytes given (fewer: terminal queries left out)", () => {
    const sliceOf = (data: string, offset: number, truncated: boolean): PtyReplaySlice =>
      attachOutputText({ offset, endOffset: offset + Buffer.byteLength(data), truncated }, utf8(data));
    const slice = sliceOf('ab\x1b[6nc ✓', 40, false);
    const replay = toWireReplay('s1', slice);
    expect(replay).toEqual({ sessionId: 's1', offset: 40, byteLength: 11, data: 'ab\x1b[6nc ✓' });
    expect(Object.keys(replay)).not.toContain('reset');
    expect(outputBytes(replay)).toBe(slice.bytes);
    expect(toBinaryOutput(replay).data).toBe(slice.bytes);

    const stripped = utf8('abc ✓');
    const truncated = toWireReplay('s1', sliceOf('ab\x1b[6nc ✓', 40, true), stripped);
    expect(truncated).toEqual({ sessionId: 's1', offset: 40, byteLength: 11, data: 'abc ✓', reset: true });
    expect(outputBytes(truncated)).toBe(stripped);
    expect(toBinaryOutput(truncated)).toEqual({ sessionId: 's1', offset: 40, byteLength: 11, data: stripped, reset: true });
  });

  it('encodes each output object once, however often it is sent', () => {
    const batch = toWireBatch('s1', 100, byteLength, parts());
    const first = toBinaryOutput(batch);
    expect(toBinaryOutput(batch)).toBe(first);
    const catchUp: PtyWireOutput = { sessionId: 's1', offset: 0, byteLength, data: text };
    const encoded = toBinaryOutput(catchUp);
    expect(toBinaryOutput(catchUp)).toBe(encoded);
    expect(encoded.data).toEqual(utf8(text));
    const copy = { ...batch }; // a plain object with data as a string: encoded from it
    expect(toBinaryOutput(copy)).not.toBe(first);
    expect(toBinaryOutput(copy)).toEqual(first);
  });

  it('keeps reset and snapshot on other outputs, and encodes a snapshot from its text', () => {
    const snapshot = toBinaryOutput({ sessionId: 's1', offset: 7, byteLength: 0, data: 'screen ✓', reset: true, snapshot: true });
    expect(snapshot).toEqual({ sessionId: 's1', offset: 7, byteLength: 0, data: utf8('screen ✓'), reset: true, snapshot: true });
    expect(Buffer.isBuffer(snapshot.data)).toBe(true);
  });

  it("frees a sent batch's bytes in the first young-generation collection after it", async () => {
    const gc = exposeGc();
    const MiB = 1024 * 1024;
    const part = Buffer.alloc(MiB, 'x');
    /** MiB of array buffers still held after one minor GC, of the 12 MiB that 4 sent batches encoded. */
    const heldAfterOneMinorGc = async () => {
      // A long-running server's state is old: as in one, whatever the module keeps is promoted first.
      gc({ type: 'major' });
      await pause(20); // array buffers are swept concurrently
      const before = process.memoryUsage().arrayBuffers;
      for (let i = 0; i < 4; i++) toBinaryOutput(toWireBatch('s1', i * 3 * MiB, 3 * MiB, [part, part, part]));
      await pause(0);
      gc({ type: 'minor' });
      // The sweep runs concurrently, and slower on a loaded machine: give it up to 200 ms.
      let held = Infinity;
      for (let wait = 0; wait < 10 && held >= 3; wait++) {
        await pause(20);
        held = (process.memoryUsage().arrayBuffers - before) / MiB;
      }
      return held;
    };
    // With a WeakMap from batch to bytes (an old one), all 12 MiB outlived that collection: its values outlive their keys by one.
    const held = [await heldAfterOneMinorGc(), await heldAfterOneMinorGc(), await heldAfterOneMinorGc()];
    expect(Math.max(...held)).toBeLessThan(3);
  });
});

