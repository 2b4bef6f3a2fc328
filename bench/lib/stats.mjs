// Small statistics over a list of numbers: what the report shows for each metric.

/** The value below which `p` percent of the sorted values lie (nearest rank). */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Median (the mean of the two middle values for an even count). */
export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `{ median, min, max }` of the values. */
export function summarize(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN };
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) };
}

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** Throughput in MiB per second. */
export function mibPerSecond(bytes, ms) {
  return bytes / MiB / (ms / 1000);
}

/** CPU time (user + system) of a `process.cpuUsage()` reading, in milliseconds. */
export function cpuMs(usage) {
  return (usage.user + usage.system) / 1000;
}
