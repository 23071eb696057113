// The built-in circuit after 80d4526 tells "closed" by identity with the CLOSED singleton. Probed through
// the pool and directly: consecutive and failure-rate breakers (a slow-call rate opening on a success),
// half-open probes, reset, trip, a clock stepping back while open, and custom breakers from the `breaker`
// factory (a Circuit subclass, a breaker of the user's own whose closed state is not the singleton).
import { describe, expect, it, vi } from 'vitest';
import { CLOSED, Circuit, ClientPool, ConsecutiveBreaker, failureRate, FailureRateBreaker, type Breaker, type CircuitState, type PoolOptions, type TripPolicy } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake', quietWarnings: true });

interface Fake {
  readonly id: string;
}

const fail = (): Promise<never> => Promise.reject(new Error('down'));

function poolOf(clock: ManualClock, options: PoolOptions<Fake>, names: readonly string[] = ['a']): { pool: ClientPool<Fake>; changes: string[] } {
  const pool = new ClientPool<Fake>({ clock, ...options });
  for (const name of names) pool.add({ id: name }, { name });
  const changes: string[] = [];
  pool.onStateChange((change) => changes.push(`${change.client} ${change.from.kind}->${change.to.kind}`));
  return { pool, changes };
}

const code = async (call: Promise<unknown>): Promise<string> => {
  try {
    return `value ${String(await call)}`;
  } catch (error) {
    return `error ${(error as { code?: string }).code ?? String(error)}`;
  }
};

describe('the consecutive breaker through the pool', () => {
  it('opens after maxFailures, refuses while cooling, probes once cooled, closes on the probe: back to the CLOSED singleton', async () => {
    const clock = new ManualClock();
    const { pool, changes } = poolOf(clock, { breaker: { maxFailures: 2, cooldown: 100 } });
    expect(pool.members()[0]!.state).toBe(CLOSED);
    expect(await code(pool.run(fail))).toBe('error ERR_CLIENT_CALL');
    expect(pool.members()[0]!.state).toBe(CLOSED);
    expect(await code(pool.run(fail))).toBe('error ERR_CLIENT_CALL');
    expect(pool.members()[0]!.state.kind).toBe('open');
    expect(await code(pool.run(() => 'x'))).toBe('error ERR_ALL_CIRCUITS_OPEN');
    clock.advance(100);
    expect(await code(pool.run(() => 'probe'))).toBe('value probe');
    expect(pool.members()[0]!.state).toBe(CLOSED);
    expect(changes).toEqual(['a closed->open', 'a open->half-open', 'a half-open->closed']);
    // Closed again: counts start over (one failure does not reopen it).
    expect(await code(pool.run(fail))).toBe('error ERR_CLIENT_CALL');
    expect(pool.members()[0]!.state).toBe(CLOSED);
    await pool.close();
  });

  it('a success between failures starts the count again, however many times', async () => {
    const clock = new ManualClock();
    const { pool, changes } = poolOf(clock, { breaker: { maxFailures: 2 } });
    for (let i = 0; i < 10; i++) {
      await code(pool.run(fail));
      await code(pool.run(() => 'ok'));
    }
    expect(changes).toEqual([]);
    await pool.close();
  });

  it('two half-open probes: the second failing reopens with a longer cooldown (multiplier 2), the next two closing it', async () => {
    const clock = new ManualClock();
    const { pool, changes } = poolOf(clock, { breaker: { maxFailures: 1, cooldown: 100, halfOpenProbes: 2, cooldownMultiplier: 2 } });
    await code(pool.run(fail));
    clock.advance(100);
    expect(await code(pool.run(() => 'p1'))).toBe('value p1');
    expect(pool.members()[0]!.state.kind).toBe('half-open');
    expect(await code(pool.run(fail))).toBe('error ERR_CLIENT_CALL');
    const reopened = pool.members()[0]!.state;
    expect(reopened).toMatchObject({ kind: 'open', until: 300, trips: 2 });
    clock.advance(199);
    expect(await code(pool.run(() => 'x'))).toBe('error ERR_ALL_CIRCUITS_OPEN');
    clock.advance(1);
    expect(await code(pool.run(() => 'p1'))).toBe('value p1');
    expect(await code(pool.run(() => 'p2'))).toBe('value p2');
    expect(pool.members()[0]!.state).toBe(CLOSED);
    expect(changes).toEqual(['a closed->open', 'a open->half-open', 'a half-open->open', 'a open->half-open', 'a half-open->closed']);
    await pool.close();
  });

  it('a call admitted before the circuit opened decides nothing when it ends in the open or half-open state', async () => {
    const clock = new ManualClock();
    const { pool, changes } = poolOf(clock, { breaker: { maxFailures: 1, cooldown: 100 } });
    let release!: () => void;
    const early = pool.run(() => new Promise<string>((resolve) => (release = () => resolve('late'))));
    await code(pool.run(fail));
    expect(pool.members()[0]!.state.kind).toBe('open');
    release();
    expect(await early).toBe('late');
    expect(pool.members()[0]!.state.kind).toBe('open');
    clock.advance(100);
    let releaseProbe!: () => void;
    const probe = pool.run(() => new Promise<string>((resolve) => (releaseProbe = () => resolve('probe'))));
    expect(pool.members()[0]!.state.kind).toBe('half-open');
    releaseProbe();
    expect(await probe).toBe('probe');
    expect(pool.members()[0]!.state).toBe(CLOSED);
    expect(changes).toEqual(['a closed->open', 'a open->half-open', 'a half-open->closed']);
    await pool.close();
  });
});

