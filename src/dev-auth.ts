import { timingSafeEqual } from 'node:crypto';
import type { PtyAuthenticateFunction } from 'nestjs-pty-session';

/**
 * The demo host's development login: a client connects with
 * `auth: { token, user }`; the token is the one the host printed at start
 * (or `PTY_DEV_TOKEN`), and `user` names the principal (default `dev`).
 * A real host verifies a session cookie or a JWT here instead.
 */
export function createDevAuthenticator(token: string): PtyAuthenticateFunction {
  const expected = Buffer.from(token);
  return (handshake) => {
    const auth = handshake.auth as { token?: unknown; user?: unknown };
    if (typeof auth.token !== 'string') return null;
    const given = Buffer.from(auth.token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const user = typeof auth.user === 'string' && /^[\w.-]{1,64}$/.test(auth.user) ? auth.user : 'dev';
    return { id: user };
  };
}
