// @ts-check
/**
 * Mutation testing of the core algorithms: breakers, balancers, limits, retries and hedges.
 * `npm run test:mutation` (or `npx stryker run`); one directory at a time with
 * `npx stryker run --mutate 'src/breaker/**\/*.ts'`. Survivors and why each is equivalent:
 * docs/mutation-testing.md.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: {
    // Only the fast unit tests of these areas; `related` off, since they import through src/index.ts too.
    configFile: 'vitest.mutation.config.mjs',
    related: false,
  },
  mutate: ['src/breaker/**/*.ts', 'src/balancers/**/*.ts', 'src/limit/**/*.ts', 'src/resilience/**/*.ts'],
  coverageAnalysis: 'perTest',
  // The machine is shared (2 cores): at most two sandboxes.
  concurrency: 2,
  // Later runs re-test only the mutants whose code or covering tests changed; `--force` runs them all.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // Static mutants (module constants such as HEDGE_MIN_SAMPLES) run every test, but they are few and
  // one of them is a named survivor of issue 13: keep them.
  ignoreStatic: false,
  // A mutant that loops forever (a heap or ring walk) is detected by its timeout: keep that short.
  timeoutMS: 3_000,
  timeoutFactor: 1.5,
  thresholds: { high: 95, low: 90, break: 90 },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'coverage', 'reports', 'bench', 'examples', '.stryker-tmp'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
};
