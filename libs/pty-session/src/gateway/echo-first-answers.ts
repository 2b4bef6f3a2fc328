/** Answers waiting together: one session's, until its next output or their timer. */
interface AnswerGroup {
  readonly answers: Array<() => void>;
  timer: NodeJS.Timeout;
}

/**
 * Holds the answers to `input` until the session's next output has gone out
 * (normally the input's own echo), then lets them go on the next turn of the
 * timers; without output, after at most `waitMs`.
 *
 * Why: answering a keystroke is a socket write, and a socket write that wakes
 * the client costs the server 0.15-0.3 ms here, the very time in which the
 * terminal's echo comes back from the kernel, and then, right after the echo,
 * it keeps the client from reading it. Measured with `bench/echo-stages.mjs`
 * (medians): the pty write to its echo's read 0.25-0.32 ms with the answer
 * written at once, 0.08-0.11 ms with it held; the echo's emit to its arrival
 * at the client 0.19-0.24 ms with the answer written right after the echo,
 * 0.10-0.12 ms with it one timer turn later. The client gets the answer about
 * a millisecond later; it only settles its `write()` promise, which nothing on
 * screen waits for.
 */
export class EchoFirstAnswers {
  /** Per session, the group new answers join (until its output goes out). */
  private readonly open = new Map<string, AnswerGroup>();
  /** Every group not yet let go, open or on its last timer turn. */
  private readonly pending = new Set<AnswerGroup>();

  /** @param waitMs The longest an answer waits for output; 0: no answer waits. */
  constructor(private readonly waitMs: number) {}

  /**
   * Resolves on the timers' turn after the session's next output has been
   * handed to its clients, or after `waitMs`. Undefined (nothing to wait
   * for) when `waitMs` is 0.
   */
  hold(sessionId: string): Promise<void> | undefined {
    if (this.waitMs <= 0) return undefined;
    return new Promise<void>((resolve) => {
      const group = this.open.get(sessionId);
      if (group) {
        group.answers.push(resolve);
        return;
      }
      const created: AnswerGroup = { answers: [resolve], timer: this.letGoAfter(sessionId, () => created, this.waitMs) };
      this.open.set(sessionId, created);
      this.pending.add(created);
    });
  }

  /**
   * The session's output went out (or the session ended): its held answers go
   * on the next turn of the timers, once the event loop has had a moment
   * without work (so the client reads its output first). Answers held from
   * now on wait for the next output.
   */
  outputSent(sessionId: string): void {
    const group = this.open.get(sessionId);
    if (!group) return;
    this.open.delete(sessionId);
    clearTimeout(group.timer);
    group.timer = this.letGoAfter(sessionId, () => group, 0);
  }

  /** Lets every held answer go now (shutdown). */
  releaseAll(): void {
    for (const group of [...this.pending]) {
      clearTimeout(group.timer);
      this.letGo(undefined, group);
    }
    this.open.clear();
  }

  /** Sessions whose answers wait for output (tests, diagnostics). */
  get waitingSessions(): number {
    return this.open.size;
  }

  private letGoAfter(sessionId: string, group: () => AnswerGroup, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.letGo(sessionId, group()), ms);
    timer.unref?.();
    return timer;
  }

  private letGo(sessionId: string | undefined, group: AnswerGroup): void {
    if (!this.pending.delete(group)) return;
    if (sessionId !== undefined && this.open.get(sessionId) === group) this.open.delete(sessionId);
    for (const answer of group.answers) answer();
  }
}
