/**
 * Output offsets on the wire count UTF-8 bytes, while JavaScript strings
 * count UTF-16 code units. These two functions bridge the two without
 * encoding the string: they walk its code units and count what
 * `TextEncoder` would produce (a lone surrogate becomes U+FFFD, 3 bytes),
 * so a chunk is measured and cut without allocating a byte copy of it, and
 * a cut that would fall inside a character is reported instead of being
 * decoded into replacement characters.
 */

/** UTF-8 bytes of one code unit at `index` (a surrogate pair counts 4 at its first unit, 0 at its second). */
function unitBytes(text: string, index: number): number {
  const unit = text.charCodeAt(index);
  if (unit < 0x80) return 1;
  if (unit < 0x800) return 2;
  if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
    const next = text.charCodeAt(index + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 4;
  }
  return 3;
}

/** Length of `text` in UTF-8 bytes, as `new TextEncoder().encode(text).length`. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const n = unitBytes(text, i);
    bytes += n;
    if (n === 4) i++;
  }
  return bytes;
}

/**
 * The part of `text` after its first `skipBytes` UTF-8 bytes.
 * @returns undefined when `skipBytes` falls inside a character or past the end of `text`.
 */
export function utf8SliceFrom(text: string, skipBytes: number): string | undefined {
  let bytes = 0;
  let i = 0;
  while (bytes < skipBytes && i < text.length) {
    const n = unitBytes(text, i);
    bytes += n;
    i += n === 4 ? 2 : 1;
  }
  return bytes === skipBytes ? text.slice(i) : undefined;
}

/**
 * `text` cut into pieces of at most `maxBytes` UTF-8 bytes each, never
 * inside a character (a piece holds at least one character, even if that
 * is longer than `maxBytes`, which cannot happen for `maxBytes` >= 4).
 */
export function utf8Split(text: string, maxBytes: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const n = unitBytes(text, i);
    const units = n === 4 ? 2 : 1;
    if (bytes + n > maxBytes && i > start) {
      pieces.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += n;
    i += units;
  }
  if (start < text.length || pieces.length === 0) pieces.push(text.slice(start));
  return pieces;
}

// ignoreBOM: a U+FEFF that begins a message is output like any other character, not a byte-order mark to drop.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

/** `text` as UTF-8 bytes. */
export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * The part of UTF-8 `bytes` after the first `skipBytes`.
 * @returns undefined when `skipBytes` falls inside a character or past the end.
 */
export function bytesSliceFrom(bytes: Uint8Array, skipBytes: number): Uint8Array | undefined {
  if (skipBytes > bytes.length) return undefined;
  if (skipBytes < bytes.length && (bytes[skipBytes] & 0xc0) === 0x80) return undefined; // a continuation byte
  return bytes.subarray(skipBytes);
}

/**
 * Decodes UTF-8 bytes as Socket.IO delivers them (a Buffer in Node, an
 * ArrayBuffer in browsers). The server sends whole characters in each
 * message, so no state is carried between calls.
 */
export function decodeUtf8(bytes: ArrayBuffer | ArrayBufferView): string {
  return decoder.decode(bytes);
}
