import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * The slow tier: load, soak, chaos, fleet, packaging (`*.slow.test.ts`) and end to end (`test/e2e/`).
 * `npm test` leaves it out; `npm run test:all` (vitest.all.config.ts) runs it too.
 */
export const SLOW_TESTS = ['**/*.slow.test.ts', 'test/e2e/**'];

/** Settings both tiers share. */
export const shared: NonNullable<ViteUserConfig['test']> = {
  include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
  // Every core: Vitest's default (cores - 1) leaves one of two idle, while many files mostly wait on child
  // processes, Redis and loopback HTTP.
  maxWorkers: availableParallelism(),
  // Bounds on a hang, not on speed: no test needs more than a few seconds on a quiet machine, and a busy
  // one (six CPU-bound processes on two cores, `npm run test:busy`) must not turn slowness into failures.
  testTimeout: 120_000,
  hookTimeout: 120_000,
  coverage: { include: ['src/**'], reporter: ['text-summary', 'json-summary'] },
};

/** The fast tier, `npm test`: unit and integration tests, real Redis and HTTP on loopback included. */
export default defineConfig({
  test: {
    ...shared,
    exclude: [...configDefaults.exclude, ...SLOW_TESTS],
  },
});
