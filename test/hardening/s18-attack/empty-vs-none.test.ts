import { describe, expect, it } from 'vitest';
import { ClientPool, type PoolOptions, type RunOptions } from '../../../src/index.js';

// `{}` and `{ traceId }` are label-only (runLabelled); no options go runPlain. Same counters and budget.
async function observe(poolOptions: PoolOptions<string>, options: RunOptions<string> | undefined): Promise<unknown> {
  const pool = new ClientPool<string>({ breaker: false, ...poolOptions });
  pool.add('a');
  pool.add('b');
  const out: unknown[] = [];
  for (let i = 0; i < 8; i++) {
    out.push(await pool.run((c, call) => (i % 3 === 0 && call.attempt === 1 ? Promise.reject(new Error('x')) : `${c}:${call.attempt}:${call.method}`), options).catch((e: { code?: string }) => e.code));
  }
  const state = { out, members: pool.members().map((m) => [m.name, m.successes, m.failures, m.inFlight]), budget: pool.retryBudget };
  await pool.close();
  return state;
}

describe('empty options behave as no options', () => {
  for (const [name, poolOptions] of [
    ['no retry', {}],
    ['pool retry', { retry: { attempts: 2, backoff: { initial: 0 } }, retryBudget: { ratio: 0.3, reserve: 1 } }],
    ['method unknown retry', { methods: { unknown: { retry: { attempts: 3, backoff: { initial: 0 } } } }, retryBudget: { ratio: 0.5, reserve: 1 } }],
  ] as [string, PoolOptions<string>][]) {
    for (const options of [{}, { traceId: 't' }, { method: 'unknown' }, { retry: undefined }] as RunOptions<string>[]) {
      it(`${name}: ${JSON.stringify(options)} as undefined`, { timeout: 5000 }, async () => {
        expect(await observe(poolOptions, options)).toEqual(await observe(poolOptions, undefined));
      });
    }
  }
});
