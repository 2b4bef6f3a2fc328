/**
 * Replay hygiene: a terminal answers some sequences (queries) by typing a
 * report into the program's input: the cursor position, its identity, its
 * colours. Sent again in a replay, a query is answered a second time, long
 * after the program stopped waiting, and the report lands in the shell as
 * typed garbage (`^[[24;1R`, `11;rgb:...`). So replayed output goes out
 * without them; live output is never touched.
 *
 * Removed (each only when complete; an unfinished sequence at the end of
 * the text is kept, its rest follows live):
 * - CSI: device status reports `CSI [?] Ps n` (cursor position `6n`, status
 *   `5n`, ...), device attributes `CSI [>=] Ps c`, XTVERSION `CSI > Ps q`,
 *   mode reports DECRQM `CSI [?] Ps $ p`, DECRQPSR `CSI Ps $ w`, DECRQTSR
 *   `CSI Ps $ u`, window reports `CSI Ps t` (Ps 11, 13-16, 18-21), the kitty
 *   keyboard query `CSI ? u`, XTQMODKEYS `CSI ? Ps m`, XTSMGRAPHICS `CSI ? ... S`;
 * - OSC with a `?` parameter: colour queries (`OSC 4;n;?`, `OSC 10;?`,
 *   `OSC 11;?`, ...) and clipboard reads (`OSC 52;c;?`);
 * - DCS requests DECRQSS `DCS $ q ... ST` and XTGETTCAP `DCS + q ... ST`;
 * - DECID `ESC Z` and ENQ (0x05).
 *
 * The 8-bit forms of the introducers and ST (U+0090 DCS, U+0098 SOS, U+009B
 * CSI, U+009C ST, U+009D OSC, U+009E PM, U+009F APC) start and end sequences
 * too: xterm.js decodes UTF-8 first and acts on them, so `U+009B 6n` is a
 * query like `ESC [ 6n`.
 */

const ESC = '\x1b';
const ENQ = '\x05';
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;
const ESC_CODE = 0x1b;
const ENQ_CODE = 0x05;

/** The 8-bit introducers and ST, as characters, and as UTF-8 bytes read as Latin-1 (0xC2 and the code). */
const C1_TEXT = /[\x90\x98\x9b-\x9f]/;
const C1_BYTES = /\xc2[\x90\x98\x9b-\x9f]/g;
const C1_LEAD = 0xc2;
/** Each one's 7-bit form, two bytes like its UTF-8 form: replacing one by the other keeps every index. */
const SEVEN_BIT: Record<number, string> = { 0x90: '\x1bP', 0x98: '\x1bX', 0x9b: '\x1b[', 0x9c: '\x1b\\', 0x9d: '\x1b]', 0x9e: '\x1b^', 0x9f: '\x1b_' };

/** `CSI Ps t` reports: 11 state, 13 position, 14/15/16 sizes in pixels, 18/19 sizes in cells, 20/21 titles. */
const WINDOW_REPORTS = new Set(['11', '13', '14', '15', '16', '18', '19', '20', '21']);

/** Where a sequence starting at `start` (an ESC) ends (exclusive), and whether it is a query. */
interface Sequence {
  end: number;
  query: boolean;
}

/**
 * One native pass that finds every query above, and some sequences that are
 * not (a superset: a false positive only costs the full walk below, a false
 * negative would leave a query in the replay). Almost no replay holds a
 * query, and walking the tens of thousands of SGR sequences of a colourful
 * megabyte in JS costs several times this test. Alternatives after the ESC:
 * - CSI, body `P` = what `readCsi` lets through before the final: C0
 *   controls but CAN, SUB and ESC, and parameters and prefixes (0x30-0x3f);
 *   intermediates are left out, so a query's body is all `P` up to its final,
 *   or up to its one `$` intermediate (DECRQM, DECRQPSR, DECRQTSR). Prefix `?`:
 *   `$` or final `S m n u`; prefix `>`/`=`: final `c q`; no prefix: `$` or
 *   final `n c t` (any `t` parameter). A plain SGR `CSI ... m`, cursor style
 *   `CSI 2 SP q`, `CSI ? 25 h` or modifyOtherKeys `CSI > 4 ; 2 m` never match.
 * - `Z` DECID; `P$q`/`P+q` DCS requests.
 * - OSC: a payload without BEL, CAN, SUB or ESC (they end or abort it) holding
 *   a field `?` after a `;`, so `;?` followed by `;`, BEL or the ESC of ST.
 * ENQ is a plain `includes`.
 */
