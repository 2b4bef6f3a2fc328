import type { PtyWireSessionInfo } from 'nestjs-pty-session-client';

/** The user's sessions, newest first; clicking one selects it. */
export class SessionList {
  constructor(
    private readonly element: HTMLUListElement,
    private readonly onSelect: (sessionId: string) => void,
  ) {}

  render(sessions: readonly PtyWireSessionInfo[], currentId: string | undefined): void {
    const items = [...sessions]
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((session) => this.item(session, session.id === currentId));
    this.element.replaceChildren(...items);
  }

  private item(session: PtyWireSessionInfo, current: boolean): HTMLLIElement {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = `session ${session.status}${current ? ' current' : ''}`;
    button.dataset.sessionId = session.id;
    button.title = session.id;
    button.append(
      span('name', session.key ?? session.id.slice(0, 8)),
      span('meta', [session.profile ?? 'default', session.status, new Date(session.createdAt).toLocaleTimeString()].join(' · ')),
    );
    button.addEventListener('click', () => this.onSelect(session.id));
    const li = document.createElement('li');
    li.append(button);
    return li;
  }
}

function span(className: string, text: string): HTMLSpanElement {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}
