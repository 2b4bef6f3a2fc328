/**
 * Which browser origins may open a connection. Socket.IO's CORS settings
 * only govern reads of HTTP long-polling responses; a cross-origin page can
 * still open a WebSocket unless the server checks `Origin` itself, which the
 * gateway does in `allowRequest` and again in its namespace middleware.
 */

/** The allowlist of the `allowedOrigins` and `allowedHosts` options. */
export type PtyOriginAllowlist = readonly string[] | ((origin: string) => boolean);

/** `Host` names of the local machine (any port). */
const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/**
 * True when a request with this `Host` may connect. The same-origin rule
 * below trusts `Host`, which a DNS-rebinding page controls (its own name,
 * resolved to this server); a list of the server's real names closes that.
 * - `allowlist` given: the host (with or without its port) must be in it, or
 *   the predicate must accept it;
 * - none given: any host, except with `anonymous` (no authentication: a
 *   rebinding page would need no credentials), where only loopback names pass.
 */
export function isHostAllowed(host: string | undefined, allowlist: PtyOriginAllowlist | undefined, anonymous: boolean): boolean {
  if (host === undefined) return allowlist === undefined && !anonymous;
  const normalized = host.trim().toLowerCase();
  if (allowlist === undefined) return !anonymous || LOOPBACK_HOST.test(normalized);
  if (typeof allowlist === 'function') return safePredicate(allowlist, normalized);
  const name = normalized.replace(/:\d+$/, '');
  return allowlist.some((allowed) => {
    const a = allowed.trim().toLowerCase();
    return a === normalized || a === name;
  });
}

/**
 * True when a request with this `Origin` (and `Host`) may connect:
 * - no `Origin` header: not a browser (browsers always send it on WebSocket
 *   upgrades and cross-origin requests), allowed; authentication still applies;
 * - the origin's host equals the request's `Host`: the server's own page;
 * - the origin is in the allowlist (compared without case and trailing slash),
 *   or the allowlist's predicate accepts it.
 * The opaque origin `null` (sandboxed frames, `file:` pages) is refused unless listed.
 */
export function isOriginAllowed(origin: string | undefined, host: string | undefined, allowlist: PtyOriginAllowlist): boolean {
  if (origin === undefined || origin === '') return true;
  const normalized = normalizeOrigin(origin);
  if (typeof allowlist === 'function') {
    if (safePredicate(allowlist, origin)) return true;
  } else if (allowlist.some((allowed) => normalizeOrigin(allowed) === normalized)) {
    return true;
  }
  if (host === undefined || normalized === 'null') return false;
  try {
    return new URL(normalized).host === host.toLowerCase();
  } catch {
    return false;
  }
}

function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

function safePredicate(predicate: (origin: string) => boolean, origin: string): boolean {
  try {
    return predicate(origin) === true;
  } catch {
    return false;
  }
}
