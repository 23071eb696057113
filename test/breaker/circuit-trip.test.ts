import { describe, expect, it } from 'vitest';
import { ConsecutiveBreaker, FailureRateBreaker, ClientPool, type Breaker } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

// trip() and reset(): how a fleet opens and closes a circuit from outside (docs/fleet.md).

describe('Circuit.trip and reset', () => {
  it('trip(ms, trips) opens a closed circuit until now + ms with those trips; the cooldown after a failed probe grows from them', () => {
    const clock = new ManualClock();
    const breaker = new ConsecutiveBreaker({ maxFailures: 5, cooldown: 100, cooldownMultiplier: 2, maxCooldown: 10_000 }, clock);
    clock.time = 50;
    breaker.trip(300, 3);
    expect(breaker.state).toEqual({ kind: 'open', until: 350, trips: 3 });
    expect(breaker.acquire()).toBe(false);
    clock.time = 350;
    const probe = breaker.acquire();
    expect(probe).toBe('probe');
    breaker.failure('probe', Number.NaN);
    // Reopened with trips 4: 100 x 2^3.
    expect(breaker.state).toEqual({ kind: 'open', until: 350 + 800, trips: 4 });
  });

  it('trip while half-open ends the period: a probe of it that succeeds later decides nothing', () => {
    const clock = new ManualClock();
    const breaker = new ConsecutiveBreaker({ maxFailures: 1, cooldown: 100 }, clock);
    breaker.failure(breaker.acquire() as 'call', Number.NaN);
    clock.time = 100;
    const probe = breaker.acquire();
    expect(breaker.state.kind).toBe('half-open');
    breaker.trip(500, 2);
    breaker.success(probe as 'probe', Number.NaN);
    expect(breaker.state).toEqual({ kind: 'open', until: 600, trips: 2 });
  });

  it('reset closes an open circuit and forgets the failures counted', () => {
    const clock = new ManualClock();
    const breaker = new ConsecutiveBreaker({ maxFailures: 2, cooldown: 100 }, clock);
    breaker.failure(breaker.acquire() as 'call', Number.NaN);
    breaker.trip(100, 1);
    breaker.reset();
    expect(breaker.state.kind).toBe('closed');
    // The failure before the trip is forgotten: one more does not open it.
    breaker.failure(breaker.acquire() as 'call', Number.NaN);
    expect(breaker.state.kind).toBe('closed');
  });

  it('a failure-rate breaker has them too', () => {
    const clock = new ManualClock();
    const breaker = new FailureRateBreaker({ cooldown: 100 }, clock);
    breaker.trip(10, 1);
    expect(breaker.state.kind).toBe('open');
    breaker.reset();
    expect(breaker.state.kind).toBe('closed');
  });

  it('a breaker of your own keeps its trip() and reset() through the pool\'s guard, and a throwing one is only a warning', () => {
    const calls: string[] = [];
    const own = (): Breaker => ({
      state: { kind: 'closed' },
      acquire: () => 'call',
      canAcquire: () => true,
      success() {},
      failure() {},
      release() {},
      trip: (ms, trips) => void calls.push(`trip ${ms} ${trips}`),
      reset: () => {
        throw new Error('no reset');
      },
    });
    let host: { openCircuit(c: string, ms: number, trips?: number): void; closeCircuit(c: string): void } | undefined;
    const pool = new ClientPool<string>({
      breaker: own,
      fleet: {
        join: (h) => {
          host = h;
          return { opened() {}, closed() {}, paused() {}, healthChanged() {}, mayProbe: () => 0, mayCheck: () => true, leave: () => Promise.resolve() };
        },
      },
    });
    pool.add('x', { name: 'x' });
    host!.openCircuit('x', 20, 2);
    expect(calls).toEqual(['trip 20 2']);
    return pool.close();
  });
});
