// Consumer smoke test fixture, preloaded with `node --import ./trace-loads.mjs
// index.mjs`: records every module the ES module loader resolves (the
// importing file, the specifier, the resolved URL), so that the host can
// report which files of the packages were loaded and where the library's own
// `import 'nestjs-pty-session-client/protocol'` went. ESM has no equivalent of
// require.cache; a resolve hook is the only complete record.
//
// The hook (trace-loads.hooks.mjs) runs on the loader's thread and posts each
// record to this thread, which collects them in globalThis[TRACE].
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const TRACE = Symbol.for('nestjs-pty-session.consumer-smoke.esm-resolutions');
const resolutions = [];
const { port1, port2 } = new MessageChannel();
port1.on('message', (record) => resolutions.push(record));
port1.unref(); // the trace must not keep the process alive
globalThis[TRACE] = resolutions;
register('./trace-loads.hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
