import type { PtyClientState } from 'nestjs-pty-session-client';

const MESSAGES: Partial<Record<PtyClientState, string>> = {
  connecting: 'Connecting…',
  reconnecting: 'Connection lost. Reconnecting…',
  closed: 'Disconnected. Reload the page to connect again.',
};

/** The strip in the header that says when the page is not connected. */
export class ConnectionBanner {
  private state: PtyClientState | undefined;
  private sessionRunning = false;

  constructor(private readonly element: HTMLElement) {}

  /** Shows what `state` means for the user; hidden while connected. */
  showState(state: PtyClientState): void {
    this.state = state;
    this.render();
  }

  /**
   * Whether the session shown is still running. Only then does a lost
   * connection promise that it keeps running: one whose process was killed
   * (the host shutting down ends its sessions, and then the connection) does not.
   */
  setSessionRunning(running: boolean): void {
    if (running === this.sessionRunning) return;
    this.sessionRunning = running;
    if (this.state) this.render();
  }

  show(message: string, error = false): void {
    this.element.textContent = message;
    this.element.classList.toggle('error', error);
    this.element.hidden = false;
  }

  hide(): void {
    this.element.hidden = true;
  }

  private render(): void {
    const message = this.state && MESSAGES[this.state];
    if (!message) return this.hide();
    const promise = this.state === 'reconnecting' && this.sessionRunning ? ' (your sessions keep running)' : '';
    this.show(message + promise, this.state === 'closed');
  }
}
