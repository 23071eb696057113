import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Circuit } from '../../src/breaker/circuit.js';
import { Cooldown, type CooldownOptions } from '../../src/breaker/cooldown.js';
import type { TripPolicy } from '../../src/breaker/trip-policy.js';
import { CLOSED, ConsecutiveBreaker, FailureRateBreaker, InvalidOptionError, type Admission, type Breaker, type CircuitState, type Clock } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

type Settled = Exclude<Admission, false>;

/** A kind the test steers: it opens the circuit on the outcome it is told, and logs what it was asked. */
class ScriptedPolicy implements TripPolicy {
  usesDuration = false;
  opensOn: 'success' | 'failure' | 'never' = 'failure';
  isProbeGood = true;
  readonly asked: string[] = [];

  onSuccess(durationMs: number): boolean {
    this.asked.push(`success ${durationMs}`);
    return this.opensOn === 'success';
  }

  onFailure(durationMs: number): boolean {
    this.asked.push(`failure ${durationMs}`);
    return this.opensOn === 'failure';
  }

  isGoodProbe(durationMs: number): boolean {
    this.asked.push(`probe ${durationMs}`);
    return this.isProbeGood;
  }

  reset(): void {
    this.asked.push('reset');
  }
}

/** A circuit on a manual clock at 1 000, 100 ms cooldown doubling per reopening unless told otherwise. */
function setup(options: CooldownOptions = {}): { circuit: Circuit; clock: ManualClock; policy: ScriptedPolicy } {
  const clock = new ManualClock();
  clock.time = 1_000;
  const policy = new ScriptedPolicy();
  const circuit = new Circuit(policy, new Cooldown({ cooldown: 100, ...options }, 'breaker', 2), clock);
  return { circuit, clock, policy };
}

/** Open it with one failure (the scripted policy opens on every failure), then let the cooldown pass. */
function halfOpenable(options: CooldownOptions = {}): ReturnType<typeof setup> {
  const made = setup(options);
  made.circuit.failure(made.circuit.acquire() as Settled, 0);
  expect(made.circuit.state).toMatchObject({ kind: 'open', trips: 1 });
  made.clock.time = (made.circuit.state as { until: number }).until;
  made.policy.asked.length = 0;
  return made;
}

describe('Circuit closed', () => {
  it('a closed circuit admits every call and gives each outcome, with its duration, to the policy', () => {
    const { circuit, policy } = setup();
    policy.opensOn = 'never';
    expect([circuit.acquire(), circuit.acquire(), circuit.acquire()]).toEqual(['call', 'call', 'call']);
    circuit.success('call', 5);
    circuit.failure('call', 7);
    circuit.release('call');
    expect(policy.asked).toEqual(['success 5', 'failure 7']);
    expect(circuit.state).toBe(CLOSED);
  });

  it.each(['failure', 'success'] as const)("the policy's verdict on a %s opens it with trips 1 for `cooldown` ms", (outcome) => {
    const { circuit, policy } = setup();
    policy.opensOn = outcome;
    circuit[outcome](circuit.acquire() as Settled, 0);
    expect(circuit.state).toEqual({ kind: 'open', until: 1_100, trips: 1 });
  });

  it('a closed circuit reads no clock: not to admit, not to count outcomes the policy keeps closed', () => {
    let reads = 0;
    const clock: Clock = { now: () => ++reads };
    const policy = new ScriptedPolicy();
    policy.opensOn = 'never';
    const circuit = new Circuit(policy, new Cooldown({}, 'breaker', 1), clock);
    for (let i = 0; i < 100; i++) {
      expect(circuit.canAcquire()).toBe(true);
      const admission = circuit.acquire() as Settled;
      if (i % 3 === 0) circuit.failure(admission, Number.NaN);
      else if (i % 3 === 1) circuit.success(admission, Number.NaN);
      else circuit.release(admission);
    }
    expect(reads).toBe(0);
  });

  it('asks the pool for durations when its policy needs them', () => {
    const policy = new ScriptedPolicy();
    expect(new Circuit(policy, new Cooldown({}, 'breaker', 1), new ManualClock()).usesDuration).toBe(false);
    policy.usesDuration = true;
    expect(new Circuit(policy, new Cooldown({}, 'breaker', 1), new ManualClock()).usesDuration).toBe(true);
  });
});

