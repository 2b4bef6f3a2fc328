import type { PtyWireExit } from 'nestjs-pty-session-client';

/**
 * Names of the signals a session's process is usually ended by. The numbers
 * are Linux's (the host runs its shells there): a number the browser cannot
 * look up. Others are shown as numbers.
 */
const SIGNAL_NAMES: Readonly<Record<number, string>> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  5: 'SIGTRAP',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  10: 'SIGUSR1',
  11: 'SIGSEGV',
  12: 'SIGUSR2',
  13: 'SIGPIPE',
  14: 'SIGALRM',
  15: 'SIGTERM',
};

/** "process exited with code 0", "session closed: process killed by SIGHUP", ... */
export function describeExit({ exitCode, signal, reason }: PtyWireExit): string {
  const how = signal ? `killed by ${SIGNAL_NAMES[signal] ?? `signal ${signal}`}` : `exited with code ${exitCode}`;
  return reason === 'exited' ? `process ${how}` : `session ${reason}: process ${how}`;
}
