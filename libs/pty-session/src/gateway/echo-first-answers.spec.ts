import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { EchoFirstAnswers } from './echo-first-answers.js';

/** Settles pending promise continuations (the real setImmediate: the fake timers replace the global one). */
const flush = () => new Promise<void>((resolve) => jest.requireActual<typeof import('node:timers')>('node:timers').setImmediate(resolve));

function track(promise: Promise<void> | undefined): { settled: boolean } {
  const state = { settled: false };
  void promise?.then(() => (state.settled = true));
  return state;
}

describe('EchoFirstAnswers', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('holds nothing when waitMs is 0', () => {
    const answers = new EchoFirstAnswers(0);
    expect(answers.hold('s1')).toBeUndefined();
    expect(answers.waitingSessions).toBe(0);
  });

  it("lets a session's answer go on the timers' turn after its output, and no other session's", async () => {
    const answers = new EchoFirstAnswers(1000);
    const first = track(answers.hold('s1'));
    const other = track(answers.hold('s2'));
    await flush();
    expect([first.settled, other.settled]).toEqual([false, false]);

    answers.outputSent('s1');
    await flush();
    expect(first.settled).toBe(false); // not in the turn that sent the output
    jest.advanceTimersByTime(1);
    await flush();
    expect([first.settled, other.settled]).toEqual([true, false]);
    expect(answers.waitingSessions).toBe(1);
  });

  it('one answer per session waits: while one waits, the next is not held (answered at once)', async () => {
    const answers = new EchoFirstAnswers(1000);
    const first = track(answers.hold('s1'));
    expect(answers.hold('s1')).toBeUndefined();
    expect(answers.hold('s1')).toBeUndefined();
    expect(jest.getTimerCount()).toBe(1);
    answers.outputSent('s1');
    // Once its output went out, the session's next answer waits for the next output.
    const next = track(answers.hold('s1'));
    jest.advanceTimersByTime(1);
    await flush();
    expect([first.settled, next.settled]).toEqual([true, false]);
    answers.outputSent('s1');
    jest.advanceTimersByTime(1);
    await flush();
    expect(next.settled).toBe(true);
  });

  it('lets an answer go after waitMs without output', async () => {
    const answers = new EchoFirstAnswers(5);
    const held = track(answers.hold('s1'));
    jest.advanceTimersByTime(4);
    await flush();
    expect(held.settled).toBe(false);

    jest.advanceTimersByTime(1);
    await flush();
    expect(held.settled).toBe(true);
    expect(answers.waitingSessions).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    expect(answers.hold('s1')).toBeDefined(); // the session may hold again
  });

  it('an output replaces the long timer with a short one; output with nothing held is ignored', async () => {
    const answers = new EchoFirstAnswers(5000);
    answers.outputSent('none');
    expect(jest.getTimerCount()).toBe(0);
    const held = track(answers.hold('s1'));
    answers.outputSent('s1');
    answers.outputSent('s1');
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(1);
    await flush();
    expect(held.settled).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('releaseAll lets every answer go at once, open or on its last turn, and is harmless twice', async () => {
    const answers = new EchoFirstAnswers(1000);
    const open = track(answers.hold('s1'));
    const leaving = track(answers.hold('s2'));
    answers.outputSent('s2');
    answers.releaseAll();
    await flush();
    expect([open.settled, leaving.settled]).toEqual([true, true]);
    expect(answers.waitingSessions).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    answers.releaseAll();
  });
});