describe('Circuit open', () => {
  it('an open circuit refuses calls until `until` exactly; the next acquire turns it half-open', () => {
    const { circuit, clock } = setup();
    circuit.failure(circuit.acquire() as Settled, 0);
    const open = circuit.state;
    clock.time = 1_099;
    expect(circuit.canAcquire()).toBe(false);
    expect(circuit.acquire()).toBe(false);
    expect(circuit.state).toBe(open);
    clock.time = 1_100;
    expect(circuit.canAcquire()).toBe(true);
    expect(circuit.state).toBe(open);
    expect(circuit.acquire()).toBe('probe');
    expect(circuit.state).toEqual({ kind: 'half-open', trips: 1 });
  });

  it('a clock moving forward leaves the open state object as it is', () => {
    const { circuit, clock } = setup({ cooldown: 1_000 });
    circuit.failure(circuit.acquire() as Settled, 0);
    const open = circuit.state;
    for (let i = 0; i < 99; i++) {
      clock.advance(10);
      expect(circuit.acquire()).toBe(false);
      expect(circuit.canAcquire()).toBe(false);
    }
    expect(circuit.state).toBe(open);
  });
});

describe('Circuit half-open', () => {
  it('a half-open circuit admits at most halfOpenProbes calls', () => {
    const { circuit } = halfOpenable({ halfOpenProbes: 3 });
    expect([circuit.acquire(), circuit.acquire(), circuit.acquire(), circuit.acquire()]).toEqual(['probe', 'probe', 'probe', false]);
    expect(circuit.canAcquire()).toBe(false);
    // In all, not at once: a probe that succeeded does not hand its permit to another.
    circuit.success('probe', 0);
    expect(circuit.canAcquire()).toBe(false);
    expect(circuit.acquire()).toBe(false);
  });

  it('a released probe hands its permit back and decides nothing', () => {
    const { circuit, policy } = halfOpenable();
    expect(circuit.acquire()).toBe('probe');
    const halfOpen = circuit.state;
    circuit.release('probe');
    expect(circuit.state).toBe(halfOpen);
    expect(circuit.acquire()).toBe('probe');
    expect(policy.asked).toEqual([]);
  });

  it('closes only when all halfOpenProbes probes have succeeded, and then the policy forgets its counts', () => {
    const { circuit, policy } = halfOpenable({ halfOpenProbes: 2 });
    circuit.acquire();
    circuit.acquire();
    circuit.success('probe', 3);
    const halfOpen = circuit.state;
    expect(halfOpen.kind).toBe('half-open');
    expect(policy.asked).toEqual(['probe 3']);
    circuit.success('probe', 4);
    expect(circuit.state).toBe(CLOSED);
    expect(policy.asked).toEqual(['probe 3', 'probe 4', 'reset']);
  });

  it('a probe failure reopens with a grown cooldown, capped at maxCooldown', () => {
    const { circuit, clock } = halfOpenable({ maxCooldown: 300 });
    const cooldowns: number[] = [];
    for (let trips = 2; trips <= 4; trips++) {
      circuit.failure(circuit.acquire() as Settled, 0);
      const state = circuit.state;
      expect(state).toMatchObject({ kind: 'open', trips });
      if (state.kind !== 'open') throw new Error('not open');
      cooldowns.push(state.until - clock.time);
      clock.time = state.until;
    }
    expect(cooldowns).toEqual([200, 300, 300]);
  });

  it('a probe success the policy finds not good (slow) reopens it like a failed probe', () => {
    const { circuit, clock, policy } = halfOpenable();
    policy.isProbeGood = false;
    circuit.success(circuit.acquire() as Settled, 900);
    expect(circuit.state).toEqual({ kind: 'open', until: clock.time + 200, trips: 2 });
  });

  it('after the first probe failure, the other probes of that period decide nothing', () => {
    const { circuit } = halfOpenable({ halfOpenProbes: 3 });
    circuit.acquire();
    circuit.acquire();
    circuit.acquire();
    circuit.failure('probe', 0);
    const reopened = circuit.state;
    circuit.success('probe', 0);
    circuit.failure('probe', 0);
    expect(circuit.state).toBe(reopened);
  });

  it('outcomes of calls admitted before the circuit opened do not decide it, and the policy does not count them', () => {
    const { circuit, clock, policy } = setup();
    const early = [circuit.acquire(), circuit.acquire()] as Settled[];
    circuit.failure(circuit.acquire() as Settled, 0);
    const open = circuit.state;
    policy.asked.length = 0;
    circuit.failure(early[0]!, 0);
    expect(circuit.state).toBe(open);
    clock.time = 1_100;
    expect(circuit.acquire()).toBe('probe');
    const halfOpen = circuit.state;
    circuit.failure(early[1]!, 0);
    expect(circuit.state).toBe(halfOpen);
    expect(policy.asked).toEqual([]);
    circuit.success('probe', 0);
    expect(circuit.state).toBe(CLOSED);
  });

  it('trips start again from 1 once the circuit has closed', () => {
    const { circuit, clock } = halfOpenable();
    circuit.failure(circuit.acquire() as Settled, 0);
    expect(circuit.state).toMatchObject({ trips: 2 });
    clock.advance(200);
    circuit.success(circuit.acquire() as Settled, 0);
    circuit.failure(circuit.acquire() as Settled, 0);
    expect(circuit.state).toEqual({ kind: 'open', until: clock.time + 100, trips: 1 });
  });

  it('every transition is a new state object; closed is the CLOSED singleton', () => {
    const { circuit, clock } = halfOpenable();
    const seen = new Set<CircuitState>([CLOSED]);
    for (let round = 0; round < 3; round++) {
      circuit.acquire();
      expect(seen.has(circuit.state)).toBe(false);
      seen.add(circuit.state);
      circuit.failure('probe', 0);
      expect(seen.has(circuit.state)).toBe(false);
      seen.add(circuit.state);
      clock.advance(10_000);
    }
    circuit.success(circuit.acquire() as Settled, 0);
    expect(circuit.state).toBe(CLOSED);
  });
});

