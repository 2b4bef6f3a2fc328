// Waiting on the host's sessions, through its IPC (the runner's view of the server).

const POLL_MS = 50;
const WAIT_TIMEOUT_MS = 120_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once each of the sessions `ids` has output `bytes` bytes (all sessions when `ids` is undefined). */
export async function waitForOutput(host, ids, bytes, timeoutMs = WAIT_TIMEOUT_MS) {
  const deadline = performance.now() + timeoutMs;
  const wanted = ids && new Set(ids);
  for (;;) {
    const sessions = (await host.call('sessions')).filter((s) => !wanted || wanted.has(s.id));
    if ((!wanted || sessions.length === wanted.size) && sessions.every((s) => s.outputOffset >= bytes)) return sessions;
    if (performance.now() > deadline) {
      const behind = sessions.filter((s) => s.outputOffset < bytes).length;
      throw new Error(`${behind} session(s) did not print ${bytes} bytes within ${timeoutMs} ms`);
    }
    await sleep(POLL_MS);
  }
}

/** Resolves once no session has a client attached. */
export async function waitForNoClients(host, timeoutMs = WAIT_TIMEOUT_MS) {
  const deadline = performance.now() + timeoutMs;
  while ((await host.call('sessions')).some((s) => s.attachedClients > 0)) {
    if (performance.now() > deadline) throw new Error(`clients still attached after ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}
