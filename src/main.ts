import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PtySessionManager } from 'nestjs-pty-session';
import { AppModule, DEV_TOKEN } from './app.module.js';

/** Loopback only: a terminal server is never exposed by default. */
const HOST = process.env.HOST ?? '127.0.0.1';
const PORT = Number(process.env.PORT ?? 3000);

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  // SIGTERM / SIGINT run the shutdown hooks: every session's process group is ended.
  app.enableShutdownHooks();
  await app.listen(PORT, HOST);

  // One session keyed "demo", started once however often the host restarts its code paths.
  const demo = await app.get(PtySessionManager).getOrCreateSession('demo', { owner: 'dev' });
  demo.write('echo "hello from session $PPID"\r');

  const url = await app.getUrl();
  Logger.log(`Host app on ${url}: GET ${url}/sessions, GET ${url}/sessions/${demo.id}/output`, 'Bootstrap');
  Logger.log(`Socket.IO gateway on ${url}/pty; development login: auth { token: '${DEV_TOKEN}', user: 'dev' }`, 'Bootstrap');
}

void bootstrap();