describe('the failure-rate breaker through the pool', () => {
  it('opens at the failure ratio once the window holds minimumThroughput calls', async () => {
    const clock = new ManualClock();
    const { pool, changes } = poolOf(clock, { breaker: failureRate({ threshold: 0.5, window: { kind: 'count', size: 4 }, minimumThroughput: 4, cooldown: 100 }) });
    await code(pool.run(fail));
    await code(pool.run(() => 'ok'));
    await code(pool.run(() => 'ok'));
    expect(pool.members()[0]!.state).toBe(CLOSED);
    await code(pool.run(fail));
    expect(changes).toEqual(['a closed->open']);
    await pool.close();
  });

  it('a slow-call rate opens the circuit on a success, and a slow probe reopens it', async () => {
    const clock = new ManualClock();
    const { pool, changes } = poolOf(clock, { breaker: failureRate({ window: { kind: 'count', size: 2 }, minimumThroughput: 2, slowCallDuration: 10, slowCallThreshold: 1, cooldown: 100 }) });
    const slow = (): Promise<string> =>
      new Promise<string>((resolve) => {
        clock.advance(20);
        setTimeout(() => resolve('slow'), 0);
      });
    const first = pool.run(slow);
    await vi.advanceTimersByTimeAsync(0);
    expect(await first).toBe('slow');
    expect(pool.members()[0]!.state).toBe(CLOSED);
    const second = pool.run(slow);
    await vi.advanceTimersByTimeAsync(0);
    expect(await second).toBe('slow');
    expect(pool.members()[0]!.state.kind).toBe('open');
    clock.advance(100);
    const probe = pool.run(slow);
    await vi.advanceTimersByTimeAsync(0);
    expect(await probe).toBe('slow');
    expect(pool.members()[0]!.state.kind).toBe('open');
    clock.advance(200);
    expect(await code(pool.run(() => 'fast'))).toBe('value fast');
    expect(pool.members()[0]!.state).toBe(CLOSED);
    expect(changes).toEqual(['a closed->open', 'a open->half-open', 'a half-open->open', 'a open->half-open', 'a half-open->closed']);
    await pool.close();
  });
});

describe('a clock that steps back while the circuit is open', () => {
  it('does not lock the client out for the step: the cooldown is measured again from the earlier time', async () => {
    const clock = new ManualClock();
    clock.time = 10_000;
    const { pool, changes } = poolOf(clock, { breaker: { maxFailures: 1, cooldown: 100 } });
    await code(pool.run(fail));
    expect(pool.members()[0]!.state).toMatchObject({ kind: 'open', until: 10_100 });
    clock.time = 0;
    expect(await code(pool.run(() => 'x'))).toBe('error ERR_ALL_CIRCUITS_OPEN');
    clock.advance(100);
    expect(await code(pool.run(() => 'back'))).toBe('value back');
    expect(pool.members()[0]!.state).toBe(CLOSED);
    expect(changes[0]).toBe('a closed->open');
    expect(changes.slice(-2)).toEqual(['a open->half-open', 'a half-open->closed']);
    await pool.close();
  });
});

