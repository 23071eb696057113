import { describe, expect, it } from 'vitest';
import { ClientPool, DeadlineExceededError } from '../../src/index.js';

// `deadline`: "ms for the whole call from run(), every attempt, backoff, hedge and wait included" (README).
// CallPlanner.scope() works out the call's plan (its deadline from run()) to check it, and hands it to the
// call when its hooks call next() (CallPlanner.handOver): time spent in around hooks counts.

function make(clock: { t: number }, deadlineMs: number, hookTakes: number, method?: string): ClientPool<string> {
  const pool = new ClientPool<string>({
    clock: { now: () => clock.t },
    ...(method === undefined ? {} : { methods: { [method]: { deadline: deadlineMs } } }),
  });
  pool.use({ name: 'slow-around', around: (_scope, next) => { clock.t += hookTakes; return next(); } });
  pool.add('a', { name: 'a' });
  return pool;
}

describe('a deadline counts from run(), around hooks included', () => {
  it('run option deadline 100, an around hook that takes 150 ms: the call ends with DeadlineExceededError, fn never runs', async () => {
    const clock = { t: 1_000 };
    const pool = make(clock, 100, 150);
    let ran = 0;
    const got = await pool.run((c) => { ran++; return c; }, { deadline: 100 }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(DeadlineExceededError);
    expect(ran).toBe(0);
    await pool.close();
  });

  it('a method deadline of 100 (methods option), an around hook that takes 150 ms: DeadlineExceededError', async () => {
    const clock = { t: 1_000 };
    const pool = make(clock, 100, 150, 'get');
    const got = await pool.run((c) => c, { method: 'get' }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(DeadlineExceededError);
    await pool.close();
  });

  it('control: an around hook that takes 50 of a 100 ms deadline leaves the call to run', async () => {
    const clock = { t: 1_000 };
    const pool = make(clock, 100, 50);
    expect(await pool.run((c) => c, { deadline: 100 })).toBe('a');
    await pool.close();
  });

  it('control: with nothing watching, a call whose deadline has 100 ms runs', async () => {
    const clock = { t: 1_000 };
    const pool = new ClientPool<string>({ clock: { now: () => clock.t } });
    pool.add('a');
    expect(await pool.run((c) => c, { deadline: 100 })).toBe('a');
    await pool.close();
  });
});
