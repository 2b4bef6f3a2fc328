/**
 * What the browser tests share: Debian's Chromium driven by playwright-core
 * (never a downloaded browser), the real demo host on 127.0.0.1 port 0, and
 * the demo page read through its test hook (`window.ptyDemo`).
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Terminal } from '@xterm/xterm';
import { PtySessionManager } from 'nestjs-pty-session';
import { createDemoApp, type DemoApp } from '../../src/demo-app.js';
import { waitFor } from '../fixtures/processes.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots and other files a person may want to look at after a run (gitignored). */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts');
export const FIXTURES = join(process.cwd(), 'test/fixtures');

/** The demo page's title, until a program sets one. */
export const PAGE_TITLE = 'nestjs-pty-session demo';

/** The page's test hook, as the tests see it (src/web/main.ts defines it). */
interface DemoWindow {
  ptyDemo?: { term?: Terminal; sessionId?: string; state: string };
}

/** Chromium, headless, with a fresh temporary profile (playwright's own for `launch`). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The demo host with a token of the test's own. */
export function startDemoHost(): Promise<DemoApp> {
  return createDemoApp({ token: `browser-test-${process.pid}`, port: 0, logger: false });
}

/**
 * Closes the host (which ends every session) and checks that nothing any
 * session started is left: no process in the terminal session of any of
 * their shells (bash, and the programs the tests ran in it).
 */
export async function closeDemoHost(demo: DemoApp): Promise<void> {
  const manager = demo.app.get(PtySessionManager);
  // A login shell ended while its startup files still run can leave their work half done (a lock
  // file of the user's shell setup, say), which then holds up every later shell: let each print
  // its prompt first. A test that is already failing is not held up for long.
  await waitFor(
    () => manager.listSessions().every((session) => session.status !== 'running' || session.outputOffset > 0),
    2000,
    'the shells to finish starting',
  ).catch(() => {});
  const shells = manager.listSessions().map((session) => session.pid);
  await demo.app.close();
  await waitFor(() => shells.every((pid) => processesInSession(pid).length === 0), 5000, () => `the processes of sessions ${shells.join(', ')} to end`);
}

/**
 * Sessions of the page's user (`dev`), started on the host: the list shows
 * them when the page loads. Shells by default; `top` starts faster than a
 * login shell, for tests that only need sessions to exist.
 */
export async function startShells(manager: PtySessionManager, count: number, profile: 'shell' | 'top' = 'shell'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await manager.createSession({ owner: 'dev', profile })).id);
  return ids;
}

/** The list entry that selects a session. */
export const listEntry = (sessionId: string) => `#sessions button[data-session-id="${sessionId}"]`;
/** The × of a session's list entry. */
export const closeButton = (sessionId: string) => `#sessions button[data-close="${sessionId}"]`;

/** Live processes whose terminal session id (setsid) is `sid`. */
function processesInSession(sid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // After the command name: state, ppid, pgrp, session, ...
    const [state, , , session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(session) === sid && state !== 'Z' && state !== 'X') pids.push(Number(entry));
  }
  return pids;
}

/** A shell command line that runs one of test/fixtures' Node programs. */
export function nodeCommand(fixture: string): string {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return `${quote(process.execPath)} ${quote(join(FIXTURES, fixture))}`;
}

/** The demo page of one browser context, through the page's test hook. */
export class DemoPage {
  constructor(readonly page: Page) {}

  /** Waits until the page is connected and shows a session; returns its id. */
  async waitForSession(sessionId?: string): Promise<string> {
    const handle = await this.page.waitForFunction(
      (expected) => {
        const demo = (globalThis as unknown as DemoWindow).ptyDemo;
        const ready = demo?.state === 'connected' && demo.term !== undefined && demo.sessionId !== undefined;
        return ready && (expected === undefined || demo.sessionId === expected) ? demo.sessionId : undefined;
      },
      sessionId,
      { timeout: 10_000 },
    );
    return (await handle.jsonValue()) as string;
  }

  /** Waits for the page's connection state (the client's: connected, reconnecting, ...). */
  async waitForState(state: string): Promise<void> {
    await this.page.waitForFunction((expected) => (globalThis as unknown as DemoWindow).ptyDemo?.state === expected, state, {
      timeout: 10_000,
      polling: 10,
    });
  }

