import type { PtyClientOutput } from './pty-session-client.options.js';
import { decodeUtf8, encodeUtf8 } from './utf8.js';

/** Where an output keeps the forms it has: non-enumerable, so neither a spread nor JSON sees them. */
const TEXT = Symbol('text');
const BYTES = Symbol('bytes');

interface StoredOutput extends PtyClientOutput {
  [TEXT]: string | undefined;
  [BYTES]: Uint8Array | undefined;
}

// One getter of each form for every output. A getter made per output (a
// closure) gave every output a hidden class of its own: V8 then kept them
// in old space, and a client of a busy session spent its time in full
// garbage collections (50 where plain objects need 15, over the bench's 50
// viewers of one session).
function readData(this: StoredOutput): string {
  return (this[TEXT] ??= decodeUtf8(this[BYTES]!));
}

function readBytes(this: StoredOutput): Uint8Array {
  return (this[BYTES] ??= encodeUtf8(this[TEXT]!));
}

function toJSON(this: StoredOutput): object {
  return { data: this.data, offset: this.offset, byteLength: this.byteLength, reset: this.reset, snapshot: this.snapshot };
}

const ACCESSORS: PropertyDescriptorMap = {
  data: { enumerable: true, get: readData },
  bytes: { enumerable: true, get: readBytes },
  toJSON: { value: toJSON },
};

/**
 * One output as listeners receive it, holding what came over the wire (a
 * string, or UTF-8 bytes from a server that sends bytes) and producing the
 * other form only when asked: a terminal that takes bytes
 * (`term.write(output.bytes)`) never pays for decoding, one that takes text
 * never pays for encoding. Each form is made once. `data` and `bytes` are
 * own enumerable properties, so a spread or `Object.assign` copy has them.
 */
export function createClientOutput(content: string | Uint8Array, offset: number, byteLength: number, reset: boolean, snapshot: boolean): PtyClientOutput {
  const output = { offset, byteLength, reset, snapshot } as StoredOutput;
  Object.defineProperty(output, TEXT, { value: typeof content === 'string' ? content : undefined, writable: true });
  Object.defineProperty(output, BYTES, { value: typeof content === 'string' ? undefined : content, writable: true });
  return Object.defineProperties(output, ACCESSORS);
}
