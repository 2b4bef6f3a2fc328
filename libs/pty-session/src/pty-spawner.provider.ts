import type { Provider } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import * as nodePty from 'node-pty';
import type { IPty, IPtyForkOptions } from 'node-pty';
import { PTY_SESSION_RESOLVED_OPTIONS, PTY_SPAWNER } from './pty-session.constants.js';
import type { ResolvedPtySessionOptions } from './pty-session.options.js';

/**
 * The signature of node-pty's `spawn`, as the session manager uses it.
 * Give your own as the `spawner` option to wrap spawning (a sandbox, a
 * container, metrics); unit tests replace it with
 * `overrideProvider(PTY_SPAWNER).useValue(fakeSpawn)`.
 * @publicApi
 */
export type PtySpawnFunction = (file: string, args: string[], options: IPtyForkOptions) => IPty;

/**
 * Closes every inherited descriptor above 2, then execs the program (same
 * pid, same terminal session). `exec` through `env -u SHLVL` because bash's
 * own `exec` would add SHLVL to the program's environment.
 */
const CLOSE_FDS_SCRIPT = 'for f in /proc/$$/fd/*; do n=${f##*/}; if [ "$n" -gt 2 ]; then exec {n}>&-; fi; done; exec /usr/bin/env $PTY_SESSION_ENV_FLAGS -- "$@"';
const BASH = '/bin/bash';

/**
 * node-pty 1.1.0 opens each pty master without close-on-exec, so every child
 * inherits the masters of the sessions spawned before it: one user's program
 * could read and type into another user's terminal (microsoft/node-pty#657,
 * fixed only in the 1.2 betas). Measured here: the second of two sessions had
 * fd 18 -> /dev/ptmx of the first. Where Linux's /proc, bash and env are
 * present, each child is started through a few lines of bash that close
 * every descriptor above 2 and exec the program.
 */
export function createNodePtySpawner(closeInheritedFds: boolean): PtySpawnFunction {
  const wrap = closeInheritedFds && existsSync('/proc/self/fd') && existsSync(BASH) && existsSync('/usr/bin/env');
  // Only a process that may set groups after exec (root, or ambient CAP_SETGID and CAP_SETUID) can drop
  // them: another switches with node-pty, under the supplementary-groups check.
  const setpriv = wrap && maySetGroups() ? SETPRIV_PATHS.find((path) => existsSync(path)) : undefined;
  if (!wrap) return (file, args, options) => nodePty.spawn(file, args, withUserChecked(options));
  return (file, args, options) => {
    const env = { ...(options.env ?? {}) } as Record<string, string>;
    // Keep SHLVL only if the profile set it; the flags variable itself is removed by env -u.
    env.PTY_SESSION_ENV_FLAGS = ('SHLVL' in env ? '' : '-u SHLVL ') + '-u PTY_SESSION_ENV_FLAGS';
    const { uid, gid, ...rest } = options;
    if ((uid === undefined && gid === undefined) || !setpriv) {
      return nodePty.spawn(BASH, ['--norc', '--noprofile', '-c', CLOSE_FDS_SCRIPT, 'pty-session-exec', file, ...args], { ...withUserChecked(options), env });
    }
    // The switch to the profile's user is made by setpriv, after the descriptors are closed: unlike
    // node-pty's (setgid, setuid), it also drops the server's supplementary groups.
    const user = [...(gid !== undefined ? [`--regid=${gid}`] : []), ...(uid !== undefined ? [`--reuid=${uid}`] : []), '--clear-groups', '--'];
    return nodePty.spawn(BASH, ['--norc', '--noprofile', '-c', CLOSE_FDS_SCRIPT, 'pty-session-exec', setpriv, ...user, file, ...args], { ...rest, env });
  };
}

/** util-linux's setpriv, which changes user and group and clears the supplementary groups. */
const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];

/**
 * node-pty 1.1.0 switches to a profile's `uid`/`gid` with setgid and setuid
 * only: the child keeps the server's supplementary groups (a server in
 * `docker` or `adm` would hand them to every user). Without setpriv that
 * cannot be undone, so such a spawn is refused unless the server has no
 * supplementary group beyond the profile's gid.
 */
function withUserChecked(options: IPtyForkOptions): IPtyForkOptions {
  if (options.uid === undefined && options.gid === undefined) return options;
  const kept = supplementaryGroups().filter((group) => group !== options.gid);
  if (kept.length > 0) {
    throw new Error(
      `the child would keep the server's supplementary groups (${kept.join(', ')}): node-pty does not clear them, and ` +
        'setpriv (util-linux), which does, was not found or closeInheritedFds is off',
    );
  }
  return options;
}

export const ptySpawnerProvider: Provider = {
  provide: PTY_SPAWNER,
  useFactory: (options: ResolvedPtySessionOptions): PtySpawnFunction =>
    options.spawner ?? createNodePtySpawner(options.closeInheritedFds),
  inject: [PTY_SESSION_RESOLVED_OPTIONS],
};

/**
 * The process's supplementary groups as the kernel has them (`Groups:` in
 * /proc/self/status). Node's `getgroups()` adds the effective group when it
 * is not among them, so it cannot tell whether a child keeps that group: it
 * is the fallback, with that group counted.
 */
function supplementaryGroups(): number[] {
  try {
    const line = /^Groups:[ \t]*(.*)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (line) return line[1]!.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    /* no /proc: below */
  }
  return process.getgroups?.() ?? [];
}

/**
 * Whether setpriv, started through bash and env, may set groups and switch
 * users: as root, or with CAP_SETGID (bit 6) and CAP_SETUID (bit 7) in the
 * ambient set, the one that survives exec (capabilities a process has from
 * its binary's file capabilities do not reach setpriv; node-pty's switch,
 * made before exec, can use them).
 */
function maySetGroups(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    const line = /^CapAmb:[ \t]*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return line !== null && (BigInt(`0x${line[1]}`) & 0xc0n) === 0xc0n;
  } catch {
    return false;
  }
}
