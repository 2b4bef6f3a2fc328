// The second baseline, the floor of the transport: Socket.IO + node-pty with
// no library at all, as wetty does it. A plain `socket.io` Server on
// 127.0.0.1 port 0, in a process of its own (as the host app is); on `open`
// it spawns node-pty and emits every `onData` string at once as `output`,
// writes `input` to the pty and answers its ack with `{ ok: true }` (as the
// gateway does). No flow control, no batching, no replay, no reattach, no
// authentication. The runner drives it with a plain socket.io-client
// (bench/lib/bare-client.mjs); what the library adds over this is its cost.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import pty from 'node-pty';
import { Server } from 'socket.io';
import { serveChild } from './lib/child-process.mjs';
import { FLOOR_BATCH_MAX_BYTES, FLOOR_BATCH_WINDOW_MS } from './lib/floor-batching.mjs';
import { gcUsage } from './lib/gc-usage.mjs';

/** The library's defaults (pty-session.constants.ts), so that the pty is the same. */
const TERM = 'xterm-256color';
const COLS = 80;
const ROWS = 24;
/** The batched broadcast's window and largest message: the library's defaults (outputBatching). */
const BATCH_WINDOW_MS = FLOOR_BATCH_WINDOW_MS;
const BATCH_MAX_BYTES = FLOOR_BATCH_MAX_BYTES;

serveChild(async () => {
  const http = createServer();
  const io = new Server(http);
  const ptys = new Set();

  io.on('connection', (socket) => {
    const sessions = new Map();

    /**
     * `{ sessionId?, file?, env, broadcast?, batched?, onEnter? }`: `cat <file>`, or `cat` alone
     * (echo) without a file. Answers `{ sessionId }`. With `broadcast`, the
     * output goes to every socket that joined the session's room with
     * `watch` (Socket.IO's broadcast: each packet encoded once), as a
     * shared terminal without flow control or replay would send it.
     * With `batched` too, output is gathered for BATCH_WINDOW_MS (up to
     * BATCH_MAX_BYTES; always, where the library opens a window only when
     * busy) and sent as UTF-8 bytes, read from node-pty as bytes
     * (`encoding: null`, never decoded): the transport at its best, with no
     * library around it. With `onEnter`, `cat` waits for a line of input.
     */
    socket.on('open', ({ sessionId = randomUUID(), file, env = {}, broadcast = false, batched = false, onEnter = false } = {}, answer) => {
      // onEnter: `cat` starts after a line of input, as the fan-out case's `cat-on-enter` profile does on the host.
      const [command, args] = onEnter ? ['/bin/sh', ['-c', 'stty -echo; read line; exec cat "$0"', file]] : ['/bin/cat', file ? [file] : []];
      const child = pty.spawn(command, args, { name: TERM, cols: COLS, rows: ROWS, cwd: process.cwd(), env: { ...env, TERM }, ...(batched ? { encoding: null } : {}) });
      const target = broadcast ? io.to(sessionId) : socket;
      sessions.set(sessionId, child);
      ptys.add(child);
      let offset = 0;
      let parts = [];
      let timer;
      const send = () => {
        clearTimeout(timer);
        timer = undefined;
        if (parts.length === 0) return;
        const data = Buffer.concat(parts);
        parts = [];
        target.emit('output', { sessionId, offset, byteLength: data.length, data });
        offset += data.length;
      };
      let pendingBytes = 0;
      child.onData((data) => {
        if (batched) {
          parts.push(data);
          pendingBytes += data.length;
          if (pendingBytes >= BATCH_MAX_BYTES) {
            pendingBytes = 0;
            send();
          } else {
            timer ??= setTimeout(() => ((pendingBytes = 0), send()), BATCH_WINDOW_MS);
          }
          return;
        }
        const byteLength = Buffer.byteLength(data);
        target.emit('output', { sessionId, offset, byteLength, data });
        offset += byteLength;
      });
      child.onExit(({ exitCode, signal }) => {
        send();
        sessions.delete(sessionId);
        ptys.delete(child);
        target.emit('exit', { sessionId, exitCode, signal });
      });
      answer?.({ sessionId });
    });

    /** `{ sessionId }`: receive that session's broadcast output (see `open`). */
    socket.on('watch', ({ sessionId } = {}, answer) => {
      if (typeof sessionId === 'string') socket.join(sessionId);
      answer?.({ ok: typeof sessionId === 'string' });
    });

    socket.on('unwatch', ({ sessionId } = {}, answer) => {
      if (typeof sessionId === 'string') socket.leave(sessionId);
      answer?.({ ok: true });
    });

    socket.on('input', ({ sessionId, data } = {}, answer) => {
      const child = sessions.get(sessionId);
      if (child && typeof data === 'string') child.write(data);
      answer?.(child ? { ok: true } : { ok: false });
    });

    socket.on('close', ({ sessionId } = {}, answer) => {
      sessions.get(sessionId)?.kill('SIGKILL');
      answer?.({ ok: true });
    });

    socket.on('disconnect', () => {
      for (const child of sessions.values()) child.kill('SIGKILL');
    });
  });

  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    info: { pid: process.pid, url: `http://127.0.0.1:${http.address().port}` },
    commands: {
      /** CPU time this process has used (user and system, microseconds). */
      cpuUsage() {
        return process.cpuUsage();
      },
      gcUsage,
      shutdown() {
        for (const child of ptys) child.kill('SIGKILL');
        io.close();
      },
    },
  };
});
