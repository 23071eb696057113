// Module hooks for `npm run bench`: every import of the library's sources (src/**/*.ts) loads the built
// package instead (dist/esm/**/*.js), so the benchmarks time what users install, compiled by tsc, not the
// sources as tsx transpiles them on the fly (esbuild's keepNames adds a call per named closure made).
import { pathToFileURL } from 'node:url';

const SRC = new URL('../src/', import.meta.url).href;
// CLIENTPOOL_BENCH_DIST_DIR: another ESM build of src/ (a commit built apart, so that a bench times exactly
// that commit while the working tree changes); dist/esm by default.
const other = process.env.CLIENTPOOL_BENCH_DIST_DIR;
const DIST = other === undefined || other === '' ? new URL('../dist/esm/', import.meta.url).href : pathToFileURL(`${other.replace(/\/$/, '')}/`).href;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith(SRC) || !resolved.url.endsWith('.ts')) return resolved;
  return { ...resolved, url: `${DIST}${resolved.url.slice(SRC.length, -'.ts'.length)}.js`, format: 'module' };
}
