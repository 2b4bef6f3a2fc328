// The garbage collector's work in this process since it started: how many
// mark-compacts and scavenges, and the time of all collections (incremental
// marking steps included), read around a run as CPU time is
// (a server's `gcUsage` command). A busy stream's cost depends on it: V8 can
// run one full mark-compact after another through it (docs/performance.md: the host's heap).
import { PerformanceObserver, constants } from 'node:perf_hooks';

const usage = { markCompacts: 0, scavenges: 0, ms: 0 };

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    usage.ms += entry.duration;
    const kind = entry.detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) usage.markCompacts++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) usage.scavenges++;
  }
}).observe({ entryTypes: ['gc'] });

/** A copy of the totals so far. */
export function gcUsage() {
  return { ...usage };
}

/** What happened between two readings. */
export function gcUsageSince(before, after) {
  return {
    markCompacts: after.markCompacts - before.markCompacts,
    scavenges: after.scavenges - before.scavenges,
    ms: after.ms - before.ms,
  };
}
