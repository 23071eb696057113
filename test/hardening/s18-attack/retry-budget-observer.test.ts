import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { RetryBudget } from '../../../src/resilience/retry-budget.js';

// FAULT: the budget now settles `balance + ratio * deposits` lazily, on each read. Reading it (a metrics
// poll of `pool.retryBudget`) settles early, and iterated float additions (0.1 ten times = 0.9999999999999999)
// differ from one multiplication (10 * 0.1 = 1). So whether a retry is allowed depends on whether and when
// someone looked at `pool.retryBudget`. An observer must not change the pool's decisions.

function budgetDecision(readBetween: boolean): { allowed: boolean; refused: number } {
  const budget = new RetryBudget({ ratio: 0.1, reserve: 1 });
  expect(budget.tryWithdraw()).toBe(true); // balance 0
  for (let i = 0; i < 10; i++) {
    budget.deposit();
    if (readBetween) expect(budget.balance).toBeLessThanOrEqual(1);
  }
  const allowed = budget.tryWithdraw();
  return { allowed, refused: budget.refused };
}

async function poolDecision(readBetween: boolean): Promise<{ attempts: number[]; budget: unknown }> {
  const pool = new ClientPool<string>({ retry: { attempts: 2, backoff: { initial: 0, jitter: 'none' } }, retryBudget: { ratio: 0.1, reserve: 1 } });
  pool.add('a');
  pool.add('b');
  // One failing call spends the reserve: deposit (capped at 1), withdraw -> 0.
  await pool.run((c, call) => (call.attempt === 1 ? Promise.reject(new Error('x')) : c), { method: 'get' });
  for (let i = 0; i < 9; i++) {
    await pool.run((c) => c, { method: 'get' });
    if (readBetween) expect(pool.retryBudget).toBeDefined();
  }
  // The 10th deposit: balance is 1 (one multiplication) or 0.9999999999999999 (ten additions).
  const attempts: number[] = [];
  await pool.run((c, call) => {
    attempts.push(call.attempt);
    return call.attempt === 1 ? Promise.reject(new Error('y')) : c;
  }, { method: 'get' }).catch(() => undefined);
  const budget = pool.retryBudget;
  await pool.close();
  return { attempts, budget };
}

describe('retry budget: reading it changes nothing', () => {
  it('RetryBudget: reading the balance between deposits does not change whether a withdrawal is allowed', () => {
    expect(budgetDecision(true)).toEqual(budgetDecision(false));
  });

  it('pool: polling pool.retryBudget between calls does not change whether a later call may retry', { timeout: 5000 }, async () => {
    const polled = await poolDecision(true);
    const unpolled = await poolDecision(false);
    expect(polled.attempts).toEqual(unpolled.attempts);
  });

  it('pool: label-only calls and general-path calls feed the budget alike (one deposit each)', { timeout: 5000 }, async () => {
    const run = async (extra: object): Promise<unknown> => {
      const pool = new ClientPool<string>({ retry: { attempts: 2, backoff: { initial: 0, jitter: 'none' } }, retryBudget: { ratio: 0.25, reserve: 2 }, breaker: false });
      pool.add('a');
      for (let i = 0; i < 3; i++) await pool.run(() => Promise.reject(new Error('x')), { method: 'm', ...extra }).catch(() => undefined);
      for (let i = 0; i < 4; i++) await pool.run((c) => c, { method: 'm', ...extra });
      const b = pool.retryBudget;
      await pool.close();
      return b;
    };
    expect(await run({})).toEqual(await run({ maxWait: 1_000 }));
  });

  it('ratio 0 with a huge number of calls keeps the balance at what is left', () => {
    const budget = new RetryBudget({ ratio: 0, reserve: 3 });
    for (let i = 0; i < 1_000_000; i++) budget.deposit();
    expect(budget.balance).toBe(3);
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.balance).toBe(2);
  });

  it('a fractional ratio never lets the balance exceed the reserve', () => {
    const budget = new RetryBudget({ ratio: 0.3, reserve: 2.5 });
    for (let i = 0; i < 1000; i++) budget.deposit();
    expect(budget.balance).toBe(2.5);
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    expect(budget.refused).toBe(1);
  });
});
