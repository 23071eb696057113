import { configDefaults, defineConfig } from 'vitest/config';
import { shared } from './vitest.config.js';

/** Both tiers, `npm run test:all` (what CI runs): the fast tier and the slow one (see vitest.config.ts). */
export default defineConfig({
  test: {
    ...shared,
    exclude: [...configDefaults.exclude],
  },
});