  async newShell(): Promise<string> {
    const before = await this.page.evaluate(() => (globalThis as unknown as DemoWindow).ptyDemo?.sessionId);
    await this.page.click('#new-session');
    await this.page.waitForFunction(
      (previous) => {
        const id = (globalThis as unknown as DemoWindow).ptyDemo?.sessionId;
        return id !== undefined && id !== previous;
      },
      before,
      { timeout: 10_000 },
    );
    return this.waitForSession();
  }

  /** The status line above the terminal. */
  async status(): Promise<string> {
    return (await this.page.textContent('#session-status')) ?? '';
  }

  /**
   * Waits until the page shows `sessionId` as running and the host agrees:
   * this page is the one client attached to it, and none is attached to `others`.
   */
  async waitForShown(manager: PtySessionManager, sessionId: string, others: string[] = []): Promise<void> {
    let seen = '';
    await waitFor(
      async () => {
        const shown = await this.page.evaluate(() => (globalThis as unknown as DemoWindow).ptyDemo?.sessionId);
        const status = await this.status();
        const attached = manager.getSession(sessionId)?.attachedClients;
        // A session the host has forgotten (closed) has nobody attached.
        const othersAttached = others.map((id) => manager.getSession(id)?.attachedClients ?? 0);
        seen = `page shows ${shown} ("${status}"); host: ${attached} attached, others ${othersAttached.join(', ')}`;
        return shown === sessionId && status.endsWith(': running') && attached === 1 && othersAttached.every((n) => n === 0);
      },
      5000,
      () => `the page to show session ${sessionId}, attached; last seen: ${seen}`,
    );
  }

  /**
   * Types a command line into the terminal and waits for the session's shell
   * to run it: its output (`<marker>-ran`) is not in the line typed, which
   * the terminal echoes as soon as it gets it.
   */
  async typeInto(manager: PtySessionManager, sessionId: string, marker: string): Promise<void> {
    await this.type(`echo ${marker}-"ran"\r`);
    await waitFor(
      () => manager.getSession(sessionId)?.getReplayBuffer().data.includes(`${marker}-ran`) ?? false,
      5000,
      () => `the shell of session ${sessionId} to run the line typed in the page (${marker})`,
    );
  }

  /** Types into the terminal, as the user does. */
  async type(text: string): Promise<void> {
    await this.page.keyboard.type(text);
  }

  /**
   * The visible rows of the terminal's active buffer (the alternate screen
   * while a full-screen program runs), once xterm.js has parsed all the
   * output the page has received.
   */
  async screen(): Promise<string> {
    return this.page.evaluate(async () => {
      const term = (globalThis as unknown as DemoWindow).ptyDemo?.term;
      if (!term) return '';
      await new Promise<void>((resolve) => term.write('', resolve));
      const buffer = term.buffer.active;
      const rows: string[] = [];
      for (let y = 0; y < term.rows; y++) rows.push(buffer.getLine(buffer.baseY + y)?.translateToString(true) ?? '');
      return rows.join('\n');
    });
  }

  /** Which of xterm.js' buffers is shown: `'alternate'` while a full-screen program runs. */
  async bufferType(): Promise<string | undefined> {
    return this.page.evaluate(() => (globalThis as unknown as DemoWindow).ptyDemo?.term?.buffer.active.type);
  }

  /** Waits until the screen matches `pattern`; returns the screen. */
  async waitForScreen(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    let last = '';
    await waitFor(
      async () => pattern.test((last = await this.screen())),
      timeoutMs,
      () => `the screen to match ${pattern}; it shows:\n${last}`,
    );
    return last;
  }

  async screenshot(name: string): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    await this.page.screenshot({ path: join(ARTIFACTS, name) });
  }
}

/**
 * A test file's browser (one, launched once) and, per test, its demo host
 * and browser contexts, closed after the test: `startHost()` starts the
 * host (with its session manager, the server's side of what the page
 * shows), `openPage(url)` opens a connected page in a context of its own.
 */
export function useDemoBrowser() {
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let demo: DemoApp | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
    if (demo) await closeDemoHost(demo);
    demo = undefined;
  });
  return {
    async startHost(): Promise<{ demo: DemoApp; manager: PtySessionManager }> {
      demo = await startDemoHost();
      return { demo, manager: demo.app.get(PtySessionManager) };
    },
    async openPage(url: string, viewport = { width: 1100, height: 700 }): Promise<DemoPage> {
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      const page = new DemoPage(await context.newPage());
      await page.page.goto(url);
      await page.waitForState('connected');
      return page;
    },
  };
}
