// The spawn profiles the bench hosts offer: what the server may run.
// Plain objects, so that the runner can send them to the host process.

/** The environment of every benchmarked program (the library adds TERM). */
export const PROGRAM_ENV = Object.freeze({ PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' });

const quote = (text) => `'${text.replaceAll("'", "'\\''")}'`;

/** `cat <file>`, exiting when done. */
export function catProfile(path, extra = {}) {
  return { file: '/bin/cat', args: [path], env: { ...PROGRAM_ENV }, ...extra };
}

/** `cat <file>`, then stays alive (idle) so that the session keeps its output. */
export function catThenIdleProfile(path, extra = {}) {
  return shellProfile(`cat ${quote(path)}; exec sleep 600`, extra);
}

/** Prints nothing until a line of input arrives (not echoed), then `cat <file>` and exits. */
export function catOnEnterProfile(path, extra = {}) {
  return shellProfile(`stty -echo; read line; exec cat ${quote(path)}`, extra);
}

/** A script for /bin/sh. */
export function shellProfile(script, extra = {}) {
  return { file: '/bin/sh', args: ['-c', script], env: { ...PROGRAM_ENV }, ...extra };
}