/** A CSI body byte: C0 controls but CAN, SUB and ESC; parameters and prefixes (0x30-0x3f). */
const BODY = String.raw`[\x00-\x17\x19\x1c-\x1f0-?]`;
/** The first body byte of an unprefixed CSI: the same without `< = > ?`. */
const FIRST = String.raw`[\x00-\x17\x19\x1c-\x1f0-;]`;
const QUERY_CANDIDATE = new RegExp(
  String.raw`\x1b(?:` +
    String.raw`\[(?:\?${BODY}*[$Smnu]|[=>]${BODY}*[cq]|(?:${FIRST}${BODY}*)?[$nct])` +
    String.raw`|Z|P[$+]q` +
    String.raw`|\][^\x07\x18\x1a\x1b]*;\?[\x07\x1b;])`,
);

/**
 * False when `text` surely holds no terminal query, so `stripTerminalQueries`
 * would return it unchanged; true when it may. Exported for the tests only.
 */
export function mayContainTerminalQuery(text: string): boolean {
  if (text.includes(ENQ)) return true;
  return text.includes(ESC) && QUERY_CANDIDATE.test(text);
}

/**
 * UTF-8 output with the terminal queries removed; the same Buffer when there
 * are none. Every byte of a sequence is ASCII and every byte of a multi-byte
 * character is >= 0x80, so the bytes are read as Latin-1 (one character per
 * byte, no decoding) and the text rules above apply to them unchanged.
 */
export function stripTerminalQueryBytes(bytes: Buffer): Buffer {
  const mayHaveC1 = bytes.indexOf(C1_LEAD) !== -1;
  if (!mayHaveC1 && bytes.indexOf(ESC_CODE) === -1 && bytes.indexOf(ENQ_CODE) === -1) return bytes;
  const text = bytes.toString('latin1');
  // The 8-bit forms, read as Latin-1, are two characters like their 7-bit forms: the parse runs on the
  // 7-bit text, and what it finds is cut at the same indexes from the bytes as they are.
  const scanned = mayHaveC1 ? text.replace(C1_BYTES, (c1) => SEVEN_BIT[c1.charCodeAt(1)]!) : text;
  if (!mayContainTerminalQuery(scanned)) return bytes;
  const queries = findTerminalQueries(scanned);
  return queries.length === 0 ? bytes : Buffer.from(cutRanges(text, queries), 'latin1');
}

/** Text with the terminal queries removed; the same string when there are none. */
export function stripTerminalQueries(text: string): string {
  // 8-bit introducers: through the bytes, where they keep their length in their 7-bit form.
  if (C1_TEXT.test(text)) return stripTerminalQueryBytes(Buffer.from(text, 'utf8')).toString('utf8');
  return mayContainTerminalQuery(text) ? walkTerminalQueries(text) : text;
}

/** The full parse behind `stripTerminalQueries` (7-bit forms), without the fast check. Exported for the tests only. */
export function walkTerminalQueries(text: string): string {
  return cutRanges(text, findTerminalQueries(text));
}

/** `text` without the ranges (`[start, end, start, end, ...]`, in order). */
function cutRanges(text: string, ranges: readonly number[]): string {
  if (ranges.length === 0) return text;
  const kept: string[] = [];
  let copied = 0;
  for (let r = 0; r < ranges.length; r += 2) {
    kept.push(text.slice(copied, ranges[r]));
    copied = ranges[r + 1]!;
  }
  kept.push(text.slice(copied));
  return kept.join('');
}

/** Where the queries are: `[start, end, start, end, ...]`. */
function findTerminalQueries(text: string): number[] {
  let esc = text.indexOf(ESC);
  let enq = text.indexOf(ENQ);
  const found: number[] = [];
  if (esc < 0 && enq < 0) return found;
  let i = 0;
  while (i < text.length) {
    if (esc >= 0 && esc < i) esc = text.indexOf(ESC, i);
    if (enq >= 0 && enq < i) enq = text.indexOf(ENQ, i);
    if (esc < 0 && enq < 0) break;
    if (enq >= 0 && (esc < 0 || enq < esc)) {
      found.push(enq, enq + 1);
      i = enq + 1;
      continue;
    }
    const sequence = readSequence(text, esc);
    if (sequence === undefined) break; // unfinished at the end: kept, the rest follows live
    if (sequence.query) found.push(esc, sequence.end);
    i = sequence.end;
  }
  return found;
}

