import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FailureRateBreaker, failureRate, type FailureRateBreakerOptions } from '../../src/breaker/failure-rate.js';
import { AllCircuitsOpenError, ClientPool, CLOSED, InvalidOptionError, seededRandom, type PoolOptions, type Admission, type CircuitState, type StateChange } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

type Settled = Exclude<Admission, false>;

/** A breaker on a manual clock starting at 0. */
function setup(options: FailureRateBreakerOptions): { breaker: FailureRateBreaker; clock: ManualClock } {
  const clock = new ManualClock();
  return { breaker: new FailureRateBreaker(options, clock), clock };
}

/**
 * Run a script of space-separated steps on a closed breaker: `S` success and `F` failure taking 0 ms,
 * `s` and `f` the same taking 1 000 ms, `e` and `E` the same taking exactly 100 ms, `N` a success of unmeasured
 * duration (NaN), `+ms` a clock advance. Returns the 1-based number of the outcome after which the circuit
 * was open, or `null` if it stayed closed.
 */
function opensAt(options: FailureRateBreakerOptions, script: string): number | null {
  const { breaker, clock } = setup(options);
  let outcomes = 0;
  for (const step of script.split(' ')) {
    if (step.startsWith('+')) {
      clock.advance(Number(step.slice(1)));
      continue;
    }
    expect(breaker.acquire()).toBe('call');
    outcomes++;
    const duration = { S: 0, F: 0, s: 1_000, f: 1_000, e: 100, E: 100, N: Number.NaN }[step];
    if (duration === undefined) throw new Error(`bad step ${step}`);
    if (step === 'F' || step === 'f' || step === 'E') breaker.failure('call', duration);
    else breaker.success('call', duration);
    if (breaker.state.kind === 'open') return outcomes;
  }
  return null;
}

const repeat = (step: string, n: number): string => Array.from({ length: n }, () => step).join(' ');

const count = (size: number, rest: FailureRateBreakerOptions = {}): FailureRateBreakerOptions => ({ window: { kind: 'count', size }, ...rest });
// Ten buckets of 100 ms: an outcome counts until the clock passes the tenth bucket boundary after it.
const time = (rest: FailureRateBreakerOptions = {}): FailureRateBreakerOptions => ({ window: { kind: 'time', ms: 1_000, buckets: 10 }, ...rest });

