import type { IPty } from 'node-pty';

/** Why a session ended. */
export type PtySessionEndReason =
  /** The program ended by itself. */
  | 'exited'
  /** `closeSession` or `PtySession.terminate()` was called. */
  | 'closed'
  /** The idle timeout passed with no client attached. */
  | 'idle'
  /** The host application shut down. */
  | 'shutdown';

/** How a session's process ended. @publicApi */
export interface PtyExitStatus {
  /** Exit code of the process (node-pty reports 0 when it died of a signal). */
  exitCode: number;
  /** Number of the signal that ended it, if any. */
  signal?: number;
  reason: PtySessionEndReason;
  /** Epoch milliseconds. */
  exitedAt: number;
}

/**
 * One piece of output, as it came from the process (whole characters).
 * `offset` is the absolute byte offset (UTF-8) of its first byte in the
 * session's output; the next chunk starts at `offset + byteLength`.
 * @publicApi
 */
export interface PtyOutputChunk {
  offset: number;
  byteLength: number;
  /** The output as text, decoded from `bytes` when first read. */
  readonly data: string;
  /**
   * The output as UTF-8 bytes, `byteLength` of them, as read from the pty
   * (not enumerable: a spread or `JSON.stringify` of the chunk carries `data`
   * only). Do not modify them: they are a view of the replay buffer's own memory
   * (or a copy), which the gateway and other listeners read too.
   */
  readonly bytes: Buffer;
}

/**
 * The answer of `getReplayBuffer(since)`.
 * `data` is the output from `offset` to `endOffset`. When `truncated` is
 * false it is exactly what was asked for; when true, the bytes between the
 * requested offset and `offset` were evicted (or none was requested and the
 * buffer no longer starts at 0), so a client should reset its screen before
 * writing `data`.
 * @publicApi
 */
export interface PtyReplaySlice {
  /** The output as text, decoded from `bytes` when first read. */
  readonly data: string;
  /** The same as UTF-8 bytes, `endOffset - offset` of them (not enumerable, as in `PtyOutputChunk`). Do not modify them: they may be a view of the replay buffer's own memory. */
  readonly bytes: Buffer;
  offset: number;
  endOffset: number;
  truncated: boolean;
}

/** The state of a session, as `listSessions` reports it. @publicApi */
export interface PtySessionInfo {
  id: string;
  key?: string;
  owner?: string;
  profile?: string;
  pid: number;
  cols: number;
  rows: number;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds of the last input, output, attach or `updateActivity`. */
  lastActivity: number;
  status: 'running' | 'exited';
  attachedClients: number;
  /** Bytes of output currently held for replay. */
  bufferedBytes: number;
  /** Total bytes of output so far: the offset the next chunk will start at. */
  outputOffset: number;
  exit?: PtyExitStatus;
}

/** Which sessions `listSessions` returns: all fields given must match. @publicApi */
export interface PtySessionFilter {
  owner?: string;
  key?: string;
  status?: 'running' | 'exited';
}

/** Arguments of `createSession` / `getOrCreateSession`. @publicApi */
export interface CreatePtySessionOptions {
  /** Spawn profile by name (default: the module's `defaultProfile`). */
  profile?: string;
  /**
   * An already-spawned node-pty process to manage instead of spawning one
   * (the seed's `create_session(milestone_id, pty)`). Excludes `profile`.
   */
  pty?: IPty;
  /** Application key, e.g. the milestone or task the terminal belongs to. One live session per key. */
  key?: string;
  /** Who the session belongs to (a user or principal id). Counts toward `maxSessionsPerOwner`. */
  owner?: string;
  cols?: number;
  rows?: number;
}

/** Arguments of `PtySession.attach`. @publicApi */
export interface PtyAttachOptions {
  /** Offset the client has already seen; omit for the whole buffer. */
  since?: number;
  /** Live output after the replay, in order, with no gap and no duplicate at the seam. */
  onOutput: (chunk: PtyOutputChunk) => void;
  /** Called once when the session ends (also when attaching to an exited session). */
  onExit?: (exit: PtyExitStatus) => void;
}

/** A client attached to a session; while any is attached the session never idles out. @publicApi */
export interface PtyAttachment {
  /** What the client missed, up to the moment live output starts. */
  readonly replay: PtyReplaySlice;
  /** Stops live output and counts the client as gone. Idempotent. */
  detach(): void;
}

/** Something to stop listening with. Same shape as node-pty's and xterm.js' `IDisposable`. */
export interface Disposable {
  dispose(): void;
}
