import { describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { toBinaryOutput, toWireBatch } from './wire-mappers.js';

/** V8's `gc()`: `npm run test:jest` starts Node with --expose-gc; run otherwise, the flag is set now (a fresh context picks it up). */
function exposeGc(): (options: { type: 'minor' | 'major' }) => void {
  if (runInNewContext('typeof gc') !== 'function') setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as (options: { type: 'minor' | 'major' }) => void;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('toWireBatch and toBinaryOutput', () => {
  const parts = ['héllo ', '─ → ✓ ', '😀', '\x1b[32mgreen\x1b[0m'];
  const text = parts.join('');
  const byteLength = Buffer.byteLength(text);

  /** The parts, counting how often they are joined. */
  function countedParts() {
    const counted = { joins: 0, parts: [...parts] };
    counted.parts.join = (separator?: string) => {
      counted.joins++;
      return Array.prototype.join.call(counted.parts, separator ?? ',');
    };
    return counted;
  }

  it('joins the parts only when data is read, once', () => {
    const counted = countedParts();
    const batch = toWireBatch('s1', 100, byteLength, counted.parts);
    expect(counted.joins).toBe(0);
    expect(batch).toEqual({ sessionId: 's1', offset: 100, byteLength, data: text });
    expect(batch.data).toBe(text);
    expect(JSON.parse(JSON.stringify(batch))).toEqual({ sessionId: 's1', offset: 100, byteLength, data: text });
    expect(counted.joins).toBe(1);
  });

  it('encodes a batch straight from its parts, never joining them', () => {
    const counted = countedParts();
    const binary = toBinaryOutput(toWireBatch('s1', 100, byteLength, counted.parts));
    expect(binary).toEqual({ sessionId: 's1', offset: 100, byteLength, data: Buffer.from(text, 'utf8') });
    expect(Buffer.isBuffer(binary.data)).toBe(true);
    expect(counted.joins).toBe(0);
  });

  it('gives every batch the same getter (a closure per batch would give each a hidden class of its own)', () => {
    const a = toWireBatch('s1', 0, 2, ['a', 'b']);
    const b = toWireBatch('s1', 2, 1, ['c']);
    expect(Object.getOwnPropertyDescriptor(a, 'data')!.get).toBe(Object.getOwnPropertyDescriptor(b, 'data')!.get);
    expect([a.data, b.data]).toEqual(['ab', 'c']);
    expect(Object.keys({ ...a })).toEqual(['sessionId', 'offset', 'byteLength', 'data']);
  });

  it('encodes each output object once, however often it is sent', () => {
    const counted = countedParts();
    const batch = toWireBatch('s1', 100, byteLength, counted.parts);
    const first = toBinaryOutput(batch);
    expect(toBinaryOutput(batch)).toBe(first);
    const catchUp = { sessionId: 's1', offset: 0, byteLength, data: text };
    expect(toBinaryOutput(catchUp).data).toBe(toBinaryOutput(catchUp).data);
    expect(toBinaryOutput({ ...catchUp })).not.toBe(toBinaryOutput(catchUp));
  });

  it('keeps reset and snapshot on other outputs', () => {
    const snapshot = toBinaryOutput({ sessionId: 's1', offset: 7, byteLength: 0, data: 'screen ✓', reset: true, snapshot: true });
    expect(snapshot).toEqual({ sessionId: 's1', offset: 7, byteLength: 0, data: Buffer.from('screen ✓', 'utf8'), reset: true, snapshot: true });
  });

  it("frees a sent batch's bytes in the first young-generation collection after it", async () => {
    const gc = exposeGc();
    const MiB = 1024 * 1024;
    const part = 'x'.repeat(MiB);
    /** MiB of array buffers still held after one minor GC, of the 12 MiB that 4 sent batches encoded. */
    const heldAfterOneMinorGc = async () => {
      // A long-running server's state is old: as in one, whatever the module keeps is promoted first.
      gc({ type: 'major' });
      await pause(20); // array buffers are swept concurrently
      const before = process.memoryUsage().arrayBuffers;
      for (let i = 0; i < 4; i++) toBinaryOutput(toWireBatch('s1', i * 3 * MiB, 3 * MiB, [part, part, part]));
      await pause(0);
      gc({ type: 'minor' });
      await pause(20);
      return (process.memoryUsage().arrayBuffers - before) / MiB;
    };
    // With a WeakMap from batch to bytes (an old one), all 12 MiB outlived that collection: its values outlive their keys by one.
    const held = [await heldAfterOneMinorGc(), await heldAfterOneMinorGc(), await heldAfterOneMinorGc()];
    expect(Math.max(...held)).toBeLessThan(3);
  });
});

