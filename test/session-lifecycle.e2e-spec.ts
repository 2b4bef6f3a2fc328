/**
 * A session's life with real node-pty processes: input and live output,
 * resize, the child's environment, exit status and retention, and the
 * one-process guarantee of getOrCreateSession.
 */
import { describe, expect, it } from '@jest/globals';
import { tmpdir } from 'node:os';
import type { PtySpawnProfile } from 'nestjs-pty-session';
import { createPtyApp, useTestHost, OutputRecorder, PROFILES } from './fixtures/pty-app.js';
import { childPidsOf, commandName, isProcessGone, waitFor } from './fixtures/processes.js';

describe('session lifecycle (real processes)', () => {
  const host = useTestHost();
  const { pids } = host;

  it('runs input through bash and delivers its output live, with contiguous offsets', async () => {
    host.current = await createPtyApp({ profiles: { bash: PROFILES.bash } });
    const session = await host.current.manager.createSession({ profile: 'bash' });
    pids.add(session.pid);
    const out = new OutputRecorder(session);

    session.write('echo $((6*7))\r');
    await out.waitFor(/[\r\n]42\r\n/);

    expect(out.attachment.replay.offset).toBe(0);
    expect(out.chunks.length).toBeGreaterThan(0);
    expect(out.chunks[0].offset).toBe(out.attachment.replay.endOffset);
    expect(out.gaps()).toEqual([]);
    const last = out.chunks[out.chunks.length - 1];
    expect(session.outputOffset).toBe(last.offset + last.byteLength);
    // Nothing before the attach; everything after it came live: exactly the session's output.
    expect(out.attachment.replay.data).toBe('');
    expect(out.chunks.map((c) => c.data).join('')).toBe(session.getReplayBuffer().data);
  });

  it('resizes the terminal: stty size inside the session reports the new size', async () => {
    host.current = await createPtyApp({ profiles: { bash: PROFILES.bash } });
    const session = await host.current.manager.createSession({ profile: 'bash', cols: 80, rows: 24 });
    pids.add(session.pid);
    const out = new OutputRecorder(session);

    session.write('stty size\r');
    await out.waitFor(/[\r\n]24 80\r\n/);
    session.resize(100, 30);
    expect([session.cols, session.rows]).toEqual([100, 30]);
    session.write('stty size\r');
    await out.waitFor(/[\r\n]30 100\r\n/);
    expect(host.current.manager.listSessions()[0]).toMatchObject({ cols: 100, rows: 30 });
  });

  it("gives the child exactly the profile's environment plus TERM (and PWD, which node-pty adds), none of the server's", async () => {
    host.current = await createPtyApp({ profiles: { env: PROFILES.env }, defaultProfile: 'env' });
    process.env.PTY_E2E_SERVER_ONLY = 'must-not-leak';
    try {
      const session = await host.current.manager.createSession();
      pids.add(session.pid);
      const out = new OutputRecorder(session);
      const exit = await session.whenExited();

      expect(exit).toMatchObject({ exitCode: 0, reason: 'exited' });
      const lines = out.text.split('\r\n').filter((line) => line.length > 0);
      // node-pty itself sets PWD to the spawn's cwd (unixTerminal: env.PWD = cwd); the library adds only TERM.
      expect(lines.sort()).toEqual(['A=1', `PWD=${tmpdir()}`, 'TERM=xterm-256color']);
      expect(out.text).not.toContain('PTY_E2E_SERVER_ONLY');
      expect(out.text).not.toContain('must-not-leak');
    } finally {
      delete process.env.PTY_E2E_SERVER_ONLY;
    }
  });

  it('reports exit code 3, keeps the final output readable, and retains the exited session until exitedRetentionMs', async () => {
    host.current = await createPtyApp({ profiles: { exit3: PROFILES.exit3 }, defaultProfile: 'exit3', exitedRetentionMs: 1500, cleanupIntervalMs: 0 });
    const { manager } = host.current;
    const session = await manager.createSession({ key: 'exits' });
    pids.add(session.pid);

    const exit = await session.whenExited();
    expect(exit).toMatchObject({ exitCode: 3, reason: 'exited' });
    expect(exit.signal).toBeUndefined();
    expect(session.status).toBe('exited');
    expect(session.getReplayBuffer().data).toContain('bye');
    expect(isProcessGone(session.pid)).toBe(true);

    // Within the retention the exited session is still there, readable.
    expect(manager.getSession(session.id)).toBe(session);
    expect(manager.getSessionByKey('exits')).toBe(session);
    expect(manager.listSessions({ status: 'exited' })).toEqual([expect.objectContaining({ id: session.id, exit })]);
    expect(await manager.cleanupExpired()).toBe(0);
    expect(manager.getSession(session.id)).toBe(session);
    expect(() => session.write('x')).toThrow(expect.objectContaining({ code: 'SESSION_EXITED' }));

    // After it, a sweep forgets it.
    let forgotten = 0;
    const deadline = Date.now() + 6000;
    while (manager.getSession(session.id) && Date.now() < deadline) {
      forgotten += await manager.cleanupExpired();
      if (manager.getSession(session.id)) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(manager.getSession(session.id)).toBeUndefined();
    expect(forgotten).toBe(1);
    expect(manager.getSessionByKey('exits')).toBeUndefined();
    expect(manager.listSessions()).toEqual([]);
  });

  const slowFactory = async (): Promise<PtySpawnProfile> => {
    // An async profile: the spawn happens after an await, the widest window for a race.
    await new Promise((resolve) => setTimeout(resolve, 30));
    return PROFILES.bash;
  };

  it.each([
    ['a static profile', PROFILES.bash],
    ['an async profile factory', slowFactory],
  ] as const)('getOrCreateSession: 50 concurrent calls for one key start exactly one process (%s)', async (_name, profile) => {
    host.current = await createPtyApp({ profiles: { bash: profile } });
    const { manager } = host.current;
    const childrenBefore = childPidsOf(process.pid);

    const results = await Promise.all(Array.from({ length: 50 }, () => manager.getOrCreateSession('one-key', { profile: 'bash' })));
    pids.add(...results.map((s) => s.pid));

    expect(new Set(results).size).toBe(1);
    expect(new Set(results.map((s) => s.pid)).size).toBe(1);
    expect(manager.listSessions({ key: 'one-key' })).toHaveLength(1);
    expect(manager.listSessions()).toHaveLength(1);
    // Exactly one new child process of this test process, and it is (or is about to exec) bash.
    const newChildren = childPidsOf(process.pid).filter((pid) => !childrenBefore.includes(pid));
    expect(newChildren).toEqual([results[0].pid]);
    await waitFor(() => commandName(results[0].pid) === 'bash', 5000, 'the child to exec bash');

    // The session works, and a later call still gets the same one.
    const out = new OutputRecorder(results[0]);
    results[0].write('echo $((6*7))\r');
    await out.waitFor(/[\r\n]42\r\n/);
    expect(await manager.getOrCreateSession('one-key', { profile: 'bash' })).toBe(results[0]);
  });
});
