import { describe, expect, it } from 'vitest';
import { ClientPool, type Middleware, type RunOptions } from '../../../src/index.js';

type Client = { name: string };

const withEnds: Middleware<Client>[] = [{ name: 'ends', onCallEnd: () => undefined }];

function pool1(middleware: Middleware<Client>[]): ClientPool<Client> {
  const pool = new ClientPool<Client>({ middleware, methods: { get: { timeout: 1_000 } } });
  pool.add({ name: 'a' }, { name: 'a' });
  return pool;
}

async function refusal(pool: ClientPool<Client>, options: object): Promise<{ code: string | undefined; option: string | undefined }> {
  const error = await pool.run(() => 1, options as RunOptions<Client>).then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  );
  return { code: error?.code, option: error?.message.split(' ')[0] };
}

// Several bad options at once: maxWait (checked with the run options) first, then the plan's own order:
// deadline, timeout, strategy, cost, priority. The same with an onCallEnd hook (CallEnds.run) as without.
const cases: [object, string][] = [
  [{ deadline: 0, timeout: 0 }, 'deadline'],
  // maxWait is checked with the run options, before the plan: named ahead of deadline, as before the change.
  [{ deadline: Number.NaN, maxWait: -1 }, 'maxWait'],
  [{ deadline: Number.NaN, timeout: -1, maxWait: 5 }, 'deadline'],
  [{ maxWait: -1, timeout: -1 }, 'maxWait'],
  [{ maxWait: Number.NaN, strategy: 'nope' }, 'maxWait'],
  [{ timeout: Number.POSITIVE_INFINITY, strategy: 'nope' }, 'timeout'],
  [{ timeout: 0, cost: -1 }, 'timeout'],
  [{ strategy: 'nope', cost: { requests: -1 } }, 'strategy'],
  [{ strategy: 'nope', priority: 'urgent' }, 'strategy'],
  [{ cost: Number.NaN, priority: 'urgent' }, 'cost'],
  [{ method: 'get', deadline: -5, priority: 'urgent', cost: -1, strategy: 'nope', timeout: -1, maxWait: -1 }, 'maxWait'],
  [{ method: 'get', deadline: -5, priority: 'urgent', cost: -1, strategy: 'nope', timeout: -1 }, 'deadline'],
  [{ method: 'get', priority: 'urgent', cost: -1, strategy: 'nope', timeout: -1 }, 'timeout'],
];

describe('a call with several bad options of its own names the first in the order maxWait, deadline, timeout, strategy, cost, priority', () => {
  for (const [options, first] of cases) {
    it(`${JSON.stringify(options)} is refused naming ${first}, with or without an onCallEnd hook`, async () => {
      for (const middleware of [[], withEnds]) {
        const pool = pool1(middleware);
        const got = await refusal(pool, options);
        expect(got.code).toBe('ERR_INVALID_OPTION');
        expect(got.option).toBe(first);
        await pool.close();
      }
    });
  }
});
