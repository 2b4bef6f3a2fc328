// Typing into `cat`, one keystroke at a time, the same way against the
// gateway and against node-pty directly: the terminal's own echo comes back,
// and the time from the write to the output holding the character is one
// sample. Enter every few keystrokes keeps the line discipline's line buffer
// (4 KiB in canonical mode) from filling; those are not measured.

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const WAIT_TIMEOUT_MS = 5000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `write(text)` sends input; `subscribe(listener)` delivers every output
 * string. Resolves to the latencies in milliseconds.
 */
export async function measureEchoLatencies({ write, subscribe, keystrokes, lineEvery = 40, minGapMs = 2, maxGapMs = 5 }) {
  let received = '';
  let waiter;
  subscribe((data) => {
    if (!waiter) return;
    received += data;
    if (waiter.done(received)) {
      const { resolve } = waiter;
      waiter = undefined;
      resolve(performance.now());
    }
  });
  const expect = (done) =>
    new Promise((resolve, reject) => {
      received = '';
      const timer = setTimeout(() => reject(new Error(`echo: no expected output within ${WAIT_TIMEOUT_MS} ms (got ${JSON.stringify(received)})`)), WAIT_TIMEOUT_MS);
      waiter = {
        done,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
    });

  const latencies = [];
  let line = '';
  for (let i = 0; i < keystrokes; i++) {
    if (i > 0 && i % lineEvery === 0) {
      // The echo of Enter, then cat's copy of the line: wait for all of it before the next keystroke.
      const typed = line;
      const answered = expect((text) => text.endsWith(`${typed}\r\n`) && text.length >= typed.length + 4);
      write('\r');
      await answered;
      line = '';
    }
    await sleep(minGapMs + Math.random() * (maxGapMs - minGapMs));
    const key = LETTERS[i % LETTERS.length];
    const echoed = expect((text) => text.includes(key));
    const start = performance.now();
    write(key);
    latencies.push((await echoed) - start);
    line += key;
  }
  return latencies;
}