function readSequence(text: string, start: number): Sequence | undefined {
  if (start + 1 >= text.length) return undefined;
  const kind = text.charCodeAt(start + 1);
  switch (kind) {
    case 0x5b /* [ */:
      return readCsi(text, start);
    case 0x5d /* ] */:
      return readString(text, start, isOscQuery);
    case 0x50 /* P */:
      return readString(text, start, isDcsQuery);
    case 0x58 /* X */:
    case 0x5e /* ^ */:
    case 0x5f /* _ */:
      return readString(text, start, () => false);
    case 0x5a /* Z */:
      return { end: start + 2, query: true };
    default:
      // Any other escape (ESC 7, ESC ( B, ...) is not a query; the scan goes on after the ESC.
      return { end: start + 1, query: false };
  }
}

/**
 * CSI [prefix] params [intermediates] final. Char codes only, no slicing: a
 * replay of a colourful program has tens of thousands of SGR sequences per MB.
 */
function readCsi(text: string, start: number): Sequence | undefined {
  let i = start + 2;
  let prefix = 0;
  if (i < text.length) {
    const first = text.charCodeAt(i);
    if (first >= 0x3c && first <= 0x3f /* < = > ? */) {
      prefix = first;
      i++;
    }
  }
  const paramsStart = i;
  /** The intermediate byte (0x20-0x2f), 0 without, -1 with more than one. */
  let intermediate = 0;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x40 && code <= 0x7e) break;
    if (code === ESC_CODE) return { end: i, query: false }; // aborted by a new sequence
    if (code === CAN || code === SUB) return { end: i + 1, query: false };
    if (code > 0x7e) return { end: i, query: false };
    if (code >= 0x20 && code <= 0x2f) intermediate = intermediate === 0 ? code : -1;
    // Executed C0 controls inside a CSI do not change its meaning.
  }
  if (i >= text.length) return undefined;
  return { end: i + 1, query: isCsiQuery(text.charCodeAt(i), prefix, intermediate, text, paramsStart, i) };
}

const DOLLAR = 0x24;
const QUESTION = 0x3f;
const GREATER = 0x3e;
const EQUALS = 0x3d;

function isCsiQuery(final: number, prefix: number, intermediate: number, text: string, paramsStart: number, finalAt: number): boolean {
  switch (final) {
    case 0x6e /* n */:
      return intermediate === 0 && (prefix === 0 || prefix === QUESTION);
    case 0x63 /* c */:
      return intermediate === 0 && (prefix === 0 || prefix === GREATER || prefix === EQUALS);
    case 0x71 /* q */:
      return intermediate === 0 && prefix === GREATER;
    case 0x70 /* p */:
      return intermediate === DOLLAR && (prefix === 0 || prefix === QUESTION);
    case 0x77 /* w */:
      return intermediate === DOLLAR && prefix === 0;
    case 0x75 /* u */:
      return (intermediate === DOLLAR && prefix === 0) || (intermediate === 0 && prefix === QUESTION);
    case 0x74 /* t */:
      return intermediate === 0 && prefix === 0 && WINDOW_REPORTS.has(firstParam(text, paramsStart, finalAt));
    case 0x6d /* m */:
    case 0x53 /* S */:
      return intermediate === 0 && prefix === QUESTION;
    default:
      return false;
  }
}

/** The digits of the first parameter (C0 controls skipped). */
function firstParam(text: string, from: number, to: number): string {
  let digits = '';
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x3b /* ; */) break;
    if (code >= 0x30 && code <= 0x39) digits += text[i];
  }
  return digits;
}

/** OSC / DCS / SOS / PM / APC up to BEL or ST (`ESC \`). */
function readString(text: string, start: number, isQuery: (payload: string) => boolean): Sequence | undefined {
  for (let i = start + 2; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === BEL) return { end: i + 1, query: isQuery(text.slice(start + 2, i)) };
    if (code === CAN || code === SUB) return { end: i + 1, query: false };
    if (code === ESC_CODE) {
      if (i + 1 >= text.length) return undefined;
      // ESC \ is the terminator; any other ESC aborts the string and starts a new sequence.
      if (text.charCodeAt(i + 1) === 0x5c) return { end: i + 2, query: isQuery(text.slice(start + 2, i)) };
      return { end: i, query: false };
    }
  }
  return undefined;
}

function isOscQuery(payload: string): boolean {
  const fields = payload.split(';');
  return fields.length > 1 && fields.slice(1).includes('?');
}

function isDcsQuery(payload: string): boolean {
  return payload.startsWith('$q') || payload.startsWith('+q');
}
