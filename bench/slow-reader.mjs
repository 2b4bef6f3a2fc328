// What a client that stops reading costs the host: a probe, not a bench case.
//
//   npm run build:lib && node bench/slow-reader.mjs [sessions] [seconds]
//
// Starts a host app in this process (the library's gateway on 127.0.0.1,
// port 0), opens `sessions` sessions (10 by default) from one Socket.IO
// connection, each running a program that prints one byte every ~0.2 ms
// (many small messages), then stops reading that connection's TCP socket.
// Each second it prints the event loop's utilization and the process's CPU,
// and when the gateway drops the connection (its unread backlog past
// `maxClientBacklogBytes`, 8 MiB by default). Every other terminal of the
// host waits while the event loop is busy: what matters is how busy, and
// for how long.
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PtySessionModule } from 'nestjs-pty-session';
import { io } from 'socket.io-client';

const SESSIONS = Number(process.argv[2] ?? 10);
const SECONDS = Number(process.argv[3] ?? 15);
/** Writes a byte, sleeps ~0.2 ms (Atomics.wait: a timer would wait 1 ms), and again. */
const TRICKLE = "const cell = new Int32Array(new SharedArrayBuffer(4)); for (;;) { process.stdout.write('x'); Atomics.wait(cell, 0, 0, 0.2); }";

let start = performance.now();
const elapsed = () => `${((performance.now() - start) / 1000).toFixed(1)} s`;
const logger = {
  log() {},
  debug() {},
  verbose() {},
  error: (message) => console.error(message),
  warn: (message) => /Disconnecting/.test(String(message)) && console.log(`${elapsed()}: ${message}`),
};

class SlowReaderModule {}
Module({
  imports: [
    PtySessionModule.forRoot({
      profiles: { trickle: { file: process.execPath, args: ['-e', TRICKLE], env: { PATH: '/usr/bin:/bin' } } },
      defaultProfile: 'trickle',
      allowAnonymous: true,
      maxSessionsPerOwner: Math.max(10, SESSIONS),
      maxSessions: Math.max(100, SESSIONS),
    }),
  ],
})(SlowReaderModule);
const app = await NestFactory.create(SlowReaderModule, { logger });
await app.listen(0, '127.0.0.1');
const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
const client = io(`${url}/pty`, { path: '/pty-io', transports: ['websocket'] });
await new Promise((resolve) => client.once('connect', resolve));
for (let i = 0; i < SESSIONS; i++) {
  const answer = await new Promise((resolve) => client.emit('create', { attach: true }, resolve));
  if (!answer.ok) throw new Error(`create: ${JSON.stringify(answer.error)}`);
}
console.log(`${SESSIONS} sessions printing a byte at a time; the client stops reading now.`);
client.io.engine.transport.ws._socket.pause();
start = performance.now();
let utilization = performance.eventLoopUtilization();
let cpu = process.cpuUsage();
for (let second = 1; second <= SECONDS; second++) {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const u = performance.eventLoopUtilization(utilization);
  const c = process.cpuUsage(cpu);
  utilization = performance.eventLoopUtilization();
  cpu = process.cpuUsage();
  console.log(`${elapsed()}: event loop ${(u.utilization * 100).toFixed(0)}% busy, CPU ${((c.user + c.system) / 1e4).toFixed(0)}% of a core`);
}
client.io.engine.transport.ws._socket.destroy();
await app.close();
process.exit(0);
