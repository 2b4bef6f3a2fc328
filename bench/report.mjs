// The bench's results: rows of measured values, summarised (median, min,
// max), compared with raw node-pty and checked against the targets, printed
// as a markdown table and written as JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarize } from './lib/stats.mjs';

/**
 * A result row. `values` are the measured runs; `rawValues` the same measure
 * on raw node-pty in the same bench run (the ratio is median / raw median);
 * `floorValues` the same measure through bare Socket.IO + node-pty (no
 * library), kept in the JSON as `floorMedian` and `floorRatio` (median /
 * floor median), not in the table; `target` is `{ text, check(row) }`; `na`
 * replaces the values with a reason.
 */
export function resultRow({ caseName, metric, unit, values = [], rawValues, floorValues, target, na, note }) {
  const row = { case: caseName, metric, unit, values, ...summarize(values) };
  if (rawValues) {
    row.rawValues = rawValues;
    row.rawMedian = summarize(rawValues).median;
    row.ratio = row.median / row.rawMedian;
  }
  if (floorValues) {
    row.floorValues = floorValues;
    row.floorMedian = summarize(floorValues).median;
    row.floorRatio = row.median / row.floorMedian;
  }
  if (note) row.note = note;
  if (na) {
    row.na = na;
    row.target = target?.text;
    return row;
  }
  if (target) {
    row.target = target.text;
    // A run that produced no figure (a client that received nothing) fails the row: it is not dropped.
    const failedRuns = values.filter((v) => !Number.isFinite(v)).length;
    row.pass = values.length > 0 && failedRuns === 0 && Boolean(target.check(row));
    if (failedRuns > 0) row.note = `${failedRuns} run(s) gave no figure${row.note ? `; ${row.note}` : ''}`;
  }
  return row;
}

/** The name of the second baseline's rows: bench/bare-socketio.mjs. */
export const FLOOR_LABEL = 'Socket.IO + node-pty, no library (wetty-like floor)';

/** For a gateway row's note: its median as a ratio to the Socket.IO floor's. */
export function floorComparison(row, unit) {
  return `the library = ${row.floorRatio.toFixed(2)}× the Socket.IO + node-pty floor (${formatValue(row.floorMedian, unit)}, median)`;
}

/** A row for a case that could not run (screen mode missing, a failure): it shows why. */
export function naRow(caseName, metric, reason, target) {
  return resultRow({ caseName, metric, unit: '', na: reason, target });
}

export function formatValue(value, unit) {
  if (value === undefined || Number.isNaN(value)) return '—';
  switch (unit) {
    case 'ms':
      return `${value < 1 ? value.toFixed(3) : value < 100 ? value.toFixed(2) : value.toFixed(0)} ms`;
    case 's':
      return `${value.toFixed(2)} s`;
    case 'MiB/s':
      return `${value.toFixed(1)} MiB/s`;
    case 'KiB':
      return `${value.toFixed(1)} KiB`;
    case 'bytes':
      return `${Math.round(value).toLocaleString('en-US')} B`;
    case 'count':
      return Math.round(value).toLocaleString('en-US');
    default:
      return `${value}`;
  }
}

/** The markdown table of all rows. */
export function markdownTable(rows) {
  const lines = [
    '| Case | Metric | Median | Min | Max | Raw node-pty (median) | Ratio | Target | Result |',
    '|---|---|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const row of rows) {
    const cells = row.na
      ? [row.case, row.metric, row.na, '', '', '', '', row.target ?? '', 'n/a']
      : [
          row.case,
          row.metric,
          formatValue(row.median, row.unit),
          formatValue(row.min, row.unit),
          formatValue(row.max, row.unit),
          row.rawMedian === undefined ? '' : formatValue(row.rawMedian, row.unit),
          row.ratio === undefined || !Number.isFinite(row.ratio) ? '' : `${row.ratio.toFixed(2)}×`,
          row.target ?? '',
          row.pass === undefined ? '' : row.pass ? 'pass' : '**miss**',
        ];
    lines.push(`| ${cells.map((cell) => String(cell).replaceAll('|', '\\|')).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Writes `bench-<date>.json` and `latest.json` under `dir`; returns the dated path. */
export function writeJson(dir, result) {
  mkdirSync(dir, { recursive: true });
  const stamp = result.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
  const path = join(dir, `bench-${stamp}.json`);
  const text = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(path, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return path;
}

/**
 * Runs one part of a case; if it throws, its rows become one "failed" row,
 * and the other parts of the case still run.
 */
export async function guarded(ctx, caseName, metric, work) {
  try {
    return await work();
  } catch (error) {
    const message = String(error?.message ?? error).split('\n')[0];
    ctx.log(`  ${caseName}, ${metric} failed: ${error?.stack ?? error}`);
    ctx.failures.push({ case: caseName, part: metric, error: message });
    return [naRow(caseName, metric, `failed: ${message}`)];
  }
}
