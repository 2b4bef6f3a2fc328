/**
 * The demo page's session list and New shell button in a real browser, as
 * an impatient user drives them: double clicks and quick clicks between
 * sessions leave the chosen session attached (and only it), a new shell
 * nobody waits for is closed rather than left running, and the × of an
 * entry closes its session. Each test checks the host's side too: what the
 * page shows is what the server has.
 */
import { describe, expect, it } from '@jest/globals';
import type { PtySessionManager } from 'nestjs-pty-session';
import { waitFor } from '../fixtures/processes.js';
import { closeButton, listEntry, startShells, useDemoBrowser } from './demo-browser.js';

const { startHost, openPage } = useDemoBrowser();

const runningIds = (manager: PtySessionManager) =>
  manager
    .listSessions()
    .filter((session) => session.status === 'running')
    .map((session) => session.id);

/** The demo host with two shells, and a page showing the second. */
async function showingSecondOfTwo() {
  const { demo, manager } = await startHost();
  const [x, y] = await startShells(manager, 2);
  const page = await openPage(demo.loginUrl);
  await page.page.click(listEntry(y));
  await page.waitForShown(manager, y, [x]);
  return { manager, page, x: x!, y: y! };
}

/** The page showing the one shell there is, chosen in the list. */
async function showingOneShell() {
  const { demo, manager } = await startHost();
  const [x] = await startShells(manager, 1);
  const page = await openPage(demo.loginUrl);
  await page.page.click(listEntry(x));
  await page.waitForShown(manager, x);
  return { manager, page, x: x! };
}

describe('demo page: choosing sessions', () => {
  it('a double click on a session in the list shows it attached, and what is typed reaches it', async () => {
    const { manager, page, x, y } = await showingSecondOfTwo();

    await page.page.dblclick(listEntry(x));
    await page.waitForShown(manager, x, [y]);
    await page.typeInto(manager, x, 'typed-after-double-click');
    expect(manager.getSession(x)?.attachedClients).toBe(1);
  });

  it('quick clicks back and forth between two sessions end on the last one clicked, attached', async () => {
    const { manager, page, x, y } = await showingSecondOfTwo();

    // Clicks faster than any answer: all in one task, then with a task between each (the first
    // attach or detach is then on its way when the next click comes).
    for (const [clicks, gap] of [
      [[x, y, x], false],
      [[y, x, y], true],
      [[x, y, x, y, x], true],
    ] as const) {
      await page.page.evaluate(
        async ({ ids, gap }) => {
          for (const id of ids) {
            document.querySelector<HTMLButtonElement>(`#sessions button[data-session-id="${id}"]`)!.click();
            if (gap) await new Promise((resolve) => setTimeout(resolve, 0));
          }
        },
        { ids: clicks, gap },
      );
      const last = clicks[clicks.length - 1];
      await page.waitForShown(manager, last, [last === x ? y : x]);
      await page.typeInto(manager, last, `typed-after-${clicks.length}-clicks-${gap ? 'apart' : 'at-once'}`);
    }
  });

  it('a click on the session shown gives the keyboard back to its terminal', async () => {
    const { manager, page, x } = await showingOneShell();

    await page.page.click(listEntry(x));
    await page.page.waitForFunction(() => document.activeElement?.classList.contains('xterm-helper-textarea'), undefined, { timeout: 5000 });
    await page.typeInto(manager, x, 'typed-after-clicking-the-current-entry');
  });
});

describe('demo page: New shell and ×', () => {
  it('a double click on New shell starts one shell', async () => {
    const { demo, manager } = await startHost();
    const page = await openPage(demo.loginUrl);

    await page.page.dblclick('#new-session');
    const id = await page.waitForSession();
    // Once the button is back and the list shows the new shell, every create the page sent is answered.
    await page.page.waitForSelector('#new-session:not([disabled])', { timeout: 5000 });
    await page.page.waitForSelector(`${listEntry(id)}.current`, { timeout: 5000 });
    expect(runningIds(manager)).toEqual([id]);
    expect(await page.page.locator('#sessions li').count()).toBe(1);
    await page.typeInto(manager, id, 'typed-in-the-one-new-shell');
  });

  it('a new shell chosen away from while it starts is closed, not left running; the button waits for it', async () => {
    const { manager, page, x } = await showingOneShell();

    // The host starts the shell, and holds its answer until the user has clicked elsewhere.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const create = manager.createSession.bind(manager);
    manager.createSession = async (options) => {
      const session = await create(options);
      await held;
      return session;
    };
    await page.page.click('#new-session');
    await waitFor(() => manager.listSessions().length === 2, 5000, 'the new shell to start');
    const [shell] = runningIds(manager).filter((id) => id !== x);
    expect(await page.page.isDisabled('#new-session')).toBe(true);
    // Let the shell finish starting (its prompt is out) before the page closes it: a login shell
    // killed while its startup files run can leave their work half done (a lock file, say), which
    // would slow the shells of the tests after this one.
    await waitFor(() => (manager.getSession(shell)?.outputOffset ?? 0) > 0, 5000, 'the new shell to print its prompt');

    await page.page.click(listEntry(x));
    release();
    await page.waitForShown(manager, x, [shell]);
    await waitFor(() => manager.getSession(shell)?.status !== 'running', 5000, 'the shell nobody waits for to be closed');
    await page.page.waitForSelector('#new-session:not([disabled])', { timeout: 5000 });
    await page.typeInto(manager, x, 'typed-after-leaving-a-new-shell');
  });

  it('at the session limit New shell says it could not create one; × closes a session and makes room', async () => {
    const { demo, manager } = await startHost();
    // The host's default limit per user (maxSessionsPerOwner).
    const ids = await startShells(manager, 10, 'top');
    const page = await openPage(demo.loginUrl);
    await page.page.waitForFunction(() => document.querySelectorAll('#sessions li').length === 10, undefined, { timeout: 5000 });

    await page.page.click('#new-session');
    await page.page.waitForFunction(() => document.getElementById('session-status')?.textContent?.startsWith('Could not create:'), undefined, {
      timeout: 5000,
    });
    expect(await page.page.textContent('#session-status')).toMatch(/10 live sessions/);

    // No confirmation: one click ends the session, and the host forgets it.
    await page.page.click(closeButton(ids[0]));
    await waitFor(() => manager.getSession(ids[0]) === undefined, 5000, 'the closed session to be gone');
    await page.page.waitForFunction(() => document.querySelectorAll('#sessions li').length === 9, undefined, { timeout: 5000 });

    const shell = await page.newShell();
    await page.waitForShown(manager, shell);
    await page.typeInto(manager, shell, 'typed-in-the-shell-made-room-for');

    // × on the session shown: the terminal says how it ended, the signal by its name.
    await page.page.click(closeButton(shell));
    await page.page.waitForFunction(
      () => /: session closed: process killed by SIGHUP$/.test(document.getElementById('session-status')?.textContent ?? ''),
      undefined,
      { timeout: 5000 },
    );
    expect(manager.getSession(shell)).toBeUndefined();
  });
});
