import { describe, expect, it, jest } from '@jest/globals';
import { isHostAllowed, isOriginAllowed } from './origin-policy.js';

describe('isOriginAllowed', () => {
  describe('without an Origin header (not a browser)', () => {
    it('allows undefined and empty origins, whatever the host and allowlist', () => {
      expect(isOriginAllowed(undefined, 'app.example.com', [])).toBe(true);
      expect(isOriginAllowed(undefined, undefined, [])).toBe(true);
      expect(isOriginAllowed('', 'app.example.com', [])).toBe(true);
      expect(isOriginAllowed(undefined, 'x', () => false)).toBe(true);
    });

    it('does not ask the predicate', () => {
      const predicate = jest.fn(() => false);
      isOriginAllowed(undefined, 'x', predicate);
      expect(predicate).not.toHaveBeenCalled();
    });
  });

  describe("the server's own page (origin host equals Host)", () => {
    it('allows the same host, with or without a port, any scheme', () => {
      expect(isOriginAllowed('http://localhost:3000', 'localhost:3000', [])).toBe(true);
      expect(isOriginAllowed('https://app.example.com', 'app.example.com', [])).toBe(true);
      expect(isOriginAllowed('http://app.example.com', 'app.example.com', [])).toBe(true);
      expect(isOriginAllowed('http://[::1]:8080', '[::1]:8080', [])).toBe(true);
      expect(isOriginAllowed('http://127.0.0.1:3000', '127.0.0.1:3000', [])).toBe(true);
    });

    it('ignores case in origin and Host', () => {
      expect(isOriginAllowed('HTTPS://App.Example.COM', 'app.example.com', [])).toBe(true);
      expect(isOriginAllowed('https://app.example.com', 'APP.Example.com', [])).toBe(true);
    });

    it('refuses a different port or a different host', () => {
      expect(isOriginAllowed('http://localhost:3001', 'localhost:3000', [])).toBe(false);
      expect(isOriginAllowed('http://localhost', 'localhost:3000', [])).toBe(false);
      expect(isOriginAllowed('http://localhost:3000', 'localhost', [])).toBe(false);
      expect(isOriginAllowed('https://evil.example.com', 'app.example.com', [])).toBe(false);
      expect(isOriginAllowed('https://app.example.com.evil.com', 'app.example.com', [])).toBe(false);
      expect(isOriginAllowed('https://example.com', 'app.example.com', [])).toBe(false);
    });

    it('refuses when the request has no Host', () => {
      expect(isOriginAllowed('https://app.example.com', undefined, [])).toBe(false);
    });
  });

  describe('allowlist of origins', () => {
    const list = ['https://app.example.com', 'http://localhost:5173/'];

    it('allows an exact match, ignoring case and trailing slashes on either side', () => {
      expect(isOriginAllowed('https://app.example.com', 'api.example.com', list)).toBe(true);
      expect(isOriginAllowed('https://APP.example.com', 'api.example.com', list)).toBe(true);
      expect(isOriginAllowed('https://app.example.com/', 'api.example.com', list)).toBe(true);
      expect(isOriginAllowed('http://localhost:5173', 'localhost:3000', list)).toBe(true);
      expect(isOriginAllowed('  https://app.example.com  ', 'api.example.com', list)).toBe(true);
    });

    it('refuses another scheme, port, host or a prefix/suffix match', () => {
      expect(isOriginAllowed('http://app.example.com', 'api.example.com', list)).toBe(false);
      expect(isOriginAllowed('https://app.example.com:8443', 'api.example.com', list)).toBe(false);
      expect(isOriginAllowed('https://app.example.co', 'api.example.com', list)).toBe(false);
      expect(isOriginAllowed('https://app.example.com.evil.com', 'api.example.com', list)).toBe(false);
      expect(isOriginAllowed('http://localhost:5174', 'localhost:3000', list)).toBe(false);
    });

    it('still allows the same host besides the list', () => {
      expect(isOriginAllowed('https://api.example.com', 'api.example.com', list)).toBe(true);
    });

    it('an empty list allows only the same host', () => {
      expect(isOriginAllowed('https://app.example.com', 'api.example.com', [])).toBe(false);
    });
  });

  describe('predicate', () => {
    it('allows when it returns true, and passes the origin as sent', () => {
      const predicate = jest.fn((origin: string) => origin.endsWith('.example.com'));
      expect(isOriginAllowed('https://App.example.com', 'api.other.net', predicate)).toBe(true);
      expect(predicate).toHaveBeenCalledWith('https://App.example.com');
    });

    it('refuses when it returns false (unless same host)', () => {
      expect(isOriginAllowed('https://evil.com', 'api.example.com', () => false)).toBe(false);
      expect(isOriginAllowed('https://api.example.com', 'api.example.com', () => false)).toBe(true);
    });

    it('only a real true counts: truthy values refuse', () => {
      const truthy = (() => 'yes') as unknown as (origin: string) => boolean;
      expect(isOriginAllowed('https://evil.com', 'api.example.com', truthy)).toBe(false);
      const one = (() => 1) as unknown as (origin: string) => boolean;
      expect(isOriginAllowed('https://evil.com', 'api.example.com', one)).toBe(false);
    });

    it('a predicate that throws refuses (and does not throw), but the same host is still allowed', () => {
      const throwing = () => {
        throw new Error('boom');
      };
      expect(() => isOriginAllowed('https://evil.com', 'api.example.com', throwing)).not.toThrow();
      expect(isOriginAllowed('https://evil.com', 'api.example.com', throwing)).toBe(false);
      expect(isOriginAllowed('https://api.example.com', 'api.example.com', throwing)).toBe(true);
    });
  });

  describe("the opaque origin 'null'", () => {
    it('is refused by default, whatever the Host', () => {
      expect(isOriginAllowed('null', 'null', [])).toBe(false);
      expect(isOriginAllowed('null', 'localhost:3000', [])).toBe(false);
      expect(isOriginAllowed('NULL', 'localhost:3000', [])).toBe(false);
    });

    it('is allowed when listed, or when the predicate accepts it', () => {
      expect(isOriginAllowed('null', 'localhost:3000', ['null'])).toBe(true);
      expect(isOriginAllowed('null', 'localhost:3000', (o) => o === 'null')).toBe(true);
    });
  });

  describe('malformed origins', () => {
    it.each(['not a url', 'localhost:3000', '//localhost:3000', 'http://', '*', 'https://exa mple.com'])('refuses %p without throwing', (origin) => {
      expect(() => isOriginAllowed(origin, 'localhost:3000', [])).not.toThrow();
      expect(isOriginAllowed(origin, 'localhost:3000', [])).toBe(false);
    });

    it('refuses a non-http origin whose URL happens to have no host, when Host is there', () => {
      expect(isOriginAllowed('file://', 'localhost:3000', [])).toBe(false);
      expect(isOriginAllowed('data:text/html,hi', 'localhost:3000', [])).toBe(false);
    });
  });
});

