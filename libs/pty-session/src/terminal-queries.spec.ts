import { describe, expect, it } from '@jest/globals';
import { stripTerminalQueries } from './terminal-queries.js';

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

  it('an ESC inside a sequence aborts it and starts the next one', () => {
    expect(stripTerminalQueries(`${CSI}12${CSI}6n!`)).toBe(`${CSI}12!`);
    expect(stripTerminalQueries(`${OSC}0;title${CSI}6n!`)).toBe(`${OSC}0;title!`);
  });

  it('CAN and SUB cancel a sequence, which is then not a query', () => {
    expect(stripTerminalQueries(`${CSI}6\x18n`)).toBe(`${CSI}6\x18n`);
  });

  it('a C0 control inside a query does not save it', () => {
    expect(stripTerminalQueries(`a${CSI}6\rn b`)).toBe('a b');
  });

  it('strips a megabyte of mixed output, every query and nothing else', () => {
    const unit = `line ${CSI}1;32mgreen${CSI}0m ${CSI}6n${OSC}11;?${BEL} text\r\n`;
    const text = unit.repeat(Math.ceil(1_000_000 / unit.length));
    const expected = `line ${CSI}1;32mgreen${CSI}0m  text\r\n`.repeat(Math.ceil(1_000_000 / unit.length));
    expect(stripTerminalQueries(text)).toBe(expected);
  });
});
