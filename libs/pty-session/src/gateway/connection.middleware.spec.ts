import { describe, expect, it, jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';
import type { PtyAuthenticateFunction, PtySessionModuleOptions } from '../interfaces/pty-session-module-options.interface.js';
import { PtySessionErrors } from '../pty-session.errors.js';
import { resolvePtySessionOptions } from '../pty-session.options.js';
import { ANONYMOUS_PRINCIPAL, createConnectionMiddleware, principalOf, PRINCIPAL_KEY } from './connection.middleware.js';

type RefusalError = Error & { data?: { code: string; message: string } };

function options(extra: PtySessionModuleOptions = {}) {
  return resolvePtySessionOptions({ profiles: { sh: { file: '/bin/sh' } }, defaultProfile: 'sh', maxKeyLength: 16, ...extra });
}

function fakeLogger() {
  const logger = { debug: jest.fn(), error: jest.fn(), warn: jest.fn(), log: jest.fn(), verbose: jest.fn() };
  return { logger, asLogger: logger as unknown as Logger };
}

function fakeSocket(headers: Record<string, string | undefined> = {}, auth: Record<string, unknown> = {}) {
  const handshake = { headers, auth, address: '203.0.113.7', query: {}, time: '', issued: 0, url: '/socket.io/', xdomain: false, secure: false };
  // The socket emits `disconnect`, its engine connection `close`.
  const conn = Object.assign(new EventEmitter(), { readyState: 'open' });
  return Object.assign(new EventEmitter(), { handshake, data: {} as Record<string, unknown>, conn });
}

/** Runs the middleware and resolves with what `next` got (undefined = accepted). */
async function run(opts: ReturnType<typeof options>, socket = fakeSocket(), logger = fakeLogger().asLogger) {
  const middleware = createConnectionMiddleware(opts, logger);
  const next = jest.fn<(error?: Error) => void>();
  const called = new Promise<void>((resolve) => next.mockImplementation(() => resolve()));
  middleware(socket as unknown as Socket, next);
  await called;
  // Any second call would have happened by now (the middleware finishes in a microtask or two).
  await new Promise((resolve) => setImmediate(resolve));
  expect(next).toHaveBeenCalledTimes(1);
  return { error: next.mock.calls[0][0] as RefusalError | undefined, socket };
}

function expectRefused(error: RefusalError | undefined, code: string) {
  expect(error).toBeInstanceOf(Error);
  expect(error!.data).toEqual({ code, message: error!.message });
  expect(error!.message.length).toBeGreaterThan(0);
}

describe('createConnectionMiddleware', () => {
  describe('origin', () => {
    it('refuses a foreign origin with ORIGIN_NOT_ALLOWED before authenticating', async () => {
      const authenticate = jest.fn<PtyAuthenticateFunction>(() => ({ id: 'u1' }));
      const { error, socket } = await run(options({ authenticate }), fakeSocket({ origin: 'https://evil.example', host: 'app.example.com' }));
      expectRefused(error, 'ORIGIN_NOT_ALLOWED');
      expect(error!.message).toContain('https://evil.example');
      expect(authenticate).not.toHaveBeenCalled();
      expect(socket.data[PRINCIPAL_KEY]).toBeUndefined();
    });

    it('refuses synchronously (no hook runs, next is called before the middleware returns)', () => {
      const middleware = createConnectionMiddleware(options({ allowAnonymous: true }), fakeLogger().asLogger);
      const next = jest.fn();
      middleware(fakeSocket({ origin: 'null', host: 'localhost:3000' }) as unknown as Socket, next);
      expect(next).toHaveBeenCalledTimes(1);
      expect((next.mock.calls[0][0] as RefusalError).data?.code).toBe('ORIGIN_NOT_ALLOWED');
    });

    it('accepts the same host, a listed origin, a predicate-approved origin, and no origin', async () => {
      const cases: Array<[Record<string, string | undefined>, PtySessionModuleOptions]> = [
        [{ origin: 'http://app.example.com:3000', host: 'app.example.com:3000' }, {}],
        [{ origin: 'https://ui.example.com', host: 'api.example.com' }, { allowedOrigins: ['https://ui.example.com'] }],
        [{ origin: 'https://x.example.com', host: 'api.example.com' }, { allowedOrigins: (o: string) => o.endsWith('.example.com') }],
        [{ host: 'api.example.com' }, {}],
        [{}, {}],
      ];
      for (const [headers, extra] of cases) {
        const { error, socket } = await run(options({ authenticate: () => ({ id: 'u1' }), ...extra }), fakeSocket(headers));
        expect(error).toBeUndefined();
        expect(socket.data[PRINCIPAL_KEY]).toEqual({ id: 'u1' });
      }
    });
  });

  describe('host (DNS rebinding)', () => {
    it('without authentication, refuses a non-loopback Host, even when Origin matches it, before anything else', async () => {
      const { error } = await run(options({ allowAnonymous: true }), fakeSocket({ origin: 'http://evil.example:3000', host: 'evil.example:3000' }));
      expectRefused(error, 'ORIGIN_NOT_ALLOWED');
      expect(error!.message).toContain('Host "evil.example:3000"');
      const local = await run(options({ allowAnonymous: true }), fakeSocket({ origin: 'http://localhost:3000', host: 'localhost:3000' }));
      expect(local.error).toBeUndefined();
      expect(local.socket.data[PRINCIPAL_KEY]).toBe(ANONYMOUS_PRINCIPAL);
    });

    it('allowedHosts admits the listed names only, with or without authentication', async () => {
      const anonymous = options({ allowAnonymous: true, allowedHosts: ['term.example.com'] });
      expect((await run(anonymous, fakeSocket({ host: 'term.example.com:443' }))).error).toBeUndefined();
      expectRefused((await run(anonymous, fakeSocket({ host: 'localhost:3000' }))).error, 'ORIGIN_NOT_ALLOWED');
      const authenticate = jest.fn<PtyAuthenticateFunction>(() => ({ id: 'u1' }));
      const authenticated = options({ authenticate, allowedHosts: ['term.example.com'] });
      expectRefused((await run(authenticated, fakeSocket({ host: 'evil.example' }))).error, 'ORIGIN_NOT_ALLOWED');
      expect(authenticate).not.toHaveBeenCalled();
      expect((await run(authenticated, fakeSocket({ host: 'term.example.com' }))).error).toBeUndefined();
    });
  });

  describe('authentication', () => {
    it('refuses everyone with UNAUTHORIZED when there is no hook and anonymous is not allowed', async () => {
      const { error, socket } = await run(options());
      expectRefused(error, 'UNAUTHORIZED');
      expect(error!.message).toContain('authenticate');
      expect(socket.data[PRINCIPAL_KEY]).toBeUndefined();
    });

    it('accepts everyone as the frozen anonymous principal with allowAnonymous and no hook', async () => {
      const { error, socket } = await run(options({ allowAnonymous: true }), fakeSocket({ host: '127.0.0.1:3000' }));
      expect(error).toBeUndefined();
      expect(socket.data[PRINCIPAL_KEY]).toEqual({ id: 'anonymous' });
      expect(principalOf(socket as unknown as Socket)).toBe(ANONYMOUS_PRINCIPAL);
      expect(Object.isFrozen(ANONYMOUS_PRINCIPAL)).toBe(true);
    });

    it('gives the hook the handshake and stores the principal it returns (sync or async)', async () => {
      for (const make of [(p: { id: string; role: string }) => p, (p: { id: string; role: string }) => Promise.resolve(p)]) {
        const principal = { id: 'user-1', role: 'admin' };
        const authenticate = jest.fn<PtyAuthenticateFunction>(() => make(principal));
        const socket = fakeSocket({ host: 'h' }, { token: 't0k3n' });
        const { error } = await run(options({ authenticate }), socket);
        expect(error).toBeUndefined();
        expect(authenticate).toHaveBeenCalledTimes(1);
        expect(authenticate).toHaveBeenCalledWith(socket.handshake);
        expect(principalOf(socket as unknown as Socket)).toBe(principal);
      }
    });

    it('the hook decides even when allowAnonymous is on', async () => {
      const { error, socket } = await run(options({ allowAnonymous: true, authenticate: () => null }));
      expectRefused(error, 'UNAUTHORIZED');
      expect(socket.data[PRINCIPAL_KEY]).toBeUndefined();
    });

    it.each([
      ['null', () => null],
      ['undefined', () => undefined],
      ['a promise of null', () => Promise.resolve(null)],
    ])('refuses with UNAUTHORIZED when the hook returns %s', async (_, authenticate) => {
      const { error, socket } = await run(options({ authenticate: authenticate as PtyAuthenticateFunction }));
      expectRefused(error, 'UNAUTHORIZED');
      expect(socket.data[PRINCIPAL_KEY]).toBeUndefined();
    });

    it.each([
      ['throws', () => {
        throw new Error('secret reason: token signed by key #42');
      }],
      ['rejects', () => Promise.reject(new Error('secret reason: token signed by key #42'))],
      ['throws a non-Error', () => {
        throw 'secret reason: token signed by key #42';
      }],
      ['throws a PtySessionError of its own', () => {
        throw PtySessionErrors.forbidden('secret reason: token signed by key #42');
      }],
    ])('refuses with UNAUTHORIZED when the hook %s, and keeps its reason in the debug log only', async (_, authenticate) => {
      const { logger, asLogger } = fakeLogger();
      const { error } = await run(options({ authenticate: authenticate as PtyAuthenticateFunction }), fakeSocket(), asLogger);
      expectRefused(error, 'UNAUTHORIZED');
      expect(error!.message).not.toContain('secret reason');
      expect(JSON.stringify(error!.data)).not.toContain('secret reason');
      expect(logger.debug).toHaveBeenCalledTimes(1);
      expect(String(logger.debug.mock.calls[0][0])).toContain('secret reason');
      expect(String(logger.debug.mock.calls[0][0])).toContain('203.0.113.7');
    });

    it.each([
      ['a string', 'user-1'],
      ['an object without id', { name: 'x' }],
      ['an empty id', { id: '' }],
      ['a numeric id', { id: 42 }],
      ['an id longer than maxKeyLength', { id: 'u'.repeat(17) }],
    ])('refuses with UNAUTHORIZED and logs an error when the hook returns %s', async (_, principal) => {
      const { logger, asLogger } = fakeLogger();
      const { error, socket } = await run(options({ authenticate: (() => principal) as unknown as PtyAuthenticateFunction }), fakeSocket(), asLogger);
      expectRefused(error, 'UNAUTHORIZED');
      expect(socket.data[PRINCIPAL_KEY]).toBeUndefined();
      expect(logger.error).toHaveBeenCalledTimes(1);
    });

    it('accepts an id of exactly maxKeyLength characters', async () => {
      const { error, socket } = await run(options({ authenticate: () => ({ id: 'u'.repeat(16) }) }));
      expect(error).toBeUndefined();
      expect(principalOf(socket as unknown as Socket).id).toBe('u'.repeat(16));
    });
  });
});

describe('createConnectionMiddleware: maxConnectionsPerOwner', () => {
  const opts = options({ allowAnonymous: true, maxConnectionsPerOwner: 2, authenticate: (handshake) => ({ id: String(handshake.auth.user) }) });

  async function connect(middleware: ReturnType<typeof createConnectionMiddleware>, user: string) {
    const socket = fakeSocket({}, { user });
    const error = await new Promise<RefusalError | undefined>((resolve) => middleware(socket as unknown as Socket, resolve));
    return { socket, error };
  }

  it("refuses a principal's connection beyond the limit, counts others apart, and frees a place on disconnect or on the connection's close", async () => {
    const middleware = createConnectionMiddleware(opts, fakeLogger().asLogger);
    const a1 = await connect(middleware, 'alice');
    const a2 = await connect(middleware, 'alice');
    expect([a1.error, a2.error]).toEqual([undefined, undefined]);
    expectRefused((await connect(middleware, 'alice')).error, 'OWNER_CONNECTION_LIMIT_REACHED');
    expect((await connect(middleware, 'bob')).error).toBeUndefined();
    a1.socket.emit('disconnect');
    a1.socket.conn.emit('close'); // both come: one place freed, not two
    expect((await connect(middleware, 'alice')).error).toBeUndefined();
    expectRefused((await connect(middleware, 'alice')).error, 'OWNER_CONNECTION_LIMIT_REACHED');
    a2.socket.conn.emit('close'); // Socket.IO dropped it before accepting it: no disconnect comes
    expect((await connect(middleware, 'alice')).error).toBeUndefined();
  });

  it('counts no connection that closed while the authenticate hook ran', async () => {
    let release!: () => void;
    const slow = options({
      maxConnectionsPerOwner: 1,
      authenticate: () => new Promise((resolve) => (release = () => resolve({ id: 'alice' }))),
    });
    const middleware = createConnectionMiddleware(slow, fakeLogger().asLogger);
    const socket = fakeSocket();
    const refused = new Promise<RefusalError | undefined>((resolve) => middleware(socket as unknown as Socket, resolve));
    socket.conn.readyState = 'closed';
    release();
    expectRefused(await refused, 'DISCONNECTED');
    const next = fakeSocket();
    const accepted = new Promise<RefusalError | undefined>((resolve) => middleware(next as unknown as Socket, resolve));
    release();
    expect(await accepted).toBeUndefined();
  });
});
