import { describe, expect, it } from 'vitest';
import { ConsecutiveBreaker, InvalidOptionError, type Admission, type Clock } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

type Settled = Exclude<Admission, false>;

describe('ConsecutiveBreaker', () => {
  it('opens after maxFailures failures in a row; a success in between starts the count again', () => {
    const clock = new ManualClock();
    const breaker = new ConsecutiveBreaker({ maxFailures: 3, cooldown: 100 }, clock);
    for (const outcome of ['failure', 'failure', 'success', 'failure', 'failure'] as const) breaker[outcome](breaker.acquire() as Settled, 0);
    expect(breaker.state.kind).toBe('closed');
    breaker.failure(breaker.acquire() as Settled, 0);
    expect(breaker.state).toEqual({ kind: 'open', until: 100, trips: 1 });
  });

  it('counts from zero again after the circuit closes', () => {
    const clock = new ManualClock();
    const breaker = new ConsecutiveBreaker({ maxFailures: 2, cooldown: 100 }, clock);
    breaker.failure(breaker.acquire() as Settled, 0);
    breaker.failure(breaker.acquire() as Settled, 0);
    clock.advance(100);
    breaker.success(breaker.acquire() as Settled, 0);
    breaker.failure(breaker.acquire() as Settled, 0);
    expect(breaker.state.kind).toBe('closed');
  });

  it('a probe success closes it however long it took: the kind does not count slow calls', () => {
    const clock = new ManualClock();
    const breaker = new ConsecutiveBreaker({ maxFailures: 1, cooldown: 100 }, clock);
    expect(breaker.usesDuration).toBe(false);
    breaker.failure(breaker.acquire() as Settled, 0);
    clock.advance(100);
    breaker.success(breaker.acquire() as Settled, 1e9);
    expect(breaker.state.kind).toBe('closed');
  });

  it("success('call', NaN) and failures below maxFailures read no clock", () => {
    let reads = 0;
    const clock: Clock = { now: () => ++reads };
    const breaker = new ConsecutiveBreaker({ maxFailures: 2 }, clock);
    for (let i = 0; i < 100; i++) {
      breaker.failure(breaker.acquire() as Settled, Number.NaN);
      breaker.success(breaker.acquire() as Settled, Number.NaN);
    }
    expect(breaker.canAcquire()).toBe(true);
    expect(reads).toBe(0);
  });

  it.each([
    ['options not an object', null, 'breaker must be an options object, got null'],
    ['maxFailures 0', { maxFailures: 0 }, 'breaker.maxFailures must be an integer >= 1, got 0'],
    ['maxFailures fractional', { maxFailures: 1.5 }, 'breaker.maxFailures must be an integer >= 1, got 1.5'],
    ['cooldownMultiplier below 1', { cooldownMultiplier: 0.5 }, 'breaker.cooldownMultiplier must be a finite number >= 1, got 0.5'],
  ])('refuses %s, naming the option', (_label, options, message) => {
    const construct = (): unknown => new ConsecutiveBreaker(options as never);
    expect(construct).toThrow(InvalidOptionError);
    expect(construct).toThrow(message);
  });

  it('names the option under the given prefix', () => {
    expect(() => new ConsecutiveBreaker({ maxFailures: 0 }, undefined, 'methods.m.breaker')).toThrow('methods.m.breaker.maxFailures must be an integer >= 1, got 0');
  });

  it('opens after 5 failures in a row by default', () => {
    const breaker = new ConsecutiveBreaker({}, new ManualClock());
    for (let i = 0; i < 4; i++) breaker.failure(breaker.acquire() as Settled, Number.NaN);
    expect(breaker.state.kind).toBe('closed');
    breaker.failure(breaker.acquire() as Settled, Number.NaN);
    expect(breaker.state.kind).toBe('open');
  });
});
