// A stand-in for @xterm/headless and @xterm/addon-serialize inside a screen
// worker (which loads them by path). It parses nothing: it tells the test
// what it was handed (a `handed` message to the worker's parent), and calls
// each write back in order, FAKE_PARSE_MS apart, as a slow emulator would.
// Like xterm.js, it parses from a timer through `_core._writeBuffer._action`,
// which throws on output that starts with the byte 0xFE (a parser's bug).
'use strict';
const { parentPort } = require('node:worker_threads');

const FAKE_PARSE_MS = 10;

class Terminal {
  constructor(options) {
    this.cols = options.cols;
    this.rows = options.rows;
    this.pending = [];
    this._core = {
      _writeBuffer: {
        _action: (data) => {
          if (data[0] === 0xfe) throw new Error('the fake parser failed');
        },
      },
    };
  }
  loadAddon() {}
  onTitleChange() {}
  write(data, callback) {
    parentPort.postMessage({ op: 'handed', bytes: data.length });
    this.pending.push({ data, callback });
    if (this.pending.length === 1) this.parseNext();
  }
  parseNext() {
    setTimeout(() => {
      const { data, callback } = this.pending.shift();
      if (this.pending.length > 0) this.parseNext();
      this._core._writeBuffer._action(data, false);
      callback?.();
    }, FAKE_PARSE_MS);
  }
  resize(cols, rows) {
    this.cols = cols;
    this.rows = rows;
  }
  dispose() {}
}

class SerializeAddon {
  serialize() {
    return '';
  }
}

module.exports = { Terminal, SerializeAddon };