describe('Circuit and a clock that steps back', () => {
  const HOUR = 3_600_000;

  it('a clock stepping back 1 hour does not keep the circuit open for an hour', () => {
    const { circuit, clock } = setup({ cooldown: 1_000 });
    clock.time = 10 * HOUR;
    circuit.failure(circuit.acquire() as Settled, 0);
    const open = circuit.state;
    clock.time -= HOUR;
    expect(circuit.acquire()).toBe(false);
    // Measured from the earlier time: a new open state, one cooldown away.
    expect(circuit.state).not.toBe(open);
    expect(circuit.state).toEqual({ kind: 'open', until: 9 * HOUR + 1_000, trips: 1 });
    clock.advance(999);
    expect(circuit.acquire()).toBe(false);
    clock.advance(1);
    expect(circuit.acquire()).toBe('probe');
  });

  it('canAcquire re-measures the cooldown after a step back too, and agrees with acquire', () => {
    const { circuit, clock } = setup({ cooldown: 1_000 });
    clock.time = 10 * HOUR;
    circuit.failure(circuit.acquire() as Settled, 0);
    clock.time -= HOUR;
    expect(circuit.canAcquire()).toBe(false);
    clock.advance(1_000);
    expect(circuit.canAcquire()).toBe(true);
    expect(circuit.acquire()).toBe('probe');
  });

  it('a step back keeps the grown cooldown of the trip that opened it', () => {
    const { circuit, clock } = halfOpenable({ cooldown: 1_000 });
    circuit.failure(circuit.acquire() as Settled, 0);
    const reopenedAt = clock.time;
    clock.time = reopenedAt - HOUR;
    expect(circuit.acquire()).toBe(false);
    expect(circuit.state).toEqual({ kind: 'open', until: reopenedAt - HOUR + 2_000, trips: 2 });
  });

  it('with a zero cooldown, a step back admits a probe at once', () => {
    const { circuit, clock } = setup({ cooldown: 0 });
    clock.time = HOUR;
    circuit.failure(circuit.acquire() as Settled, 0);
    clock.time = 0;
    expect(circuit.canAcquire()).toBe(true);
    expect(circuit.acquire()).toBe('probe');
  });
});

