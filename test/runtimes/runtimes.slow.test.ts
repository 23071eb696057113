/**
 * The built package (dist/, as `npm run build` makes it) under Node, Bun and Deno: scripts/runtimes/smoke.mjs
 * imports `clientpool` by name (the package's own `exports`) and runs the pool scenario (a breaker, retry,
 * a timeout, a pool-wide and a per-client limit, the trace-ID middleware and the diagnostics channels)
 * against in-process fake clients; then scripts/runtimes/adapters.mjs runs the adapters that make sense
 * there (viem, @solana/kit, the AI SDK, undici, prom-client, OpenTelemetry) against local servers and
 * in-process clients.
 *
 * dist/ comes from the build CI runs before the tests; when it is missing or older than src/, the test runs
 * `npm run build` itself. A runtime that is missing fails the test in CI and skips it locally, saying why.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { HANG_BOUND_MS } from '../helpers/hang-bound.js';
import { missingReason, runtimes, runtimeTestMode, type Runtime } from './runtime-binaries.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SMOKE = join(ROOT, 'scripts/runtimes/smoke.mjs');
const ADAPTERS = join(ROOT, 'scripts/runtimes/adapters.mjs');

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function expectSuccess(result: SpawnSyncReturns<string>): string {
  expect(result.status, `${result.error?.message ?? ''}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

beforeAll(() => {
  const esm = join(ROOT, 'dist/esm/index.js');
  if (!existsSync(esm) || !existsSync(join(ROOT, 'dist/cjs/index.js')) || statSync(esm).mtimeMs < newestIn(join(ROOT, 'src'))) {
    console.info('runtimes test: dist/ is missing or older than src/, running npm run build');
    expectSuccess(spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: HANG_BOUND_MS }));
  }
}, HANG_BOUND_MS);

/** Whether the test goes on: it throws in CI and skips locally when the runtime is missing. */
function requireRuntime(runtime: Runtime, context: TestContext): void {
  const reason = missingReason(runtime);
  switch (runtimeTestMode(reason)) {
    case 'fail':
      throw new Error(`${reason ?? runtime.name}; CI must run the ${runtime.name} smoke tests`);
    case 'skip':
      console.warn(`skipping a ${runtime.name} smoke test: ${reason ?? ''}`);
      context.skip(reason);
      return;
    case 'run':
  }
}

describe('the built package on each runtime', () => {
  it.for(runtimes(ROOT))('passes the pool scenario under $name', { timeout: HANG_BOUND_MS }, (runtime, context) => {
    requireRuntime(runtime, context);
    const { name, command, args } = runtime;
    const result = spawnSync(command, [...args, SMOKE], { cwd: ROOT, encoding: 'utf8', timeout: HANG_BOUND_MS, env: { ...process.env, NO_COLOR: '1' } });
    const stdout = expectSuccess(result);
    expect(stdout).toMatch(new RegExp(`^clientpool smoke ok \\(${name}\\): \\d+ checks$`, 'm'));
    // Every check ran, the diagnostics-channel one included: the same count on every runtime.
    expect(Number(/(\d+) checks/.exec(stdout)?.[1])).toBe(22);
  });

  it.for(runtimes(ROOT))('runs the adapters that make sense under $name against local servers', { timeout: HANG_BOUND_MS }, (runtime, context) => {
    requireRuntime(runtime, context);
    const { name, command, adapterArgs, adapters } = runtime;
    const result = spawnSync(command, [...adapterArgs, ADAPTERS, ...adapters], { cwd: ROOT, encoding: 'utf8', timeout: HANG_BOUND_MS, env: { ...process.env, NO_COLOR: '1' } });
    const stdout = expectSuccess(result);
    expect(stdout).toMatch(new RegExp(`^clientpool adapters ok \\(${name}\\): ${adapters.join(', ')}$`, 'm'));
  });
});