const tripCases: [string, FailureRateBreakerOptions, string, number | null][] = [
  // minimumThroughput
  ['below minimumThroughput: 9 failures of 9 do not trip', count(20, { minimumThroughput: 10 }), repeat('F', 9), null],
  ['the 10th failure reaches minimumThroughput and trips', count(20, { minimumThroughput: 10 }), repeat('F', 12), 10],
  ['default minimumThroughput is 10', time(), repeat('F', 12), 10],
  ['default minimumThroughput is the size of a smaller count window', count(4), repeat('F', 5), 4],
  // threshold, checked after every outcome
  ['exactly at threshold 0.5 trips (5 of 10)', count(10), 'S F S F S F S F S F', 10],
  ['just below threshold 0.5 does not (4 of 10)', count(10), 'S F S F S F S F S S', null],
  ['exactly at threshold 0.28 trips (7 of 25, though 0.28 * 25 > 7 in floating point)', count(25, { threshold: 0.28, minimumThroughput: 25 }), `${repeat('F', 7)} ${repeat('S', 18)}`, 25],
  ['just below threshold 0.28 does not (6 of 25)', count(25, { threshold: 0.28, minimumThroughput: 25 }), `${repeat('F', 6)} ${repeat('S', 19)}`, null],
  ['a success that brings throughput to the minimum may trip', count(10), `${repeat('F', 5)} ${repeat('S', 5)}`, 10],
  ['threshold 1 needs every call failed', count(4, { threshold: 1 }), 'F F F S F F F F', 8],
  // count window
  ['count window of 6 still holds the first failure (3 of 6)', count(6, { minimumThroughput: 5 }), 'F F S S S F', 6],
  ['count window of 5 has forgotten it (2 of 5)', count(5), 'F F S S S F', null],
  ['count window after many wraps holds only the last calls', count(5, { threshold: 0.6 }), `F F ${repeat('S', 50)} F F`, null],
  ['... and trips on the third recent failure', count(5, { threshold: 0.6 }), `F F ${repeat('S', 50)} F F F`, 55],
  // time window, 1 000 ms in 10 buckets of 100 ms
  ['time window: a failure 999 ms old still counts', time({ minimumThroughput: 2 }), 'F +999 S', 2],
  ['time window: forgotten at 1 000 ms', time({ minimumThroughput: 2 }), 'F +1000 S S', null],
  ['time window: at bucket granularity, forgotten after 950 ms when it fell late in its bucket', time({ minimumThroughput: 2 }), '+50 F +950 S S', null],
  ['time window: 900 ms old, in the oldest live bucket, still counts', time({ minimumThroughput: 2 }), '+99 F +900 S', 2],
  ['time window: counts add up across buckets', time({ minimumThroughput: 4 }), 'F +100 F +100 S +100 S', 4],
  ['time window: a jump far past the window forgets all', time({ minimumThroughput: 3 }), 'F F +5000 S S F', null],
  ['time window: buckets expire one by one (the first failure is gone at 1 050 ms)', time({ minimumThroughput: 3 }), 'F +400 S +400 S +250 F', null],
  ['time window: ... whereas at 950 ms the same calls trip', time({ minimumThroughput: 3 }), 'F +400 S +400 S +150 F', 4],
  // slow calls
  ['slow successes trip at slowCallThreshold', count(4, { slowCallDuration: 100, slowCallThreshold: 0.5 }), 's S s S', 4],
  ['below slowCallThreshold does not', count(4, { slowCallDuration: 100, slowCallThreshold: 0.5 }), 's S S S S s', null],
  ['a call of exactly slowCallDuration is not slow', count(4, { slowCallDuration: 100, slowCallThreshold: 0.5 }), 'e e e e', null],
  ['a failure of exactly slowCallDuration is not slow', count(4, { threshold: 1, slowCallDuration: 100, slowCallThreshold: 0.5 }), 'S E S E', null],
  ['an unmeasured duration (NaN) is not slow', count(4, { slowCallDuration: 100, slowCallThreshold: 0.25 }), 'N N N N N', null],
  ['slowCallThreshold defaults to 1: every call slow', count(4, { slowCallDuration: 100 }), 's s s S s s s s', 8],
  ['slow failures count as failures too', count(4, { slowCallDuration: 100, slowCallThreshold: 1 }), 'f S f S', 4],
  ['without slowCallDuration nothing is slow', count(4), 's s s s s', null],
];

describe('FailureRateBreaker trips', () => {
  it.each(tripCases)('%s', (_label, options, script, expected) => {
    expect(opensAt(options, script)).toBe(expected);
  });

  it('opens with trips 1 for `cooldown` ms, refusing calls until `until` exactly', () => {
    const { breaker, clock } = setup(count(2, { cooldown: 500 }));
    clock.advance(1_000);
    breaker.failure(breaker.acquire() as Settled, 0);
    breaker.failure(breaker.acquire() as Settled, 0);
    expect(breaker.state).toEqual({ kind: 'open', until: 1_500, trips: 1 });
    clock.advance(499);
    expect(breaker.canAcquire()).toBe(false);
    expect(breaker.acquire()).toBe(false);
    clock.advance(1);
    expect(breaker.canAcquire()).toBe(true);
    expect(breaker.acquire()).toBe('probe');
    expect(breaker.state).toEqual({ kind: 'half-open', trips: 1 });
  });

  it('reads no clock while closed with a count window, and only on outcomes with a time window', () => {
    let reads = 0;
    const clock = { now: (): number => ++reads };
    const counted = new FailureRateBreaker(count(10), clock);
    for (let i = 0; i < 20; i++) counted.success(counted.acquire() as Settled, Number.NaN);
    expect(counted.canAcquire()).toBe(true);
    expect(reads).toBe(0);
    const timed = new FailureRateBreaker(time(), clock);
    for (let i = 0; i < 20; i++) timed.success(timed.acquire() as Settled, Number.NaN);
    expect(timed.canAcquire()).toBe(true);
    expect(reads).toBe(20);
  });

  it('asks the pool for durations only when it counts slow calls', () => {
    expect(new FailureRateBreaker().usesDuration).toBe(false);
    expect(new FailureRateBreaker({ slowCallDuration: 1_000 }).usesDuration).toBe(true);
  });
});