describe('cooldown options', () => {
  const kinds = [
    ['ConsecutiveBreaker', (options: CooldownOptions) => new ConsecutiveBreaker(options, new ManualClock())],
    ['FailureRateBreaker', (options: CooldownOptions) => new FailureRateBreaker(options, new ManualClock())],
  ] as const;

  it.each(kinds)('%s: cooldown above 2^31-1 ms is refused', (_kind, make) => {
    expect(() => make({ cooldown: 2 ** 31 })).toThrow(InvalidOptionError);
    expect(() => make({ cooldown: 2 ** 31 })).toThrow(/^breaker.cooldown must be a duration in ms >= 0 and <= 2147483647, got 2147483648$/);
  });

  it.each(kinds)('%s: maxCooldown above 2^31-1 ms is refused', (_kind, make) => {
    expect(() => make({ maxCooldown: 2 ** 31 })).toThrow(InvalidOptionError);
    expect(() => make({ maxCooldown: 2 ** 31 })).toThrow(/^breaker.maxCooldown must be a duration in ms >= 0 and <= 2147483647, got 2147483648$/);
  });

  it('a cooldown of exactly 2^31-1 ms is accepted and honoured', () => {
    const clock = new ManualClock();
    const breaker = new ConsecutiveBreaker({ maxFailures: 1, cooldown: 2 ** 31 - 1 }, clock);
    breaker.failure(breaker.acquire() as Settled, 0);
    expect(breaker.state).toEqual({ kind: 'open', until: 2 ** 31 - 1, trips: 1 });
  });

  it('cooldownMultiplier defaults to 1 for the consecutive kind and 2 for the failure-rate kind', () => {
    const cooldowns = (breaker: Breaker, clock: ManualClock): number[] => {
      const seen: number[] = [];
      for (let i = 0; i < 3; i++) {
        const state = breaker.state;
        if (state.kind !== 'open') throw new Error('not open');
        seen.push(state.until - clock.time);
        clock.time = state.until;
        breaker.failure(breaker.acquire() as Settled, 0);
      }
      return seen;
    };
    const clock = new ManualClock();
    const consecutive = new ConsecutiveBreaker({ maxFailures: 1, cooldown: 100 }, clock);
    consecutive.failure(consecutive.acquire() as Settled, 0);
    expect(cooldowns(consecutive, clock)).toEqual([100, 100, 100]);
    const rate = new FailureRateBreaker({ window: { kind: 'count', size: 1 }, cooldown: 100 }, clock);
    rate.failure(rate.acquire() as Settled, 0);
    expect(cooldowns(rate, clock)).toEqual([100, 200, 400]);
  });
});

// ---------------------------------------------------------------------------------------------------

type Op =
  | { readonly kind: 'acquire' }
  | { readonly kind: 'settle'; readonly index: number; readonly outcome: 'success' | 'failure' | 'release'; readonly duration: number }
  | { readonly kind: 'time'; readonly ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant<Op>({ kind: 'acquire' }), weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      index: fc.nat(20),
      outcome: fc.constantFrom('success' as const, 'failure' as const, 'release' as const),
      duration: fc.constantFrom(0, 50, Number.NaN),
    }),
    weight: 4,
  },
  // Mostly forward, sometimes a step back of up to an hour.
  { arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 600 }), weight: 4 }, fc.integer({ min: -3_600_000, max: -1 })) }), weight: 2 },
);

const kind = fc.oneof(
  fc.record({ kind: fc.constant('consecutive' as const), maxFailures: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('failure-rate' as const),
    window: fc.oneof(
      fc.record({ kind: fc.constant('count' as const), size: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 10, max: 1_000 }), buckets: fc.integer({ min: 1, max: 4 }) }),
    ),
    threshold: fc.constantFrom(0.25, 0.5, 1),
    // Durations are 0, 50 or NaN: a slow-call duration of 10 makes the 50 ms successes slow.
    slowCallDuration: fc.option(fc.constant(10), { nil: undefined }),
  }),
);

const cooldownOptions = fc.record({
  halfOpenProbes: fc.integer({ min: 1, max: 3 }),
  cooldown: fc.integer({ min: 0, max: 1_000 }),
  cooldownMultiplier: fc.constantFrom(1, 1.5, 2),
  maxCooldown: fc.integer({ min: 0, max: 3_000 }),
});

