// A minimal stand-in for node-pty's IPty, for the cleanup sweep over 10,000
// sessions: the kernel allows 4,096 ptys, so that many sessions cannot all
// have a real process. The manager adopts it through createSession({ pty }).
//
// Its pid lies above the largest pid the kernel can hand out, so a signal the
// library aims at it (process.kill(-pid)) fails with ESRCH and never reaches a
// real process, and /proc/<pid> never exists.
import { readFileSync } from 'node:fs';

/** 2^22: the kernel's upper bound of pid_max on 64-bit Linux. */
const PID_MAX_LIMIT = 4 * 1024 * 1024;

function pidMax() {
  try {
    return Math.max(PID_MAX_LIMIT, Number.parseInt(readFileSync('/proc/sys/kernel/pid_max', 'utf8'), 10) || 0);
  } catch {
    return PID_MAX_LIMIT;
  }
}

const FIRST_FAKE_PID = pidMax() + 1000;
let created = 0;

export class BenchFakePty {
  constructor({ cols = 80, rows = 24 } = {}) {
    this.pid = FIRST_FAKE_PID + ++created;
    this.cols = cols;
    this.rows = rows;
    this.process = 'bench-fake';
    this.handleFlowControl = false;
    this.exitStatus = undefined;
    this.dataListeners = new Set();
    this.exitListeners = new Set();
    this.onData = (listener) => this.listen(this.dataListeners, listener);
    this.onExit = (listener) => this.listen(this.exitListeners, listener);
  }

  /** The "program" ends: exit listeners are called like node-pty calls them. */
  emitExit(exitCode = 0) {
    if (this.exitStatus) return;
    this.exitStatus = { exitCode };
    for (const listener of [...this.exitListeners]) listener({ exitCode });
  }

  write() {}

  resize(cols, rows) {
    this.cols = cols;
    this.rows = rows;
  }

  clear() {}

  kill() {
    this.emitExit(0);
  }

  pause() {}

  resume() {}

  listen(set, listener) {
    set.add(listener);
    return { dispose: () => set.delete(listener) };
  }
}
