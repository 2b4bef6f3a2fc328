/**
 * The demo page's terminal and banner in a real browser: the terminal's size
 * stays within the host's limits, the window the user comes back to sets
 * the size, a program's window title leaves with its session, and the
 * banner promises that the session keeps running only while it does.
 */
import { describe, expect, it } from '@jest/globals';
import type { PtySessionManager } from 'nestjs-pty-session';
import { waitFor } from '../fixtures/processes.js';
import { type DemoPage, listEntry, PAGE_TITLE, startShells, useDemoBrowser } from './demo-browser.js';

const { startHost, openPage } = useDemoBrowser();

/** The size of the page's terminal (xterm.js). */
function termSize(page: DemoPage): Promise<{ cols: number; rows: number }> {
  return page.page.evaluate(() => {
    const term = (globalThis as { ptyDemo?: { term?: { cols: number; rows: number } } }).ptyDemo!.term!;
    return { cols: term.cols, rows: term.rows };
  });
}

async function waitForSessionSize(manager: PtySessionManager, sessionId: string, size: { cols: number; rows: number }): Promise<void> {
  const session = () => manager.getSession(sessionId);
  await waitFor(
    () => session()?.cols === size.cols && session()?.rows === size.rows,
    5000,
    () => `session ${sessionId} to be ${size.cols}x${size.rows}; it is ${session()?.cols}x${session()?.rows}`,
  );
}

describe('demo page: the terminal', () => {
  it('a window wider than the host allows gets a terminal of the largest size, live and at attach', async () => {
    const { demo, manager } = await startHost();
    const page = await openPage(demo.loginUrl);
    const shell = await page.newShell();
    await page.waitForShown(manager, shell);

    // Far more than 1000 columns of 8 px or so.
    await page.page.setViewportSize({ width: 9500, height: 700 });
    await waitForSessionSize(manager, shell, { cols: 1000, rows: (await termSize(page)).rows });
    expect((await termSize(page)).cols).toBe(1000);

    // A new session attaches with the clamped size.
    const wide = await page.newShell();
    await page.waitForShown(manager, wide, [shell]);
    expect(manager.getSession(wide)?.cols).toBe(1000);
    await page.typeInto(manager, wide, 'typed-in-a-wide-window');
  });

  it('the window that gets the focus sets the size of a session two windows show', async () => {
    const { demo, manager } = await startHost();
    const [x] = await startShells(manager, 1);
    const big = await openPage(demo.loginUrl, { width: 1100, height: 700 });
    await big.page.click(listEntry(x));
    await big.waitForShown(manager, x);
    const bigSize = await termSize(big);

    // A smaller window attaches last: the session takes its size (the host's "latest" resize policy).
    const small = await openPage(demo.loginUrl, { width: 800, height: 450 });
    await small.page.click(listEntry(x));
    await small.page.waitForFunction((id) => (globalThis as { ptyDemo?: { sessionId?: string } }).ptyDemo?.sessionId === id, x);
    const smallSize = await termSize(small);
    expect(smallSize).not.toEqual(bigSize);
    await waitForSessionSize(manager, x, smallSize);

    // The user comes back to the big window.
    await big.page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await waitForSessionSize(manager, x, bigSize);
  });

  it("a program's window title leaves the tab with its session", async () => {
    const { demo, manager } = await startHost();
    const [x, y] = await startShells(manager, 2);
    const page = await openPage(demo.loginUrl);
    await page.page.click(listEntry(x));
    await page.waitForShown(manager, x);

    await page.type(`printf '\\033]0;title-set-in-x\\007'\r`);
    await page.page.waitForFunction(() => document.title === 'title-set-in-x', undefined, { timeout: 5000 });

    await page.page.click(listEntry(y));
    await page.waitForShown(manager, y, [x]);
    expect(await page.page.title()).toBe(PAGE_TITLE);
  });
});

describe('demo page: the connection banner', () => {
  it('says the session keeps running while it does, and not once it was killed', async () => {
    const { demo, manager } = await startHost();
    const [x] = await startShells(manager, 1);
    const page = await openPage(demo.loginUrl);
    const context = page.page.context();
    const banner = () => page.page.textContent('#banner');
    await page.page.click(listEntry(x));
    await page.waitForShown(manager, x);
    await page.typeInto(manager, x, 'typed-before-the-cut');

    await context.setOffline(true);
    await page.waitForState('reconnecting');
    expect(await banner()).toBe('Connection lost. Reconnecting… (your sessions keep running)');
    await context.setOffline(false);
    await page.waitForState('connected');
    await page.page.waitForFunction(() => document.getElementById('session-status')?.textContent?.endsWith(': running'), undefined, { timeout: 5000 });

    await manager.closeSession(x);
    await page.page.waitForFunction(
      () => document.getElementById('session-status')?.textContent?.endsWith(': session closed: process killed by SIGHUP'),
      undefined,
      { timeout: 5000 },
    );
    await context.setOffline(true);
    await page.waitForState('reconnecting');
    expect(await banner()).toBe('Connection lost. Reconnecting…');
    await context.setOffline(false);
  });
});
