/**
 * The screen worker thread: one headless terminal emulator (@xterm/headless)
 * per screen-mode session, fed with the session's output, serialized on
 * request (@xterm/addon-serialize). Parsing costs far more than relaying
 * output (tens of MB/s against hundreds), so it runs here, beside the event
 * loop that reads the ptys, never on it.
 *
 * `screenWorkerMain` runs from its source text (`new Worker(source, { eval:
 * true })`), so that one file serves the ESM and the CommonJS build and the
 * TypeScript sources under test: it must stay self-contained (no imports at
 * run time; the two modules come by absolute path in `workerData`).
 */

/** Main thread to worker. */
export type ScreenWorkerRequest =
  | { op: 'open'; id: string; cols: number; rows: number; scrollback: number }
  | { op: 'write'; id: string; data: Uint8Array; end: number }
  /** `scrollback`: the lines of scrollback to keep at the new size. */
  | { op: 'resize'; id: string; cols: number; rows: number; scrollback: number }
  | { op: 'snapshot'; id: string; request: number; scrollback: number }
  | { op: 'close'; id: string };

/** Worker to main thread. */
export type ScreenWorkerReply =
  /** Output up to `end` has been parsed. */
  | { op: 'parsed'; id: string; end: number }
  | { op: 'snapshot'; id: string; request: number; data: string; cols: number; rows: number }
  | { op: 'snapshot'; id: string; request: number; error: string }
  /** This session's emulator threw: it is gone, the worker and the other sessions go on. */
  | { op: 'failed'; id: string; error: string };

export interface ScreenWorkerData {
  headlessPath: string;
  serializePath: string;
  /** Niceness of the worker thread (Linux): parsing yields the CPU to the event loop, the programs and the clients. */
  nice: number;
  /** Output handed to an emulator ahead of what it has parsed (SCREEN_PARSE_AHEAD_BYTES). */
  parseAheadBytes: number;
  /** Output handed to an emulator in one write at most (SCREEN_PARSE_PIECE_BYTES). */
  parsePieceBytes: number;
  /** UTF-16 code units of text one cell keeps (SCREEN_MAX_CELL_TEXT_LENGTH). */
  maxCellTextLength: number;
  /** UTF-16 code units kept of an OSC or DCS sequence's text, a title's among them (SCREEN_MAX_TITLE_LENGTH). */
  maxTitleLength: number;
}

