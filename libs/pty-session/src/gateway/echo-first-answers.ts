/** A held answer: one session's, until its next output or its timer. */
interface HeldAnswer {
  readonly answer: () => void;
  timer: NodeJS.Timeout;
}

/**
 * Holds the answer to a keystroke until the session's next output has gone
 * out (normally the keystroke's own echo), then lets it go on the next turn
 * of the timers; without output, after `waitMs`.
 *
 * Why: answering a keystroke is a socket write, and a socket write that wakes
 * the client costs the server 0.1-0.3 ms here, the very time in which the
 * terminal's echo comes back from the kernel; right after the echo, it keeps
 * the client from reading it. Measured with `bench/echo-stages.mjs` (medians):
 * the pty write to its echo's read 0.25-0.32 ms with the answer written at
 * once, 0.08-0.11 ms with it held; the echo's emit to its arrival at the
 * client 0.19-0.24 ms with the answer written right after the echo,
 * 0.10-0.12 ms with it one timer turn later.
 *
 * At most one answer per session waits for output: a second input that comes
 * while one waits is answered at once. So what is held is bounded by the
 * sessions and the outputs of one turn of the event loop (each output lets one
 * answer go on the next timer turn), whatever a client sends in that turn (a
 * flood of tiny inputs read in one turn would otherwise all wait until its end).
 */
export class EchoFirstAnswers {
  /** Per session, the answer waiting for its output. */
  private readonly waiting = new Map<string, HeldAnswer>();
  /** Answers not yet let go: waiting, or on their last timer turn after the output. */
  private readonly pending = new Set<HeldAnswer>();

  /** @param waitMs The longest an answer waits for output; 0: no answer waits. */
  constructor(private readonly waitMs: number) {}

  /**
   * Resolves on the timers' turn after the session's next output has been
   * handed to its clients, or after `waitMs`. Undefined, to answer at once,
   * when `waitMs` is 0 or an answer of this session already waits.
   */
  hold(sessionId: string): Promise<void> | undefined {
    if (this.waitMs <= 0 || this.waiting.has(sessionId)) return undefined;
    return new Promise<void>((resolve) => {
      const held = { answer: resolve } as HeldAnswer;
      held.timer = this.letGoAfter(sessionId, held, this.waitMs);
      this.waiting.set(sessionId, held);
      this.pending.add(held);
    });
  }

  /**
   * The session's output went out (or the session ended): its held answer
   * goes on the next turn of the timers, once the event loop has had a
   * moment without work (so that the client reads its output first).
   */
  outputSent(sessionId: string): void {
    const held = this.waiting.get(sessionId);
    if (!held) return;
    this.waiting.delete(sessionId);
    clearTimeout(held.timer);
    held.timer = this.letGoAfter(sessionId, held, 0);
  }

  /** Lets every held answer go now (shutdown). */
  releaseAll(): void {
    for (const held of [...this.pending]) {
      clearTimeout(held.timer);
      this.letGo(undefined, held);
    }
    this.waiting.clear();
  }

  /** Sessions with an answer waiting for output (tests, diagnostics). */
  get waitingSessions(): number {
    return this.waiting.size;
  }

  private letGoAfter(sessionId: string, held: HeldAnswer, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.letGo(sessionId, held), ms);
    timer.unref?.();
    return timer;
  }

  private letGo(sessionId: string | undefined, held: HeldAnswer): void {
    if (!this.pending.delete(held)) return;
    if (sessionId !== undefined && this.waiting.get(sessionId) === held) this.waiting.delete(sessionId);
    held.answer();
  }
}
