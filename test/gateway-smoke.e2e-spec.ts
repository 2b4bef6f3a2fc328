import { afterEach, describe, expect, it } from '@jest/globals';
import { createGatewayApp, request, TOKENS, type GatewayTestApp } from './fixtures/gateway-app.js';

let host: GatewayTestApp | undefined;
afterEach(async () => { await host?.close(); host = undefined; });

describe('gateway smoke', () => {
  it('create, attach, input, output, exit', async () => {
    host = await createGatewayApp();
    const s = await host.connect(TOKENS.alice);
    let text = '';
    s.on('output', (o: any) => { text += o.data; });
    const c = await request(s, 'create', { profile: 'bash' });
    expect(c.ok).toBe(true);
    const id = (c as any).session.id;
    const a = await request(s, 'attach', { sessionId: id, since: 0 });
    expect(a.ok).toBe(true);
    text = (a as any).replay.data + text;
    expect((await request(s, 'input', { sessionId: id, data: 'echo hi-$((40+2))\r' })).ok).toBe(true);
    const t0 = Date.now();
    while (!/hi-42/.test(text) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(text).toMatch(/hi-42/);
    const exit = new Promise((r) => s.once('exit', r));
    await request(s, 'input', { sessionId: id, data: 'exit 7\r' });
    expect(await exit).toMatchObject({ sessionId: id, exitCode: 7 });
  });
});
