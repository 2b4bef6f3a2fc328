import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { PtyAuthenticateFunction } from 'nestjs-pty-session';

/** Token of the demo host's development token (see `AppModule.forRoot`). */
export const DEV_TOKEN = Symbol('DEV_TOKEN');

/** Whether `given` is the development token, compared in constant time. */
export function isDevToken(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The demo host's development login: a client connects with
 * `auth: { token, user }`; the token is the one the host printed at start
 * (or `PTY_DEV_TOKEN`), and `user` names the principal (default `dev`).
 * A real host verifies a session cookie or a JWT here instead.
 */
export function createDevAuthenticator(token: string): PtyAuthenticateFunction {
  return (handshake) => {
    const auth = handshake.auth as { token?: unknown; user?: unknown };
    if (!isDevToken(token, auth.token)) return null;
    const user = typeof auth.user === 'string' && /^[\w.-]{1,64}$/.test(auth.user) ? auth.user : 'dev';
    return { id: user };
  };
}

/**
 * The same login for the demo's HTTP views: `Authorization: Bearer <token>`.
 * They show every principal's sessions and output, so they are for whoever
 * holds the token (who can log in as any user on the gateway anyway), never
 * for anyone who merely reaches the port: another local user, or a web page
 * that rebinds its name to 127.0.0.1 (it cannot know the token).
 */
@Injectable()
export class DevTokenGuard implements CanActivate {
  constructor(@Inject(DEV_TOKEN) private readonly token: string) {}

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers.authorization;
    const bearer = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    if (!isDevToken(this.token, bearer)) throw new UnauthorizedException('Send the development token: Authorization: Bearer <token>');
    return true;
  }
}
