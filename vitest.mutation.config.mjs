import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant of src/breaker, src/balancers, src/limit and
 * src/resilience (see stryker.config.mjs and docs/mutation-testing.md): the unit tests of those areas
 * and the fast tests of the pipeline and the pool that drive them (retries, hedges, waits through
 * `pool.run()`), no Redis, e2e, load or packaging tier. Coverage is per test, so each mutant runs only
 * the tests that reach it.
 */
export default defineConfig({
  test: {
    include: [
      'test/breaker/**/*.test.ts',
      'test/balancers/**/*.test.ts',
      'test/limit/**/*.test.ts',
      'test/resilience/**/*.test.ts',
      'test/pipeline/**/*.test.ts',
      'test/pool/**/*.test.ts',
      'test/roster/**/*.test.ts',
      'test/breaker.test.ts',
      'test/balancers.test.ts',
      'test/pool.test.ts',
      'test/middleware.test.ts',
      'test/concurrency.test.ts',
    ],
    exclude: ['**/*.slow.test.ts'],
    setupFiles: ['vitest.mutation.setup.mjs'],
    testTimeout: 20_000,
  },
});
