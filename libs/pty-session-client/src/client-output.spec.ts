import { describe, expect, it } from '@jest/globals';
import { createClientOutput } from './client-output.js';

const text = 'é✓ ok';
const bytes = new TextEncoder().encode(text);

describe('createClientOutput', () => {
  it('gives both forms from either, each made once', () => {
    const fromBytes = createClientOutput(bytes, 10, bytes.length, false, false);
    expect(fromBytes.bytes).toBe(bytes);
    expect(fromBytes.data).toBe(text);
    const fromText = createClientOutput(text, 10, bytes.length, true, false);
    expect(fromText.data).toBe(text);
    const encoded = fromText.bytes;
    expect(Array.from(encoded)).toEqual(Array.from(bytes));
    expect(fromText.bytes).toBe(encoded);
  });

  it('has data and bytes as own enumerable properties, its storage hidden from copies and JSON', () => {
    const output = createClientOutput(bytes, 0, bytes.length, false, true);
    const copy = { ...output };
    expect(Object.keys(copy).sort()).toEqual(['byteLength', 'bytes', 'data', 'offset', 'reset', 'snapshot']);
    expect(Object.getOwnPropertySymbols(copy)).toEqual([]);
    expect(copy.data).toBe(text);
    expect(JSON.parse(JSON.stringify(output))).toEqual({ data: text, offset: 0, byteLength: bytes.length, reset: false, snapshot: true });
  });

  it('shares its getters between outputs (per-output closures gave each output a hidden class of its own, and full GCs)', () => {
    const a = createClientOutput(bytes, 0, bytes.length, false, false);
    const b = createClientOutput(text, 9, bytes.length, false, false);
    for (const name of ['data', 'bytes'] as const) {
      expect(Object.getOwnPropertyDescriptor(a, name)!.get).toBe(Object.getOwnPropertyDescriptor(b, name)!.get);
    }
    expect(Object.getOwnPropertyDescriptor(a, 'toJSON')!.value).toBe(Object.getOwnPropertyDescriptor(b, 'toJSON')!.value);
  });
});
