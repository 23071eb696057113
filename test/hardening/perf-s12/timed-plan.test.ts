// A call whose only own option that shapes its plan is `timeout` shares one cached plan (the last one
// made, keyed by its method's defaults and the timeout): every call still runs with its own timeout and
// its own method's defaults, whatever came before it.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, DEFAULT_COST, type RunOptions } from '../../../src/index.js';
import { dateClock, useFakeTime } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';
import { advance, hang, jobs, outcome, poolOf, type Fake } from './helpers.js';

useFakeTime();
vi.setConfig({ testTimeout: 10_000 });

/** Each call's TimeoutError's `timeoutMs`, in the order given. */
async function timeoutsOf(pool: ClientPool<Fake>, options: RunOptions<Fake>[], ms = 200): Promise<unknown[]> {
  const calls = options.map((o) => pool.run(hang, o).then(() => 'resolved', (e: { timeoutMs?: number; code?: string }) => e.timeoutMs ?? e.code));
  await advance(ms);
  return Promise.all(calls);
}

describe('a timeout-only plan shared between calls', () => {
  it('interleaved calls of two methods with their own default timeouts each keep their call\'s timeout', async () => {
    const pool = poolOf(1, { timeout: 20, methods: { a: { timeout: 5 }, b: {} } });
    expect(await timeoutsOf(pool, [{ method: 'a', timeout: 30 }, { method: 'b', timeout: 30 }, { method: 'a' }, { method: 'b' }, { method: 'a', timeout: 30 }, { timeout: 30 }])).toEqual([30, 30, 5, 20, 30, 30]);
  });

  it('a call giving its method\'s own timeout, then one giving another, then the first again', async () => {
    const pool = poolOf(1, { methods: { a: { timeout: 15 } } });
    expect(await timeoutsOf(pool, [{ method: 'a', timeout: 15 }, { method: 'a', timeout: 25 }, { method: 'a', timeout: 15 }, { method: 'a' }])).toEqual([15, 25, 15, 15]);
  });

  it('a timeout getter answering differently each time: each call the timeout it read', async () => {
    const pool = poolOf();
    let n = 0;
    const options = {
      // Another value at every read, however many reads a call makes.
      get timeout(): number {
        n++;
        return 10 * n;
      },
    };
    const got = await timeoutsOf(pool, [options, options, options]);
    expect(got).toHaveLength(3);
    expect(new Set(got).size).toBe(3);
  });

  it('two methods with their own priorities keep them with one timeout given to both: the low one shed, the normal one waits', async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock, maxWait: 1_000, methods: { low: { priority: 'low' }, normal: {} } });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: 1 });
    const holder = deferred<string>();
    const held = pool.run(() => holder.promise);
    await jobs();
    const normal = outcome(pool.run((c) => c.id, { method: 'normal', timeout: 50 }));
    const low = outcome(pool.run((c) => c.id, { method: 'low', timeout: 50 }));
    const normal2 = outcome(pool.run((c) => c.id, { method: 'normal', timeout: 50 }));
    expect(await low).toEqual({ code: 'ERR_SHED' });
    holder.resolve('held');
    await held;
    await advance(1);
    expect([await normal, await normal2]).toEqual([{ value: 'a' }, { value: 'a' }]);
  });

  it('a method with a cost keeps it with a timeout of the call: the second big call waits for tokens while a normal one passes', async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock, maxWait: 5, methods: { big: { cost: { requests: 5 } } } });
    pool.add({ id: 'a' }, { name: 'a', limit: { rate: 1, burst: 6 } });
    expect(await outcome(pool.run((c) => c.id, { method: 'big', timeout: 10 }))).toEqual({ value: 'a' });
    expect(await outcome(pool.run((c) => c.id, { timeout: 10 }))).toEqual({ value: 'a' });
    const big = outcome(pool.run((c) => c.id, { method: 'big', timeout: 10 }));
    await advance(10);
    expect((await big).code).toBe('ERR_RATE_LIMITED');
  });

  it('options equal to the defaults (maxWait, strategy, priority, DEFAULT_COST) with a timeout: each call that timeout', async () => {
    const pool = poolOf(2, { maxWait: 1_000 });
    expect(await timeoutsOf(pool, [{ timeout: 10, maxWait: 1_000 }, { timeout: 12, strategy: 'round-robin' }, { timeout: 14, priority: 'normal' }, { timeout: 16, cost: DEFAULT_COST }, { timeout: 10 }])).toEqual([10, 12, 14, 16, 10]);
  });

  it('a deadline with a timeout is not shared: the deadline still ends a call whose attempts each have the timeout', async () => {
    const pool = poolOf(1);
    const first = outcome(pool.run(hang, { timeout: 10 }));
    const withDeadline = outcome(pool.run(hang, { timeout: 10, deadline: 5 }));
    const again = outcome(pool.run(hang, { timeout: 10 }));
    await advance(10);
    expect([await first, await withDeadline, await again]).toEqual([{ code: 'ERR_TIMEOUT' }, { code: 'ERR_DEADLINE_EXCEEDED' }, { code: 'ERR_TIMEOUT' }]);
  });

  it('a pool deadline and a call timeout: the call\'s own deadline starts at each call', async () => {
    const pool = poolOf(1, { deadline: 30 });
    const a = outcome(pool.run(hang, { timeout: 50 }));
    await advance(20);
    const b = outcome(pool.run(hang, { timeout: 50 }));
    await advance(10);
    expect(await a).toEqual({ code: 'ERR_DEADLINE_EXCEEDED' });
    await advance(19);
    expect(pool.members()[0]!.inFlight).toBe(1);
    await advance(1);
    expect(await b).toEqual({ code: 'ERR_DEADLINE_EXCEEDED' });
  });
});