/** Trip a count-window breaker of size 2 with two failures. */
function tripped(options: FailureRateBreakerOptions): { breaker: FailureRateBreaker; clock: ManualClock } {
  const made = setup({ window: { kind: 'count', size: 2 }, cooldown: 100, ...options });
  made.breaker.failure(made.breaker.acquire() as Settled, 0);
  made.breaker.failure(made.breaker.acquire() as Settled, 0);
  expect(made.breaker.state.kind).toBe('open');
  return made;
}

describe('FailureRateBreaker half-open', () => {
  it('admits one probe by default; its success closes with an empty window', () => {
    const { breaker, clock } = tripped({});
    clock.advance(100);
    expect(breaker.acquire()).toBe('probe');
    expect(breaker.canAcquire()).toBe(false);
    expect(breaker.acquire()).toBe(false);
    breaker.success('probe', 0);
    expect(breaker.state).toBe(CLOSED);
    // The two failures that tripped it are gone: one new failure is below minimumThroughput.
    breaker.failure(breaker.acquire() as Settled, 0);
    expect(breaker.state).toBe(CLOSED);
  });

  it('admits halfOpenProbes probes in all, and closes only when all of them succeed', () => {
    const { breaker, clock } = tripped({ halfOpenProbes: 3 });
    clock.advance(100);
    expect([breaker.acquire(), breaker.acquire(), breaker.acquire(), breaker.acquire()]).toEqual(['probe', 'probe', 'probe', false]);
    breaker.success('probe', 0);
    const halfOpen = breaker.state;
    expect(halfOpen.kind).toBe('half-open');
    // A succeeded probe does not hand its permit on: two more verdicts are due, from the two in flight.
    expect(breaker.canAcquire()).toBe(false);
    expect(breaker.acquire()).toBe(false);
    breaker.release('probe');
    // A released probe gave no verdict: its permit returns.
    expect(breaker.acquire()).toBe('probe');
    breaker.success('probe', 0);
    expect(breaker.state).toBe(halfOpen);
    breaker.success('probe', 0);
    expect(breaker.state).toBe(CLOSED);
  });

  it.each([
    ['a failed probe', (b: FailureRateBreaker) => b.failure('probe', 0)],
    ['a slow probe success', (b: FailureRateBreaker) => b.success('probe', 1_000)],
  ])('%s reopens with trips + 1; later verdicts of the period change nothing', (_label, verdict) => {
    const { breaker, clock } = tripped({ halfOpenProbes: 2, slowCallDuration: 500 });
    clock.advance(100);
    expect(breaker.acquire()).toBe('probe');
    expect(breaker.acquire()).toBe('probe');
    verdict(breaker);
    const reopened = breaker.state;
    expect(reopened).toEqual({ kind: 'open', until: 100 + 200, trips: 2 });
    breaker.success('probe', 0);
    expect(breaker.state).toBe(reopened);
  });

  it('an unmeasured (NaN) probe success counts as fast', () => {
    const { breaker, clock } = tripped({ slowCallDuration: 500 });
    clock.advance(100);
    breaker.success(breaker.acquire() as Settled, Number.NaN);
    expect(breaker.state).toBe(CLOSED);
  });

  it('outcomes of calls admitted before the circuit opened do not decide it', () => {
    const { breaker, clock } = setup({ window: { kind: 'count', size: 2 }, cooldown: 100 });
    const early = [breaker.acquire(), breaker.acquire()] as Settled[];
    breaker.failure(breaker.acquire() as Settled, 0);
    breaker.failure(breaker.acquire() as Settled, 0);
    const open = breaker.state;
    breaker.success(early[0]!, 0);
    expect(breaker.state).toBe(open);
    clock.advance(100);
    expect(breaker.acquire()).toBe('probe');
    const halfOpen = breaker.state;
    breaker.failure(early[1]!, 0);
    expect(breaker.state).toBe(halfOpen);
    breaker.success('probe', 0);
    expect(breaker.state).toBe(CLOSED);
  });

  it('every transition is a new state object; closed is the CLOSED singleton', () => {
    const { breaker, clock } = tripped({});
    const seen = new Set<CircuitState>([CLOSED]);
    for (let round = 0; round < 3; round++) {
      const open = breaker.state;
      expect(seen.has(open)).toBe(false);
      seen.add(open);
      clock.advance(10_000);
      breaker.acquire();
      expect(seen.has(breaker.state)).toBe(false);
      seen.add(breaker.state);
      breaker.failure('probe', 0);
    }
    clock.advance(10_000);
    breaker.success(breaker.acquire() as Settled, 0);
    expect(breaker.state).toBe(CLOSED);
  });
});

