/**
 * The development login: the host prints `http://127.0.0.1:3000/#token=…`.
 * The page takes the token out of the URL (so it is not left in the address
 * bar, the history or a screenshot) and keeps it in sessionStorage for this
 * tab: a reload reconnects without asking again.
 */
const STORAGE_KEY = 'pty-demo-token';

/** The token from the URL fragment (kept for this tab), else the one kept earlier. */
export function readToken(): string | undefined {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromUrl = fragment.get('token');
  if (fromUrl) {
    sessionStorage.setItem(STORAGE_KEY, fromUrl);
    history.replaceState(null, '', location.pathname + location.search);
    return fromUrl;
  }
  return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
}

/** Forgets a token the server refused. */
export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** Shows the login form and resolves with the token typed in (kept for this tab). */
export function askForToken(form: HTMLFormElement, error?: string): Promise<string> {
  const message = form.querySelector<HTMLElement>('.error')!;
  message.textContent = error ?? '';
  message.hidden = !error;
  form.hidden = false;
  const input = form.elements.namedItem('token') as HTMLInputElement;
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener(
      'submit',
      (event) => {
        event.preventDefault();
        const token = input.value.trim();
        sessionStorage.setItem(STORAGE_KEY, token);
        form.hidden = true;
        resolve(token);
      },
      { once: true },
    );
  });
}
