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
 *
 * Sequences are read as xterm.js's parser reads them: C0 controls and DEL
 * inside a sequence do not end it (`ESC [ 6 DEL n` is still a query), an ESC
 * ends any string (`OSC 11;? ESC x` is answered), and BEL ends an OSC only.
 * The C0 controls xterm.js executes inside a query (a CR in a CSI) stay in
 * the replay, where they were.
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

/**
 * Where a sequence starting at `start` (an ESC) ends (exclusive), whether it
 * is a query, and where the C0 controls are that the terminal executes while
 * reading it (xterm.js runs a BS or CR inside a CSI as if it came before it).
 */
interface Sequence {
  end: number;
  query: boolean;
  executed?: number[];
  /** Ended by the ESC at `end`, which it does not include: that ESC begins the next sequence. */
  open?: boolean;
}

/**
 * One native pass that finds every query above, and some sequences that are
 * not (a superset: a false positive only costs the full walk below, a false
 * negative would leave a query in the replay). Almost no replay holds a
 * query, and walking the tens of thousands of SGR sequences of a colourful
 * megabyte in JS costs several times this test. After the ESC, and after
 * each introducer, xterm.js skips C0 controls but CAN, SUB and ESC (it
 * executes or ignores them) and DEL; `SKIP` stands for them. Alternatives:
 * - CSI, body `P` = what `readCsi` lets through before the final: `SKIP` and
 *   parameters and prefixes (0x30-0x3f); intermediates are left out, so a
 *   query's body is all `P` up to its final, or up to its one `$`
 *   intermediate (DECRQM, DECRQPSR, DECRQTSR). Prefix `?`: `$` or final
 *   `S m n u`; prefix `>`/`=`: final `c q`; no prefix: `$` or final `n c t`
 *   (any `t` parameter). A plain SGR `CSI ... m`, cursor style `CSI 2 SP q`,
 *   `CSI ? 25 h` or modifyOtherKeys `CSI > 4 ; 2 m` never match.
 * - `Z` DECID; DCS requests: `P`, parameters, `$` or `+`, `q`.
 * - OSC: a payload without BEL, CAN, SUB or ESC (they end or abort it) holding
 *   a field `?` after a `;`, so `;?` followed by `;`, BEL or an ESC (which
 *   ends an OSC whatever follows it), with ignored C0 controls around the `?`.
 * ENQ is a plain `includes`.
 */
const SKIP = String.raw`[\x00-\x17\x19\x1c-\x1f\x7f]`;
/** A CSI body byte: `SKIP`, parameters and prefixes (0x30-0x3f). */
const BODY = String.raw`[\x00-\x17\x19\x1c-\x1f\x7f0-?]`;
/**
 * The first parameter byte of an unprefixed CSI. Not controls or DEL: the
 * `SKIP*` before it takes those, and two patterns that can both match a run
 * of controls would make the test quadratic in its length (a program's
 * `ESC [` followed by a quarter megabyte of NULs took 94 s).
 */
