// How the transport at its best (bench/bare-socketio.mjs, `batched`) groups
// output: as the library does by default (PTY_SESSION_DEFAULTS.outputBatching),
// so that the two differ only by what the library adds. Kept here rather than
// imported from the library, so that the floor's process never loads it.
export const FLOOR_BATCH_WINDOW_MS = 8;
export const FLOOR_BATCH_MAX_BYTES = 512 * 1024;

/** The batches as the table's rows name them. */
export const FLOOR_BATCHES_LABEL = `${FLOOR_BATCH_WINDOW_MS} ms / ${FLOOR_BATCH_MAX_BYTES / 1024} KiB batches`;
