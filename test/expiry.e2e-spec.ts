/**
 * Idle expiry and the cleanup job with real processes and real (short) time:
 * the job runs with or without @nestjs/schedule, registers in the host's
 * SchedulerRegistry when there is one, never closes a session a client is
 * attached to, and cleanupExpired() resolves only once the processes are gone.
 */
import { describe, expect, it } from '@jest/globals';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { PTY_SESSION_CLEANUP_JOB, type PtySession } from 'nestjs-pty-session';
import { createPtyApp, useTestHost, OutputRecorder, PROFILES } from './fixtures/pty-app.js';
import { isProcessGone, waitFor } from './fixtures/processes.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('idle expiry and the cleanup job (real processes)', () => {
  const host = useTestHost();
  const { pids } = host;

  const closedForIdleness = (session: PtySession) => session.status === 'exited' && session.exit?.reason === 'idle';

  it('without ScheduleModule, the job closes an idle session by itself and spares one with a client attached until it detaches', async () => {
    host.current = await createPtyApp({ profiles: { bash: PROFILES.bash }, idleTimeoutMs: 300, cleanupIntervalMs: 50 });
    const { app, manager } = host.current;
    expect(() => app.get(SchedulerRegistry)).toThrow();

    const idle = await manager.createSession();
    const watched = await manager.createSession();
    pids.add(idle.pid, watched.pid);
    const client = new OutputRecorder(watched); // session.attach: counts as a client

    await waitFor(() => closedForIdleness(idle), 5000, 'the idle session to be closed by the job');
    expect(idle.exit).toMatchObject({ reason: 'idle', signal: 1 });
    expect(isProcessGone(idle.pid)).toBe(true);
    expect(manager.listSessions({ status: 'exited' })).toEqual([expect.objectContaining({ id: idle.id, exit: idle.exit })]);

    // Well past the timeout, the attached session still runs and still answers.
    await sleep(1000);
    expect(watched.status).toBe('running');
    expect(watched.attachedClients).toBe(1);
    expect(isProcessGone(watched.pid)).toBe(false);
    watched.write('echo $((6*7))\r');
    await client.waitFor(/[\r\n]42\r\n/);

    client.detach();
    expect(watched.attachedClients).toBe(0);
    await waitFor(() => closedForIdleness(watched), 5000, 'the detached session to be closed by the job');
    expect(isProcessGone(watched.pid)).toBe(true);
  });

  it('with ScheduleModule in the host, the job is listed in its SchedulerRegistry and expires sessions', async () => {
    host.current = await createPtyApp({ profiles: { bash: PROFILES.bash }, idleTimeoutMs: 300, cleanupIntervalMs: 50 }, [ScheduleModule.forRoot()]);
    const { app, manager } = host.current;
    const registry = app.get(SchedulerRegistry);
    expect(registry.getIntervals()).toContain(PTY_SESSION_CLEANUP_JOB);
    expect(registry.doesExist('interval', PTY_SESSION_CLEANUP_JOB)).toBe(true);

    const idle = await manager.createSession();
    pids.add(idle.pid);
    await waitFor(() => closedForIdleness(idle), 5000, 'the idle session to be closed by the registered job');
    expect(isProcessGone(idle.pid)).toBe(true);

    await app.close();
    host.current = undefined;
    expect(registry.getIntervals()).not.toContain(PTY_SESSION_CLEANUP_JOB);
  });

  it('the job forgets an exited session once exitedRetentionMs has passed', async () => {
    host.current = await createPtyApp({ profiles: { exit3: PROFILES.exit3 }, defaultProfile: 'exit3', exitedRetentionMs: 500, cleanupIntervalMs: 50 });
    const { manager } = host.current;
    const session = await manager.createSession({ key: 'short-lived' });
    pids.add(session.pid);
    await session.whenExited();
    expect(manager.getSession(session.id)).toBe(session);

    await waitFor(() => manager.getSession(session.id) === undefined, 5000, 'the exited session to be forgotten');
    expect(manager.getSessionByKey('short-lived')).toBeUndefined();
    expect(session.getReplayBuffer().data).toContain('bye'); // a holder of the object can still read it
  });

  it('cleanupExpired() closes idle sessions, resolves once their processes (and children) are gone, and returns the count', async () => {
    host.current = await createPtyApp({
      profiles: { bash: PROFILES.bash, trapHup: PROFILES.trapHup, shellWithChild: PROFILES.shellWithChild, cat: { file: '/bin/cat', env: {} } },
      idleTimeoutMs: 200,
      cleanupIntervalMs: 0, // no job: only the direct call expires anything
    });
    const { manager } = host.current;
    const bash = await manager.createSession({ profile: 'bash' });
    const trapHup = await manager.createSession({ profile: 'trapHup' });
    const withChild = await manager.createSession({ profile: 'shellWithChild' });
    const attached = await manager.createSession({ profile: 'cat' });
    pids.add(bash.pid, trapHup.pid, withChild.pid, attached.pid);
    const trapOut = new OutputRecorder(trapHup);
    const childOut = new OutputRecorder(withChild);
    const client = new OutputRecorder(attached);
    await trapOut.waitFor(/ready/);
    const childPid = Number((await childOut.waitFor(/CHILD=(\d+)/))[1]);
    pids.add(childPid);
    trapOut.detach();
    childOut.detach();

    const idleOnes = [bash, trapHup, withChild];
    await waitFor(() => idleOnes.every((s) => s.isIdle(Date.now())), 5000, 'the sessions to be idle');
    expect(idleOnes.map((s) => s.status)).toEqual(['running', 'running', 'running']); // nothing expired them on its own

    const count = await manager.cleanupExpired();

    expect(count).toBe(3);
    expect([...idleOnes.map((s) => s.pid), childPid].filter((pid) => !isProcessGone(pid))).toEqual([]);
    expect(idleOnes.map((s) => s.exit?.reason)).toEqual(['idle', 'idle', 'idle']);
    expect(trapHup.exit?.signal).toBe(15); // it ignored SIGHUP: SIGTERM ended it
    expect(attached.status).toBe('running');
    expect(isProcessGone(attached.pid)).toBe(false);
    expect(manager.listSessions({ status: 'running' }).map((s) => s.id)).toEqual([attached.id]);
    expect(await manager.cleanupExpired()).toBe(0);
    client.detach();
  });
});
