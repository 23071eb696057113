import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Import `entry` (a path from the repository root) in a fresh Node process; the prom-client files it loaded. */
function promClientFilesLoadedBy(entry: string): number {
  // ESM imports of a CommonJS package go through the CommonJS loader, so its files land in require.cache.
  const probe = `
    import { createRequire } from 'node:module';
    import { pathToFileURL } from 'node:url';
    await import(pathToFileURL(${JSON.stringify(entry)}).href);
    const cache = createRequire(import.meta.url).cache;
    process.stdout.write(String(Object.keys(cache).filter((file) => file.includes('prom-client')).length));
  `;
  return Number(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 }));
}

describe('clientpool/otel without prom-client', () => {
  it('loads no file of prom-client, the Redis bucket and fleet metrics included (it is an optional peer of clientpool/prometheus only)', () => {
    expect(promClientFilesLoadedBy('src/otel/index.ts')).toBe(0);
  });

  it('would see prom-client loaded: clientpool/prometheus loads it', () => {
    expect(promClientFilesLoadedBy('src/prometheus/index.ts')).toBeGreaterThan(0);
  });
});
