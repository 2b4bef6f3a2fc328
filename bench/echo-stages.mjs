// Where one keystroke's echo spends its time: a probe, not a bench case.
//
//   npm run build:lib && node bench/echo-stages.mjs [keystrokes] [--floor]
//
// `--floor`: the same stamps on the wetty-like floor instead (a bare
// Socket.IO server writing node-pty's output as it comes and answering
// `input` at once, as bench/bare-socketio.mjs does; no Nest, no library):
// S3 is then the `input` listener, S5 node-pty's onData.
//
// Starts a host app (this file again, as a child process) whose Socket.IO,
// Nest gateway and session are wrapped to take a timestamp at each stage,
// types single keystrokes into `cat` from a client that does the same, and
// prints the median time of each stage. Timestamps are process.hrtime
// (CLOCK_MONOTONIC, one clock for every process of the machine). The
// wrappers add a few microseconds per stage: compare stages, not the total
// with `npm run bench`. Stages:
//
//   C0 client write() → C1 socket.io-client emit → S1 engine.io packet at the
//   server → S2 Socket.IO event → S3 the gateway's `input` handler (after
//   Nest's pipeline) → S4 pty write → S5 pty read → S6 emit of the output →
//   S7 emit returned → C5 engine.io packet at the client → C6 output listener
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';

