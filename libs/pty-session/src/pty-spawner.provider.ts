import type { Provider } from '@nestjs/common';
import * as nodePty from 'node-pty';
import type { IPty, IPtyForkOptions } from 'node-pty';
import { PTY_SPAWNER } from './pty-session.constants.js';

/**
 * The signature of node-pty's `spawn`, as the session manager uses it.
 * Provide your own under `PTY_SPAWNER` to wrap spawning (sandboxing, metrics)
 * or, in unit tests, to return a fake `IPty`.
 * @publicApi
 */
export type PtySpawnFunction = (file: string, args: string[], options: IPtyForkOptions) => IPty;

export const ptySpawnerProvider: Provider = {
  provide: PTY_SPAWNER,
  useValue: ((file, args, options) => nodePty.spawn(file, args, options)) satisfies PtySpawnFunction,
};