describe('FailureRateBreaker cooldown', () => {
  const cases: [string, FailureRateBreakerOptions, number[]][] = [
    ['doubles by default, capped at maxCooldown', { cooldown: 1_000, maxCooldown: 5_000 }, [1_000, 2_000, 4_000, 5_000, 5_000]],
    ['multiplier 1 keeps it fixed', { cooldown: 1_000, cooldownMultiplier: 1 }, [1_000, 1_000, 1_000]],
    ['multiplier 3, default cap 300 000', { cooldown: 50_000, cooldownMultiplier: 3 }, [50_000, 150_000, 300_000, 300_000]],
    ['maxCooldown below cooldown caps the first opening too', { cooldown: 1_000, maxCooldown: 400 }, [400, 400]],
  ];

  it.each(cases)('%s', (_label, options, expected) => {
    const { breaker, clock } = tripped(options);
    const cooldowns: number[] = [];
    for (;;) {
      const state = breaker.state;
      if (state.kind !== 'open') throw new Error('not open');
      cooldowns.push(state.until - clock.time);
      if (cooldowns.length === expected.length) break;
      clock.time = state.until;
      breaker.failure(breaker.acquire() as Settled, 0);
      expect(breaker.state).toMatchObject({ kind: 'open', trips: cooldowns.length + 1 });
    }
    expect(cooldowns).toEqual(expected);
  });

  it('trips reset when the circuit closes', () => {
    const { breaker, clock } = tripped({ cooldown: 1_000 });
    clock.advance(1_000);
    breaker.failure(breaker.acquire() as Settled, 0);
    expect(breaker.state).toMatchObject({ trips: 2, until: 3_000 });
    clock.advance(2_000);
    breaker.success(breaker.acquire() as Settled, 0);
    breaker.failure(breaker.acquire() as Settled, 0);
    breaker.failure(breaker.acquire() as Settled, 0);
    expect(breaker.state).toEqual({ kind: 'open', until: 4_000, trips: 1 });
  });

  it('a zero cooldown stays zero however many times it reopens', () => {
    const { breaker, clock } = tripped({ cooldown: 0 });
    for (let i = 0; i < 1_100; i++) breaker.failure(breaker.acquire() as Settled, 0);
    expect(breaker.state).toEqual({ kind: 'open', until: clock.time, trips: 1_101 });
    expect(breaker.acquire()).toBe('probe');
  });
});

