import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { fileURLToPath } from 'node:url';
import { AppModule } from './app.module.js';

/** Where `npm run build:web` puts the page: dist/web, seen from dist/ (the built host) and from src/ (tests run the source). */
const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../dist/web/', import.meta.url));

export interface DemoAppOptions {
  /** The development login's token (see dev-auth.ts). */
  token: string;
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1: a terminal server is never exposed by default. */
  host?: string;
  /** The built web page. Default: dist/web of this repository. */
  webRoot?: string;
  /** Nest's logger setting. Default: Nest's own. */
  logger?: false | LogLevel[];
}

export interface DemoApp {
  app: NestExpressApplication;
  /** `http://<host>:<port>`, where the page is served. */
  url: string;
  /** The page's URL with the development token, the one to open in a browser. */
  loginUrl: string;
}

/**
 * The demo host, listening: the sessions REST views, the Socket.IO gateway
 * on /pty and the web page (xterm.js) on /. The CLI entry (main.ts) and the
 * browser tests both start it from here.
 */
export async function createDemoApp(options: DemoAppOptions): Promise<DemoApp> {
  const { token, port = 3000, host = '127.0.0.1', webRoot = DEFAULT_WEB_ROOT } = options;
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({ token }),
    options.logger !== undefined ? { logger: options.logger } : {},
  );
  app.useStaticAssets(webRoot);
  await app.listen(port, host);
  const url = await app.getUrl();
  // The token goes in the fragment: browsers never send it to the server, nor in a Referer.
  return { app, url, loginUrl: `${url}/#token=${encodeURIComponent(token)}` };
}