describe('the Circuit directly', () => {
  it('reset() from open and from half-open goes back to the CLOSED singleton, and counts start over', () => {
    const clock = new ManualClock();
    const breaker = new ConsecutiveBreaker({ maxFailures: 2, cooldown: 50 }, clock);
    breaker.failure('call', 0);
    breaker.failure('call', 0);
    expect(breaker.state.kind).toBe('open');
    breaker.reset();
    expect(breaker.state).toBe(CLOSED);
    expect(breaker.acquire()).toBe('call');
    breaker.failure('call', 0);
    expect(breaker.state).toBe(CLOSED);
    breaker.failure('call', 0);
    clock.advance(50);
    expect(breaker.acquire()).toBe('probe');
    expect(breaker.state.kind).toBe('half-open');
    breaker.reset();
    expect(breaker.state).toBe(CLOSED);
    expect(breaker.canAcquire()).toBe(true);
    // The probe that was in flight settles after the reset: it decides nothing.
    breaker.failure('probe', 0);
    expect(breaker.state).toBe(CLOSED);
  });

  it('trip() from closed opens it; a success or failure of a plain call while open changes nothing', () => {
    const clock = new ManualClock();
    const breaker = new FailureRateBreaker({ window: { kind: 'count', size: 2 }, minimumThroughput: 2, cooldown: 10 }, clock);
    breaker.trip(30, 3);
    expect(breaker.state).toMatchObject({ kind: 'open', until: 30, trips: 3 });
    breaker.failure('call', 0);
    breaker.failure('call', 0);
    breaker.success('call', 0);
    expect(breaker.state).toMatchObject({ kind: 'open', until: 30, trips: 3 });
    expect(breaker.acquire()).toBe(false);
    clock.advance(30);
    expect(breaker.acquire()).toBe('probe');
    breaker.success('probe', 0);
    expect(breaker.state).toBe(CLOSED);
  });

  it('a Circuit with a policy of the user\'s: closed is the singleton from the start, and opening on a success works', () => {
    const clock = new ManualClock();
    let successes = 0;
    const policy: TripPolicy = {
      usesDuration: false,
      onSuccess: () => ++successes >= 3,
      onFailure: () => false,
      isGoodProbe: () => true,
      reset: () => {
        successes = 0;
      },
    };
    const circuit = new Circuit(policy, { probes: 1, after: () => 10 } as unknown as ConstructorParameters<typeof Circuit>[1], clock);
    expect(circuit.state).toBe(CLOSED);
    circuit.success('call', 0);
    circuit.success('call', 0);
    expect(circuit.state).toBe(CLOSED);
    circuit.success('call', 0);
    expect(circuit.state.kind).toBe('open');
  });
});

describe('custom breakers from the `breaker` factory', () => {
  it('a ConsecutiveBreaker made by the factory on the pool\'s clock opens and closes as the built-in one', async () => {
    const clock = new ManualClock();
    const { pool, changes } = poolOf(clock, { breaker: ({ clock: c }) => new ConsecutiveBreaker({ maxFailures: 1, cooldown: 10 }, c) });
    await code(pool.run(fail));
    clock.advance(10);
    expect(await code(pool.run(() => 'ok'))).toBe('value ok');
    expect(changes).toEqual(['a closed->open', 'a open->half-open', 'a half-open->closed']);
    await pool.close();
  });

  it('a breaker of the user\'s whose closed state is its own object (not CLOSED): calls flow, and opening and closing are heard', async () => {
    const clock = new ManualClock();
    const makeBreaker = (): Breaker => {
      const closed: CircuitState = { kind: 'closed' };
      let state: CircuitState = closed;
      let failures = 0;
      return {
        get state() {
          return state;
        },
        acquire: () => (state.kind === 'open' ? (clock.now() >= state.until ? ((state = closed), 'call') : false) : 'call'),
        canAcquire: () => state.kind !== 'open' || clock.now() >= state.until,
        success: () => {
          failures = 0;
        },
        failure: () => {
          if (++failures >= 2) state = { kind: 'open', until: clock.now() + 50, trips: 1 };
        },
        release: () => undefined,
      };
    };
    const { pool, changes } = poolOf(clock, { breaker: makeBreaker });
    expect(await code(pool.run(() => 'ok'))).toBe('value ok');
    await code(pool.run(fail));
    await code(pool.run(fail));
    expect(await code(pool.run(() => 'x'))).toBe('error ERR_ALL_CIRCUITS_OPEN');
    clock.advance(50);
    expect(await code(pool.run(() => 'again'))).toBe('value again');
    // Its own closed object is not CLOSED, yet no closed -> closed transition is reported: only real ones.
    expect(changes).toEqual(['a closed->open', 'a open->closed']);
    await pool.close();
  });
});