const badOptions: [string, unknown, RegExp][] = [
  ['options not an object', 'fast', /^breaker must be an options object, got "fast"$/],
  ['threshold NaN', { threshold: Number.NaN }, /^breaker.threshold must be a number > 0 and <= 1, got NaN$/],
  ['threshold 0', { threshold: 0 }, /^breaker.threshold must be a number > 0 and <= 1, got 0$/],
  ['threshold > 1', { threshold: 1.5 }, /^breaker.threshold must be .*, got 1.5$/],
  ['threshold as percent', { threshold: 50 }, /^breaker.threshold .* got 50$/],
  ['threshold string', { threshold: '0.5' }, /^breaker.threshold .* got "0.5"$/],
  ['window not an object', { window: 10 }, /^breaker.window must be an options object, got 10$/],
  ['window null', { window: null }, /^breaker.window must be an options object, got null$/],
  ['window kind unknown', { window: { kind: 'sliding', size: 10 } }, /^breaker.window.kind must be one of "count", "time", got "sliding"$/],
  ['window kind missing', { window: { size: 10 } }, /^breaker.window.kind must be one of "count", "time", got undefined$/],
  ['count window size 0', { window: { kind: 'count', size: 0 } }, /^breaker.window.size must be an integer from 1 to 100000, got 0$/],
  ['count window size 2^31 (memory per client)', { window: { kind: 'count', size: 2 ** 31 } }, /^breaker.window.size must be an integer from 1 to 100000, got 2147483648$/],
  ['count window size fractional', { window: { kind: 'count', size: 2.5 } }, /^breaker.window.size .* got 2.5$/],
  ['count window size missing', { window: { kind: 'count' } }, /^breaker.window.size .* got undefined$/],
  ['time window ms 0', { window: { kind: 'time', ms: 0 } }, /^breaker.window.ms must be a duration in ms > 0 and <= 2147483647, got 0$/],
  ['time window ms NaN', { window: { kind: 'time', ms: Number.NaN } }, /^breaker.window.ms .* got NaN$/],
  ['time window ms Infinity', { window: { kind: 'time', ms: Infinity } }, /^breaker.window.ms .* got Infinity$/],
  ['time window ms above 2^31-1', { window: { kind: 'time', ms: 2 ** 31 } }, /^breaker.window.ms .* got 2147483648$/],
  ['time window buckets 0', { window: { kind: 'time', ms: 1_000, buckets: 0 } }, /^breaker.window.buckets must be an integer from 1 to 100000, got 0$/],
  ['time window buckets 1e300', { window: { kind: 'time', ms: 1_000, buckets: 1e300 } }, /^breaker.window.buckets must be an integer from 1 to 100000, got 1e\+300$/],
  ['minimumThroughput 0', { minimumThroughput: 0 }, /^breaker.minimumThroughput must be an integer >= 1, got 0$/],
  ['minimumThroughput NaN', { minimumThroughput: Number.NaN }, /^breaker.minimumThroughput .* got NaN$/],
  ['minimumThroughput above count window size', { window: { kind: 'count', size: 5 }, minimumThroughput: 6 }, /^breaker.minimumThroughput must be an integer from 1 to the window size \(5\), got 6$/],
  ['slowCallDuration 0', { slowCallDuration: 0 }, /^breaker.slowCallDuration must be a duration in ms > 0 and <= 2147483647, got 0$/],
  ['slowCallDuration negative', { slowCallDuration: -1 }, /^breaker.slowCallDuration .* got -1$/],
  ['slowCallDuration above 2^31-1', { slowCallDuration: 2 ** 31 }, /^breaker.slowCallDuration .* got 2147483648$/],
  ['slowCallThreshold without slowCallDuration', { slowCallThreshold: 0.5 }, /^breaker.slowCallDuration must be set when slowCallThreshold is, got undefined$/],
  ['slowCallThreshold > 1', { slowCallDuration: 100, slowCallThreshold: 2 }, /^breaker.slowCallThreshold must be a number > 0 and <= 1, got 2$/],
  ['slowCallThreshold NaN', { slowCallDuration: 100, slowCallThreshold: Number.NaN }, /^breaker.slowCallThreshold .* got NaN$/],
  ['halfOpenProbes 0', { halfOpenProbes: 0 }, /^breaker.halfOpenProbes must be an integer >= 1, got 0$/],
  ['cooldown negative', { cooldown: -1 }, /^breaker.cooldown must be a duration in ms >= 0 and <= 2147483647, got -1$/],
  ['cooldown NaN', { cooldown: Number.NaN }, /^breaker.cooldown .* got NaN$/],
  ['cooldownMultiplier < 1', { cooldownMultiplier: 0.5 }, /^breaker.cooldownMultiplier must be a finite number >= 1, got 0.5$/],
  ['maxCooldown Infinity', { maxCooldown: Infinity }, /^breaker.maxCooldown must be a duration in ms >= 0 and <= 2147483647, got Infinity$/],
];

