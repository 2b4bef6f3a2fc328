/**
 * Just enough of a VT500-style parser to tell whether a position in terminal
 * output lies between escape sequences (the "ground" state) or inside one.
 * The replay buffer uses it so that eviction never leaves half a sequence at
 * the start of the buffer (a cut SGR would show up as `5;196m` on screen).
 *
 * Two facts keep it cheap on the hot path:
 * - ESC starts a new sequence from any state (it aborts a CSI, and inside a
 *   string it begins the ST terminator `ESC \`, whose `\` is also a final
 *   byte), so the state after a chunk depends only on the text after its
 *   last ESC: `lastIndexOf` finds it natively.
 * - From ground, only ESC leaves ground, so a scan can stop at ground.
 * 8-bit C1 controls (U+0080-U+009F) are not treated as sequence starters:
 * programs emit the 7-bit forms in UTF-8 streams.
 */

export const ScanState = {
  Ground: 0,
  /** After ESC. */
  Escape: 1,
  /** After ESC and intermediate bytes (0x20-0x2f), e.g. `ESC ( B`. */
  EscapeIntermediate: 2,
  /** Inside `ESC [` ... final byte. */
  Csi: 3,
  /** Inside OSC / DCS / SOS / PM / APC, up to BEL or ST. */
  String: 4,
} as const;
export type ScanState = (typeof ScanState)[keyof typeof ScanState];

const ESC = 0x1b;
const BEL = 0x07;
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
      // ] OSC, P DCS, X SOS, ^ PM, _ APC
      if (code === 0x5d || code === 0x50 || code === 0x58 || code === 0x5e || code === 0x5f) return ScanState.String;
      if (code >= 0x20 && code <= 0x2f) return ScanState.EscapeIntermediate;
      if (code < 0x20) return ScanState.Escape; // C0 controls execute without ending the sequence
      return ScanState.Ground;
    case ScanState.EscapeIntermediate:
      if (code >= 0x20 && code <= 0x2f) return ScanState.EscapeIntermediate;
      if (code < 0x20) return ScanState.EscapeIntermediate;
      return ScanState.Ground;
    case ScanState.Csi:
      if (code >= 0x40 && code <= 0x7e) return ScanState.Ground;
      if (code < 0x40) return ScanState.Csi; // parameters, intermediates, executed C0 controls
      return ScanState.Ground; // anything else aborts the sequence
    case ScanState.String:
      return code === BEL ? ScanState.Ground : ScanState.String;
  }
}

/** State after `text`, given the state before it. */
export function scanState(state: ScanState, text: string): ScanState {
  // V8's forward indexOf is a fast native search; its lastIndexOf compares one
  // unit at a time. Asking indexOf first spares plain text (no ESC at all, the
  // bulk of most output) the slow backward pass over all of it.
  const lastEsc = text.indexOf('\x1b') === -1 ? -1 : text.lastIndexOf('\x1b');
  let from = 0;
  if (lastEsc >= 0) {
    state = ScanState.Escape;
    from = lastEsc + 1;
  }
  for (let i = from; i < text.length && state !== ScanState.Ground; i++) {
    state = step(state, text.charCodeAt(i));
  }
  return state;
}

/**
 * The smallest index `i >= from` at which `text` is between sequences, given
 * the state at index `start` (text before `start` is ignored), and which does
 * not split a UTF-16 surrogate pair. Returns `text.length` when the text ends
 * before such a place is found. Costs O(from - last ESC before from) plus the
 * distance to the cut, not O(from).
 */
export function findSafeCut(text: string, stateAtStart: ScanState, from: number, start = 0): number {
  let state = stateAtStart;
  let i = start;
  // The state at `from` depends only on the text after the last ESC before it.
  const lastEsc = from > start ? text.lastIndexOf('\x1b', from - 1) : -1;
  if (lastEsc >= start) {
    state = ScanState.Escape;
    i = lastEsc + 1;
  }
  for (; i < from && state !== ScanState.Ground; i++) state = step(state, text.charCodeAt(i));
  for (i = Math.max(from, start); i < text.length; i++) {
    if (state === ScanState.Ground) {
      const code = text.charCodeAt(i);
      const lowSurrogate = code >= 0xdc00 && code <= 0xdfff;
      if (!lowSurrogate) return i;
    }
    state = step(state, text.charCodeAt(i));
  }
  return text.length;
}