const KEYSTROKES = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 400);
const FLOOR = process.argv.includes('--floor');
/** Keystrokes measured before these are left out (JIT warm-up). */
const SKIP = 20;
/** Enter every so many keystrokes keeps cat's line buffer small; not measured. */
const LINE_EVERY = 40;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wraps `target[name]`, calling `before(args)` first; keeps metadata (Nest reads its handlers' decorators from the function). */
function wrap(target, name, before, after) {
  const original = target[name];
  target[name] = function (...args) {
    before?.call(this, ...args);
    const result = original.apply(this, args);
    after?.call(this, ...args);
    return result;
  };
  for (const key of Reflect.getMetadataKeys?.(original) ?? []) Reflect.defineMetadata(key, Reflect.getMetadata(key, original), target[name]);
}

async function host() {
  await import('reflect-metadata');
  const { Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { PtySession, PtySessionGatewayBase, PtySessionModule } = await import('nestjs-pty-session');
  // The Socket.IO (and its engine.io) that Nest's adapter uses, wherever npm put them.
  const nestRequire = createRequire(createRequire(import.meta.url).resolve('@nestjs/platform-socket.io'));
  const io = nestRequire('socket.io');
  const engine = createRequire(nestRequire.resolve('socket.io'))('engine.io');
  const stamps = { S1: [], S2: [], S3: [], S4: [], S5: [], S6: [], S7: [] };
  let armed = false; // from a keystroke's packet to its echo's emit
  const isKeystroke = (data) => typeof data === 'string' && data !== '\r';
  wrap(engine.Socket.prototype, 'onPacket', (packet) => {
    if (packet.type === 'message' && typeof packet.data === 'string' && packet.data.includes('"input"') && !packet.data.includes('\\r')) {
      armed = true;
      stamps.S1.push(now());
    }
  });
  wrap(io.Socket.prototype, 'onevent', (packet) => armed && packet.data?.[0] === 'input' && stamps.S2.push(now()));
  wrap(PtySessionGatewayBase.prototype, 'input', (_socket, body) => armed && isKeystroke(body?.data) && stamps.S3.push(now()));
  wrap(PtySession.prototype, 'write', (data) => armed && isKeystroke(data) && stamps.S4.push(now()));
  // A pty the built-in spawner made is read into shared memory (handleRead); a custom spawner's as before (handleOutput).
  for (const read of ['handleRead', 'handleOutput']) wrap(PtySession.prototype, read, () => armed && stamps.S5.push(now()));
  // Socket.IO does not export BroadcastOperator: reach its prototype through a server that never listens.
  const scratch = new io.Server();
  const broadcastOperator = Object.getPrototypeOf(scratch.to('none'));
  let emitting = false;
  wrap(
    broadcastOperator,
    'emit',
    (event) => (emitting = armed && event === 'output') && stamps.S6.push(now()),
    () => emitting && (stamps.S7.push(now()), (armed = emitting = false)),
  );

  class EchoStagesModule {}
  const cat = { file: '/bin/cat', env: { PATH: '/usr/bin:/bin', TERM: 'xterm-256color' } };
  Module({ imports: [PtySessionModule.forRoot({ profiles: { cat }, defaultProfile: 'cat', authenticate: () => ({ id: 'probe' }) })] })(EchoStagesModule);
  const app = await NestFactory.create(EchoStagesModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  process.send({ url: `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/pty` });
  process.on('message', async (message) => {
    if (message === 'stamps') process.send({ stamps });
    if (message === 'stop') {
      await app.close();
      process.exit(0);
    }
  });
}

/** The floor's host: a bare Socket.IO server and node-pty's `cat`, stamped at the same stages. */
async function floorHost() {
  const require = createRequire(import.meta.url);
  const { createServer } = await import('node:http');
  const pty = (await import('node-pty')).default;
  const io = require('socket.io');
  const engine = createRequire(require.resolve('socket.io'))('engine.io');
  const stamps = { S1: [], S2: [], S3: [], S4: [], S5: [], S6: [], S7: [] };
  let armed = false;
  wrap(engine.Socket.prototype, 'onPacket', (packet) => {
    if (packet.type === 'message' && typeof packet.data === 'string' && packet.data.includes('"input"') && !packet.data.includes('\\r')) {
      armed = true;
      stamps.S1.push(now());
    }
  });
  wrap(io.Socket.prototype, 'onevent', (packet) => armed && packet.data?.[0] === 'input' && stamps.S2.push(now()));
  const http = createServer();
  new io.Server(http, { path: '/pty-io' }).of('/pty').on('connection', (socket) => {
    const children = new Map();
    socket.on('create', (_request, answer) => {
      const child = pty.spawn('/bin/cat', [], { name: 'xterm-256color', cols: 80, rows: 24, cwd: process.cwd(), env: { PATH: '/usr/bin:/bin', TERM: 'xterm-256color' } });
      const sessionId = String(child.pid);
      children.set(sessionId, child);
      let offset = 0;
      child.onData((data) => {
        const stamped = armed;
        if (stamped) {
          const at = now(); // S5 and S6 at once: output goes out as it is read
          stamps.S5.push(at);
          stamps.S6.push(at);
        }
        socket.emit('output', { sessionId, offset, byteLength: Buffer.byteLength(data), data });
        if (stamped) (stamps.S7.push(now()), (armed = false));
        offset += Buffer.byteLength(data);
      });
      answer?.({ ok: true, session: { id: sessionId } });
    });
    socket.on('input', ({ sessionId, data } = {}, answer) => {
      if (armed && data !== '\r') {
        const at = now(); // S3 and S4 at once: the listener writes at once
        stamps.S3.push(at);
        stamps.S4.push(at);
      }
      children.get(sessionId)?.write(data);
      answer?.({ ok: true });
    });
    socket.on('disconnect', () => children.forEach((child) => child.kill()));
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  process.send({ url: `http://127.0.0.1:${http.address().port}/pty` });
  process.on('message', (message) => {
    if (message === 'stamps') process.send({ stamps });
    if (message === 'stop') process.exit(0);
  });
}

/** The floor's client: a bare socket.io-client, writing and listening as the gateway's client does. */
async function connectFloor(url) {
  const { io } = await import('socket.io-client');
  const socket = io(url, { path: '/pty-io', transports: ['websocket'] });
  await new Promise((resolve) => socket.once('connect', resolve));
  const { session } = await socket.emitWithAck('create', {});
  return {
    write: (data) => socket.emit('input', { sessionId: session.id, data }, () => {}),
    onOutput: (listener) => socket.on('output', listener),
    close: () => socket.close(),
  };
}

async function client() {
  const { PtySessionClient } = await import('nestjs-pty-session-client');
  const { Socket: IoSocket } = await import('socket.io-client');
  const { Socket: EngineSocket } = await import('engine.io-client');
  const child = fork(new URL(import.meta.url).pathname, ['--host', ...(FLOOR ? ['--floor'] : [])], { execArgv: [...process.execArgv, ...(process.env.HOST_ARGS?.split(' ').filter(Boolean) ?? [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { url } = await new Promise((resolve) => child.once('message', resolve));
  const stamps = { C0: [], C1: [], C5: [], C6: [] };
  let armed = false;
  wrap(IoSocket.prototype, 'emit', (event) => armed && event === 'input' && stamps.C1.push(now()));
  wrap(EngineSocket.prototype, '_onPacket', (packet) => {
    if (armed && packet.type === 'message' && typeof packet.data === 'string' && packet.data.includes('"output"')) stamps.C5.push(now());
  });
  let session;
  let ptyClient;
  if (FLOOR) {
    session = await connectFloor(url);
  } else {
    ptyClient = new PtySessionClient({ url, auth: {}, socketOptions: { transports: ['websocket'] } });
    await ptyClient.connect();
    session = (await ptyClient.open({ profile: 'cat' })).session;
  }
  let waiter;
  session.onOutput((output) => {
    if (!waiter || !output.data.includes(waiter.key)) return;
    stamps.C6.push(now());
    waiter.resolve();
    waiter = undefined;
  });
  await sleep(200);
  for (let i = 0; i < KEYSTROKES; i++) {
    if (i % LINE_EVERY === LINE_EVERY - 1) {
      await session.write('\r');
      await sleep(20);
    }
    await sleep(2 + Math.random() * 3);
    const key = 'abcdefghijklmnopqrstuvwxyz'[i % 26];
    const echoed = new Promise((resolve) => (waiter = { key, resolve }));
    armed = true;
    stamps.C0.push(now());
    // The last answer may come after the close below (it waits for a timer turn after the echo): not an error here.
    session.write(key)?.catch?.(() => {});
    await echoed;
    armed = false;
  }
  child.send('stamps');
  const server = (await new Promise((resolve) => child.once('message', resolve))).stamps;
  const stages = [['C0', stamps.C0], ['C1', stamps.C1], ...Object.entries(server), ['C5', stamps.C5], ['C6', stamps.C6]];
  const count = Math.min(...stages.map(([, times]) => times.length));
  const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];
  const spans = (from, to) => from.slice(SKIP, count).map((start, i) => to[SKIP + i] - start);
  const totals = spans(stamps.C0, stamps.C6);
  // The slowest 1% of keystrokes: which stage made them slow.
  const slowest = totals.map((total, i) => [total, i]).sort((a, b) => b[0] - a[0]).slice(0, Math.max(1, Math.ceil(totals.length / 100)));
  const row = (name, values) => {
    const tail = slowest.map(([, i]) => values[i].toFixed(3)).join(' ');
    console.log(`  ${name.padEnd(9)} ${quantile(values, 0.5).toFixed(3).padStart(7)} ${quantile(values, 0.99).toFixed(3).padStart(7)}   ${tail}`);
  };
  console.log(`${count - SKIP} keystrokes (ms): stage, median, p99, then the stage's time in each of the slowest 1% of keystrokes:`);
  for (let k = 1; k < stages.length; k++) row(`${stages[k - 1][0]} → ${stages[k][0]}`, spans(stages[k - 1][1], stages[k][1]));
  row('total', totals);
  (ptyClient ?? session).close();
  child.send('stop');
}

if (process.argv[2] === '--host') await (FLOOR ? floorHost() : host());
else await client();
