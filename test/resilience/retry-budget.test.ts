import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { RetryBudget } from '../../src/resilience/retry-budget.js';

describe('RetryBudget', () => {
  it('starts with reserve tokens: 10 by default, and deposits 0.1 per call', () => {
    const budget = new RetryBudget();
    expect(budget).toMatchObject({ ratio: 0.1, reserve: 10, balance: 10, refused: 0 });
  });

  it('a quiet period banks no more than reserve: the balance is capped', () => {
    const budget = new RetryBudget({ ratio: 0.5, reserve: 3 });
    for (let i = 0; i < 100; i++) budget.deposit();
    expect(budget.balance).toBe(3);
    const granted = [1, 2, 3, 4].map(() => budget.tryWithdraw());
    expect(granted).toEqual([true, true, true, false]);
  });

  it('each call deposits ratio of a token, each extra attempt withdraws one', () => {
    const budget = new RetryBudget({ ratio: 0.5, reserve: 3 });
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.balance).toBe(2);
    budget.deposit();
    expect(budget.balance).toBe(2.5);
  });

  it('a balance of exactly one token grants one attempt; less grants none and counts the refusal', () => {
    const budget = new RetryBudget({ ratio: 0.25, reserve: 1 });
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.balance).toBe(0);
    budget.deposit();
    budget.deposit();
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(false);
    expect(budget.tryWithdraw()).toBe(false);
    expect(budget.refused).toBe(2);
    expect(budget.balance).toBe(0.75);
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.refused).toBe(2);
  });

  it('a reserve of 0 and a ratio of 0 grant nothing', () => {
    const budget = new RetryBudget({ ratio: 0, reserve: 0 });
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('names retryBudget in the error for options that are not an object and for a misspelt key', () => {
    expect(() => new RetryBudget(5 as never)).toThrow(/^retryBudget must be an options object, got 5$/);
    expect(() => new RetryBudget({ ratoi: 0.2 } as never)).toThrow(/^retryBudget\.ratoi must be one of the known options \(ratio, reserve\)/);
  });

  it('validates its options, naming them', () => {
    expect(() => new RetryBudget(null as never)).toThrow(InvalidOptionError);
    expect(() => new RetryBudget({ ratio: -0.1 })).toThrow(/retryBudget\.ratio must be a finite number >= 0, got -0.1/);
    expect(() => new RetryBudget({ reserve: Number.NaN })).toThrow(/retryBudget\.reserve must be a finite number >= 0, got NaN/);
  });

  it('ten deposits of 0.1 make exactly one token: ratio x calls, not ten rounded additions (0.1 added ten times is 0.9999999999999999)', () => {
    const budget = new RetryBudget({ ratio: 0.1, reserve: 1 });
    expect(budget.tryWithdraw()).toBe(true);
    for (let i = 0; i < 10; i++) budget.deposit();
    expect(budget.balance).toBe(1);
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.refused).toBe(0);
  });

  it('deposits made before a read past the cap bank nothing: the cap holds however many calls it covers', () => {
    const budget = new RetryBudget({ ratio: 0.5, reserve: 2 });
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(true);
    for (let i = 0; i < 1000; i++) budget.deposit();
    expect([1, 2, 3].map(() => budget.tryWithdraw())).toEqual([true, true, false]);
  });

  it('property: over any run of calls and extra attempts, granted <= reserve + ratio x calls, and the balance stays in [0, reserve]', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 2, noNaN: true }), fc.integer({ min: 0, max: 20 }), fc.array(fc.boolean(), { maxLength: 300 }), (ratio, reserve, steps) => {
        const budget = new RetryBudget({ ratio, reserve });
        let calls = 0;
        let granted = 0;
        for (const isCall of steps) {
          if (isCall) {
            budget.deposit();
            calls++;
          } else if (budget.tryWithdraw()) granted++;
          expect(budget.balance).toBeGreaterThanOrEqual(0);
          expect(budget.balance).toBeLessThanOrEqual(reserve);
        }
        expect(granted).toBeLessThanOrEqual(reserve + ratio * calls + 1e-9);
      }),
    );
  });
});
