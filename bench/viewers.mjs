// A contender's clients, in a process of their own: the fan-out case's
// viewers of one session, connected either to the host app (the client
// package, following like xterm.js) or to the bare Socket.IO server (the
// floor), and each contender's client of the throughput and screen cases. Each contender gets
// its own process, so that neither's clients share a heap, a garbage
// collector or a JIT with the other's: run one after the other in the
// runner, the floor's clients (JSON text, ~2 s of CPU for 50 of them) used to
// leave the library's clients a heap to collect and code to re-optimise.
// The runner's side is lib/viewers-process.mjs.
//
// Config: `{ kind: 'library', url, token }` or `{ kind: 'bare', url }`.
// Commands: `connect({ count })`, then per fan-out run `prepare({ count, ... })`
// (everything up to the line that starts `cat`) and `go()` (that line, and
// the wait for every viewer's exit), so that the runner measures the
// server's CPU around `go` alone; `cat(...)`, one `cat` by the first client:
// `{ profile }` for the library, `{ file, env, batched }` for the floor.
import { catThroughBare, connectBare, prepareFanOutThroughBare } from './lib/bare-client.mjs';
import { serveChild } from './lib/child-process.mjs';
import { closeClients, connectClients, followLikeXterm, within } from './lib/clients.mjs';
import { catThroughGateway } from './lib/gateway-cat.mjs';
import { cpuMs } from './lib/stats.mjs';

/** Time for the program to reach `read` (and `stty -echo`) after the clients attached. */
const START_DELAY_MS = 100;
const RUN_TIMEOUT_MS = 180_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The library's viewers: one session of `profile` (waiting for a line), every client attached. */
function libraryViewers({ url, token }) {
  let clients = [];
  return {
    async connect({ count }) {
      // All clients of one user: the viewers of one person's session (tabs, screens).
      if (clients.length < count) clients = clients.concat(await connectClients({ url, token }, count - clients.length, { user: () => 'viewer' }));
    },
    async prepare({ count, profile }) {
      const viewers = clients.slice(0, count);
      const { session: info } = await viewers[0].create({ profile });
      const sessions = await Promise.all(viewers.map((client) => client.attach({ sessionId: info.id })));
      const tallies = sessions.map((session) => followLikeXterm(session));
      await sleep(START_DELAY_MS);
      const acksBefore = viewers.map((client) => client.acksSent);
      return async () => {
        const start = performance.now();
        await sessions[0].write('\r');
        await within(Promise.all(tallies.map((tally) => tally.exited)), RUN_TIMEOUT_MS, 'fan-out run');
        return tallies.map((tally, i) => ({
          ms: tally.lastAt - start,
          bytes: tally.bytes,
          resets: tally.resets,
          lostBytes: tally.lostBytes,
          messages: tally.chunks,
          acks: viewers[i].acksSent - acksBefore[i],
        }));
      };
    },
    cat: ({ profile }) => catThroughGateway(clients[0], profile),
    close: () => closeClients(clients),
  };
}

/** The floor's viewers: plain Socket.IO sockets watching one broadcast `cat`. */
function bareViewers({ url }) {
  let sockets = [];
  return {
    async connect({ count }) {
      if (sockets.length < count) sockets = sockets.concat(await Promise.all(Array.from({ length: count - sockets.length }, () => connectBare({ url }))));
    },
    async prepare({ count, file, env, batched }) {
      return (await prepareFanOutThroughBare(sockets.slice(0, count), { file, env, batched })).go;
    },
    cat: (args) => catThroughBare(sockets[0], args),
    close: () => sockets.forEach((socket) => socket.close()),
  };
}

serveChild(async (config) => {
  const viewers = config.kind === 'bare' ? bareViewers(config) : libraryViewers(config);
  let go;
  return {
    info: { pid: process.pid },
    commands: {
      connect: (args) => viewers.connect(args),
      async prepare(args) {
        go = await viewers.prepare(args);
      },
      /** Starts the prepared run; resolves to every viewer's tally and this process's CPU time (ms) over the run. */
      async go() {
        const run = go;
        go = undefined;
        if (!run) throw new Error('go without prepare');
        const cpuStart = process.cpuUsage();
        const clients = await run();
        return { clients, cpuMs: cpuMs(process.cpuUsage(cpuStart)) };
      },
      cat: (args) => viewers.cat(args),
      shutdown: () => viewers.close(),
    },
  };
});