describe('Circuit invariants (property)', () => {
  it('for any calls, outcomes and clock moves (back too) on either kind: probes bounded, states consistent, open admits nothing before until', () => {
    fc.assert(
      fc.property(kind, cooldownOptions, fc.array(op, { maxLength: 150, size: 'max' }), (k, c, ops) => {
        const clock = new ManualClock();
        clock.time = 3_600_000;
        const breaker: Breaker =
          k.kind === 'consecutive'
            ? new ConsecutiveBreaker({ ...c, maxFailures: k.maxFailures }, clock)
            : new FailureRateBreaker({ ...c, window: k.window, threshold: k.threshold, minimumThroughput: 1, ...(k.slowCallDuration === undefined ? {} : { slowCallDuration: k.slowCallDuration }) }, clock);
        const held: Settled[] = [];
        let periodSuccesses = 0;
        /** When the current open state began and how long its cooldown is, as the test saw it. */
        let opening = { at: 0, cooldown: 0 };

        for (const o of ops) {
          const before = breaker.state;
          if (o.kind === 'time') {
            clock.advance(o.ms);
          } else if (o.kind === 'acquire') {
            const expected = breaker.canAcquire();
            const admission = breaker.acquire();
            expect(admission !== false).toBe(expected);
            if (before.kind === 'closed') expect(admission).toBe('call');
            if (before.kind === 'open') {
              const steppedBack = clock.time < opening.at;
              if (!steppedBack) {
                // Open until `until` exactly.
                expect(breaker.state.kind).toBe(clock.time >= before.until ? 'half-open' : 'open');
                if (breaker.state.kind === 'open') expect(breaker.state).toBe(before);
              } else if (breaker.state.kind === 'open') {
                // Behind the opening: locked out for at most one cooldown from now.
                expect(breaker.state.until - clock.time).toBeLessThanOrEqual(opening.cooldown);
                expect(breaker.state.until - clock.time).toBeGreaterThan(0);
                expect(breaker.state.trips).toBe(before.trips);
              } else {
                expect(Math.min(before.until - clock.time, opening.cooldown)).toBeLessThanOrEqual(0);
              }
              if (admission !== false) expect(breaker.state.kind).toBe('half-open');
            }
            if (before.kind !== 'half-open' && breaker.state.kind === 'half-open') periodSuccesses = 0;
            if (admission !== false) held.push(admission);
          } else if (held.length > 0) {
            const admission = held.splice(o.index % held.length, 1)[0]!;
            if (o.outcome === 'release') breaker.release(admission);
            else breaker[o.outcome](admission, o.duration);
            const after = breaker.state;
            if (o.outcome === 'release' || before.kind === 'open' || (admission === 'call' && before.kind === 'half-open')) {
              // A release, or the outcome of a call from an earlier period: no verdict.
              expect(after).toBe(before);
            } else if (before.kind === 'half-open') {
              // A probe's verdict: a failure reopens; a success counts towards closing, or reopens if slow.
              if (after.kind === 'open') {
                expect(after.trips).toBe(before.trips + 1);
              } else {
                expect(o.outcome).toBe('success');
                expect(after).toBe(++periodSuccesses === c.halfOpenProbes ? CLOSED : before);
              }
              if (k.kind === 'consecutive' && o.outcome === 'success') expect(after.kind).not.toBe('open');
            } else if (after !== before) {
              expect(after).toMatchObject({ kind: 'open', trips: 1 });
            }
          }

          const state = breaker.state;
          if (state !== before && state.kind === 'open') opening = { at: clock.time, cooldown: state.until - clock.time };
          // States are consistent: closed is the singleton, trips count from 1, an open deadline is in reach.
          if (state.kind === 'closed') expect(state).toBe(CLOSED);
          else expect(Number.isInteger(state.trips) && state.trips >= 1).toBe(true);
          if (state.kind === 'open') expect(state.until - opening.at).toBeLessThanOrEqual(c.maxCooldown);
          // Probes in flight: what the test holds, never more than halfOpenProbes; a half-open circuit admits
          // exactly while those plus the period's successes leave a permit.
          const probes = held.filter((a) => a === 'probe').length;
          expect(probes).toBeLessThanOrEqual(c.halfOpenProbes);
          if (state.kind === 'half-open') {
            expect(probes + periodSuccesses).toBeLessThanOrEqual(c.halfOpenProbes);
            expect(breaker.canAcquire()).toBe(probes + periodSuccesses < c.halfOpenProbes);
          }
        }
        // Settling everything held leaves no probe in flight: a half-open circuit admits again.
        for (const admission of held.splice(0)) breaker.release(admission);
        if (breaker.state.kind === 'half-open') expect(breaker.canAcquire()).toBe(periodSuccesses < c.halfOpenProbes);
      }),
      { numRuns: 1_000 },
    );
  });
});