describe('FailureRateBreaker options', () => {
  it.each(badOptions)('%s: InvalidOptionError at construction and from failureRate()', (_label, options, message) => {
    const construct = (): unknown => new FailureRateBreaker(options as FailureRateBreakerOptions);
    expect(construct).toThrow(InvalidOptionError);
    expect(construct).toThrow(message);
    expect(() => failureRate(options as FailureRateBreakerOptions)).toThrow(message);
  });

  it('names the option under the given prefix', () => {
    expect(() => new FailureRateBreaker({ threshold: 2 }, undefined, 'pool.breaker')).toThrow(/^pool.breaker.threshold /);
  });

  it('windows of up to 100 000 outcomes or buckets are accepted', () => {
    expect(() => new FailureRateBreaker({ window: { kind: 'count', size: 100_000 } })).not.toThrow();
    expect(() => new FailureRateBreaker({ window: { kind: 'time', ms: 100_000, buckets: 100_000 } })).not.toThrow();
  });

  it('options changed after failureRate() are validated again for each breaker, under "breaker"', () => {
    const options: { threshold: number } = { threshold: 0.5 };
    const factory = failureRate(options);
    options.threshold = 2;
    expect(() => factory({ clock: new ManualClock(), random: Math.random })).toThrow(/^breaker\.threshold must be a number > 0 and <= 1, got 2$/);
  });

  it('the factory makes one breaker per call, on the clock it is given', () => {
    const factory = failureRate({ window: { kind: 'count', size: 1 }, cooldown: 5 });
    const clock = new ManualClock();
    clock.time = 1_000;
    const a = factory({ clock, random: Math.random });
    const b = factory({ clock, random: Math.random });
    expect(a).not.toBe(b);
    a.failure(a.acquire() as Settled, 0);
    expect(a.state).toEqual({ kind: 'open', until: 1_005, trips: 1 });
    expect(b.state).toBe(CLOSED);
  });
});

// ---------------------------------------------------------------------------------------------------

type Command =
  | { readonly kind: 'acquire' }
  | { readonly kind: 'settle'; readonly index: number; readonly outcome: 'success' | 'failure' | 'release'; readonly duration: number }
  | { readonly kind: 'advance'; readonly ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.constant<Command>({ kind: 'acquire' }), weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      index: fc.nat(20),
      outcome: fc.constantFrom('success' as const, 'success' as const, 'failure' as const, 'release' as const),
      duration: fc.oneof(fc.constant(Number.NaN), fc.integer({ min: 0, max: 100 })),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400 }) }), weight: 1 },
);

type WindowModel = { readonly kind: 'count'; readonly size: number } | { readonly kind: 'time'; readonly ms: number; readonly buckets: number };

const windowModel: fc.Arbitrary<WindowModel> = fc.oneof(
  fc.record({ kind: fc.constant('count' as const), size: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 50, max: 1_000 }), buckets: fc.integer({ min: 1, max: 5 }) }),
);

const settings = fc.record({
  window: windowModel,
  minimumThroughput: fc.integer({ min: 1, max: 12 }),
  threshold: fc.integer({ min: 1, max: 20 }).map((n) => n / 20),
  slow: fc.option(fc.record({ duration: fc.integer({ min: 1, max: 90 }), threshold: fc.integer({ min: 1, max: 10 }).map((n) => n / 10) }), { nil: undefined }),
  probes: fc.integer({ min: 1, max: 3 }),
  cooldown: fc.integer({ min: 0, max: 1_000 }),
  multiplier: fc.constantFrom(1, 1.5, 2),
  maxCooldown: fc.integer({ min: 0, max: 3_000 }),
});