const FIRST = String.raw`[0-;]`;
/** C0 controls an OSC ignores (all but BEL, CAN, SUB and ESC, which end it). */
const OSC_SKIP = String.raw`[\x00-\x06\x08-\x17\x19\x1c-\x1f]`;
const QUERY_CANDIDATE = new RegExp(
  String.raw`\x1b${SKIP}*(?:` +
    String.raw`\[${SKIP}*(?:\?${BODY}*[$Smnu]|[=>]${BODY}*[cq]|(?:${FIRST}${BODY}*)?[$nct])` +
    String.raw`|Z|P${BODY}*[$+]${SKIP}*q` +
    String.raw`|\][^\x07\x18\x1a\x1b]*;${OSC_SKIP}*\?${OSC_SKIP}*[\x07\x1b;])`,
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

/**
 * The cuts: `[start, end, withSt, ...]`, in order; `withSt` 1 puts an ST
 * (`ESC \`) in the place of what was cut.
 */
type Cuts = number[];

/** ST, which ends a string or an escape where the cut query's ESC ended it, and does nothing else. */
const ST = '\x1b\\';

/** `text` with the cuts made. */
function cutRanges(text: string, cuts: Cuts): string {
  if (cuts.length === 0) return text;
  const kept: string[] = [];
  let copied = 0;
  for (let c = 0; c < cuts.length; c += 3) {
    kept.push(text.slice(copied, cuts[c]));
    if (cuts[c + 2] === 1) kept.push(ST);
    copied = cuts[c + 1]!;
  }
  kept.push(text.slice(copied));
  return kept.join('');
}

/** Where the queries are: [from, to, withSt] triples, in order. Exported for the tests only. */
export function findTerminalQueries(text: string): Cuts {
  let esc = text.indexOf(ESC);
  let enq = text.indexOf(ENQ);
  const found: Cuts = [];
  if (esc < 0 && enq < 0) return found;
  /** Where the last sequence read ended on an ESC it did not consume: that ESC ended it, and begins the next. */
  let openAt = -1;
  let i = 0;
  while (i < text.length) {
    if (esc >= 0 && esc < i) esc = text.indexOf(ESC, i);
    if (enq >= 0 && enq < i) enq = text.indexOf(ENQ, i);
    if (esc < 0 && enq < 0) break;
    if (enq >= 0 && (esc < 0 || enq < esc)) {
      let end = enq + 1;
      while (text.charCodeAt(end) === ENQ_CODE) end++; // a run of them: one cut, and no search per byte
      addCut(found, enq, end, 0);
      i = end;
      continue;
    }
    const sequence = readSequence(text, esc);
    if (sequence === undefined) break; // unfinished at the end: kept, the rest follows live
    cutSequence(found, text, esc, sequence, openAt === esc);
    openAt = sequence.open === true ? sequence.end : -1;
    i = sequence.end;
  }
  return found;
}

/**
 * A query is cut but for the C0 controls executed inside it, which are kept
 * in place (a CR inside a query still returns the cursor); an ENQ, a query
 * of its own, is cut wherever it is. When the query's ESC is what ended the
 * sequence before it (`OSC 0;title ESC [6n`), an ST takes its place, or that
 * sequence would swallow what follows.
 */
function cutSequence(found: Cuts, text: string, start: number, sequence: Sequence, endsPrevious: boolean): void {
  const executed = sequence.executed ?? [];
  if (!sequence.query) {
    for (const at of executed) if (text.charCodeAt(at) === ENQ_CODE) addCut(found, at, at + 1, 0);
    return;
  }
  let from = start;
  let withSt = endsPrevious ? 1 : 0;
  for (const at of executed) {
    if (text.charCodeAt(at) === ENQ_CODE) continue;
    addCut(found, from, at, withSt);
    withSt = 0;
    from = at + 1;
  }
  addCut(found, from, sequence.end, withSt);
}

/**
 * Adds the cut [from, to), with an ST in its place if `withSt`: an empty one
 * only for its ST, and one that starts where the last ended joins it. (Output
 * made of queries, a megabyte of ENQ or of controls inside a query, is a
 * few cuts, not one per byte: each attach's replay is stripped again.)
 */
function addCut(found: Cuts, from: number, to: number, withSt: number): void {
  if (to <= from && withSt === 0) return;
  const last = found.length - 3;
  if (withSt === 0 && last >= 0 && found[last + 1] === from) {
    found[last + 1] = to;
    return;
  }
  found.push(from, to, withSt);
}

const DEL = 0x7f;

/** A C0 control the parser executes in the escape and CSI states (or ignores in the others): all but CAN, SUB and ESC. */
function isSkippedControl(code: number): boolean {
  return code < 0x20 && code !== CAN && code !== SUB && code !== ESC_CODE;
}

function readSequence(text: string, start: number): Sequence | undefined {
  // After an ESC, xterm.js executes C0 controls and ignores DEL, and stays in the escape state.
  let executed: number[] | undefined;
  let at = start + 1;
  for (; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === DEL) continue;
    if (!isSkippedControl(code)) break;
    (executed ??= []).push(at);
  }
  if (at >= text.length) return undefined;
  const kind = text.charCodeAt(at);
  switch (kind) {
    case 0x5b /* [ */:
      return readCsi(text, at + 1, executed);
    case 0x5d /* ] */:
      return readString(text, at + 1, executed, true, isOscQuery);
    case 0x50 /* P */:
      return readDcs(text, at + 1, executed);
    case 0x58 /* X */:
    case 0x5e /* ^ */:
    case 0x5f /* _ */:
      return readString(text, at + 1, executed, false, () => false);
    case 0x5a /* Z */:
      return { end: at + 1, query: true, executed };
    case CAN:
    case SUB:
      return { end: at + 1, query: false, executed };
    case ESC_CODE:
      return { end: at, query: false, executed, open: true };
    default:
      return readEscape(text, at, executed);
  }
}

/** Any other escape (`ESC 7`, `ESC ( B`, ...), none of them a query: intermediates (0x20-0x2f), then a final. */
function readEscape(text: string, at: number, executed: number[] | undefined): Sequence | undefined {
  for (let i = at; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === DEL) continue;
    if (isSkippedControl(code)) {
      (executed ??= []).push(i);
      continue;
    }
    if (code === ESC_CODE) return { end: i, query: false, executed, open: true };
    if (code === CAN || code === SUB) return { end: i + 1, query: false, executed };
    if (code >= 0x30 && code <= 0x7e) return { end: i + 1, query: false, executed };
    if (code > 0x7e) return { end: i, query: false, executed }; // a character beyond ASCII aborts it
  }
  return undefined;
}

