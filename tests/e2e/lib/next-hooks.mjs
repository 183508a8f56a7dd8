// next-hooks.mjs — module resolve hook for loading @authc/next in plain Node:
// Next.js's bundler maps "next/headers" to next/headers.js; Node needs the ".js".
export async function resolve(specifier, context, nextResolve) {
  if (/^next\/(headers|navigation|server)$/.test(specifier)) return nextResolve(`${specifier}.js`, context);
  return nextResolve(specifier, context);
}
