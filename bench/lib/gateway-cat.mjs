// One throughput run through the gateway: a connected client opens a session
// of a `cat <file>` profile (create and attach in one request) and follows it
// like xterm.js until the exit. Timed from the request to the last byte.
// Also the CPU time the host and this (client) process spent on the run.
import { followLikeXterm, within } from './clients.mjs';
import { cpuMs } from './stats.mjs';

const RUN_TIMEOUT_MS = 180_000;

export async function catThroughGateway(host, client, profile) {
  const hostCpuStart = await host.call('cpuUsage');
  const clientCpuStart = process.cpuUsage();
  const start = performance.now();
  const { session } = await client.open({ profile });
  const tally = followLikeXterm(session);
  const exit = await within(tally.exited, RUN_TIMEOUT_MS, `cat (${profile}) through the gateway`);
  const clientCpuMs = cpuMs(process.cpuUsage(clientCpuStart));
  const hostCpuMs = cpuMs(await host.call('cpuUsage')) - cpuMs(hostCpuStart);
  return {
    hostCpuMs,
    clientCpuMs,
    ms: (tally.lastAt ?? performance.now()) - start,
    bytes: tally.bytes,
    chunks: tally.chunks,
    resets: tally.resets,
    lostBytes: tally.lostBytes,
    exitCode: exit.exitCode,
  };
}
