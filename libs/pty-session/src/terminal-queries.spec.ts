import { describe, expect, it } from '@jest/globals';
import { Terminal } from '@xterm/headless';
import { findTerminalQueries, mayContainTerminalQuery, stripTerminalQueries, stripTerminalQueryBytes, walkTerminalQueries } from './terminal-queries.js';
import { mulberry32 } from './testing-fakes/test-helpers.js';

const ESC = '\x1b';
const CSI = `${ESC}[`;
const OSC = `${ESC}]`;
const DCS = `${ESC}P`;
const ST = `${ESC}\\`;
const BEL = '\x07';

describe('stripTerminalQueries', () => {
  const queries: Array<[string, string]> = [
    ['cursor position report (DSR 6)', `${CSI}6n`],
    ['status report (DSR 5)', `${CSI}5n`],
    ['DEC cursor position report', `${CSI}?6n`],
    ['printer status (DEC DSR)', `${CSI}?15n`],
    ['primary device attributes', `${CSI}c`],
    ['primary device attributes with 0', `${CSI}0c`],
    ['secondary device attributes', `${CSI}>c`],
    ['secondary device attributes with 0', `${CSI}>0c`],
    ['tertiary device attributes', `${CSI}=c`],
    ['XTVERSION', `${CSI}>0q`],
    ['DECRQM ANSI mode', `${CSI}4$p`],
    ['DECRQM DEC mode', `${CSI}?2004$p`],
    ['DECRQPSR', `${CSI}1$w`],
    ['DECRQTSR', `${CSI}1$u`],
    ['window state report', `${CSI}11t`],
    ['text area size in pixels', `${CSI}14t`],
    ['text area size in cells', `${CSI}18t`],
    ['screen size in cells', `${CSI}19t`],
    ['window title report', `${CSI}21t`],
    ['kitty keyboard flags query', `${CSI}?u`],
    ['XTQMODKEYS', `${CSI}?4m`],
    ['XTSMGRAPHICS', `${CSI}?1;1;0S`],
    ['background colour query, BEL', `${OSC}11;?${BEL}`],
    ['foreground colour query, ST', `${OSC}10;?${ST}`],
    ['cursor colour query', `${OSC}12;?${BEL}`],
    ['palette colour query', `${OSC}4;1;?${BEL}`],
    ['clipboard read', `${OSC}52;c;?${BEL}`],
    ['DECRQSS', `${DCS}$qm${ST}`],
    ['XTGETTCAP', `${DCS}+q544e${ST}`],
    ['DECID', `${ESC}Z`],
    ['ENQ', '\x05'],
  ];

  it.each(queries)('removes %s', (_name, query) => {
    expect(stripTerminalQueries(`before${query}after`)).toBe('beforeafter');
    expect(stripTerminalQueries(query)).toBe('');
  });

  const kept: Array<[string, string]> = [
    ['SGR colour', `${CSI}1;31m`],
    ['cursor position', `${CSI}10;20H`],
    ['erase display', `${CSI}2J`],
    ['alternate screen', `${CSI}?1049h`],
    ['bracketed paste on', `${CSI}?2004h`],
    ['cursor style (DECSCUSR, space intermediate)', `${CSI}2 q`],
    ['modifyOtherKeys set', `${CSI}>4;1m`],
    ['modifyOtherKeys reset (CSI > n)', `${CSI}>4n`],
    ['kitty keyboard push', `${CSI}>1u`],
    ['kitty keyboard pop', `${CSI}<u`],
    ['restore cursor (CSI u)', `${CSI}u`],
    ['window resize (CSI 8 t)', `${CSI}8;24;80t`],
    ['push title (CSI 22 t)', `${CSI}22;0t`],
    ['soft reset', `${CSI}!p`],
    ['set title', `${OSC}0;my title${BEL}`],
    ['a title with a ? field', `${OSC}0;what;?${BEL}`],
    ['a hyperlink whose parameters hold a ? field', `${OSC}8;?;https://example.com${ST}`],
    ['set background colour', `${OSC}11;rgb:00/00/00${ST}`],
    ['hyperlink', `${OSC}8;;https://example.com?q=1${ST}`],
    ['clipboard write', `${OSC}52;c;aGVsbG8=${BEL}`],
    ['sixel DCS', `${DCS}q#0;2;0;0;0~${ST}`],
    ['charset designation', `${ESC}(B`],
    ['save cursor', `${ESC}7`],
    ['keypad mode', `${ESC}=`],
  ];

  it.each(kept)('keeps %s', (_name, sequence) => {
    const text = `a${sequence}b`;
    expect(stripTerminalQueries(text)).toBe(text);
  });

  it('returns the very same string when there is nothing to remove', () => {
    const text = `plain ${CSI}31mred${CSI}0m text\r\n`.repeat(100);
    expect(stripTerminalQueries(text)).toBe(text);
  });

  it('removes every query among ordinary output and keeps the rest in order', () => {
    const text = `$ ${CSI}6n${CSI}32mok${CSI}0m${OSC}11;?${BEL}\r\n${CSI}c é 日本 😀${DCS}$q"p${ST}end`;
    expect(stripTerminalQueries(text)).toBe(`$ ${CSI}32mok${CSI}0m\r\n é 日本 😀end`);
  });

  it('keeps an unfinished sequence at the end: its rest follows live', () => {
    expect(stripTerminalQueries(`x${CSI}6`)).toBe(`x${CSI}6`);
    expect(stripTerminalQueries(`x${OSC}11;?`)).toBe(`x${OSC}11;?`);
    expect(stripTerminalQueries(`x${CSI}6n${ESC}`)).toBe(`x${ESC}`);
  });

  it('an ESC inside a sequence ends it and starts the next one; an ST takes the place of a query cut there', () => {
    // Without the ST, the title would swallow the `!`, and the CSI would read it as an intermediate.
    expect(stripTerminalQueries(`${CSI}12${CSI}6n!`)).toBe(`${CSI}12${ST}!`);
    expect(stripTerminalQueries(`${OSC}0;title${CSI}6n!`)).toBe(`${OSC}0;title${ST}!`);
    expect(stripTerminalQueries(`${ESC}(${CSI}6nB`)).toBe(`${ESC}(${ST}B`);
    expect(stripTerminalQueries(`${ESC}${CSI}6nx`)).toBe(`${ESC}${ST}x`);
    // Ended properly, it needs none.
    expect(stripTerminalQueries(`${OSC}0;title${ST}${CSI}6n!`)).toBe(`${OSC}0;title${ST}!`);
    expect(stripTerminalQueries(`${CSI}12m${CSI}6n!`)).toBe(`${CSI}12m!`);
  });

  it('CAN and SUB cancel a sequence, which is then not a query', () => {
    expect(stripTerminalQueries(`${CSI}6\x18n`)).toBe(`${CSI}6\x18n`);
  });

  it('a C0 control inside a query does not save it, and stays where it was (xterm.js executes it)', () => {
    expect(stripTerminalQueries(`a${CSI}6\rn b`)).toBe('a\r b');
    expect(stripTerminalQueries(`a${ESC}\b[6n b`)).toBe('a\b b');
  });

  describe('forms xterm.js still answers: controls and DEL inside, strings ended by any ESC', () => {
    const evasive: Array<[string, string, string]> = [
      ['DEL inside a CSI', `a${CSI}6\x7fn b`, 'a b'],
      ['DEL between ESC and [', `a${ESC}\x7f[6n b`, 'a b'],
      ['a control between ESC and [ (executed, kept)', `a${ESC}\x01[6n b`, 'a\x01 b'],
      ['a control before the prefix', `a${CSI}\x01?6n b`, 'a\x01 b'],
      ['DEL before the prefix', `a${CSI}\x7f>c b`, 'a b'],
      ['a control in a DCS request', `a${DCS}\x01$qm${ST} b`, 'a b'],
      ['DEL between $ and q', `a${DCS}$\x7fqm${ST} b`, 'a b'],
      ['a DCS request with a parameter', `a${DCS}1$qm${ST} b`, 'a b'],
      ['a DCS request ended by another ESC', `a${DCS}$qm${ESC}[1m b`, `a${CSI}1m b`],
      ['a DCS request after a DCS that the request ends', `a${DCS}q#0${DCS}$qm${ST} b`, `a${DCS}q#0${ST} b`],
      ['a DCS request whose data holds a BEL (data, not an end)', `a${DCS}$qm\x07x${ST} b`, 'a b'],
      ['an OSC query ended by another ESC', `a${OSC}11;?${CSI}1m b`, `a${CSI}1m b`],
      ['an OSC query with ignored controls around the ?', `a${OSC}11;\x01?\x02${BEL} b`, 'a b'],
      ['an OSC query whose number has leading zeros', `a${OSC}011;?${BEL}${OSC}04;1;?${ST} b`, 'a b'],
      ['DECID after a control', `a${ESC}\x0dZ b`, 'a\r b'],
      ['ENQ executed inside a CSI that is not a query', `a${CSI}1\x05m b`, `a${CSI}1m b`],
    ];
    it.each(evasive)('removes %s', (_name, text, expected) => {
      expect(stripTerminalQueries(text)).toBe(expected);
      expect(stripTerminalQueryBytes(Buffer.from(text, 'utf8')).toString('utf8')).toBe(expected);
      expect(mayContainTerminalQuery(text)).toBe(true);
    });

    it('keeps what xterm.js does not answer: a request aborted by CAN, a DCS with a prefix, an OSC field with DEL', () => {
      for (const text of [`a${DCS}$qm\x18 b`, `a${DCS}?$qm${ST} b`, `a${OSC}11;?\x7f${BEL} b`, `a${CSI}6\x1an b`]) {
        expect(stripTerminalQueries(text)).toBe(text);
      }
    });
  });

  it('reads long runs of controls inside sequences in linear time (each of these took minutes with a quadratic pattern)', () => {
    // Not a speed target: a guard against a pattern that backtracks over a run of controls. All of this
    // takes about half a second; with the quadratic pattern it took 464 s. (Jest cannot interrupt a
    // synchronous test, and reports it passed however long it took: hence the explicit bound.)
    const started = performance.now();
    const run = 256 * 1024;
    for (const filler of ['\x00', '\x7f', '\x01', '\r']) {
      for (const text of [`${CSI}${filler.repeat(run)}X`, `${ESC}${filler.repeat(run)}[6`, `${DCS}${filler.repeat(run)}$`, `${OSC}11;${filler.repeat(run)}?`, `${CSI}?${filler.repeat(run)}`]) {
        expect(stripTerminalQueryBytes(Buffer.from(text, 'latin1')).length).toBe(text.length);
        expect(stripTerminalQueries(text).length).toBe(text.length);
      }
    }
    expect(stripTerminalQueries(`${CSI}${'\x00'.repeat(run)}6n`)).toBe('\x00'.repeat(run));
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('strips a megabyte of mixed output, every query and nothing else', () => {
    const unit = `line ${CSI}1;32mgreen${CSI}0m ${CSI}6n${OSC}11;?${BEL} text\r\n`;
    const text = unit.repeat(Math.ceil(1_000_000 / unit.length));
    const expected = `line ${CSI}1;32mgreen${CSI}0m  text\r\n`.repeat(Math.ceil(1_000_000 / unit.length));
    expect(stripTerminalQueries(text)).toBe(expected);
  });

  describe('the fast check (mayContainTerminalQuery) finds every query the parser removes', () => {
    function generator(seed: number) {
      const next = mulberry32(seed);
      const int = (n: number) => Math.floor(next() * n);
      const pick = <T>(items: readonly T[]): T => items[int(items.length)];
      const repeat = (max: number, part: () => string) => Array.from({ length: int(max + 1) }, part).join('');
      /** C0 controls a CSI executes without ending: all but CAN, SUB, ESC (and ENQ, which the check flags anyway). */
      const c0 = () => String.fromCharCode(pick([0x00, 0x07, 0x08, 0x09, 0x0a, 0x0d, 0x0e, 0x17, 0x19, 0x1c, 0x1f]));
      const intermediate = () => (next() < 0.6 ? '$' : pick([' ', '!', '"', '#', '%', "'", '+', '/']));
      const param = () => pick(['', '0', '1', '2', '4', '5', '6', '8', '11', '13', '14', '15', '16', '18', '19', '20', '21', '22', '1049', '2004', '38', ':']);
      const windowParams = () => `${pick(['11', '13', '14', '15', '16', '18', '19', '20', '21', '1:1', '2', '8', '22', '23', '12', '17'])}${repeat(2, () => `;${param()}`)}`;

      /** Any CSI: queries of every kind and their near misses, the parser decides which is which. */
      const csi = () => {
        const prefix = pick(['', '', '', '?', '?', '>', '=', '<']);
        let body = next() < 0.3 ? windowParams() : [param(), ...Array.from({ length: int(3) }, param)].join(';');
        const insert = (piece: string) => {
          const at = int(body.length + 1);
          body = body.slice(0, at) + piece + body.slice(at);
        };
        if (next() < 0.25) insert(c0());
        if (next() < 0.3) insert(intermediate());
        if (next() < 0.05) insert(intermediate());
        if (next() < 0.03) insert(pick(['\x18', '\x1a', 'é', '\x7f'])); // cancels or breaks it
        const final = pick(['n', 'c', 'q', 'p', 'w', 'u', 't', 'm', 'S', 'm', 'm', 'H', 'J', 'K', 'h', 'l', 'r', 's', '@', '~', 'x', 'v', 'z']);
        return `${CSI}${prefix}${body}${final}`;
      };

      const terminator = () => pick([BEL, BEL, ST, ST, '\x18', '\x1a', `${ESC}[m`, '']);
      const osc = () => {
        const fields = pick([
          ['0', 'title'],
          ['2', 'a;b?'],
          ['4', '1', '?'],
          ['4', '1', '?', '2', '?'],
          ['10', '?'],
          ['11', '?'],
          ['11', 'rgb:00/00/00'],
          ['12', '?'],
          ['52', 'c', '?'],
          ['52', 'c', 'aGk='],
          ['8', '', 'https://example.com/?q=1;?x'],
          ['8', 'id=1', 'https://x/?;'],
          ['?'],
          ['133', 'A'],
          ['7', 'file://h/p?'],
          ['?', '?'],
          ['1', '?x'],
          ['1', 'x?'],
        ]);
        let payload = fields.join(';');
        if (next() < 0.1) payload = payload.replace(';', `;${c0()}`);
        return `${OSC}${payload}${terminator()}`;
      };
      const dcs = () => `${DCS}${pick(['$q', '+q', 'q', '$', '+', '1$r', '', '0;1|', `${c0()}$q`])}${pick(['m', '"p', '544e', '#0;2;0;0;0~', ''])}${terminator()}`;
      const otherString = () => `${ESC}${pick(['X', '^', '_'])}${pick(['Gf=1;?', ';?', 'x'])}${terminator()}`;
      const escape = () => `${ESC}${pick(['Z', '7', '8', '(B', '=', '>', 'c', 'M', '\\', '', '[', ']', 'P'])}`;
      const text = () => pick(['hello ', 'the quick brown fox ', '123', ';?', '?;', '$', 'Z', 'P$q', 'é 日本 😀 ', '─ → ✓ ', '\r\n', '\t', '\x07', '\x08', '\x18', '\x1a', 'n c t q']);
      const fragments: Array<[number, () => string]> = [
        [30, text],
        [25, csi],
        [12, () => `${CSI}${pick(['32', '0', '1;31', '38;5;208', '38;2;1;2;3', ''])}m`], // SGR
        [6, () => `${CSI}${pick(['2 q', '?25l', '?25h', '?2004h', '?1049h', '10;20H', '2J', 'K', '>4;1m', '>1u', '<u', 'u', '8;24;80t', '22;0t', '!p'])}`],
        [8, osc],
        [5, dcs],
        [3, otherString],
        [6, escape],
        [1, () => '\x05'],
      ];
      const total = fragments.reduce((sum, [weight]) => sum + weight, 0);
      const fragment = () => {
        let roll = int(total);
        for (const [weight, make] of fragments) {
          if (roll < weight) return make();
          roll -= weight;
        }
        throw new Error('unreachable');
      };
      return () => {
        let generated = repeat(6, fragment) + fragment();
        if (next() < 0.2) generated = generated.slice(0, int(generated.length + 1)); // truncated at the end
        return generated;
      };
    }

    it('on random texts: when it finds nothing, the full parser changes nothing', () => {
      const generate = generator(0x5eed);
      let cleared = 0;
      let changed = 0;
      for (let n = 0; n < 30_000; n++) {
        const text = generate();
        const walked = walkTerminalQueries(text);
        if (walked !== text) changed++;
        if (!mayContainTerminalQuery(text)) {
          cleared++;
          if (walked !== text) throw new Error(`the fast check misses a query in ${JSON.stringify(text)}`);
        }
        if (stripTerminalQueries(text) !== walked) throw new Error(`fast path and parser differ on ${JSON.stringify(text)}`);
      }
      // Both sides are well exercised, so the property does not hold by default.
      expect(cleared).toBeGreaterThan(5_000);
      expect(changed).toBeGreaterThan(5_000);
    });

    it('flags every listed query, and clears ordinary output', () => {
      for (const [, query] of queries) expect(mayContainTerminalQuery(`x${query}y`)).toBe(true);
      // The fast check may flag what is not a query (the full walk then keeps it): these few.
      for (const [, sequence] of kept.filter(([name]) => !/CSI 8 t|CSI 22 t|\? field/.test(name))) {
        expect(mayContainTerminalQuery(`x${sequence}y`)).toBe(false);
      }
      expect(mayContainTerminalQuery('plain text\r\n')).toBe(false);
    });
  });

  describe('against xterm.js itself, on random texts of sequence pieces', () => {
    /** What a fresh xterm.js answers to `text`, and what it shows. */
    async function run(text: string): Promise<{ answers: string; screen: string }> {
      const term = new Terminal({ cols: 40, rows: 6, allowProposedApi: true, logLevel: 'off' });
      let answers = '';
      term.onData((data) => (answers += data));
      await new Promise<void>((resolve) => term.write(text, resolve));
      const buffer = term.buffer.active;
      const rows: string[] = [];
      for (let y = 0; y < buffer.length; y++) rows.push(buffer.getLine(y)!.translateToString(true));
      const screen = `${rows.join('\n')}\n@${buffer.cursorX},${buffer.cursorY}`;
      term.dispose();
      return { answers, screen };
    }

    it('xterm.js answers nothing in what is left, and shows the same screen', async () => {
      const pieces = [
        // Queries xterm.js answers, and the same with controls and DEL where its parser skips them.
        `${CSI}6n`, `${CSI}c`, `${CSI}>c`, `${CSI}?6n`, `${CSI}2004$p`, `${DCS}$qm${ST}`, `${ESC}\x7f[5n`, `${CSI}\x01?6n`, `${DCS}\x7f$q"q${ESC}`,
        // Pieces of sequences, text and controls.
        ESC, CSI, OSC, DCS, ST, BEL, '6n', '6', 'n', 'c', '>', '?', '$', 'q', '$q', 'm', '1', ';', '11;?', 'Z', 'P', '[', ']',
        '\x7f', '\x01', '\r', '\b', '\n', '\x18', '\x05', 'x', 'é', ' ',
      ];
      const rand = mulberry32(0x7e4a);
      let answered = 0;
      for (let n = 0; n < 800; n++) {
        let text = '';
        for (let i = 0, count = 2 + Math.floor(rand() * 14); i < count; i++) text += pieces[Math.floor(rand() * pieces.length)];
        // Ended, so no sequence is left unfinished (an unfinished one is kept on purpose: its rest follows live).
        text += `${CSI}m${ST}.`;
        const original = await run(text);
        if (original.answers !== '') answered++;
        const stripped = await run(stripTerminalQueries(text));
        if (stripped.answers !== '' || stripped.screen !== original.screen) {
          throw new Error(`on ${JSON.stringify(text)}: answers ${JSON.stringify(stripped.answers)}, screen ${JSON.stringify(stripped.screen)} against ${JSON.stringify(original.screen)}`);
        }
      }
      // Queries that xterm.js answers are common among the texts, so the property does not hold by default.
      expect(answered).toBeGreaterThan(200);
    });
  });

  describe('on UTF-8 bytes (stripTerminalQueryBytes)', () => {
    /** The bytes variant must answer exactly the text variant's answer, encoded. */
    const same = (text: string) => {
      const stripped = stripTerminalQueryBytes(Buffer.from(text, 'utf8'));
      expect({ text, out: stripped.toString('utf8') }).toEqual({ text, out: stripTerminalQueries(text) });
      expect(stripped.equals(Buffer.from(stripTerminalQueries(text), 'utf8'))).toBe(true);
    };

    it('removes every listed query and keeps every listed sequence, among multi-byte characters', () => {
      for (const [, query] of queries) same(`é日${query}😀`);
      for (const [, sequence] of kept) same(`é日${sequence}😀`);
      // Multi-byte characters inside the sequences themselves: in a title, right after an ESC or a CSI.
      same(`${OSC}0;タイトル ✓${BEL}${CSI}6n${OSC}11;?é${BEL}${ESC}é${CSI}6é n${CSI}6n`);
    });

    it('returns the very same Buffer when there is nothing to remove', () => {
      for (const text of ['plain text, no escape at all ─ ✓', `plain ${CSI}31mred${CSI}0m ─ ✓\r\n`.repeat(100)]) {
        const bytes = Buffer.from(text, 'utf8');
        expect(stripTerminalQueryBytes(bytes)).toBe(bytes);
      }
    });

    it('on random texts with multi-byte characters: the same as the text variant', () => {
      const rand = mulberry32(0xb17e5);
      const pieces = [`${CSI}6n`, `${CSI}1;31m`, `${OSC}11;?${BEL}`, `${OSC}0;t ─${BEL}`, `${DCS}$qm${ST}`, `${ESC}Z`, '\x05', ESC, CSI, 'é', '日本', '😀', '─', 'abc', '\r\n', '\x18', '\u0085', '\u009b', '\x7f', '\x01', `${DCS}\x7f$q"q${ESC}`];
      let changed = 0;
      for (let n = 0; n < 5_000; n++) {
        let text = '';
        for (let i = 0, count = 1 + Math.floor(rand() * 12); i < count; i++) text += pieces[Math.floor(rand() * pieces.length)];
        const stripped = stripTerminalQueryBytes(Buffer.from(text, 'utf8')).toString('utf8');
        if (stripped !== stripTerminalQueries(text)) throw new Error(`bytes and text differ on ${JSON.stringify(text)}`);
        if (stripped !== text) changed++;
      }
      expect(changed).toBeGreaterThan(1_000);
    });
  });

  describe('8-bit (C1) introducers, which xterm.js acts on after decoding UTF-8', () => {
    const C1 = { csi: '\u009b', osc: '\u009d', dcs: '\u0090', st: '\u009c', apc: '\u009f' };

    it('removes the same queries written with U+009B CSI, U+009D OSC, U+0090 DCS and U+009C ST, in text and bytes', () => {
      const cases: Array<[string, string]> = [
        [`prompt ${C1.csi}6n done`, 'prompt  done'],
        [`a${C1.csi}?6nb${C1.csi}>c`, 'ab'],
        [`a${C1.osc}11;?${BEL}b${C1.osc}10;?${C1.st}c`, 'abc'],
        [`a${C1.dcs}$qm${C1.st}b${C1.dcs}+q544e${ST}c`, 'abc'],
        [`é日${C1.csi}6n😀`, 'é日😀'],
      ];
      for (const [text, expected] of cases) {
        expect(stripTerminalQueries(text)).toBe(expected);
        expect(stripTerminalQueryBytes(Buffer.from(text, 'utf8')).toString('utf8')).toBe(expected);
      }
    });

    it('keeps what is not a query: C1 sequences that draw, C1 characters alone, a C1 ST ending a title', () => {
      for (const text of [`${C1.csi}31mred${C1.csi}0m`, `${C1.osc}0;title${C1.st}after`, `${C1.apc}private${C1.st}x`, `lone \u0085 and \u009b at the end \u009b`, '© ± · \u00a0']) {
        expect(stripTerminalQueries(text)).toBe(text);
        const bytes = Buffer.from(text, 'utf8');
        expect(stripTerminalQueryBytes(bytes)).toBe(bytes);
      }
    });
  });

  it('cuts output made of queries in a few ranges, not one per byte: every attach strips its replay again', () => {
    // A program can fill its buffer with these for nothing; a cut per byte cost ~80-95 ms per MiB for each attach.
    const enq = '\x05'.repeat(1 << 20);
    expect(findTerminalQueries(enq)).toEqual([0, enq.length, 0]);
    expect(walkTerminalQueries(`a${enq}b`)).toBe('ab');
    // Controls inside a query are kept where they are (a CR still returns the cursor), the query around them cut.
    const nulQuery = `\x1b[${'\0'.repeat(4000)}6n`;
    const text = nulQuery.repeat(250);
    expect(findTerminalQueries(text).length / 3).toBeLessThanOrEqual(2 * 250);
    expect(walkTerminalQueries(text)).toBe('\0'.repeat(4000 * 250));
    const dsr = '\x1b[6n'.repeat(100_000);
    expect(findTerminalQueries(dsr)).toEqual([0, dsr.length, 0]);
  });
});
