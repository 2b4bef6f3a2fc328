import { readFileSync } from 'node:fs';

/**
 * Signals for a session's process group, guarded against pid reuse.
 *
 * node-pty starts each child with `setsid`, so its pid is also its process
 * group id; `kill(-pid)` reaches the shell and what runs in its foreground.
 * Before each signal the process's start time (field 22 of /proc/<pid>/stat)
 * is compared with the one read at spawn: a pid the kernel has given to
 * another process since is never signalled.
 */

/** The process's start time in clock ticks since boot, or undefined when it is gone or /proc is missing. */
export function readProcessStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall
  } catch {
    return undefined;
  }
}

export type SignalOutcome = 'sent' | 'gone';

/**
 * Sends `signal` to the process group led by `pid`, or to the process alone
 * when it leads no group. `startTime` is what `readProcessStartTime` returned
 * at spawn (undefined where /proc is unavailable: then only the caller's
 * "has it exited" flag protects against reuse).
 */
export function signalProcessGroup(pid: number, startTime: string | undefined, signal: NodeJS.Signals): SignalOutcome {
  if (!Number.isInteger(pid) || pid <= 1) return 'gone';
  if (startTime !== undefined && readProcessStartTime(pid) !== startTime) return 'gone';
  try {
    process.kill(-pid, signal);
    return 'sent';
  } catch {
    try {
      process.kill(pid, signal);
      return 'sent';
    } catch {
      return 'gone';
    }
  }
}