interface Recorded {
  readonly at: number;
  readonly failed: boolean;
  readonly slow: boolean;
}

describe('FailureRateBreaker state machine (property)', () => {
  it('matches a reference model: trips only at the window ratio, probes bounded, until honoured', () => {
    fc.assert(
      fc.property(settings, fc.array(command, { maxLength: 200, size: 'max' }), (s, commands) => {
        const minimumThroughput = s.window.kind === 'count' ? Math.min(s.minimumThroughput, s.window.size) : s.minimumThroughput;
        let now = 0;
        const breaker = new FailureRateBreaker(
          {
            window: s.window,
            minimumThroughput,
            threshold: s.threshold,
            ...(s.slow === undefined ? {} : { slowCallDuration: s.slow.duration, slowCallThreshold: s.slow.threshold }),
            halfOpenProbes: s.probes,
            cooldown: s.cooldown,
            cooldownMultiplier: s.multiplier,
            maxCooldown: s.maxCooldown,
          },
          { now: () => now },
        );
        const expectedCooldown = (trips: number): number => (s.cooldown === 0 ? 0 : Math.min(s.cooldown * s.multiplier ** (trips - 1), s.maxCooldown));
        const isSlow = (duration: number): boolean => s.slow !== undefined && duration > s.slow.duration;
        // The reference window: outcomes recorded while closed since the circuit last closed, filtered
        // by the documented window rule.
        let history: Recorded[] = [];
        const inWindow = (): Recorded[] => {
          const w = s.window;
          if (w.kind === 'count') return history.slice(-w.size);
          const width = w.ms / w.buckets;
          const newest = Math.floor(now / width);
          return history.filter((r) => Math.floor(r.at / width) > newest - w.buckets);
        };
        const admitted: Settled[] = [];
        let period: CircuitState | undefined; // the half-open state object of the current period
        let periodSuccesses = 0;

        for (const cmd of commands) {
          const before = breaker.state;
          if (cmd.kind === 'advance') {
            now += cmd.ms;
            continue;
          }
          if (cmd.kind === 'acquire') {
            const expectAdmit = breaker.canAcquire();
            const admission = breaker.acquire();
            expect(admission !== false).toBe(expectAdmit);
            if (before.kind === 'closed') expect(admission).toBe('call');
            if (before.kind === 'open' && now < before.until) expect(admission).toBe(false);
            if (before.kind === 'open' && now >= before.until) expect(breaker.state).toEqual({ kind: 'half-open', trips: before.trips });
            if (breaker.state.kind === 'half-open' && breaker.state !== period) {
              period = breaker.state;
              periodSuccesses = 0;
            }
            if (admission !== false) admitted.push(admission);
          } else if (admitted.length > 0) {
            const admission = admitted.splice(cmd.index % admitted.length, 1)[0]!;
            if (cmd.outcome === 'release') breaker.release(admission);
            else breaker[cmd.outcome](admission, cmd.duration);
            const after = breaker.state;
            if (cmd.outcome === 'release') {
              expect(after).toBe(before);
            } else if (admission === 'call' && before.kind === 'closed') {
              history.push({ at: now, failed: cmd.outcome === 'failure', slow: isSlow(cmd.duration) });
              const window = inWindow();
              const total = window.length;
              const failures = window.filter((r) => r.failed).length;
              const slow = window.filter((r) => r.slow).length;
              const shouldTrip = total >= minimumThroughput && (failures / total >= s.threshold || (s.slow !== undefined && slow / total >= s.slow.threshold));
              if (shouldTrip) expect(after).toEqual({ kind: 'open', until: now + expectedCooldown(1), trips: 1 });
              else expect(after).toBe(CLOSED);
            } else if (admission === 'probe' && before.kind === 'half-open') {
              if (cmd.outcome === 'failure' || isSlow(cmd.duration)) {
                expect(after).toEqual({ kind: 'open', until: now + expectedCooldown(before.trips + 1), trips: before.trips + 1 });
              } else if (++periodSuccesses === s.probes) {
                expect(after).toBe(CLOSED);
                history = [];
              } else {
                expect(after).toBe(before);
              }
            } else {
              // A call admitted before the circuit opened, or a probe of an earlier period: no verdict.
              expect(after).toBe(before);
            }
          }
          // Invariant: probes in flight never exceed the permits, nor the verdicts still due once some succeeded.
          const probesInFlight = admitted.filter((a) => a === 'probe').length;
          expect(probesInFlight).toBeLessThanOrEqual(s.probes);
          if (breaker.state.kind === 'half-open') expect(periodSuccesses + probesInFlight).toBeLessThanOrEqual(s.probes);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------

describe('FailureRateBreaker in a ClientPool', () => {
  /**
   * Two clients in round-robin, 100 calls 20 ms apart. `flaky` fails 60 % of its calls, drawn from a
   * seeded random in call order, so both pools see the same outcomes for the calls they send it.
   */
  async function scenario(breaker: NonNullable<PoolOptions<unknown>['breaker']>) {
    const clock = new ManualClock();
    const pool = new ClientPool<{ readonly name: string }>({ clock, breaker });
    pool.add({ name: 'flaky' }, { name: 'flaky' });
    pool.add({ name: 'steady' }, { name: 'steady' });
    const transitions: StateChange[] = [];
    pool.onStateChange((change) => transitions.push(change));
    const random = seededRandom(17);
    const calls = { flaky: 0, steady: 0 };
    let flakyFailures = 0;
    let run = 0;
    let longestRun = 0;
    for (let i = 0; i < 100; i++) {
      clock.advance(20);
      await pool
        .run((client) => {
          if (client.name === 'steady') {
            calls.steady++;
            return 'ok';
          }
          calls.flaky++;
          const fails = random() < 0.6;
          run = fails ? run + 1 : 0;
          longestRun = Math.max(longestRun, run);
          if (fails) {
            flakyFailures++;
            throw new Error('flaky');
          }
          return 'ok';
        })
        .catch(() => undefined);
    }
    const state = pool.members().find((m) => m.name === 'flaky')!.state;
    await pool.close();
    return { calls, transitions, state, flakyFailures, longestRun };
  }

  it('moves traffic away from a client failing 60 % of calls, which the consecutive breaker keeps', async () => {
    const consecutive = await scenario({ maxFailures: 5 });
    // Seed 17 (one of 9 among seeds 1 to 60) fails 62 % of the 50 calls yet never 5 in a row: the
    // consecutive breaker stays closed. With other seeds it trips now and then, and a lucky probe closes it.
    expect(consecutive.longestRun).toBe(4);
    expect(consecutive.flakyFailures / consecutive.calls.flaky).toBe(0.62);
    expect(consecutive.transitions).toEqual([]);
    expect(consecutive.calls).toEqual({ flaky: 50, steady: 50 });

    const rate = await scenario(failureRate({ threshold: 0.5, window: { kind: 'time', ms: 10_000 }, minimumThroughput: 10 }));
    expect(rate.transitions.map((t) => `${t.client}: ${t.from.kind} -> ${t.to.kind}`)).toEqual(['flaky: closed -> open']);
    expect(rate.state).toMatchObject({ kind: 'open', trips: 1 });
    // It took its first 10 calls (the minimum throughput) and then, past the threshold, none.
    expect(rate.calls.flaky).toBe(10);
    expect(rate.calls.steady).toBe(90);
  });

  it('slow calls through the pool trip it: the pool times calls for it', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<string>({ clock, breaker: failureRate({ window: { kind: 'count', size: 4 }, slowCallDuration: 100, slowCallThreshold: 0.5 }) });
    pool.add('only');
    for (const ms of [150, 10, 150, 10]) {
      await pool.run(() => {
        clock.advance(ms);
        return 'ok';
      });
    }
    expect(pool.members()[0]!.state).toMatchObject({ kind: 'open', trips: 1 });
    await expect(pool.run(() => 'ok')).rejects.toBeInstanceOf(AllCircuitsOpenError);
    await pool.close();
  });
});
