import type { PtyAttachment } from '../interfaces/pty-session-info.interface.js';

/**
 * One client's place in a session's output stream: what it was sent, what
 * it acknowledged, and whether it is paused for being too far behind.
 * Flow control is per viewer, so a slow client never holds up the others:
 * a paused viewer is simply skipped, and catches up from the replay buffer
 * once it acknowledges. (Only when every viewer is paused does the stream
 * pause the program.)
 */
export class SessionViewer {
  /** End offset of the output sent to this client. */
  sentOffset: number;
  /** Offset up to which the client said it processed the output. */
  ackedOffset: number;
  /** Skipped by the live stream until its acknowledgements bring it under the low mark. */
  paused = false;
  /** Paused, and waiting for a screen snapshot to continue from (screen mode). */
  awaitingSnapshot = false;
  exitSent = false;
  /** The size this client asked for, and when, among the session's clients (for the resize policies). */
  cols?: number;
  rows?: number;
  sizedAt = 0;
  /** Its `sizedAt` came with a resume (an earlier connection's), not from a sizing on this one: it loses ties. */
  sizeResumed = false;

  constructor(
    readonly socketId: string,
    readonly attachment: PtyAttachment,
  ) {
    this.ackedOffset = attachment.replay.offset;
    this.sentOffset = attachment.replay.endOffset;
  }

  /** Bytes sent and not yet acknowledged. */
  get unacknowledged(): number {
    return this.sentOffset - this.ackedOffset;
  }

  /**
   * Records an acknowledgement. Older ones than the last (overtaken by a
   * reset) are ignored.
   * @returns false for an offset past what was sent.
   */
  acknowledge(offset: number): boolean {
    if (offset > this.sentOffset) return false;
    if (offset > this.ackedOffset) this.ackedOffset = offset;
    return true;
  }
}
