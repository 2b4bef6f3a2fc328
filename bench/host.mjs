// The host app of the bench, run as a child process of bench/run.mjs: a Nest
// application built the way a user builds one (a root module importing
// PtySessionModule.forRoot, NestFactory, the default Socket.IO adapter),
// listening on 127.0.0.1 port 0. It reports its URL, and over IPC answers the
// runner's questions that only the server can answer: its memory, its
// sessions, and the time of a cleanupExpired() sweep.
//
// Started with --expose-gc, so memory is read after garbage collection.
import 'reflect-metadata';
import { ConsoleLogger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PtySessionManager, PtySessionModule } from 'nestjs-pty-session';
import { serveChild } from './lib/child-process.mjs';
import { gcUsage } from './lib/gc-usage.mjs';
import { BenchFakePty } from './lib/fake-pty.mjs';

/** Garbage collections before a memory reading (weak references and finalizers settle over a few). */
const GC_PASSES = 3;
/**
 * Unmeasured sweeps before the timed ones: the first few run before V8 has
 * optimised the loop (~0.7 ms over 10,000 sessions, then ~0.08 ms); the
 * cleanup job runs every 30 s for the life of the host, so its steady state is what counts.
 */
const WARM_UP_SWEEPS = 10;

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Records of an application's own data kept per MiB of `appDataMiB` (~200 bytes of heap each). */
const APP_RECORDS_PER_MIB = 5000;

/**
 * What a real backend holds besides the library (entities, caches, its own
 * modules): plain records that stay reachable for the life of the host.
 * The bench's host is otherwise a minimal app (~17 MB of heap), and the
 * collector's behaviour depends on the heap's size (see case 1's rows).
 */
function applicationData(mib) {
  return Array.from({ length: Math.round(mib * APP_RECORDS_PER_MIB) }, (_, i) => ({
    id: i,
    name: `record-${i}`,
    tags: [i % 7, i % 11],
    updated: { at: 1_700_000_000_000 + i, by: `user-${i % 97}` },
  }));
}

/** Nest's console logger without the gateway's warning about profiles that run as the server's user. */
class BenchLogger extends ConsoleLogger {
  constructor(levels) {
    super();
    this.setLogLevels(levels);
  }
  warn(message, ...rest) {
    if (typeof message === 'string' && message.includes("run as the server's own user")) return;
    super.warn(message, ...rest);
  }
}

/** The application data of this host, if any: module state, so that it stays reachable as a real app's does. */
let appData;

serveChild(async (config) => {
  if (config.appDataMiB) appData = applicationData(config.appDataMiB);
  // A token login like a real host's: `auth: { token, user }`, the user becoming the principal.
  const authenticate = (handshake) => {
    const auth = handshake.auth ?? {};
    if (auth.token !== config.token) return null;
    return { id: typeof auth.user === 'string' && auth.user.length > 0 ? auth.user : 'bench' };
  };

  class BenchHostModule {}
  Module({ imports: [PtySessionModule.forRoot({ ...config.options, authenticate })] })(BenchHostModule);

  // abortOnError: false, so that invalid options reject here (INVALID_OPTIONS) rather than abort the process.
  // Warnings are kept, but not the boot warning that profiles run as the server's user: every bench profile does.
  const app = await NestFactory.create(BenchHostModule, { logger: new BenchLogger(['error', 'warn']), abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const manager = app.get(PtySessionManager);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  const fakes = [];

  const commands = {
    /** The Node process's memory after garbage collection (children are separate processes and not included). */
    async memory() {
      for (let i = 0; i < GC_PASSES; i++) {
        globalThis.gc?.();
        await nextTurn();
      }
      const usage = process.memoryUsage();
      return { ...usage, gcExposed: typeof globalThis.gc === 'function', sessions: manager.listSessions().length };
    },

    /** One cleanupExpired() sweep, as the cleanup job runs it every cleanupIntervalMs. */
    cleanup() {
      return manager.cleanupExpired();
    },

    /** CPU time this process has used (user and system, microseconds). */
    cpuUsage() {
      return process.cpuUsage();
    },

    /** The collector's work so far (lib/gc-usage.mjs). */
    gcUsage,

    /** Every session's counters (no output data). */
    sessions() {
      return manager.listSessions().map(({ id, status, outputOffset, bufferedBytes, attachedClients }) => ({
        id,
        status,
        outputOffset,
        bufferedBytes,
        attachedClients,
      }));
    },

    /**
     * Adopts `sessions` fake ptys (once), then times `runs` sweeps of
     * cleanupExpired() after a few unmeasured ones. Nothing is expired: this is
     * the cost the cleanup job pays on every tick for scanning the registry.
     */
    async sweep({ sessions, runs }) {
      const createStart = performance.now();
      while (fakes.length < sessions) {
        const pty = new BenchFakePty();
        fakes.push(pty);
        await manager.createSession({ pty });
      }
      const createMs = performance.now() - createStart;
      for (let i = 0; i < WARM_UP_SWEEPS; i++) await manager.cleanupExpired();
      // The garbage of creating 10,000 sessions is collected before, not during, the timed sweeps.
      for (let i = 0; i < GC_PASSES; i++) {
        globalThis.gc?.();
        await nextTurn();
      }
      const times = [];
      let closed = 0;
      for (let i = 0; i < runs; i++) {
        const start = process.hrtime.bigint();
        closed += await manager.cleanupExpired();
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      return { times, closed, sessions: manager.listSessions().length, createMs };
    },

    async shutdown() {
      // The fakes have no process to signal: end them first, so closing does not wait out the kill escalation.
      for (const pty of fakes) pty.emitExit(0);
      await app.close();
    },
  };

  return { info: { url: `${url}/pty`, pid: process.pid }, commands };
});
