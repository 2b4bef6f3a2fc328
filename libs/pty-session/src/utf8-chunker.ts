import { isUtf8 } from 'node:buffer';

/**
 * Turns the bytes a pty gives, read by read, into chunks of whole, valid
 * UTF-8 characters, which is what a session records and sends:
 *
 * - A character split between two reads is held back (at most 3 bytes) and
 *   goes out with the next read, as a string decoder would do.
 * - Bytes that are not UTF-8 (a binary file sent to the terminal, a program
 *   in another encoding) become U+FFFD, exactly as decoding them to text
 *   would: the offsets stay those of the text a client decodes, and a text
 *   client's `data` always re-encodes to `byteLength` bytes.
 *
 * Valid output, nearly all of it, is passed through as it came, without a
 * copy: the check is one native pass.
 */
export class Utf8Chunker {
  /** The first bytes of a character whose rest has not been read yet. */
  private carry: Buffer | undefined;

  /** The whole characters of what was read so far; undefined when there are none yet. */
  push(read: Buffer): Buffer | undefined {
    let bytes = read;
    if (this.carry) {
      bytes = Buffer.concat([this.carry, read]);
      this.carry = undefined;
    }
    const whole = wholeCharactersEnd(bytes);
    if (whole < bytes.length) {
      this.carry = Buffer.from(bytes.subarray(whole)); // its own copy: the read's memory is not pinned
      bytes = bytes.subarray(0, whole);
    }
    if (bytes.length === 0) return undefined;
    return isUtf8(bytes) ? bytes : Buffer.from(bytes.toString('utf8'), 'utf8');
  }

  /** What is held back, as text would end (an unfinished character is U+FFFD); undefined when nothing is. */
  flush(): Buffer | undefined {
    const carry = this.carry;
    this.carry = undefined;
    return carry ? Buffer.from(carry.toString('utf8'), 'utf8') : undefined;
  }
}

/**
 * Where the last character of `bytes` that is complete ends: `bytes.length`
 * unless the bytes end with the start of a multi-byte character (a lead byte
 * and fewer continuation bytes than it announces).
 */
function wholeCharactersEnd(bytes: Buffer): number {
  const length = bytes.length;
  // A character is at most 4 bytes: its lead byte is within the last 3 when it is unfinished.
  for (let i = length - 1; i >= 0 && i >= length - 3; i--) {
    const byte = bytes[i]!;
    if (byte < 0x80) return length; // ASCII: everything before it is finished or invalid either way
    if (byte >= 0xc0) return length - i < sequenceLength(byte) ? i : length;
    // A continuation byte: look further back for its lead.
  }
  return length;
}

/** Bytes of the character a lead byte starts (1 for a byte that cannot start one). */
function sequenceLength(lead: number): number {
  if (lead >= 0xf0) return lead <= 0xf4 ? 4 : 1;
  if (lead >= 0xe0) return 3;
  return lead >= 0xc2 ? 2 : 1;
}
