import type { PtyClientState } from 'nestjs-pty-session-client';

const MESSAGES: Partial<Record<PtyClientState, string>> = {
  connecting: 'Connecting…',
  reconnecting: 'Connection lost. Reconnecting… (your sessions keep running)',
  closed: 'Disconnected. Reload the page to connect again.',
};

/** The strip in the header that says when the page is not connected. */
export class ConnectionBanner {
  constructor(private readonly element: HTMLElement) {}

  /** Shows what `state` means for the user; hidden while connected. */
  showState(state: PtyClientState): void {
    const message = MESSAGES[state];
    if (message) this.show(message, state === 'closed');
    else this.hide();
  }

  show(message: string, error = false): void {
    this.element.textContent = message;
    this.element.classList.toggle('error', error);
    this.element.hidden = false;
  }

  hide(): void {
    this.element.hidden = true;
  }
}
