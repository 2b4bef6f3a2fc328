import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import type { PtyClientError, PtyClientSession, PtyClientSessionState } from 'nestjs-pty-session-client';
import { describeExit } from './describe-exit.js';

/**
 * ESC c (RIS): the full reset `term.reset()` performs. A `reset` output is
 * written with it in front rather than by calling `term.reset()`, which acts
 * at once, ahead of output still queued in `term.write`; in the stream it
 * comes exactly between the old output and the new.
 */
const FULL_RESET = '\x1bc';

/**
 * The largest size the host accepts (its `maxCols` / `maxRows`, the
 * library's defaults: src/app.module.ts sets none). An attach or a resize
 * past it is refused, so a very wide window gets a terminal of this size
 * rather than none.
 */
export const MAX_TERMINAL_SIZE = { cols: 1000, rows: 1000 } as const;

/** The page's own title, shown while the program has set none. */
const PAGE_TITLE = document.title;

/**
 * One xterm.js terminal showing one session: output written in order and
 * acknowledged once parsed (the client's `ackMode: 'manual'`), keystrokes
 * sent as input, the size following the window (addon-fit), and a status
 * line above it (running, reconnecting, exit status). A new session gets a
 * new view: nothing of the previous one's output can leak into it.
 */

export class TerminalView {
  readonly term: Terminal;
  private readonly fit = new FitAddon();
  private readonly resizeObserver: ResizeObserver;
  private readonly subscriptions: Array<{ dispose(): void }> = [];
  private session: PtyClientSession | undefined;

  constructor(
    container: HTMLElement,
    private readonly status: HTMLElement,
  ) {
    this.term = new Terminal({
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace',
      fontSize: 14,
      scrollback: 5000,
      theme: { background: '#16181d' },
    });
    this.term.loadAddon(this.fit);
    this.term.open(container);
    this.fitToWindow();
    // Fit to the window: a new size reaches the session through onResize below.
    this.resizeObserver = new ResizeObserver(() => this.fitToWindow());
    this.resizeObserver.observe(container);
    this.subscriptions.push(
      this.term.onData((data) => this.session?.write(data).catch(() => {})),
      this.term.onResize(({ cols, rows }) => this.session?.resize(cols, rows).catch(() => {})),
      // The program's window title, in the tab (a screen snapshot brings it back after a reload).
      this.term.onTitleChange((title) => (document.title = title || PAGE_TITLE)),
    );
    window.addEventListener('focus', this.onWindowFocus);
    this.setStatus('Attaching…');
  }

  /** The terminal's size, to attach with: the session's program draws for it. */
  get size(): { cols: number; rows: number } {
    return { cols: this.term.cols, rows: this.term.rows };
  }

  /** Shows `session`'s output from now on (its replay comes first) and sends it the keystrokes. */
  bind(session: PtyClientSession): void {
    this.session = session;
    this.subscriptions.push(
      session.onOutput(({ bytes, offset, byteLength, reset }) => {
        if (reset) this.term.write(FULL_RESET);
        // The UTF-8 as received: xterm.js decodes it itself.
        this.term.write(bytes, () => session.ack(offset + byteLength));
      }),
      session.onExit((exit) => this.term.write(`\r\n\x1b[2m[${describeExit(exit)}]\x1b[0m\r\n`)),
      session.onStateChange((state, error) => this.showState(state, error)),
    );
    this.showState(session.state);
    this.term.focus();
  }

  /** Gives the keyboard back to the terminal (after a click elsewhere on the page). */
  focus(): void {
    this.term.focus();
  }

  /** Says why there is no session to show. */
  showError(message: string): void {
    this.setStatus(message, true);
  }

  dispose(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.resizeObserver.disconnect();
    window.removeEventListener('focus', this.onWindowFocus);
    this.term.dispose();
    this.session = undefined;
    // A title the program set belongs to this session: the next one starts with the page's own.
    document.title = PAGE_TITLE;
  }

  /** Fits the terminal to its container, within the host's limits (addon-fit's `fit()`, clamped). */
  private fitToWindow(): void {
    const proposed = this.fit.proposeDimensions();
    if (!proposed || !(proposed.cols > 0 && proposed.rows > 0)) return; // not laid out (hidden)
    const cols = Math.min(proposed.cols, MAX_TERMINAL_SIZE.cols);
    const rows = Math.min(proposed.rows, MAX_TERMINAL_SIZE.rows);
    if (cols !== this.term.cols || rows !== this.term.rows) this.term.resize(cols, rows);
  }

  /**
   * Another window on the same session (another tab, of another size) may
   * have resized it since: the window the user comes back to wins. The page
   * is not told of other clients' resizes (`session.info` has the size of
   * this page's last answer), so it cannot see whether the sizes differ: it
   * sends its size on every focus, and the host ignores a resize to the size
   * the session already has.
   */
  private readonly onWindowFocus = (): void => {
    const session = this.session;
    if (!session || session.state !== 'attached') return;
    session.resize(this.term.cols, this.term.rows).catch(() => {});
  };

  private showState(state: PtyClientSessionState, error?: PtyClientError): void {
    const session = this.session!;
    const name = `Session ${session.info.key ?? session.id.slice(0, 8)} (${session.info.profile ?? 'default'})`;
    switch (state) {
      case 'attached':
        return this.setStatus(`${name}: running`);
      case 'reattaching':
        return this.setStatus(`${name}: reconnecting…`);
      case 'exited':
        return this.setStatus(`${name}: ${session.exit ? describeExit(session.exit) : 'ended'}`, true);
      case 'lost':
        return this.setStatus(`${name}: lost (${error?.message ?? 'gone from the server'})`, true);
      case 'detached':
        return this.setStatus(`${name}: detached`);
    }
  }

  private setStatus(text: string, attention = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('exited', attention);
  }
}
