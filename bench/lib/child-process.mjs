// The runner's side of a measuring child process (the host app, the raw
// node-pty baseline): started with `fork`, it says `ready` over IPC, then
// answers numbered requests. Both sides of that small protocol live here.
import { fork } from 'node:child_process';

/** How long a child may take to boot before the bench gives up on it. */
const READY_TIMEOUT_MS = 30_000;
/** How long one request may take (creating 1,000 sessions is the slowest). */
const REQUEST_TIMEOUT_MS = 300_000;

/**
 * Starts `modulePath` as a child process with IPC and waits for its `ready`
 * message. Resolves to `{ info, pid, call(command, args), stop() }`.
 * A child that fails to boot rejects with its error (its `code` kept).
 */
export function startChild(modulePath, { config = {}, execArgv = [], label = modulePath } = {}) {
  const child = fork(modulePath, [], {
    execArgv,
    env: { ...process.env, BENCH_CHILD_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let nextId = 1;
  let exited = false;

  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      for (const { reject, timer } of pending.values()) {
        clearTimeout(timer);
        reject(new Error(`${label} exited (code ${code}, signal ${signal}) before answering`));
      }
      pending.clear();
      resolve({ code, signal });
    });
  });

  child.on('message', (message) => {
    if (message?.type !== 'answer') return;
    const request = pending.get(message.id);
    if (!request) return;
    pending.delete(message.id);
    clearTimeout(request.timer);
    if (message.ok) request.resolve(message.result);
    else request.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
  });

  const handle = {
    pid: child.pid,
    info: undefined,
    /** Sends a request and resolves to the child's answer. */
    call(command, args = {}) {
      if (exited) return Promise.reject(new Error(`${label} has exited`));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${label}: no answer to "${command}" within ${REQUEST_TIMEOUT_MS} ms`));
        }, REQUEST_TIMEOUT_MS);
        pending.set(id, { resolve, reject, timer });
        child.send({ type: 'request', id, command, args });
      });
    },
    /** Asks the child to shut down cleanly; kills it if it does not exit in time. */
    async stop(timeoutMs = 30_000) {
      if (exited) return;
      handle.call('shutdown').catch(() => {});
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not start within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    const onMessage = (message) => {
      if (message?.type === 'ready') {
        clearTimeout(timer);
        child.off('message', onMessage);
        handle.info = message.info;
        resolve(handle);
      } else if (message?.type === 'boot-error') {
        clearTimeout(timer);
        child.off('message', onMessage);
        reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
      }
    };
    child.on('message', onMessage);
    void exitPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited during start (code ${code}, signal ${signal})`));
    });
  });
}

/**
 * The child's side: reads its config, runs `boot(config)` (which returns
 * `{ info, commands }`), reports `ready` (or `boot-error`) and answers requests
 * with `commands[command](args)`. `shutdown` exits after its handler ran.
 */
export async function serveChild(boot) {
  const config = JSON.parse(process.env.BENCH_CHILD_CONFIG ?? '{}');
  let commands;
  try {
    const booted = await boot(config);
    commands = booted.commands;
    process.send({ type: 'ready', info: booted.info });
  } catch (error) {
    process.send({ type: 'boot-error', error: { code: error?.code, message: String(error?.message ?? error) } }, () => process.exit(1));
    return;
  }
  process.on('message', async (message) => {
    if (message?.type !== 'request') return;
    const { id, command, args } = message;
    // After `shutdown` has answered, the child exits (once the answer is sent).
    const then = command === 'shutdown' ? () => process.exit(0) : undefined;
    try {
      const handler = commands[command];
      if (!handler) throw new Error(`unknown command ${command}`);
      const result = await handler(args);
      process.send({ type: 'answer', id, ok: true, result }, then);
    } catch (error) {
      process.send({ type: 'answer', id, ok: false, error: { code: error?.code, message: String(error?.stack ?? error) } }, then);
    }
  });
  // The runner went away: do not linger with sessions and processes.
  process.on('disconnect', async () => {
    try {
      await commands.shutdown?.();
    } finally {
      process.exit(0);
    }
  });
}
