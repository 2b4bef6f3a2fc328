import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { type PtySession, PtySessionManager } from 'nestjs-pty-session';
import { randomBytes } from 'node:crypto';
import { createDemoApp } from './demo-app.js';

/** The development login's token: PTY_DEV_TOKEN, or a fresh random one, printed below. */
const token = process.env.PTY_DEV_TOKEN || randomBytes(12).toString('base64url');

async function bootstrap(): Promise<void> {
  const { app, url, loginUrl } = await createDemoApp({
    token,
    host: process.env.HOST ?? '127.0.0.1',
    port: Number(process.env.PORT ?? 3000),
  });
  // SIGTERM / SIGINT run the shutdown hooks: every session's process group is ended.
  app.enableShutdownHooks();

  // One session keyed "demo", started once however often the host restarts its code paths.
  const demo = await app.get(PtySessionManager).getOrCreateSession('demo', { owner: 'dev' });
  greetOnce(demo, 'echo "hello from the session keyed demo"\r');

  Logger.log(`Host app on ${url}: GET ${url}/sessions, GET ${url}/sessions/${demo.id}/output (header Authorization: Bearer <the token>)`, 'Bootstrap');
  Logger.log(`Socket.IO gateway on ${url}/pty (Socket.IO path /pty-io); development login: auth { token: '${token}', user: 'dev' }`, 'Bootstrap');
  Logger.log(`Demo page: ${loginUrl}`, 'Bootstrap');
}

/**
 * Types `command` into a new shell once it has printed something (its
 * prompt): its line editor is then reading the terminal. Typed before that,
 * the tty would echo the command, and the line editor show it a second time.
 */
function greetOnce(session: PtySession, command: string): void {
  if (session.outputOffset > 0) {
    session.write(command);
    return;
  }
  let typed = false;
  const first = session.onOutput(() => {
    if (typed) return;
    typed = true;
    first.dispose();
    if (session.status === 'running') session.write(command);
  });
}

void bootstrap();
