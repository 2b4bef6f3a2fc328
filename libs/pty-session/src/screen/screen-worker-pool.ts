import { Logger } from '@nestjs/common';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { SCREEN_MAX_CELL_TEXT_LENGTH, SCREEN_MAX_TITLE_LENGTH, SCREEN_PARSE_AHEAD_BYTES, SCREEN_PARSE_PIECE_BYTES } from '../pty-session.constants.js';
import { ScreenMirror, type ScreenChannel, type ScreenMirrorSettings } from './screen-mirror.js';
import { screenWorkerMain, type ScreenWorkerData, type ScreenWorkerReply, type ScreenWorkerRequest } from './screen-worker.js';

/** One worker thread and the mirrors it serves. */
class ScreenWorker implements ScreenChannel {
  readonly mirrors = new Map<string, ScreenMirror>();
  private failed = false;

  constructor(
    private readonly worker: Worker,
    private readonly onGone: (worker: ScreenWorker) => void,
    private readonly logger: Logger,
  ) {
    worker.on('message', (reply: ScreenWorkerReply) => this.receive(reply));
    worker.on('error', (error) => {
      this.logger.error(`Screen worker failed: ${error.stack ?? String(error)}; its ${this.mirrors.size} session(s) fall back to raw replay.`);
      this.fail(error);
    });
    worker.on('exit', (code) => this.fail(new Error(`screen worker exited with code ${code}`)));
    // Never what keeps the process alive.
    worker.unref();
  }

  post(request: ScreenWorkerRequest, transfer?: ArrayBuffer[]): void {
    if (!this.failed) this.worker.postMessage(request, transfer);
  }

  forget(mirror: ScreenMirror): void {
    if (this.mirrors.get(mirror.id) === mirror) this.mirrors.delete(mirror.id);
  }

  terminate(): Promise<number> {
    this.fail(new Error('screen worker stopped'));
    return this.worker.terminate();
  }

  private receive(reply: ScreenWorkerReply): void {
    const mirror = this.mirrors.get(reply.id);
    if (!mirror) return;
    if (reply.op === 'parsed') mirror.parsed(reply.end);
    else if (reply.op === 'failed') {
      this.logger.error(`Screen emulator of session ${reply.id} failed: ${reply.error}; it falls back to raw replay.`);
      this.mirrors.delete(reply.id);
      mirror.fail(new Error(`screen emulator failed: ${reply.error}`));
    } else mirror.snapshotDone(reply.request, reply);
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    for (const mirror of this.mirrors.values()) mirror.fail(error);
    this.mirrors.clear();
    this.onGone(this);
  }
}

export interface ScreenPoolSettings {
  /** Worker threads at most; sessions go to the one serving the fewest. */
  workers: number;
  /** Added to the worker threads' niceness (Linux). */
  workerNice: number;
}

/**
 * The screen worker threads of one manager: started on the first
 * screen-mode session, stopped with the manager. A worker that fails takes
 * its sessions back to raw replay (logged); later sessions get a new one.
 */
export class ScreenWorkerPool {
  private readonly logger = new Logger('PtyScreenWorkers');
  private readonly workers: ScreenWorker[] = [];
  private modules?: ScreenWorkerData;
  private closed = false;

  constructor(private readonly settings: ScreenPoolSettings) {}

  /** Starts an emulator of `cols` x `rows` for a new session (its output starts at offset 0). */
  open(id: string, cols: number, rows: number, settings: ScreenMirrorSettings): ScreenMirror {
    const worker = this.pick();
    const mirror = new ScreenMirror(id, cols, rows, worker, settings);
    worker.mirrors.set(id, mirror);
    return mirror;
  }

  /** Stops every worker; their mirrors fail (snapshots reject). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.splice(0).map((worker) => worker.terminate()));
  }

  private pick(): ScreenWorker {
    if (this.closed) throw new Error('screen workers stopped');
    if (this.workers.length < this.settings.workers) {
      const worker = new ScreenWorker(
        new Worker(`(${screenWorkerMain.toString()})()`, { eval: true, workerData: this.workerModules() }),
        (gone) => {
          const index = this.workers.indexOf(gone);
          if (index >= 0) this.workers.splice(index, 1);
        },
        this.logger,
      );
      this.workers.push(worker);
      return worker;
    }
    return this.workers.reduce((a, b) => (b.mirrors.size < a.mirrors.size ? b : a));
  }

  /** Absolute paths of the emulator's modules, resolved from this package (the worker has no module of its own to resolve from). */
  private workerModules(): ScreenWorkerData {
    if (!this.modules) {
      const require = createRequire(thisModuleFile());
      this.modules = {
        headlessPath: require.resolve('@xterm/headless'),
        serializePath: require.resolve('@xterm/addon-serialize'),
        nice: this.settings.workerNice,
        parseAheadBytes: SCREEN_PARSE_AHEAD_BYTES,
        parsePieceBytes: SCREEN_PARSE_PIECE_BYTES,
        maxCellTextLength: SCREEN_MAX_CELL_TEXT_LENGTH,
        maxTitleLength: SCREEN_MAX_TITLE_LENGTH,
      };
    }
    return this.modules;
  }
}

/**
 * The file of this module, read from a stack frame: one expression for the
 * ESM build (a file URL), the CommonJS build (a path) and the sources under
 * test, where neither `import.meta` nor `__filename` is available to both.
 */
function thisModuleFile(): string {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    const frames = new Error().stack as unknown as NodeJS.CallSite[];
    const file = frames[0]?.getFileName();
    if (file) return file;
  } finally {
    Error.prepareStackTrace = original;
  }
  return `${process.cwd()}/`;
}
