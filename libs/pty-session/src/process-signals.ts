import type { Logger } from '@nestjs/common';
import { readdirSync, readFileSync } from 'node:fs';
import type { IPty } from 'node-pty';

/**
 * Signals for a session's processes, guarded against pid reuse.
 *
 * node-pty starts each child with `setsid`, so its pid is also its process
 * group id and its terminal session id. `kill(-pid)` reaches the program and
 * what shares its group; `signalSessionProcesses` reaches the rest of the
 * terminal session (an interactive shell's jobs, children that outlive it).
 * Before a group signal the process's start time (field 22 of
 * /proc/<pid>/stat) is compared with the one read at spawn: a pid the kernel
 * has given to another process since is never signalled.
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

/**
 * How long one scan of /proc serves every session that asks: closing many
 * sessions at once (an idle sweep, shutdown) then costs one scan, not one each.
 */
const PROCESS_TABLE_TTL_MS = 25;
let processTable: { takenAt: number; bySession: Map<number, number[]> } | undefined;

/**
 * Live (not zombie) pids whose terminal session id is `sid`. node-pty's child
 * calls setsid, so its pid names the session of everything started in the
 * terminal, including an interactive shell's jobs, which job control moves
 * into process groups of their own. The kernel does not reuse a pid while it
 * still names a session, so these processes are all this session's.
 */
export function listSessionProcesses(sid: number): number[] {
  const now = Date.now();
  if (!processTable || now - processTable.takenAt > PROCESS_TABLE_TTL_MS || now < processTable.takenAt) {
    processTable = { takenAt: now, bySession: scanProcessTable() };
  }
  return processTable.bySession.get(sid) ?? [];
}

/** Sends `signal` to every live process of the terminal session `sid`. */
export function signalSessionProcesses(sid: number, signal: NodeJS.Signals): void {
  if (!Number.isInteger(sid) || sid <= 1) return;
  for (const pid of listSessionProcesses(sid)) {
    // The list may be up to 25 ms old: signal only a process that is still in the session.
    if (readSessionId(pid) !== sid) continue;
    try {
      process.kill(pid, signal);
    } catch {
      /* gone meanwhile */
    }
  }
  // No invalidation here: closing many sessions at once must share one scan (the TTL keeps it fresh).
}

/** The terminal session id of a live process, or undefined when it is gone or a zombie. */
function readSessionId(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 4);
    return fields[0] === 'Z' || fields[0] === 'X' ? undefined : Number(fields[3]);
  } catch {
    return undefined;
  }
}

function scanProcessTable(): Map<number, number[]> {
  const bySession = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return bySession; // no /proc (macOS): the process-group signal is all there is
  }
  for (const entry of entries) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name: state, ppid, pgrp, session, ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 4);
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      const sid = Number(fields[3]);
      const pids = bySession.get(sid);
      if (pids) pids.push(Number(entry));
      else bySession.set(sid, [Number(entry)]);
    } catch {
      /* exited while we looked */
    }
  }
  return bySession;
}

/**
 * Ends a process spawned for a session that could not be made: its process
 * group, then the pty. Right after the spawn, so the pid is surely still its own.
 */
export function killSpawnedProcess(pty: IPty, logger: Logger): void {
  try {
    process.kill(-pty.pid, 'SIGKILL');
  } catch {
    // No group of that id (already gone): the pty's own kill below is enough.
  }
  try {
    pty.kill('SIGKILL');
  } catch (error) {
    logger.debug(`kill of pid ${pty.pid} after a failed session start ignored: ${String(error)}`);
  }
}
