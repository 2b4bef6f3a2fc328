// The baseline: node-pty used directly, in a process of its own (as the host
// app is), with nothing between the pty and the reader. The runner asks it
// for the same measurements it takes through the gateway, so that each speed
// figure can be given as a ratio to this, measured in the same run.
import pty from 'node-pty';
import { measureEchoLatencies } from './lib/echo-driver.mjs';
import { serveChild } from './lib/child-process.mjs';

/** node-pty ends its read stream 200 ms after the exit; wait past that for output that still arrives. */
const AFTER_EXIT_MS = 300;
/** Time for `cat` to start before the first keystroke. */
const START_DELAY_MS = 100;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function spawn(file, args, { cols = 80, rows = 24, env, encoding }) {
  return pty.spawn(file, args, { name: 'xterm-256color', cols, rows, cwd: process.cwd(), env: { ...env, TERM: 'xterm-256color' }, ...(encoding !== undefined ? { encoding } : {}) });
}

serveChild(async () => ({
  info: { pid: process.pid },
  commands: {
    /**
     * `cat <file>`: bytes read until the exit, and the time from the spawn
     * to the last byte. node-pty 1.1.0 may lose the last few KB at exit
     * (microsoft/node-pty#72): the byte count is reported, not required.
     */
    async throughput({ file, env }) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      // Bytes, undecoded, as the library and the batched floor read the pty: a reader that decodes
      // UTF-8 text (node-pty's default) is 5-15% slower, which would flatter every ratio to it.
      const child = spawn('/bin/cat', [file], { env, encoding: null });
      let bytes = 0;
      let lastAt = start;
      child.onData((data) => {
        bytes += data.length;
        lastAt = performance.now();
      });
      await new Promise((resolve) => child.onExit(resolve));
      const cpu = process.cpuUsage(cpuStart);
      await sleep(AFTER_EXIT_MS);
      return { ms: lastAt - start, bytes, cpuMs: (cpu.user + cpu.system) / 1000 };
    },

    /** Keystrokes into `cat`; the latencies of their echo, in ms. */
    async echo({ keystrokes, env }) {
      const child = spawn('/bin/cat', [], { env });
      await sleep(START_DELAY_MS);
      try {
        return await measureEchoLatencies({
          keystrokes,
          write: (text) => child.write(text),
          subscribe: (listener) => child.onData(listener),
        });
      } finally {
        child.kill('SIGKILL');
      }
    },

    shutdown() {},
  },
}));
