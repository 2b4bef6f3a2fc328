// The runner's side of bench/viewers.mjs: a contender's clients in a process
// of their own, and runs measured with the server's CPU time taken around
// the run.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild } from './child-process.mjs';
import { gcUsageSince } from './gc-usage.mjs';
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

/** A clients process with one client of the library connected to `host`: the throughput cases' client. */
export function startLibraryClient(ctx, host, name) {
  return startViewers(ctx, { kind: 'library', url: host.url, token: host.token }, { count: 1, name });
}

/** One fan-out run: prepared, then timed, with `server`'s CPU measured around the run alone. */
export async function measureFanOut(viewers, server, args) {
  await viewers.call('prepare', args);
  const before = await server.call('cpuUsage');
  const { clients, cpuMs: clientCpuMs } = await viewers.call('go');
  const after = await server.call('cpuUsage');
  return { clients, clientCpuMs, hostCpuMs: cpuMs(after) - cpuMs(before) };
}

/**
 * One `cat` by a clients process's first client (`{ profile }` through a host,
 * `{ file, env, batched }` through the floor), with the server's CPU time and
 * garbage collections (`hostGc`) around it.
 */
export async function measureCat(viewers, server, args) {
  const [before, gcBefore] = [await server.call('cpuUsage'), await server.call('gcUsage')];
  const run = await viewers.call('cat', args);
  const [after, gcAfter] = [await server.call('cpuUsage'), await server.call('gcUsage')];
  return { ...run, hostCpuMs: cpuMs(after) - cpuMs(before), hostGc: gcUsageSince(gcBefore, gcAfter) };
}
