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

/**
 * One thing to show in the terminal: a session of the list (or the URL), or
 * a new shell. `sessionId` is undefined for a new shell until it exists.
 */
interface ShowRequest {
  readonly sessionId: string | undefined;
  /** Attaches (or creates) the session, with the new terminal's size. */
  readonly open: (size: { cols: number; rows: number }) => Promise<PtyClientSession>;
}

async function run(client: PtySessionClient): Promise<void> {
  let view: TerminalView | undefined;
  let current: PtyClientSession | undefined;
  /**
   * The latest request, until its turn is over. Requests are shown one at a
   * time, in order (`queue`), and one superseded before its turn is skipped:
   * two at once could get the same session object back from the client
   * (`attach` answers the one it already follows), and the one chosen away
   * from would detach it from under the other.
   */
  let wanted: ShowRequest | undefined;
  let queue = Promise.resolve();

  const list = new SessionList(page.sessions, {
    select(sessionId) {
      // Shown already (its request may still be refreshing the list): the keyboard goes back to it.
      if (sessionId === current?.id && current.state !== 'detached' && current.state !== 'lost') {
        view?.focus();
        return;
      }
      // Already on its way: a double click would only ask for it again.
      if (wanted?.sessionId === sessionId) return;
      void request({ sessionId, open: (size) => client.attach({ sessionId }, size) });
    },
    close: (sessionId) => void closeSession(sessionId),
  });
  const refreshList = () =>
    client.list().then(
      (sessions) => list.render(sessions, current?.id),
      () => {}, // the next connect refreshes it
    );
  /** The banner promises that the session keeps running only while it does. */
  const updateBanner = () => page.banner.setSessionRunning(current?.state === 'attached' || current?.state === 'reattaching');

  /** Queues `next` behind the requests before it; resolves once its turn is over (or skipped). */
  function request(next: ShowRequest): Promise<void> {
    wanted = next;
    const turn = queue
      .then(() => (wanted === next ? show(next) : undefined))
      .catch((error: unknown) => console.error('demo page:', error))
      .finally(() => {
        if (wanted === next) wanted = undefined;
      });
    queue = turn;
    return turn;
  }

  /** Replaces the terminal with a new one showing the session `request` opens (with the new terminal's size). */
  async function show(request: ShowRequest): Promise<void> {
    if (request.sessionId !== undefined && request.sessionId === current?.id && current.state !== 'detached' && current.state !== 'lost') {
      // Shown already (a click on the current entry, or a click back to a session while it attached).
      view?.focus();
      return;
    }
    const previous = current;
    current = undefined;
    updateBanner();
    view?.dispose();
    const next = (view = new TerminalView(page.terminal, page.status));
    await previous?.detach().catch(() => {});
    if (wanted !== request) return; // chosen away from meanwhile: the next request's turn comes
    const creating = request.sessionId === undefined;
    let session: PtyClientSession;
    try {
      session = await request.open(next.size);
    } catch (error) {
      if (wanted !== request) return;
      const code = error instanceof PtyClientError ? error.code : '';
      if (code === 'SESSION_NOT_FOUND') setSessionInUrl(undefined);
      next.showError(
        code === 'SESSION_NOT_FOUND' ? 'That session is gone (ended, or closed on the server).' : `Could not ${creating ? 'create' : 'attach'}: ${String(error)}`,
      );
      await refreshList();
      return;
    }
    if (wanted !== request && session.id !== wanted?.sessionId) {
      // Chosen away from while it opened (unless the choice is this very session: then it is shown, as
      // the request's turn would). A new shell nobody will see is ended, not left running.
      await (creating ? session.close() : session.detach()).catch(() => {});
      await refreshList();
      return;
    }
    current = session;
    next.bind(session);
    setSessionInUrl(session.id);
    session.onExit(() => void refreshList());
    session.onStateChange(updateBanner);
    updateBanner();
    await refreshList();
  }

  /** Ends a session's process (the × of its entry); an exited one is taken off the list. */
  async function closeSession(sessionId: string): Promise<void> {
    let session: PtyClientSession | undefined;
    try {
      // The client closes sessions it follows: one not shown is attached for it (without a size,
      // which would resize it for its other windows).
      session = sessionId === current?.id ? current : await client.attach({ sessionId });
      await session.close();
      if (session === current) setSessionInUrl(undefined); // the host forgets a closed session: a reload would not find it
    } catch (error) {
      // Attached only to close it: not left attached (unless it is shown, or about to be).
      if (session && session !== current && session.id !== wanted?.sessionId) void session.detach().catch(() => {});
      const message = `Could not close ${sessionId.slice(0, 8)}: ${String(error)}`;
      if (view) view.showError(message);
      else page.status.textContent = message;
    }
    await refreshList();
    view?.focus(); // the × that had it is gone with its entry
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

  page.newSession.addEventListener('click', () => {
    // One new shell per click: a second click while it starts would start a second one.
    page.newSession.disabled = true;
    void request({ sessionId: undefined, open: async (size) => (await client.open({ profile: 'shell', ...size })).session }).finally(
      () => (page.newSession.disabled = false),
    );
  });
  client.onStateChange((state) => {
    if (state === 'connected') void refreshList();
  });
  page.workspace.hidden = false;

  const sessionId = new URL(location.href).searchParams.get('session');
  if (sessionId) await request({ sessionId, open: (size) => client.attach({ sessionId }, size) });
  else await refreshList();
}

connect().then(run, (error: unknown) => page.banner.show(`Could not connect: ${String(error)}`, true));
