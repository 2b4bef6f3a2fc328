#!/usr/bin/env node
// Summarises a V8 CPU profile (.cpuprofile, from `npm run bench -- --cpu-prof`
// or `node --cpu-prof`): self time by function and by package, the heaviest first.
//
//   node bench/profile-summary.mjs bench-results/cpu-profiles/host-throughput-*.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: options, positionals: files } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const top = Number(options.top);

/** Which package or part of Node a script belongs to. */
function owner(url) {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return url;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.includes('/libs/pty-session-client/')) return 'nestjs-pty-session-client';
  if (url.includes('/libs/pty-session/')) return 'nestjs-pty-session';
  if (url.includes('/bench/')) return 'bench';
  return url;
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfMs.set(id, (selfMs.get(id) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  const total = [...selfMs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  const byOwner = new Map();
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const shortUrl = url.replace(/^.*\/(node_modules|libs)\//, '$1/');
    const name = `${functionName || '(anonymous)'} ${shortUrl ? `${shortUrl}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const pkg = owner(url);
    byOwner.set(pkg, (byOwner.get(pkg) ?? 0) + ms);
  }
  const idle = (byFunction.get('(idle)') ?? 0) + (byFunction.get('(program)') ?? 0);
  const print = (title, map) => {
    console.log(`\n${title}`);
    for (const [name, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${name}`);
    }
  };
  console.log(`# ${file}\n${total.toFixed(0)} ms sampled, of which (idle) + (program) ${idle.toFixed(0)} ms`);
  print('Self time by package:', byOwner);
  print('Self time by function:', byFunction);
}
