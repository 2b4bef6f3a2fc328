/**
 * The demo page: the user's sessions on the left, the chosen one in an
 * xterm.js terminal on the right. The session's id is kept in the URL
 * (`?session=<id>`), so a reload attaches to it again and replays its screen.
 */
import { PtyClientError, PtySessionClient, type PtyClientSession, type PtyClientState } from 'nestjs-pty-session-client';
import type { Terminal } from '@xterm/xterm';
import { ConnectionBanner } from './connection-banner.js';
import { askForToken, forgetToken, readToken } from './login.js';
import { SessionList } from './session-list.js';
import { TerminalView } from './terminal-view.js';

/** What the browser tests read (`window.ptyDemo`): the terminal, the session shown, the connection. */
export interface PtyDemoTestHook {
  readonly term: Terminal | undefined;
  readonly sessionId: string | undefined;
  readonly state: PtyClientState;
}

declare global {
  interface Window {
    ptyDemo?: PtyDemoTestHook;
  }
}

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const page = {
  banner: new ConnectionBanner(byId('banner')),
  login: byId<HTMLFormElement>('login'),
  workspace: byId('workspace'),
  sessions: byId<HTMLUListElement>('sessions'),
  newSession: byId<HTMLButtonElement>('new-session'),
  status: byId('session-status'),
  terminal: byId('terminal'),
};

/** Connects with the development token, asking for it again while the server refuses it. */
async function connect(): Promise<PtySessionClient> {
  let token = readToken() ?? (await askForToken(page.login));
  for (;;) {
    const client = new PtySessionClient({
      url: new URL('/pty', location.href).href,
      auth: { token, user: 'dev' },
      // Acknowledge output once xterm.js has parsed it: a burst waits for the terminal.
      ackMode: 'manual',
      socketOptions: { transports: ['websocket'] },
    });
    client.onStateChange((state) => page.banner.showState(state));
    try {
      // A failed attempt (server down) rejects with CONNECT_FAILED while Socket.IO retries: wait for the next.
      for (;;) {
        try {
          await client.connect();
          return client;
        } catch (error) {
          if (!(error instanceof PtyClientError && error.code === 'CONNECT_FAILED' && client.state !== 'closed')) throw error;
        }
      }
    } catch (error) {
      if (!(error instanceof PtyClientError && error.code === 'UNAUTHORIZED')) throw error;
      forgetToken();
      page.banner.hide();
      token = await askForToken(page.login, 'The server refused this token. Copy the link the host printed at start.');
    }
  }
}

function setSessionInUrl(sessionId: string | undefined): void {
  const url = new URL(location.href);
  if (sessionId) url.searchParams.set('session', sessionId);
  else url.searchParams.delete('session');
  history.replaceState(null, '', url);
}

async function run(client: PtySessionClient): Promise<void> {
  let view: TerminalView | undefined;
  let current: PtyClientSession | undefined;

  const list = new SessionList(page.sessions, (sessionId) => {
    if (sessionId !== current?.id) void show((size) => client.attach({ sessionId }, size));
  });
  const refreshList = () =>
    client.list().then(
      (sessions) => list.render(sessions, current?.id),
      () => {}, // the next connect refreshes it
    );

  /** Replaces the terminal with a new one showing the session `open` attaches (with the new terminal's size). */
  async function show(open: (size: { cols: number; rows: number }) => Promise<PtyClientSession>): Promise<void> {
    const previous = current;
    current = undefined;
    view?.dispose();
    const next = (view = new TerminalView(page.terminal, page.status));
    await previous?.detach().catch(() => {});
    try {
      const session = await open(next.size);
      if (view !== next) {
        await session.detach(); // another session was chosen meanwhile
        return;
      }
      current = session;
      next.bind(session);
      setSessionInUrl(session.id);
      session.onExit(() => void refreshList());
    } catch (error) {
      const code = error instanceof PtyClientError ? error.code : '';
      if (code === 'SESSION_NOT_FOUND') setSessionInUrl(undefined);
      next.showError(code === 'SESSION_NOT_FOUND' ? 'That session is gone (ended, or closed on the server).' : `Could not attach: ${String(error)}`);
    }
    await refreshList();
  }

  window.ptyDemo = {
    get term() {
      return view?.term;
    },
    get sessionId() {
      return current?.id;
    },
    get state() {
      return client.state;
    },
  };

  page.newSession.addEventListener('click', () => void show(async (size) => (await client.open({ profile: 'shell', ...size })).session));
  client.onStateChange((state) => {
    if (state === 'connected') void refreshList();
  });
  page.workspace.hidden = false;

  const sessionId = new URL(location.href).searchParams.get('session');
  if (sessionId) await show((size) => client.attach({ sessionId }, size));
  else await refreshList();
}

connect().then(run, (error: unknown) => page.banner.show(`Could not connect: ${String(error)}`, true));
