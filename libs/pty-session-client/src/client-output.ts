import type { PtyClientOutput } from './pty-session-client.options.js';
import { decodeUtf8, encodeUtf8 } from './utf8.js';

/**
 * One output as listeners receive it, holding what came over the wire (a
 * string, or UTF-8 bytes from a server that sends bytes) and producing the
 * other form only when asked: a terminal that takes bytes
 * (`term.write(output.bytes)`) never pays for decoding, one that takes text
 * never pays for encoding. Each form is made once. `data` and `bytes` are
 * own enumerable properties, so a spread or `Object.assign` copy has them.
 */
export function createClientOutput(content: string | Uint8Array, offset: number, byteLength: number, reset: boolean, snapshot: boolean): PtyClientOutput {
  let text = typeof content === 'string' ? content : undefined;
  let encoded = typeof content === 'string' ? undefined : content;
  const output = { offset, byteLength, reset, snapshot } as PtyClientOutput;
  return Object.defineProperties(output, {
    data: { enumerable: true, get: () => (text ??= decodeUtf8(encoded!)) },
    bytes: { enumerable: true, get: () => (encoded ??= encodeUtf8(text!)) },
    toJSON: { value: () => ({ data: output.data, offset, byteLength, reset, snapshot }) },
  });
}
