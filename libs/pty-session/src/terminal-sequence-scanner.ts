/**
 * Just enough of a VT500-style parser to tell whether a position in terminal
 * output (UTF-8 bytes) lies between escape sequences (the "ground" state) or inside one.
 * The replay buffer uses it so that eviction never leaves half a sequence at
 * the start of the buffer (a cut SGR would show up as `5;196m` on screen).
 *
 * Two facts keep it cheap on the hot path:
 * - ESC starts a new sequence from any state (it aborts a CSI, and inside a
 *   string it begins the ST terminator `ESC \`, whose `\` is also a final
 *   byte), so the state after a chunk depends only on the bytes after its
 *   last ESC: `lastIndexOf` finds it natively.
 * - From ground, only ESC leaves ground, so a scan can stop at ground.
 * 8-bit C1 controls (U+0080-U+009F) are not treated as sequence starters:
 * programs emit the 7-bit forms in UTF-8 streams. Every byte of a multi-byte
 * UTF-8 character is >= 0x80, so it acts as a character beyond ASCII would:
 * it aborts a CSI, and is payload in a string.
 */

export const ScanState = {
  Ground: 0,
  /** After ESC. */
  Escape: 1,
  /** After ESC and intermediate bytes (0x20-0x2f), e.g. `ESC ( B`. */
  EscapeIntermediate: 2,
  /** Inside `ESC [` ... final byte. */
  Csi: 3,
  /** Inside DCS / SOS / PM / APC, up to ST (a BEL there is data). */
  String: 4,
  /** Inside OSC, up to BEL or ST. */
  OscString: 5,
} as const;
export type ScanState = (typeof ScanState)[keyof typeof ScanState];

const ESC = 0x1b;
const BEL = 0x07;
const DEL = 0x7f;
const CAN = 0x18;
const SUB = 0x1a;

function step(state: ScanState, code: number): ScanState {
  if (code === ESC) return ScanState.Escape;
  if (code === CAN || code === SUB) return ScanState.Ground;
  switch (state) {
    case ScanState.Ground:
      return ScanState.Ground;
    case ScanState.Escape:
      if (code === 0x5b /* [ */) return ScanState.Csi;
      if (code === 0x5d /* ] */) return ScanState.OscString;
      // P DCS, X SOS, ^ PM, _ APC
      if (code === 0x50 || code === 0x58 || code === 0x5e || code === 0x5f) return ScanState.String;
      if (code >= 0x20 && code <= 0x2f) return ScanState.EscapeIntermediate;
      if (code < 0x20 || code === DEL) return ScanState.Escape; // C0 controls execute, DEL is ignored
      return ScanState.Ground;
    case ScanState.EscapeIntermediate:
      if (code >= 0x20 && code <= 0x2f) return ScanState.EscapeIntermediate;
      if (code < 0x20 || code === DEL) return ScanState.EscapeIntermediate;
      return ScanState.Ground;
    case ScanState.Csi:
      if (code >= 0x40 && code <= 0x7e) return ScanState.Ground;
      if (code < 0x40 || code === DEL) return ScanState.Csi; // parameters, intermediates, executed C0 controls, ignored DEL
      return ScanState.Ground; // anything else aborts the sequence
    case ScanState.OscString:
      return code === BEL ? ScanState.Ground : ScanState.OscString;
    case ScanState.String:
      return ScanState.String;
  }
}

/** State after `bytes[from, to)`, given the state before it. */
export function scanState(state: ScanState, bytes: Uint8Array, from = 0, to = bytes.length): ScanState {
  // Only the bytes after the last ESC matter: a native backward search finds it.
  const lastEsc = to > from ? lastIndexOfEsc(bytes, from, to) : -1;
  let i = from;
  if (lastEsc >= 0) {
    state = ScanState.Escape;
    i = lastEsc + 1;
  }
  for (; i < to && state !== ScanState.Ground; i++) state = step(state, bytes[i]!);
  return state;
}

/**
 * The smallest index `i >= from` in `[start, end)` at which `bytes` is
 * between sequences and at the first byte of a UTF-8 character, given the
 * state at `start` (bytes before `start` are ignored). Returns `end` when
 * there is none. Costs O(from - last ESC before from) plus the distance to
 * the cut, not O(from - start).
 */
export function findSafeCut(bytes: Uint8Array, stateAtStart: ScanState, from: number, start = 0, end = bytes.length): number {
  const at = Math.max(from, start);
  let state = scanState(stateAtStart, bytes, start, at);
  for (let i = at; i < end; i++) {
    if (state === ScanState.Ground && !isUtf8Continuation(bytes[i]!)) return i;
    state = step(state, bytes[i]!);
  }
  return end;
}

/** A byte 0b10xxxxxx: inside a multi-byte UTF-8 character, never its first byte. */
export function isUtf8Continuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/** Index of the last ESC in `bytes[from, to)`, or -1. A native search of that range only, not of what precedes it. */
function lastIndexOfEsc(bytes: Uint8Array, from: number, to: number): number {
  const range = from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to);
  const at = range.lastIndexOf(ESC);
  return at === -1 ? -1 : from + at;
}
