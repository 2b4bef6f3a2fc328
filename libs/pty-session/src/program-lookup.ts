/**
 * Checks a profile's program and working directory before the spawn:
 * node-pty reports a missing one only through the child's exit (127 for
 * the program, 1 with "chdir(2) failed" for the directory), so the manager
 * answers SPAWN_FAILED instead, looking the program up as the child's exec will.
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Where a program named without a slash is looked for when the profile's
 * environment has no PATH: the union of the C libraries' execvp defaults
 * (glibc `/bin:/usr/bin`, musl `/usr/local/bin:/bin:/usr/bin`), so that no
 * program the child could run is refused.
 */
const EXEC_DEFAULT_PATH = '/usr/local/bin:/bin:/usr/bin';

/**
 * Throws unless `file` is an executable regular file: as given when it holds
 * a slash, else found in `path` (the child's PATH, searched as execvp does:
 * the child has changed to `cwd` by then, so a relative entry, the empty one
 * included, is relative to it).
 */
export function assertRunnable(file: string, path: string | undefined, cwd: string | undefined): void {
  if (cwd !== undefined) assertDirectory(cwd);
  const runnable = (candidate: string) => {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  };
  if (file.includes('/')) {
    const where = resolve(cwd ?? process.cwd(), file); // a relative path is the child's, from its cwd
    accessSync(where, fsConstants.X_OK); // its own error (ENOENT, EACCES) says why
    if (!statSync(where).isFile()) throw new Error(`${where} is not a regular file`);
    return;
  }
  const dirs = (path ?? EXEC_DEFAULT_PATH).split(':');
  if (!dirs.some((dir) => runnable(resolve(cwd ?? process.cwd(), dir, file)))) {
    throw new Error(`no executable "${file}" in the profile's PATH (${path ?? `unset: ${EXEC_DEFAULT_PATH}`})`);
  }
}

/**
 * Throws unless `cwd` (relative to the server's own, as the child's chdir
 * takes it) is a directory this process may enter (chdir needs search
 * permission; a profile with a uid enters it as the server, before the switch).
 */
function assertDirectory(cwd: string): void {
  const where = resolve(cwd);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(where).isDirectory();
    if (isDirectory) accessSync(where, fsConstants.X_OK);
  } catch (error) {
    throw new Error(`working directory ${where}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (!isDirectory) throw new Error(`working directory ${where} is not a directory`);
}