export function screenWorkerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const paths = workerData as ScreenWorkerData;
  // On Linux a thread has its own id and niceness: lower this thread's priority only. Best effort.
  try {
    const fs = require('node:fs') as typeof import('node:fs');
    const os = require('node:os') as typeof import('node:os');
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && paths.nice > 0) os.setPriority(tid, Math.min(19, os.getPriority(tid) + paths.nice));
  } catch {
    /* not Linux, or not allowed: the emulators run at the process's priority */
  }
  const { Terminal } = require(paths.headlessPath) as typeof import('@xterm/headless');
  const { SerializeAddon } = require(paths.serializePath) as typeof import('@xterm/addon-serialize');
  interface Screen {
    id: string;
    terminal: InstanceType<typeof Terminal>;
    serializer: InstanceType<typeof SerializeAddon>;
    /** The window title the program last set (OSC 0 or 2), '' if it cleared it; undefined while it set none. */
    title: string | undefined;
    /**
     * Writes, resizes and snapshots not yet handed to the emulator, in order
     * (from `next`). xterm.js parses what it was given even after `dispose()`;
     * what waits here is dropped with the screen.
     */
    waiting: Array<{ data: Uint8Array | string; parsed: () => void }>;
    next: number;
    /**
     * The size of the resize queued last, while nothing was queued after it
     * and it is not applied yet: a resize that follows takes its place (a
     * flood of resizes is one reflow, not one each; only the last size
     * matters when no output came in between).
     */
    resizeTo: { cols: number; rows: number; scrollback: number; applied: boolean } | undefined;
    /** Bytes handed to the emulator and not yet parsed; at most `parseAheadBytes` beyond one write. */
    ahead: number;
    /** When the emulator began parsing the output it parses now (see `boundCosts`). */
    sliceStart: number;
    closed: boolean;
  }
  const screens = new Map<string, Screen>();
  /** How long an emulator parses before costly sequences give the thread back (xterm.js itself yields between writes after 12 ms). */
  const SLICE_MS = 8;
  /** Repetitions of one REP printed between two looks at the clock. */
  const REP_SLICE = 256;
  const post = (reply: ScreenWorkerReply) => parentPort!.postMessage(reply);

  /**
   * What the serialize addon (0.14) leaves out: the mouse encoding (SGR
   * `?1006`), the scroll region, the cursor's visibility and shape (DECSCUSR),
   * and the window title. Except the title, they are not in xterm.js's
   * public API: read from its internals, and left out if a version renames them.
   */
  interface TerminalInternals {
    _core?: {
      /** Parses each piece of output (`_action`), called from a timer: an exception there escapes every handler. */
      _writeBuffer?: { _action?: (data: unknown, sync: boolean) => unknown };
      /** Like the public `parser.registerCsiHandler`, but the handler gets the parameters themselves, which it may change for the handlers after it. */
      registerCsiHandler?: (id: { final: string; prefix?: string; intermediates?: string }, handler: (params: { params?: Int32Array }) => boolean | Promise<boolean>) => unknown;
      registerEscHandler?: (id: { final: string; intermediates?: string }, handler: () => boolean | Promise<boolean>) => unknown;
      _inputHandler?: {
        /** REP: prints the character before the cursor `params[0]` more times. */
        repeatPrecedingCharacter?: (params: { params: number[] }) => boolean;
        _parser?: {
          /** The last character printed: its width in bits 1-2 (xterm.js's UnicodeService.createPropertyValue). */
          precedingJoinState?: number;
          _oscParser?: { _handlers?: Record<string, object[]> };
          _dcsParser?: { _handlers?: Record<string, object[]> };
        };
      };
      coreService?: { isCursorHidden?: boolean; decPrivateModes?: { cursorStyle?: string; cursorBlink?: boolean } };
      coreMouseService?: { activeEncoding?: string };
      buffer?: { scrollTop?: number; scrollBottom?: number; lines?: { get?: (index: number) => object | undefined } };
      buffers?: { normal?: { scrollTop?: number; scrollBottom?: number; savedCurAttrData?: Pen } };
    };
  }
  /** What xterm.js's attribute data answers (the same methods as a buffer cell's). */
  interface Pen {
    isBold(): number;
    isDim(): number;
    isItalic(): number;
    isUnderline(): number;
    isBlink(): number;
    isInverse(): number;
    isInvisible(): number;
    isStrikethrough(): number;
    isFgRGB(): boolean;
    isFgPalette(): boolean;
    getFgColor(): number;
    isBgRGB(): boolean;
    isBgPalette(): boolean;
    getBgColor(): number;
  }
  /** SGR parameters of one colour: `base` 30 (foreground) or 40 (background). */
  const colourSgr = (rgb: boolean, palette: boolean, colour: number, base: number): string[] => {
    if (rgb) return [`${base + 8};2;${(colour >> 16) & 0xff};${(colour >> 8) & 0xff};${colour & 0xff}`];
    if (!palette) return [];
    if (colour < 8) return [String(base + colour)];
    if (colour < 16) return [String(base + 60 + colour - 8)];
    return [`${base + 8};5;${colour}`];
  };
  /** The SGR sequence that sets exactly this pen (from a reset). */
  const sgrOfPen = (pen: Pen): string => {
    const params = ['0'];
    const flags: Array<[number, string]> = [
      [pen.isBold(), '1'],
      [pen.isDim(), '2'],
      [pen.isItalic(), '3'],
      [pen.isUnderline(), '4'],
      [pen.isBlink(), '5'],
      [pen.isInverse(), '7'],
      [pen.isInvisible(), '8'],
      [pen.isStrikethrough(), '9'],
    ];
    for (const [set, param] of flags) if (set) params.push(param);
    params.push(...colourSgr(pen.isFgRGB(), pen.isFgPalette(), pen.getFgColor(), 30));
    params.push(...colourSgr(pen.isBgRGB(), pen.isBgPalette(), pen.getBgColor(), 40));
    return `\x1b[${params.join(';')}m`;
  };
  /** DECSCUSR's parameter of each shape, steady; the blinking one is one less. */
  const CURSOR_SHAPES: Record<string, number> = { block: 2, underline: 4, bar: 6 };
  const unserializedState = ({ terminal, title }: Screen): string => {
    const core = (terminal as unknown as TerminalInternals)._core;
    // A title cannot hold a control character (one would end the sequence): none are left in.
    // An emptied title is restored too: a client's terminal keeps the title it had before the reset.
    // eslint-disable-next-line no-control-regex
    let state = title !== undefined ? `\x1b]2;${title.replace(/[\x00-\x1f\x7f-\x9f]/g, '')}\x07` : '';
    // Only a shape the program set: otherwise the client's own setting stays.
    const modes = core?.coreService?.decPrivateModes;
    const shape = modes?.cursorStyle;
    if (shape !== undefined && CURSOR_SHAPES[shape] !== undefined) state += `\x1b[${CURSOR_SHAPES[shape] - (modes?.cursorBlink ? 1 : 0)} q`;
    const encoding = core?.coreMouseService?.activeEncoding;
    if (encoding === 'SGR') state += '\x1b[?1006h';
    else if (encoding === 'SGR_PIXELS') state += '\x1b[?1016h';
    const top = core?.buffer?.scrollTop ?? 0;
    const bottom = core?.buffer?.scrollBottom ?? terminal.rows - 1;
    const region = top !== 0 || bottom !== terminal.rows - 1;
    // DECSTBM homes the cursor.
    if (region) state += `\x1b[${top + 1};${bottom + 1}r`;
    // The addon ends with a move relative to the end of the last row it drew: the right row on a
    // client's terminal of any height (the screen sits at its bottom), but one column short after a
    // full row. So the column is set absolutely (CHA), the row left to the addon. DECSTBM and origin
    // mode (the addon's ?6h) home the cursor: then it goes back absolutely (in origin mode CUP counts
    // from the region's top). Nothing while it waits to wrap (x = cols), which the addon's ending keeps.
    const { cursorX, cursorY } = terminal.buffer.active;
    if (region || terminal.modes.originMode) {
      const row = terminal.modes.originMode ? cursorY - top + 1 : cursorY + 1;
      state += `\x1b[${row};${Math.min(cursorX, terminal.cols - 1) + 1}H`;
    } else if (cursorX < terminal.cols) {
      state += `\x1b[${cursorX + 1}G`;
    }
    if (core?.coreService?.isCursorHidden) state += '\x1b[?25l';
    return state;
  };

  /**
   * In the alternate screen the addon writes the normal screen, then the
   * pen in use, then `?1049h` and the alternate screen. What goes just
   * before that switch:
   * - the pen the program had when it switched (the one `?1049h` saved):
   *   `?1049h` fills the alternate screen with the pen's background and
   *   saves the pen for the way back, as it did for the program; the pen in
   *   use instead, of a program caught between a colour and its text
   *   (`ESC[41m`, then `ERROR`), would paint the whole screen. Right after
   *   the switch, a reset (SGR 0): the addon draws the alternate screen
   *   from the default pen, and sets the pen in use again at its end;
   * - the normal screen's cursor column (CHA): `?1049h` saves the cursor
   *   for when the program leaves, and the addon's relative moves leave it
   *   a column short after a full row (see `unserializedState`);
   * - the normal screen's scroll region, which the program finds again when
   *   it leaves (`unserializedState` restores the alternate screen's), the
   *   cursor saved and restored around it (DECSTBM homes it).
   */
  /**
   * The addon writes a cursor move it computed as zero columns or rows as
   * `ESC[0C` (and D, A, B), which terminals take as a move of one: a wrapped
   * line whose first row was erased came back with the addon's fill
   * character left in its first column. A cell holds no ESC, so these are
   * only ever the addon's no-op moves.
   */
  const withoutZeroMoves = (data: string): string => (data.includes('\x1b[0') ? data.replace(/\x1b\[0[ABCD]/g, '') : data);

  const withNormalScreen = (data: string, { terminal }: Screen): string => {
    if (terminal.buffer.active.type !== 'alternate') return data;
    const SWITCH = '\x1b[?1049h';
    const at = data.indexOf(SWITCH);
    if (at < 0) return data;
    const normal = (terminal as unknown as TerminalInternals)._core?.buffers?.normal;
    const saved = normal?.savedCurAttrData;
    let state = typeof saved?.isBold === 'function' ? sgrOfPen(saved) : '\x1b[0m';
    const { cursorX } = terminal.buffer.normal;
    if (cursorX < terminal.cols) state += `\x1b[${cursorX + 1}G`;
    const top = normal?.scrollTop;
    const bottom = normal?.scrollBottom;
    if (top !== undefined && bottom !== undefined && (top !== 0 || bottom !== terminal.rows - 1)) state += `\x1b7\x1b[${top + 1};${bottom + 1}r\x1b8`;
    return data.slice(0, at) + state + SWITCH + '\x1b[0m' + data.slice(at + SWITCH.length);
  };

  parentPort!.on('message', (message: ScreenWorkerRequest) => {
    if (message.op === 'open') {
      // logLevel 'off': xterm.js logs each byte it cannot parse (a DEL, say) with its parser's state, ~770 bytes of
      // the host's stderr per byte of a binary file.
      const terminal = new Terminal({ cols: message.cols, rows: message.rows, scrollback: message.scrollback, allowProposedApi: true, logLevel: 'off' });
      const serializer = new SerializeAddon();
      terminal.loadAddon(serializer);
      const screen: Screen = { id: message.id, terminal, serializer, title: undefined, waiting: [], next: 0, resizeTo: undefined, ahead: 0, sliceStart: 0, closed: false };
      terminal.onTitleChange((title) => (screen.title = cut(title, paths.maxTitleLength)));
      screens.set(message.id, screen);
      containParseErrors(screen);
      boundCosts(screen);
      return;
    }
    const screen = screens.get(message.id);
    if (!screen) {
      if (message.op === 'snapshot') post({ op: 'snapshot', id: message.id, request: message.request, error: 'no such screen' });
      return;
    }
    try {
      handle(screen, message);
    } catch (error) {
      fail(screen, error);
    }
  });

  /** At most `max` UTF-16 code units of `text`, not ending inside a surrogate pair. */
  const cut = (text: string, max: number): string => {
    if (text.length <= max) return text;
    const end = /[\ud800-\udbff]/.test(text[max - 1]!) ? max - 1 : max;
    return text.slice(0, end);
  };

  /** One session's emulator failing must not take the others': it is closed and reported, the worker goes on. */
  function fail(screen: Screen, error: unknown): void {
    if (screen.closed) return;
    const { id } = screen;
    if (screens.get(id) === screen) screens.delete(id);
    screen.closed = true;
    screen.waiting.length = 0;
    // Not from inside xterm's own write loop, which may still be running.
    setImmediate(() => {
      try {
        screen.terminal.dispose();
      } catch {
        /* already broken */
      }
    });
    post({ op: 'failed', id, error: String(error instanceof Error && error.stack ? error.stack : error) });
  }

  /**
   * xterm.js parses output from a timer of its own: an exception in its
   * parser (a bug, on some sequence of resizes and output) would escape
   * every handler and end the worker with every session on it. Each
   * emulator's parsing is wrapped so that it fails that session only, and
   * parses nothing more.
   */
  function containParseErrors(screen: Screen): void {
    const writeBuffer = (screen.terminal as unknown as TerminalInternals)._core?._writeBuffer;
    const parse = writeBuffer?._action;
    if (!writeBuffer || typeof parse !== 'function') return;
    writeBuffer._action = (data, sync) => {
      if (screen.closed) return undefined;
      screen.sliceStart = performance.now();
      try {
        return parse(data, sync);
      } catch (error) {
        fail(screen, error);
        return undefined;
      }
    };
  }

  /**
   * Bounds what a program's output can make an emulator spend, on sequences
   * a few bytes long that xterm.js 6 would follow to the letter:
   * - OSC 8 hyperlinks are ignored: xterm.js registers a link and a marker
   *   for each (100,000 held the worker 5.6 s as lines scrolled); the
   *   serialize addon writes no links anyway.
   * - The text of an OSC or DCS sequence (a title, a query) is kept up to
   *   `maxTitleLength` characters, not xterm.js's 10,000,000, a string node
   *   per piece (one such sequence was 302 MiB of heap).
   * - Counts that repeat work are bounded by what they can change: lines
   *   inserted, deleted or scrolled (IL, DL, SU, SD) by the rows, tab stops
   *   moved (CHT, CBT) by the columns, and REP by the cells of the screen and
   *   its scrollback, keeping its last line and cursor (`ESC[2147483647S`
   *   looped for minutes, REP took 8 GiB).
   * - Sequences that rewrite a screen or more in a few bytes (REP, erases,
   *   line and column operations, resets, alternate-screen switches) give
   *   the thread back once the emulator has parsed for `SLICE_MS`: xterm.js
   *   pauses its parser on a handler's promise and resumes at the same
   *   byte, and the worker's other sessions parse and answer snapshots
   *   meanwhile (a few KB of REP held them for seconds).
   * - Text joined to one cell is bounded (see `capCellText`).
   * Each is skipped where xterm.js's internals differ from what it expects.
   */
  function boundCosts(screen: Screen): void {
    const { terminal } = screen;
    (terminal as Partial<Screen['terminal']>).parser?.registerOscHandler(8, () => true);
    const core = (terminal as unknown as TerminalInternals)._core;
    // xterm.js's line and sequence-handler classes are shared by every emulator of the worker: patched once.
    if (!sharedClassesPatched) {
      sharedClassesPatched = true;
      capSequenceText(core);
      capCellText(terminal);
    }
    const registerCsi = core?.registerCsiHandler?.bind(core);
    const registerEsc = core?.registerEscHandler?.bind(core);
    /** Resolves (to false: on to xterm.js's own handler) on the next turn when this parse has run past its slice. */
    const yieldIfLong = (): false | Promise<false> => {
      if (performance.now() - screen.sliceStart < SLICE_MS) return false;
      // Never rejects: xterm.js rethrows a rejection where nothing catches it.
      return new Promise((resolve) =>
        setImmediate(() => {
          screen.sliceStart = performance.now();
          resolve(false);
        }),
      );
    };
    if (registerCsi) {
      const bound = (id: { final: string; prefix?: string; intermediates?: string }, max?: (count: number) => number) =>
        registerCsi(id, (params) => {
          const values = params.params;
          if (max && values && values[0]! > 0) values[0] = max(values[0]!);
          return yieldIfLong();
        });
      for (const final of 'LMST') bound({ final }, (count) => Math.min(count, terminal.rows));
      for (const final of 'IZ') bound({ final }, (count) => Math.min(count, terminal.cols));
      const repeatCount = (count: number) => {
        // In whole lines of the repeated character (1 or 2 columns wide), and one more: the same last line and cursor.
        const width = (core?._inputHandler?._parser?.precedingJoinState ?? 0) >> 1 & 3 || 1;
        const perLine = Math.max(1, Math.floor(terminal.cols / width));
        const cap = perLine * (terminal.rows + (terminal.options.scrollback ?? 0) + 1);
        return count <= cap ? count : cap + ((count - cap) % perLine);
      };
      const repeat = core?._inputHandler?.repeatPrecedingCharacter?.bind(core._inputHandler);
      if (repeat) {
        // REP itself, in slices: each repetition can cost a cell's whole text (16 units) or, in insert mode, a
        // line's shift, so a bound on cells alone still let 16 bytes hold the worker for a second. Repeating
        // the character before the cursor in slices prints the same as at once (the cell before the cursor is
        // that character after each slice), and the thread is given back between them.
        registerCsi({ final: 'b' }, (params) => {
          let left = repeatCount(params.params?.[0] || 1);
          const slices = (): boolean | Promise<boolean> => {
            while (left > 0 && !screen.closed) {
              const count = Math.min(left, REP_SLICE);
              repeat({ params: [count] });
              left -= count;
              if (left > 0 && performance.now() - screen.sliceStart >= SLICE_MS) {
                return new Promise((resolve) =>
                  setImmediate(() => {
                    screen.sliceStart = performance.now();
                    try {
                      resolve(slices());
                    } catch (error) {
                      fail(screen, error);
                      resolve(true);
                    }
                  }),
                );
              }
            }
            return true; // done: xterm.js's own REP does not run
          };
          return slices();
        });
      } else {
        bound({ final: 'b' }, repeatCount);
      }
      for (const final of 'JK@P') bound({ final });
      bound({ final: 'J', prefix: '?' });
      bound({ final: '@', intermediates: ' ' });
      bound({ final: 'A', intermediates: ' ' });
      bound({ final: '}', intermediates: "'" });
      bound({ final: '~', intermediates: "'" });
      for (const final of 'hl') bound({ final, prefix: '?' });
    }
    if (registerEsc) {
      registerEsc({ final: 'c' }, () => yieldIfLong());
      registerEsc({ intermediates: '#', final: '8' }, () => yieldIfLong());
    }
  }

  let sharedClassesPatched = false;
  /** Keeps the text of OSC and DCS sequences to `maxTitleLength` characters (see `boundCosts`), in their handler classes. */
  function capSequenceText(core: TerminalInternals['_core']): void {
    interface Collector {
      _data?: unknown;
      put?: (data: Uint32Array, start: number, end: number) => void;
    }
    const parser = core?._inputHandler?._parser;
    const handlers = [parser?._oscParser?._handlers, parser?._dcsParser?._handlers].flatMap((table) => Object.values(table ?? {}).flat());
    const prototypes = new Set(handlers.map((handler) => Object.getPrototypeOf(handler) as Collector));
    const max = paths.maxTitleLength;
    for (const prototype of prototypes) {
      const put = prototype.put;
      if (typeof put !== 'function') continue;
      prototype.put = function (this: Collector, data: Uint32Array, start: number, end: number) {
        if (typeof this._data === 'string' && this._data.length >= max) return;
        put.call(this, data, start, end);
        if (typeof this._data === 'string' && this._data.length > max) this._data = cut(this._data, max);
      };
    }
  }

  /**
   * At most `maxCellTextLength` UTF-16 code units of text in one cell: what
   * joins a cell beyond (combining marks after the first dozen) is dropped,
   * where xterm.js joins it, so that the layout stays xterm.js's own. And a
   * cell's text is kept flat: appended to, a string past 12 characters is a
   * node per append (22 MiB of heap for an 80x24 emulator full of
   * 16-character cells, 5.5 once flattened). In xterm.js's line class.
   */
  function capCellText(terminal: Screen['terminal']): void {
    interface Line {
      _data?: Uint32Array;
      _combined?: Record<number, string | undefined>;
      addCodepointToCell?: (index: number, codePoint: number, width: number) => void;
    }
    const line = (terminal as unknown as TerminalInternals)._core?.buffer?.lines?.get?.(0);
    const prototype = line ? (Object.getPrototypeOf(line) as Line) : undefined;
    const append = prototype?.addCodepointToCell;
    if (!prototype || typeof append !== 'function' || !(line as Line)._data || !(line as Line)._combined) return;
    /** xterm.js's flag, in a cell's first word, of text kept in `_combined`. */
    const IS_COMBINED = 0x200000;
    const max = paths.maxCellTextLength;
    prototype.addCodepointToCell = function (this: Line, index: number, codePoint: number, width: number) {
      const combined = (this._data![index * 3]! & IS_COMBINED) !== 0 ? this._combined![index] : undefined;
      if (combined !== undefined && combined.length + (codePoint > 0xffff ? 2 : 1) > max) return;
      append.call(this, index, codePoint, width);
      const text = this._combined![index];
      if (text !== undefined && text.length > 12) text.charCodeAt(0); // flattens the string in place
    };
  }

  /** Hands the emulator what waits, in order, while less than `parseAheadBytes` is unparsed. */
  function feed(screen: Screen): void {
    while (screen.next < screen.waiting.length && screen.ahead < paths.parseAheadBytes && !screen.closed) {
      const { data, parsed } = screen.waiting[screen.next]!;
      screen.waiting[screen.next++] = undefined!;
      screen.ahead += data.length;
      screen.terminal.write(data, () => {
        screen.ahead -= data.length;
        if (screen.closed) return;
        // Called from xterm.js's write loop: an exception here (a resize that xterm.js refuses) would end the worker.
        try {
          parsed();
          feed(screen);
        } catch (error) {
          fail(screen, error);
        }
      });
    }
    if (screen.next === screen.waiting.length) {
      screen.waiting.length = 0;
      screen.next = 0;
    } else if (screen.next > 1024 && screen.next * 2 > screen.waiting.length) {
      screen.waiting.splice(0, screen.next);
      screen.next = 0;
    }
  }

  /**
   * The scrollback is set before the reflow, whether it shrinks or grows: a
   * narrower one has fewer lines to rewrap; and xterm.js 6, reflowing with
   * no scrollback, can leave the cursor's line one past the end of its
   * buffer, where a larger scrollback set afterwards leaves it pointing at
   * nothing (the next character printed throws). A wider one set first
   * allocates nothing: lines come as output fills them.
   */
  function resize(terminal: Screen['terminal'], { cols, rows, scrollback }: { cols: number; rows: number; scrollback: number }): void {
    if (scrollback !== terminal.options.scrollback) terminal.options.scrollback = scrollback;
    terminal.resize(cols, rows);
  }

  /** `parsed` runs once the emulator has parsed everything before `data`, and `data`. */
  function enqueue(screen: Screen, data: Uint8Array | string, parsed: () => void): void {
    screen.resizeTo = undefined;
    screen.waiting.push({ data, parsed });
    feed(screen);
  }

  function handle(screen: Screen, message: Exclude<ScreenWorkerRequest, { op: 'open' }>): void {
    const { id } = message;
    switch (message.op) {
      case 'write': {
        const end = message.end;
        // In pieces of parsePieceBytes: xterm.js gives the thread back only between writes (after 12 ms), and some
        // output costs far more per byte than text (a line feed in a scroll region, printing in insert mode).
        const { data } = message;
        const piece = paths.parsePieceBytes;
        let at = 0;
        for (; at + piece < data.length; at += piece) enqueue(screen, data.subarray(at, at + piece), () => {});
        enqueue(screen, data.subarray(at), () => post({ op: 'parsed', id, end }));
        break;
      }
      case 'resize': {
        const { cols, rows, scrollback } = message;
        const waiting = screen.resizeTo;
        if (waiting) {
          Object.assign(waiting, { cols, rows, scrollback });
          break;
        }
        const size = { cols, rows, scrollback, applied: false };
        // The resize waits for the output before it, in order.
        enqueue(screen, '', () => {
          size.applied = true;
          if (screen.resizeTo === size) screen.resizeTo = undefined;
          resize(screen.terminal, size);
        });
        if (!size.applied) screen.resizeTo = size;
        break;
      }
      case 'snapshot': {
        const { request, scrollback } = message;
        enqueue(screen, '', () => {
          try {
            const data = withNormalScreen(withoutZeroMoves(screen.serializer.serialize({ scrollback })), screen) + unserializedState(screen);
            post({ op: 'snapshot', id, request, data, cols: screen.terminal.cols, rows: screen.terminal.rows });
          } catch (error) {
            post({ op: 'snapshot', id, request, error: String(error) });
          }
        });
        break;
      }
      case 'close':
        screens.delete(id);
        screen.closed = true;
        screen.waiting.length = 0;
        screen.terminal.dispose();
        break;
    }
  }
}
