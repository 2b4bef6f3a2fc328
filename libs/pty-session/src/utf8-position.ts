/**
 * UTF-8 byte positions in a JavaScript (UTF-16) string, without encoding it.
 *
 * The replay buffer is addressed in UTF-8 bytes but holds strings, so
 * eviction must turn "drop N bytes" into a character index. Under streaming
 * output that is the buffer's main cost, so it is done once per cut, mostly
 * by V8's native UTF-8 length, and it reports the byte count it reached so
 * that nobody counts the same characters again.
 *
 * Characters are counted as `Buffer.byteLength` counts them: a surrogate pair
 * is one 4-byte character, and a lone surrogate is encoded as U+FFFD (3 bytes).
 */

/** One character boundary: a UTF-16 index and the UTF-8 bytes before it (counted from the walk's start). */
export interface Utf8Boundary {
  index: number;
  bytes: number;
}

const ONE_BYTE_LIMIT = 0x80;
const TWO_BYTE_LIMIT = 0x800;
const SURROGATE_PAIR_BYTES = 4;
/** Any other BMP unit, a lone surrogate included (it becomes U+FFFD). */
const THREE_BYTES = 3;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** UTF-8 length of `text` between two char indexes that do not split a surrogate pair. */
export function utf8Length(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; ) {
    const size = charBytesAt(text, i, to);
    count += size;
    i += unitsOf(size);
  }
  return count;
}

/** UTF-8 length of the character that starts at `i` (< end). */
function charBytesAt(text: string, i: number, end: number): number {
  const code = text.charCodeAt(i);
  if (code < ONE_BYTE_LIMIT) return 1;
  if (code < TWO_BYTE_LIMIT) return 2;
  if (isHighSurrogate(code) && i + 1 < end && isLowSurrogate(text.charCodeAt(i + 1))) return SURROGATE_PAIR_BYTES;
  return THREE_BYTES;
}

/** UTF-8 length of the character that ends at `i` (> start). */
function charBytesBefore(text: string, i: number, start: number): number {
  const code = text.charCodeAt(i - 1);
  if (code < ONE_BYTE_LIMIT) return 1;
  if (code < TWO_BYTE_LIMIT) return 2;
  if (isLowSurrogate(code) && i - 2 >= start && isHighSurrogate(text.charCodeAt(i - 2))) return SURROGATE_PAIR_BYTES;
  return THREE_BYTES;
}

/** UTF-16 units of a character of that many UTF-8 bytes: only 4-byte ones are surrogate pairs. */
function unitsOf(bytes: number): number {
  return bytes === SURROGATE_PAIR_BYTES ? 2 : 1;
}

/**
 * The first character boundary at least `target` UTF-8 bytes into
 * `text.slice(start)`, whose UTF-8 length is `totalBytes` (0 < target <
 * totalBytes). A target inside a character rounds up to its end, so
 * `bytes` is `target` plus at most 3.
 *
 * A JavaScript loop over `charCodeAt` costs several times what V8's native
 * UTF-8 length does, so the walk is mostly native: guess the index from the
 * text's average bytes per character, measure with `Buffer.byteLength` the
 * shorter side of the guess (head, or tail subtracted from `totalBytes`), then
 * correct the guess one character at a time. Evenly mixed text needs a few
 * corrections; text whose multi-byte characters crowd at one end needs more
 * (at worst a walk as long as the plain one).
 *
 * `totalBytes` must be exact: the tail is measured and subtracted from it.
 */
export function utf8Boundary(text: string, start: number, totalBytes: number, target: number): Utf8Boundary {
  const end = text.length;
  let index = Math.min(end, start + Math.round((target * (end - start)) / totalBytes));
  if (index > start && index < end && isLowSurrogate(text.charCodeAt(index)) && isHighSurrogate(text.charCodeAt(index - 1))) {
    index--; // never measure half a pair
  }
  let bytes =
    index - start <= end - index ? Buffer.byteLength(text.slice(start, index)) : totalBytes - Buffer.byteLength(text.slice(index));
  while (bytes < target && index < end) {
    const size = charBytesAt(text, index, end);
    bytes += size;
    index += unitsOf(size);
  }
  while (index > start) {
    const size = charBytesBefore(text, index, start);
    if (bytes - size < target) break;
    bytes -= size;
    index -= unitsOf(size);
  }
  return { index, bytes };
}
