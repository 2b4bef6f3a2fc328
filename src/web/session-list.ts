import type { PtyWireSessionInfo } from 'nestjs-pty-session-client';

/** What the user can do with an entry of the list. */
export interface SessionListActions {
  /** Show the session. */
  select(sessionId: string): void;
  /** End its process (an exited one: take it off the server's list). */
  close(sessionId: string): void;
}

/** The user's sessions, newest first; clicking one selects it, its × closes it. */
export class SessionList {
  constructor(
    private readonly element: HTMLUListElement,
    private readonly actions: SessionListActions,
  ) {}

  render(sessions: readonly PtyWireSessionInfo[], currentId: string | undefined): void {
    const items = [...sessions]
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((session) => this.item(session, session.id === currentId));
    this.element.replaceChildren(...items);
  }

  private item(session: PtyWireSessionInfo, current: boolean): HTMLLIElement {
    const name = session.key ?? session.id.slice(0, 8);
    const select = document.createElement('button');
    select.type = 'button';
    select.className = `session ${session.status}${current ? ' current' : ''}`;
    select.dataset.sessionId = session.id;
    // The whole key, should the list have to wrap it.
    select.title = session.key !== undefined ? `${session.key}\n${session.id}` : session.id;
    select.append(
      span('name', name),
      span('meta', [session.profile ?? 'default', session.status, new Date(session.createdAt).toLocaleTimeString()].join(' · ')),
    );
    select.addEventListener('click', () => this.actions.select(session.id));

    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'close';
    close.dataset.close = session.id;
    close.textContent = '×';
    close.title = session.status === 'exited' ? 'Remove from the list' : 'Close: ends its process';
    close.setAttribute('aria-label', `Close session ${name}`);
    close.addEventListener('click', () => {
      close.disabled = true; // once is enough; the list is drawn again when it is done
      this.actions.close(session.id);
    });

    const li = document.createElement('li');
    li.append(select, close);
    return li;
  }
}

function span(className: string, text: string): HTMLSpanElement {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}
