/**
 * Which browser origins may open a connection. Socket.IO's CORS settings
 * only govern reads of HTTP long-polling responses; a cross-origin page can
 * still open a WebSocket unless the server checks `Origin` itself, which the
 * gateway does in `allowRequest` and again in its namespace middleware.
 */

/** The allowlist of the `allowedOrigins` option. */
export type PtyOriginAllowlist = readonly string[] | ((origin: string) => boolean);

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
