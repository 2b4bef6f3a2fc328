import { Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import type { PtyPrincipal } from '../interfaces/pty-session-module-options.interface.js';
import { PtySessionError, PtySessionErrors } from '../pty-session.errors.js';
import type { ResolvedPtySessionOptions } from '../pty-session.options.js';
import { isHostAllowed, isOriginAllowed } from './origin-policy.js';

/** The principal of connections accepted by `allowAnonymous`. */
export const ANONYMOUS_PRINCIPAL: Readonly<PtyPrincipal> = Object.freeze({ id: 'anonymous' });

/** Where the middleware leaves the principal of an accepted connection. */
export const PRINCIPAL_KEY = 'ptyPrincipal';

/** The principal of an accepted connection. */
export function principalOf(socket: Socket): PtyPrincipal {
  return (socket.data as Record<string, PtyPrincipal>)[PRINCIPAL_KEY];
}

/** An error for Socket.IO's `next()`: the client gets `connect_error` with `message` and `data: { code, message }`. */
function refusal(error: PtySessionError): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error(error.message), { data: error.toJSON() });
}

/**
 * Why a request with these headers may not connect (Host first, against DNS
 * rebinding, then Origin), or undefined. Shared by the namespace middleware
 * and the gateway's `allowRequest`.
 */
export function requestRefusal(
  headers: { origin?: string; host?: string },
  options: Pick<ResolvedPtySessionOptions, 'allowedHosts' | 'allowedOrigins' | 'authenticate' | 'allowAnonymous'>,
): PtySessionError | undefined {
  const { origin, host } = headers;
  if (!isHostAllowed(host, options.allowedHosts, !options.authenticate && options.allowAnonymous)) return PtySessionErrors.hostNotAllowed(String(host));
  if (!isOriginAllowed(origin, host, options.allowedOrigins)) return PtySessionErrors.originNotAllowed(String(origin));
  return undefined;
}

/**
 * Namespace middleware: runs before a connection is accepted. Checks the
 * origin, then authenticates; a refused client gets `connect_error` and
 * never reaches a handler.
 */
export function createConnectionMiddleware(options: ResolvedPtySessionOptions, logger: Logger) {
  /** Open connections per principal id (maxConnectionsPerOwner). */
  const connections = new Map<string, number>();
  const admit = (socket: Socket, principal: PtyPrincipal): PtySessionError | undefined => {
    // Gone while the hook ran: Socket.IO drops it without a disconnect, and it must hold no place.
    if (socket.conn.readyState !== 'open') return PtySessionErrors.disconnected();
    const open = connections.get(principal.id) ?? 0;
    if (open >= options.maxConnectionsPerOwner) return PtySessionErrors.ownerConnectionLimit(options.maxConnectionsPerOwner);
    connections.set(principal.id, open + 1);
    // Released once: on the socket's disconnect, or on its connection's close when Socket.IO drops a
    // socket whose connection closed before it was accepted (then no disconnect comes).
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (connections.get(principal.id) ?? 1) - 1;
      if (left > 0) connections.set(principal.id, left);
      else connections.delete(principal.id);
    };
    socket.conn.once('close', release);
    // A connection can carry this namespace's sockets one after another: each takes its listener with it.
    socket.once('disconnect', () => {
      socket.conn.off('close', release);
      release();
    });
    return undefined;
  };
  return (socket: Socket, next: (error?: Error) => void): void => {
    const refused = requestRefusal(socket.handshake.headers, options);
    if (refused) {
      next(refusal(refused));
      return;
    }
    authenticate(socket, options, logger).then(
      (principal) => {
        const limited = admit(socket, principal);
        if (limited) {
          next(refusal(limited));
          return;
        }
        (socket.data as Record<string, PtyPrincipal>)[PRINCIPAL_KEY] = principal;
        next();
      },
      (error: unknown) => next(refusal(error instanceof PtySessionError ? error : PtySessionErrors.unauthorized())),
    );
  };
}

async function authenticate(socket: Socket, options: ResolvedPtySessionOptions, logger: Logger): Promise<PtyPrincipal> {
  if (!options.authenticate) {
    if (options.allowAnonymous) return ANONYMOUS_PRINCIPAL;
    throw PtySessionErrors.unauthorized('the server has no "authenticate" hook and does not allow anonymous connections');
  }
  let principal: PtyPrincipal | null | undefined;
  try {
    principal = await options.authenticate(socket.handshake);
  } catch (error) {
    // The hook's reason stays in the server's log: it may say more than a client should learn.
    logger.debug(`authenticate refused a connection from ${socket.handshake.address}: ${String(error)}`);
    throw PtySessionErrors.unauthorized();
  }
  if (principal === null || principal === undefined) throw PtySessionErrors.unauthorized();
  if (typeof principal !== 'object' || typeof principal.id !== 'string' || principal.id.length === 0 || principal.id.length > options.maxKeyLength) {
    logger.error(`authenticate returned no usable principal: expected { id: string } with 1 to ${options.maxKeyLength} characters`);
    throw PtySessionErrors.unauthorized();
  }
  return principal;
}