/**
 * CSI [prefix] params [intermediates] final, from `from`, after the `[`.
 * Char codes only, no slicing: a replay of a colourful program has tens of
 * thousands of SGR sequences per MB.
 */
function readCsi(text: string, from: number, executed: number[] | undefined): Sequence | undefined {
  let i = from;
  let prefix = 0;
  /** The intermediate byte (0x20-0x2f), 0 without, -1 with more than one. */
  let intermediate = 0;
  let paramsStart = -1;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x40 && code <= 0x7e) break;
    if (code === DEL) continue; // ignored
    if (isSkippedControl(code)) {
      (executed ??= []).push(i); // executed, and the sequence goes on
      continue;
    }
    if (code === ESC_CODE) return { end: i, query: false, executed, open: true }; // aborted by a new sequence
    if (code === CAN || code === SUB) return { end: i + 1, query: false, executed };
    if (code > 0x7e) return { end: i, query: false, executed }; // a character beyond ASCII aborts it
    if (paramsStart < 0) {
      // The first byte that is neither a control nor DEL: a prefix is only one there.
      paramsStart = i;
      if (code >= 0x3c && code <= 0x3f /* < = > ? */) {
        prefix = code;
        paramsStart = i + 1;
        continue;
      }
    }
    if (code >= 0x20 && code <= 0x2f) intermediate = intermediate === 0 ? code : -1;
  }
  if (i >= text.length) return undefined;
  if (paramsStart < 0) paramsStart = i;
  return { end: i + 1, query: isCsiQuery(text.charCodeAt(i), prefix, intermediate, text, paramsStart, i), executed };
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

/**
 * DCS [prefix] params [intermediates] final, data, ST, from `from`, after the
 * `P`. xterm.js ignores C0 controls and DEL before the final. A request
 * (`$q` DECRQSS, `+q` XTGETTCAP) is answered whatever its data and
 * parameters once an ESC ends it; a CAN or SUB aborts it.
 */
function readDcs(text: string, from: number, executed: number[] | undefined): Sequence | undefined {
  let prefix = 0;
  let seenByte = false;
  let intermediates = '';
  let i = from;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x40 && code <= 0x7e) break;
    if (code === DEL || isSkippedControl(code)) continue;
    if (code === ESC_CODE) return { end: i, query: false, executed, open: true };
    if (code === CAN || code === SUB) return { end: i + 1, query: false, executed };
    if (code > 0x7e) return { end: i, query: false, executed };
    if (!seenByte && code >= 0x3c && code <= 0x3f) prefix = code;
    seenByte = true;
    if (code >= 0x20 && code <= 0x2f) intermediates += text[i];
  }
  if (i >= text.length) return undefined;
  const request = prefix === 0 && (intermediates === '$' || intermediates === '+') && text.charCodeAt(i) === 0x71; /* q */
  return readString(text, i + 1, executed, false, () => request);
}

/**
 * OSC / DCS data / SOS / PM / APC, from `from`, up to an ESC, or a BEL for an
 * OSC (elsewhere BEL is data). An ESC ends the string whatever follows:
 * `ESC \` is the ST terminator, and any other ESC also starts a new sequence.
 * A CAN or SUB aborts the string, which is then not a query.
 */
function readString(text: string, from: number, executed: number[] | undefined, osc: boolean, isQuery: (data: string) => boolean): Sequence | undefined {
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === BEL && osc) return { end: i + 1, query: isQuery(text.slice(from, i)), executed };
    if (code === CAN || code === SUB) return { end: i + 1, query: false, executed };
    if (code === ESC_CODE) {
      if (i + 1 >= text.length) return undefined;
      const query = isQuery(text.slice(from, i));
      return text.charCodeAt(i + 1) === 0x5c /* \ */ ? { end: i + 2, query, executed } : { end: i, query, executed, open: true };
    }
  }
  return undefined;
}

/**
 * OSCs whose `?` fields ask the terminal: colours (4 palette, 5 special,
 * 10-19 dynamic) and the clipboard (52). A `?` elsewhere (a title such as
 * `OSC 0;t;?`) is text, and kept.
 */
const OSC_QUERIES = new Set(['4', '5', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '52']);

/** An OSC query: one of OSC_QUERIES with a field `?` after the first; xterm.js ignores the C0 controls inside it. */
function isOscQuery(payload: string): boolean {
  const fields = payload.replace(/[\x00-\x1f]/g, '').split(';');
  // The number as xterm.js reads it: `011` is 11.
  const id = /^\d+$/.test(fields[0]!) ? String(Number(fields[0])) : fields[0]!;
  return fields.length > 1 && OSC_QUERIES.has(id) && fields.slice(1).includes('?');
}
