/**
 * The demo host's HTTP views (src/sessions.controller.ts) show every
 * principal's sessions and output: only for the holder of the development
 * token, never for whoever reaches the port (another local user, a page
 * that rebinds its name to 127.0.0.1).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PtySessionManager } from 'nestjs-pty-session';
import { createDemoApp, type DemoApp } from '../src/demo-app.js';
import { OutputRecorder } from './fixtures/pty-app.js';

const TOKEN = 'demo-host-spec-token';
let demo: DemoApp;
let sessionId: string;

beforeAll(async () => {
  demo = await createDemoApp({ token: TOKEN, port: 0, logger: false });
  const session = await demo.app.get(PtySessionManager).getOrCreateSession('demo', { owner: 'dev' });
  sessionId = session.id;
  session.write('echo demo-$((6*7))\r');
  await new OutputRecorder(session).waitFor(/demo-42/);
});
afterAll(async () => {
  await demo?.app.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${demo.url}${path}`, { headers });
const withToken = { authorization: `Bearer ${TOKEN}` };

describe('demo host: the HTTP views of the sessions', () => {
  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token' }],
    ['the token without the Bearer scheme', { authorization: TOKEN }],
    ['a rebinding page (any Host, no token)', { host: 'evil.example:3000' }],
  ])('refuse %s with 401', async (_case, headers) => {
    expect((await get('/sessions', headers)).status).toBe(401);
    expect((await get(`/sessions/${sessionId}/output`, headers)).status).toBe(401);
  });

  it('answer the holder of the token: the list, and a session\'s output', async () => {
    const list = await get('/sessions', withToken);
    expect(list.status).toBe(200);
    expect(((await list.json()) as Array<{ id: string }>).map((s) => s.id)).toContain(sessionId);
    const output = await get(`/sessions/${sessionId}/output`, withToken);
    expect(output.status).toBe(200);
    expect(((await output.json()) as { data: string }).data).toContain('demo-42');
  });

  it('answer 400 for an offset out of range and 404 for an unknown session, not 500', async () => {
    expect((await get(`/sessions/${sessionId}/output?since=-1`, withToken)).status).toBe(400);
    expect((await get(`/sessions/${sessionId}/output?since=999999999`, withToken)).status).toBe(400);
    expect((await get('/sessions/no-such-session/output', withToken)).status).toBe(404);
  });
});
