import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';
import { settle } from './helpers.js';

// A run option set to null is refused (`timeout: null`, `retry: null`, `hedge: null`, `cache: null`: "a bad
// value throws InvalidOptionError"; only undefined counts as not given). Nested fields of retry and hedge
// read with `??` (src/resilience/retry-policy.ts, hedge-policy.ts) take null as "not given" and run with
// the default. Minor, older than 3a81f89, and the same with or without hooks (so no watcher differs).

const NESTED_NULL: [string, Record<string, unknown>][] = [
  ['retry { attempts: null }', { retry: { attempts: null } }],
  ['retry { backoff: null }', { retry: { backoff: null } }],
  ['retry { backoff: { initial: null } }', { retry: { backoff: { initial: null } } }],
  ['hedge { delay: 5, maxHedges: null }', { hedge: { delay: 5, maxHedges: null } }],
];

describe('null in a nested retry or hedge field is refused as null is at the top level', () => {
  it('control: timeout null, retry null and hedge null are refused with InvalidOptionError', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    for (const options of [{ timeout: null }, { retry: null }, { hedge: null }]) {
      const got = await settle(pool.run((c) => c, options as never));
      expect(got.value).toBeInstanceOf(InvalidOptionError);
    }
    await pool.close();
  });

  it.each(NESTED_NULL)('%s: refused with InvalidOptionError', async (_name, options) => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const got = await settle(pool.run((c) => c, options));
    expect(got.value).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });
});
