import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant of src/breaker, src/balancers, src/limit and
 * src/resilience (see stryker.config.mjs and docs/mutation-testing.md): the unit tests of those areas
 * only, no Redis, e2e, load or packaging tier, so that a mutant costs a fraction of a second.
 */
export default defineConfig({
  test: {
    include: [
      'test/breaker/**/*.test.ts',
      'test/balancers/**/*.test.ts',
      'test/limit/**/*.test.ts',
      'test/resilience/**/*.test.ts',
      'test/breaker.test.ts',
      'test/balancers.test.ts',
    ],
    setupFiles: ['vitest.mutation.setup.mjs'],
    testTimeout: 20_000,
  },
});
