#!/usr/bin/env node
// Attaches this terminal to a session of the demo host, through the gateway
// and the client package: what a browser does, from a shell.
//
//   npm run attach -- --token <the token npm start printed> [--key demo] [--user dev] [--url http://127.0.0.1:3000/pty]
//
// Ctrl-] detaches (the session keeps running; attach again to resume).
// Without --key and --id, it opens a new session from the host's default profile.
import { parseArgs } from 'node:util';
import { PtySessionClient } from 'nestjs-pty-session-client';

const DETACH_KEY = '\x1d'; // Ctrl-]

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? 3000}/pty` },
    token: { type: 'string', default: process.env.PTY_DEV_TOKEN },
    user: { type: 'string', default: 'dev' },
    key: { type: 'string' },
    id: { type: 'string' },
  },
});
if (!args.token) {
  console.error('Give the token the host printed at start: npm run attach -- --token <token>');
  process.exit(2);
}

const size = () => ({ cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 });
const client = new PtySessionClient({ url: args.url, auth: { token: args.token, user: args.user } });
client.onStateChange((state) => {
  if (state === 'reconnecting') process.stderr.write('\r\n[connection lost, reconnecting...]\r\n');
});

try {
  await client.connect();
  const session = args.id
    ? await client.attach({ sessionId: args.id }, size())
    : args.key
      ? (await client.open({ key: args.key, ...size() })).session
      : (await client.open(size())).session;

  const done = (message, code = 0) => {
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stderr.write(`\r\n[${message}]\r\n`);
    client.close();
    process.exit(code);
  };
  session.onOutput(({ data, reset }) => {
    if (reset) process.stdout.write('\x1bc'); // the start of what was missed is gone: clear the screen first
    process.stdout.write(data);
  });
  session.onExit(({ exitCode, signal }) => done(`exited with code ${exitCode}${signal ? `, signal ${signal}` : ''}`, 0));
  session.onStateChange((state, error) => {
    if (state === 'lost') done(`session lost: ${error?.message ?? 'unknown'}`, 1);
  });

  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (data) => {
    if (data.includes(DETACH_KEY)) return done(`detached from ${session.id}; attach again with --id ${session.id}`);
    session.write(data).catch((error) => process.stderr.write(`\r\n[input refused: ${error.code}]\r\n`));
  });
  process.stdout.on('resize', () => session.resize(size().cols, size().rows).catch(() => {}));
  process.stderr.write(`[attached to ${session.id}; Ctrl-] detaches]\r\n`);
} catch (error) {
  console.error(`Could not attach: ${error.code ?? ''} ${error.message}`);
  client.close();
  process.exit(1);
}