describe('isHostAllowed (DNS rebinding)', () => {
  it('without a list, any host passes when connections are authenticated', () => {
    for (const host of ['app.example.com', 'evil.example:3000', '127.0.0.1:3000', undefined]) {
      expect({ host, allowed: isHostAllowed(host, undefined, false) }).toEqual({ host, allowed: true });
    }
  });

  it('without a list and without authentication (allowAnonymous), only loopback names pass', () => {
    for (const host of ['localhost', 'localhost:3000', 'LOCALHOST:80', '127.0.0.1', '127.0.0.1:3000', '127.1.2.3:9', '[::1]:3000', '[::1]']) {
      expect({ host, allowed: isHostAllowed(host, undefined, true) }).toEqual({ host, allowed: true });
    }
    for (const host of ['evil.example:3000', 'localhost.evil.example', '127.0.0.1.evil.example:3000', '10.0.0.5:3000', '[::2]:3000', '', undefined]) {
      expect({ host, allowed: isHostAllowed(host, undefined, true) }).toEqual({ host, allowed: false });
    }
  });

  it('a list admits its names with any port, or exact host:port entries, and nothing else', () => {
    const list = ['App.Example.com', 'intranet:8443'];
    expect(isHostAllowed('app.example.com', list, true)).toBe(true);
    expect(isHostAllowed('app.example.com:3000', list, false)).toBe(true);
    expect(isHostAllowed('intranet:8443', list, false)).toBe(true);
    expect(isHostAllowed('intranet:8444', list, false)).toBe(false);
    expect(isHostAllowed('localhost:3000', list, true)).toBe(false);
    expect(isHostAllowed('evil.example', list, false)).toBe(false);
    expect(isHostAllowed(undefined, list, false)).toBe(false);
  });

  it('a predicate decides (a throwing one refuses)', () => {
    expect(isHostAllowed('a.example:1', (h) => h.startsWith('a.'), true)).toBe(true);
    expect(isHostAllowed('b.example:1', (h) => h.startsWith('a.'), true)).toBe(false);
    expect(
      isHostAllowed('a.example', () => {
        throw new Error('boom');
      }, false),
    ).toBe(false);
  });
});
