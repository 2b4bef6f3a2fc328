// The runner's side of bench/viewers.mjs: a contender's clients in a process
// of their own, and runs measured with the server's CPU time taken around
// the run.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild } from './child-process.mjs';
import { cpuMs } from './stats.mjs';

const VIEWERS = join(dirname(fileURLToPath(import.meta.url)), '..', 'viewers.mjs');

/**
 * Starts a clients process with `count` connected clients: `{ kind: 'library', url, token }`
 * (the client package, to a host) or `{ kind: 'bare', url }` (plain sockets, to the floor).
 * `name` names its CPU profile under `--cpu-prof`.
 */
export async function startViewers(ctx, config, { count, name }) {
  const child = await startChild(VIEWERS, { config, label: `clients (${name})`, execArgv: ctx.profileArgs(name) });
  try {
    await child.call('connect', { count });
  } catch (error) {
    await child.stop().catch(() => {});
    throw error;
  }
  return child;
}

/** One fan-out run: prepared, then timed, with `server`'s CPU measured around the run alone. */
export async function measureFanOut(viewers, server, args) {
  await viewers.call('prepare', args);
  const before = await server.call('cpuUsage');
  const { clients, cpuMs: clientCpuMs } = await viewers.call('go');
  const after = await server.call('cpuUsage');
  return { clients, clientCpuMs, hostCpuMs: cpuMs(after) - cpuMs(before) };
}

/** One `cat <file>` through the floor by its first client, with the server's CPU around it. */
export async function measureBareCat(viewers, server, args) {
  const before = await server.call('cpuUsage');
  const run = await viewers.call('cat', args);
  const after = await server.call('cpuUsage');
  return { ...run, hostCpuMs: cpuMs(after) - cpuMs(before) };
}
