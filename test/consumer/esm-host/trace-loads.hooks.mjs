// Module customization hooks of trace-loads.mjs (runs on the loader's thread).
let port;

export function initialize(data) {
  port = data.port;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  port.postMessage({ parent: context.parentURL ?? null, specifier, url: result.url });
  return result;
}
