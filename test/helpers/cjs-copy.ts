// A CommonJS copy of the sources, bundled with esbuild into a temporary directory and loaded with
// `require`, for tests that mix the ESM and the CJS builds in one process (one copy's objects given to the
// other's pool), without building dist/ first.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll } from 'vitest';

type Cjs = typeof import('../../src/index.js');

/** The CommonJS copy, loaded before the file's tests and removed after them. Call at the top level. */
export function useCjsCopy(): { readonly current: Cjs } {
  const holder: { current: Cjs } = { current: undefined as unknown as Cjs };
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clientpool-cjs-'));
    await build({ entryPoints: ['src/index.ts'], bundle: true, format: 'cjs', platform: 'node', target: 'node20', outfile: join(dir, 'index.cjs'), logLevel: 'silent' });
    writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
    holder.current = createRequire(import.meta.url)(join(dir, 'index.cjs')) as Cjs;
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });
  return holder;
}
