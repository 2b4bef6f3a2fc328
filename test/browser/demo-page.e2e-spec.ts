/**
 * The demo page in a real browser (Debian's Chromium through playwright-core)
 * against the real demo host: what a user sees survives a reload and a
 * network cut.
 */
import { describe, expect, it } from '@jest/globals';
import { type DemoPage, nodeCommand, useDemoBrowser } from './demo-browser.js';

const { startHost, openPage } = useDemoBrowser();

async function openDemoPage(): Promise<DemoPage> {
  const { demo } = await startHost();
  return openPage(demo.loginUrl);
}

describe('demo page', () => {
  it('a reload reattaches to a full-screen program: the same screen, and it still takes input', async () => {
    const demoPage = await openDemoPage();
    const sessionId = await demoPage.newShell();
    // 600 redraws (~500 KB) push the sequences that set up the screen out of the 256 KiB replay
    // buffer: only the host's screen replay mode can bring the page back to the alternate screen.
    await demoPage.type(`${nodeCommand('fullscreen-app.mjs')} --redraws 600\r`);
    const before = await demoPage.waitForScreen(/type any key · q quits/);
    expect(await demoPage.bufferType()).toBe('alternate');
    expect(before).toMatch(/┌─+ PTY SESSION DEMO ─+┐/);
    expect(before).toMatch(/keys pressed: 0\s*│/);
    expect(before).toMatch(/last key: \(none\)/);

    await demoPage.page.reload();
    expect(new URL(demoPage.page.url()).searchParams.get('session')).toBe(sessionId);
    expect(demoPage.page.url()).not.toContain('token');
    await demoPage.waitForSession(sessionId);
    const after = await demoPage.waitForScreen(/type any key · q quits/);
    expect(after).toBe(before);
    expect(await demoPage.bufferType()).toBe('alternate');
    await demoPage.screenshot('demo-page-after-reload.png');

    await demoPage.type('x');
    const typed = await demoPage.waitForScreen(/keys pressed: 1\s/);
    expect(typed).toMatch(/last key: x\s/);
  });

  it('after a network cut in the middle of a long output, the final screen is that of a run without a cut', async () => {
    const demoPage = await openDemoPage();
    const context = demoPage.page.context();
    const command = `${nodeCommand('long-output.mjs')}\r`;
    const finished = /long-output: done, 20000 lines/;

    await demoPage.newShell();
    await demoPage.type(command);
    // Cut once a few thousand lines are on screen (the program runs for about two seconds).
    await demoPage.waitForScreen(/^ *0[3-9]\d{3}$/m);
    await context.setOffline(true);
    await demoPage.waitForState('reconnecting');
    // All the page had received before the cut: the end of the output was still to come.
    expect(await demoPage.screen()).not.toMatch(finished);
    await context.setOffline(false);
    await demoPage.waitForState('connected');
    const withCut = await demoPage.waitForScreen(finished);

    // The same program in a new session, without a cut, in a terminal of the same size.
    await demoPage.newShell();
    await demoPage.type(command);
    const withoutCut = await demoPage.waitForScreen(finished);

    expect(withCut).toBe(withoutCut);
  });
});
