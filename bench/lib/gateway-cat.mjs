// One throughput run through the gateway, on the client's side: a connected
// client opens a session of a `cat <file>` profile (create and attach in one
// request) and follows it like xterm.js until the exit. Timed from the
// request to the last byte, with this (client) process's CPU time over the
// run. The runner calls it in a clients process of its own (viewers.mjs,
// `cat`), as it does the floor's, and takes the host's CPU time around it
// (`measureCat` in viewers-process.mjs).
import { followLikeXterm, within } from './clients.mjs';
import { cpuMs } from './stats.mjs';

const RUN_TIMEOUT_MS = 180_000;

export async function catThroughGateway(client, profile) {
  const clientCpuStart = process.cpuUsage();
  const start = performance.now();
  const { session } = await client.open({ profile });
  const tally = followLikeXterm(session);
  const exit = await within(tally.exited, RUN_TIMEOUT_MS, `cat (${profile}) through the gateway`);
  return {
    clientCpuMs: cpuMs(process.cpuUsage(clientCpuStart)),
    ms: (tally.lastAt ?? performance.now()) - start,
    bytes: tally.bytes,
    chunks: tally.chunks,
    resets: tally.resets,
    lostBytes: tally.lostBytes,
    exitCode: exit.exitCode,
  };
}
