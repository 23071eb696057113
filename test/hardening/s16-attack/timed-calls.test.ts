// Calls with a race (a timeout, a deadline, the caller's signal, a hedge) after 2680441: a race's promise
// now keeps its resolve and reject through an executor bound to the race, and the deadline lists store an
// only entry once. Probed as a user would: races started from inside other races (a call's function, an
// onStateChange or onRateLimit listener, a balancer's pick), functions that throw or return thenables,
// destroy() and close() at each point, and many calls with mixed delays settling in random orders.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { CHANNELS, ClientPool, type Balancer, type PoolMember, type PoolOptions, type RunOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake', quietWarnings: true });

interface Fake {
  readonly id: string;
}

const dateClock = { now: (): number => Date.now() };
const never = (): Promise<never> => new Promise<never>(() => undefined);
const after = <V>(ms: number, value: V): Promise<V> => new Promise<V>((resolve) => setTimeout(() => resolve(value), ms));

function poolOf(options: PoolOptions<Fake> = {}, names: readonly string[] = ['a', 'b']): ClientPool<Fake> {
  const pool = new ClientPool<Fake>({ clock: dateClock, breaker: false, ...options });
  for (const name of names) pool.add({ id: name }, { name });
  return pool;
}

/** How a promise ended, recorded as it settles (and how many times its handlers ran). */
interface Ending {
  text: string | undefined;
  count: number;
}
function track(promise: Promise<unknown>): Ending {
  const ending: Ending = { text: undefined, count: 0 };
  promise.then(
    (value) => {
      ending.count++;
      ending.text = `value ${String(value)}`;
    },
    (error: unknown) => {
      ending.count++;
      const cause = (error as { cause?: unknown }).cause;
      const code = (error as { code?: string }).code;
      // A client's own error reaches the caller as ClientCallError with it as the cause.
      ending.text = code === 'ERR_CLIENT_CALL' && cause instanceof Error ? `error ${String(cause)}` : `error ${code ?? String(error)}`;
    },
  );
  return ending;
}

const inFlight = (pool: ClientPool<Fake>): number[] => pool.members().map((m) => m.inFlight);

describe('a race started synchronously from inside another', () => {
  it("from inside a timed call's function: a timed, a deadlined, a signalled and a hedged call each end on their own", async () => {
    const pool = poolOf();
    const inner: Ending[] = [];
    const outer = track(
      pool.run(() => {
        inner.push(track(pool.run(never, { timeout: 30 })));
        inner.push(track(pool.run(never, { deadline: 40 })));
        const controller = new AbortController();
        inner.push(track(pool.run(never, { signal: controller.signal })));
        setTimeout(() => controller.abort(new Error('caller')), 50);
        inner.push(track(pool.run(() => after(70, 'hedged'), { hedge: { delay: 10 }, timeout: 100 })));
        return after(20, 'outer');
      }, { timeout: 25 }),
    );
    await vi.advanceTimersByTimeAsync(20);
    expect(outer.text).toBe('value outer');
    await vi.advanceTimersByTimeAsync(100);
    expect(inner.map((e) => e.text)).toEqual(['error ERR_TIMEOUT', 'error ERR_DEADLINE_EXCEEDED', 'error ERR_ABORTED', 'value hedged']);
    expect([outer, ...inner].every((e) => e.count === 1)).toBe(true);
    expect(inFlight(pool)).toEqual([0, 0]);
    await pool.close();
  });

  it('nested five deep, each with its own timeout: the inner ones time out first, the outer ones answer', async () => {
    const pool = poolOf();
    const endings = new Map<number, Ending>();
    const start = (depth: number): Promise<string> =>
      pool.run(() => {
        if (depth < 5) endings.set(depth + 1, track(start(depth + 1)));
        return depth >= 3 ? never() : after(5, `depth ${depth}`);
      }, { timeout: 10 * (6 - depth) });
    endings.set(1, track(start(1)));
    await vi.advanceTimersByTimeAsync(100);
    expect([1, 2, 3, 4, 5].map((depth) => endings.get(depth)!.text)).toEqual(['value depth 1', 'value depth 2', 'error ERR_TIMEOUT', 'error ERR_TIMEOUT', 'error ERR_TIMEOUT']);
    expect(inFlight(pool)).toEqual([0, 0]);
    await pool.close();
  });

  it("from inside an onStateChange listener (a timeout opened the circuit): the listener's timed calls time out and answer as asked", async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b' });
    const started: Ending[] = [];
    const changes: string[] = [];
    pool.onStateChange((change) => {
      changes.push(`${change.client} ${change.from.kind}->${change.to.kind}`);
      if (change.to.kind !== 'open') return;
      started.push(track(pool.run(never, { timeout: 15 })));
      started.push(track(pool.run(() => after(5, 'listener'), { timeout: 15, deadline: 50 })));
    });
    const first = track(pool.run(never, { timeout: 10 }));
    await vi.advanceTimersByTimeAsync(10);
    expect(first.text).toBe('error ERR_TIMEOUT');
    await vi.advanceTimersByTimeAsync(20);
    // The listener's first call opened the other circuit too, and the listener ran again for it.
    expect(changes.slice(0, 2)).toEqual(['a closed->open', 'b closed->open']);
    expect(started.map((e) => e.text).slice(0, 2)).toEqual(['error ERR_TIMEOUT', 'value listener']);
    expect(started.every((e) => e.count === 1)).toBe(true);
    expect(inFlight(pool)).toEqual([0, 0]);
    await pool.close();
  });

  it('from inside an onRateLimit listener: a timed call started there ends by its timeout', async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock, breaker: false, limit: { rate: 1, burst: 1 }, maxWait: 0 });
    pool.add({ id: 'a' }, { name: 'a' });
    const fromListener: Ending[] = [];
    pool.onRateLimit((event) => {
      if (fromListener.length === 0) fromListener.push(track(pool.run(never, { timeout: 20 })), track(pool.run(never, { deadline: 20 })));
      expect(event.rejected).toBe(true);
    });
    const first = track(pool.run(() => after(1, 'first'), { timeout: 50 }));
    const refused = track(pool.run(() => 'never runs', { timeout: 50 }));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(first.text).toBe('value first');
    expect(refused.text).toBe('error ERR_RATE_LIMITED');
    expect(fromListener.map((e) => e.text)).toEqual(['error ERR_RATE_LIMITED', 'error ERR_RATE_LIMITED']);
    expect(inFlight(pool)).toEqual([0]);
    await pool.close();
  });

  it("from inside a balancer's pick: the pick's own timed calls and the picked call all end right", async () => {
    const endings: Ending[] = [];
    const holder: { pool?: ClientPool<Fake> } = {};
    let depth = 0;
    const balancer: Balancer<Fake> = {
      pick: (ready: readonly PoolMember<Fake>[]) => {
        if (depth === 0 && endings.length < 4) {
          depth++;
          endings.push(track(holder.pool!.run(never, { timeout: 5 })), track(holder.pool!.run(() => after(1, 'in-pick'), { deadline: 5 })));
          depth--;
        }
        return ready[0]!;
      },
    };
    const pool = (holder.pool = poolOf({ strategy: balancer }));
    const outer = track(pool.run(() => after(3, 'outer'), { timeout: 10 }));
    await vi.advanceTimersByTimeAsync(20);
    expect(outer.text).toBe('value outer');
    expect(endings.map((e) => e.text)).toEqual(['error ERR_TIMEOUT', 'value in-pick']);
    expect(inFlight(pool)).toEqual([0, 0]);
    await pool.close();
  });
});

describe('a race started from inside a timeout as it expires', () => {
  it("from the timed-out attempt's abort listener (synchronously inside the expiry): a chain of five timeouts of one delay, 10 ms apart", async () => {
    const pool = poolOf({}, ['a']);
    const endings: Ending[] = [];
    const at: number[] = [];
    const start = (n: number): void => {
      endings.push(
        track(
          pool.run((_client, call) => {
            call.signal.addEventListener('abort', () => {
              at.push(Date.now());
              if (n < 5) start(n + 1);
            });
            return never();
          }, { timeout: 10 }),
        ),
      );
    };
    start(1);
    await vi.advanceTimersByTimeAsync(49);
    expect(endings.filter((e) => e.text !== undefined)).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(at).toEqual([10, 20, 30, 40, 50]);
    expect(endings.map((e) => e.text)).toEqual(Array.from({ length: 5 }, () => 'error ERR_TIMEOUT'));
    expect(inFlight(pool)).toEqual([0]);
    await pool.close();
  });

  it('from an onOutcome hook hearing the timeout: calls of the same and of other delays, several due at one tick, each ends once', async () => {
    const pool = poolOf({}, ['a', 'b']);
    const endings: Ending[] = [];
    let budget = 12;
    pool.use({
      name: 'restarts',
      onOutcome: (_call, outcome) => {
        if (outcome.kind !== 'failure' || budget <= 0) return;
        budget -= 3;
        endings.push(track(pool.run(never, { timeout: 10 })), track(pool.run(never, { timeout: 5 })), track(pool.run(() => after(3, 'quick'), { timeout: 10 })));
      },
    });
    const first = [track(pool.run(never, { timeout: 10 })), track(pool.run(never, { timeout: 10 }))];
    await vi.advanceTimersByTimeAsync(200);
    expect(first.map((e) => e.text)).toEqual(['error ERR_TIMEOUT', 'error ERR_TIMEOUT']);
    expect(endings).toHaveLength(12);
    expect(endings.every((e) => e.count === 1)).toBe(true);
    expect(endings.map((e) => e.text)).toEqual(Array.from({ length: 4 }, () => ['error ERR_TIMEOUT', 'error ERR_TIMEOUT', 'value quick']).flat());
    expect(inFlight(pool)).toEqual([0, 0]);
    await pool.close();
  });
});

describe('a race ended while it is being set up', () => {
  it('a signal aborted before the call, inside the function, and inside an execute middleware before next(): ERR_ABORTED each, once, slot back', async () => {
    const pool = poolOf({}, ['a']);
    const pre = new AbortController();
    pre.abort(new Error('before'));
    const inside = new AbortController();
    const inMiddleware = new AbortController();
    pool.use({
      name: 'aborts',
      execute: (call, next) => {
        if (call.options.signal === inMiddleware.signal) inMiddleware.abort(new Error('middleware'));
        return next(call);
      },
    });
    const endings = [
      track(pool.run(() => 'x', { signal: pre.signal, timeout: 10 })),
      track(
        pool.run(() => {
          inside.abort(new Error('inside'));
          return after(5, 'late');
        }, { signal: inside.signal, timeout: 10 }),
      ),
      track(pool.run(() => 'never runs', { signal: inMiddleware.signal, deadline: 10 })),
    ];
    await vi.advanceTimersByTimeAsync(20);
    expect(endings.map((e) => e.text)).toEqual(['error ERR_ABORTED', 'error ERR_ABORTED', 'error ERR_ABORTED']);
    expect(endings.every((e) => e.count === 1)).toBe(true);
    expect(inFlight(pool)).toEqual([0]);
    await pool.close();
  });

  it('an attempt-start subscriber that starts timed calls and then destroys the pool: every call, outer and inner, ends once', async () => {
    const pool = poolOf({}, ['a', 'b']);
    const inner: Ending[] = [];
    let starts = 0;
    let destroyed: Promise<void> | undefined;
    const onStart = (): void => {
      starts++;
      if (starts === 1) inner.push(track(pool.run(never, { timeout: 10 })), track(pool.run(never, { deadline: 10 })));
      if (starts === 3) destroyed = pool.destroy(new Error('from the subscriber'));
    };
    subscribe(CHANNELS.attemptStart, onStart);
    try {
      const outer = track(pool.run(() => after(5, 'outer'), { timeout: 10 }));
      await vi.advanceTimersByTimeAsync(20);
      await destroyed;
      expect([outer, ...inner].every((e) => e.count === 1)).toBe(true);
      expect(new Set([outer, ...inner].map((e) => e.text))).toEqual(new Set(['error ERR_POOL_CLOSED']));
    } finally {
      unsubscribe(CHANNELS.attemptStart, onStart);
    }
  });
});

describe("a timed call's function that misbehaves", () => {
  it('throws synchronously: the call fails with that error at once, before its timeout, and holds no slot', async () => {
    const pool = poolOf({}, ['a']);
    const boom = new Error('boom');
    const ending = track(
      pool.run(() => {
        throw boom;
      }, { timeout: 100, deadline: 200 }),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(ending.text).toBe('error Error: boom');
    expect(inFlight(pool)).toEqual([0]);
    await pool.close();
  });

  /** A thenable that is not a promise: `then` calls back (or not) as it likes, and returns nothing. */
  interface Thenable {
    then(ok: (value: string) => void, fail: (error: unknown) => void): void;
  }
  const thenables: readonly { name: string; make: () => Thenable; expected: string }[] = [
    { name: 'resolves synchronously in then()', make: () => ({ then: (ok) => ok('sync') }), expected: 'value sync' },
    { name: 'resolves later', make: () => ({ then: (ok) => void after(5, 'later').then(ok) }), expected: 'value later' },
    { name: 'never calls back', make: () => ({ then: () => undefined }), expected: 'error ERR_TIMEOUT' },
    { name: 'rejects', make: () => ({ then: (_ok, fail) => fail(new Error('thenable no')) }), expected: 'error Error: thenable no' },
    {
      name: 'throws from then()',
      make: () => ({
        then: () => {
          throw new Error('then threw');
        },
      }),
      expected: 'error Error: then threw',
    },
    { name: 'resolves twice and then rejects', make: () => ({ then: (ok, fail) => (ok('first'), ok('second'), fail(new Error('late'))) }), expected: 'value first' },
  ];
  for (const { name, make, expected } of thenables) {
    it(`returns a non-promise thenable that ${name}: ${expected}, and its slot comes back`, async () => {
      const pool = poolOf({}, ['a']);
      const ending = track(pool.run((): unknown => make(), { timeout: 50 }));
      await vi.advanceTimersByTimeAsync(60);
      expect(ending.text).toBe(expected);
      expect(ending.count).toBe(1);
      expect(inFlight(pool)).toEqual([0]);
      await pool.close();
    });
  }
});

describe('destroy() and close() at each point of timed calls', () => {
  it('destroy() with timed calls of one delay queued (head, middle, last): all fail with the destroy, none later times out', async () => {
    const pool = poolOf();
    const endings = [10, 10, 10, 20].map((timeout) => track(pool.run(never, { timeout })));
    expect(inFlight(pool)).toEqual([2, 2]);
    const destroyed = pool.destroy(new Error('going'));
    await vi.advanceTimersByTimeAsync(0);
    expect(new Set(endings.map((e) => e.text))).toEqual(new Set(['error ERR_POOL_CLOSED']));
    await destroyed;
    await vi.advanceTimersByTimeAsync(50);
    expect(endings.every((e) => e.count === 1)).toBe(true);
  });

  it('destroy() from inside a timeout (an onStateChange listener): the calls due at the same tick fail once (timed out: they were due), the later one with the destroy', async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock, breaker: { maxFailures: 1 } });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b' });
    let destroyed: Promise<void> | undefined;
    pool.onStateChange(() => {
      destroyed ??= pool.destroy(new Error('listener destroys'));
    });
    const endings = [track(pool.run(never, { timeout: 10 })), track(pool.run(never, { timeout: 10 })), track(pool.run(never, { timeout: 10 })), track(pool.run(never, { timeout: 30 }))];
    await vi.advanceTimersByTimeAsync(10);
    await destroyed;
    await vi.advanceTimersByTimeAsync(50);
    // The two others were already taken out as due with the first: they still expire after the destroy's clear().
    expect(endings.map((e) => e.text)).toEqual(['error ERR_TIMEOUT', 'error ERR_TIMEOUT', 'error ERR_TIMEOUT', 'error ERR_POOL_CLOSED']);
    expect(endings.every((e) => e.count === 1)).toBe(true);
  });

  it('close() waits for timed calls: those that answer answer, those that do not time out, then it resolves', async () => {
    const pool = poolOf();
    const endings = [track(pool.run(() => after(5, 'x'), { timeout: 10 })), track(pool.run(never, { timeout: 10 })), track(pool.run(never, { deadline: 15 }))];
    let isClosed = false;
    void pool.close().then(() => (isClosed = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(isClosed).toBe(false);
    await vi.advanceTimersByTimeAsync(5);
    expect(endings.map((e) => e.text)).toEqual(['value x', 'error ERR_TIMEOUT', 'error ERR_DEADLINE_EXCEEDED']);
    await vi.advanceTimersByTimeAsync(0);
    expect(isClosed).toBe(true);
  });

  it('a pool reused after every timed call settled: a new timed call in the emptied list still times out', async () => {
    const pool = poolOf({}, ['a']);
    for (let round = 0; round < 3; round++) {
      const answered = track(pool.run(() => after(1, round), { timeout: 10 }));
      await vi.advanceTimersByTimeAsync(1);
      expect(answered.text).toBe(`value ${round}`);
      const silent = track(pool.run(never, { timeout: 10 }));
      await vi.advanceTimersByTimeAsync(9);
      expect(silent.text).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(silent.text).toBe('error ERR_TIMEOUT');
    }
    await pool.close();
  });
});

interface Plan {
  readonly answerAt: number | undefined;
  readonly timeout: number | undefined;
  readonly deadline: number | undefined;
  readonly abortAt: number | undefined;
  readonly fails: boolean;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  // Answers at 5 mod 10, aborts at 7 mod 10, timeouts and deadlines at 0 mod 10: no ties.
  answerAt: fc.option(fc.integer({ min: 0, max: 12 }).map((k) => k * 10 + 5), { nil: undefined }),
  timeout: fc.option(fc.constantFrom(10, 20, 20, 50, 100), { nil: undefined }),
  deadline: fc.option(fc.constantFrom(10, 30, 50, 50, 100), { nil: undefined }),
  abortAt: fc.option(fc.integer({ min: 0, max: 12 }).map((k) => k * 10 + 7), { nil: undefined }),
  fails: fc.boolean(),
});

function expectedOf(plan: Plan, index: number): string {
  const ends: [number, string][] = [];
  if (plan.answerAt !== undefined) ends.push([plan.answerAt, plan.fails ? 'error Error: no' : `value ${index}`]);
  const timeout = plan.timeout ?? Infinity;
  const deadline = plan.deadline ?? Infinity;
  if (timeout !== Infinity || deadline !== Infinity) ends.push(timeout <= deadline ? [timeout, 'error ERR_TIMEOUT'] : [deadline, 'error ERR_DEADLINE_EXCEEDED']);
  if (plan.abortAt !== undefined) ends.push([plan.abortAt, 'error ERR_ABORTED']);
  ends.sort((x, y) => x[0] - y[0]);
  return ends[0]?.[1] ?? 'pending';
}

describe('as a property: many timed calls with mixed delays, settling in random orders', () => {
  it('each settles once, with the first of its answer, timeout, deadline and abort; in-flight back to 0; close() resolves', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(planArb, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 4 }), async (plans, clients) => {
        vi.setSystemTime(0);
        const pool = poolOf({}, Array.from({ length: clients }, (_, i) => `c${i}`));
        const endings = plans.map((plan, index) => {
          const controller = plan.abortAt === undefined ? undefined : new AbortController();
          if (controller !== undefined) setTimeout(() => controller.abort(new Error('caller')), plan.abortAt);
          const options: RunOptions<Fake> = {
            ...(plan.timeout === undefined ? {} : { timeout: plan.timeout }),
            ...(plan.deadline === undefined ? {} : { deadline: plan.deadline }),
            ...(controller === undefined ? {} : { signal: controller.signal }),
          };
          return track(
            pool.run(() => {
              if (plan.answerAt === undefined) return never();
              return new Promise<number>((resolve, reject) =>
                setTimeout(() => (plan.fails ? reject(new Error('no')) : resolve(index)), plan.answerAt),
              );
            }, options),
          );
        });
        await vi.advanceTimersByTimeAsync(200);
        const expected = plans.map(expectedOf);
        expect(endings.map((e) => e.text ?? 'pending')).toEqual(expected);
        for (const e of endings) expect(e.count).toBeLessThanOrEqual(1);
        const pending = expected.filter((x) => x === 'pending').length;
        expect(inFlight(pool).reduce((x, y) => x + y, 0)).toBe(pending);
        // Only a call with no race (no timeout, deadline nor signal) that never answers is still waiting:
        // destroy() cannot end it (documented); everything else is settled, and close() resolves.
        if (pending > 0) await pool.destroy(new Error('done'));
        else await pool.close();
        await vi.advanceTimersByTimeAsync(0);
        expect(endings.filter((e) => e.count !== 1).length).toBe(pending);
        expect(pool.isClosed).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

interface HedgePlan {
  /** When the first attempt answers (undefined: never). */
  readonly first: number | undefined;
  /** How long after its start the hedge answers (undefined: never). */
  readonly hedge: number | undefined;
  readonly delay: number;
  readonly deadline: number | undefined;
}

const hedgePlanArb: fc.Arbitrary<HedgePlan> = fc.record({
  // First answers at 3 mod 10, hedges at 4 mod 10 after a delay of 0 mod 10, deadlines at 5 mod 10: no ties.
  first: fc.option(fc.integer({ min: 0, max: 10 }).map((k) => k * 10 + 3), { nil: undefined }),
  hedge: fc.option(fc.integer({ min: 0, max: 6 }).map((k) => k * 10 + 4), { nil: undefined }),
  delay: fc.constantFrom(10, 20, 20, 40),
  deadline: fc.option(fc.constantFrom(15, 45, 85), { nil: undefined }),
});

function expectedHedge(plan: HedgePlan): string {
  const ends: [number, string][] = [];
  if (plan.first !== undefined) ends.push([plan.first, 'value first']);
  if (plan.hedge !== undefined && (plan.first === undefined || plan.first > plan.delay)) ends.push([plan.delay + plan.hedge, 'value hedge']);
  if (plan.deadline !== undefined) ends.push([plan.deadline, 'error ERR_DEADLINE_EXCEEDED']);
  ends.sort((x, y) => x[0] - y[0]);
  return ends[0]?.[1] ?? 'pending';
}

describe('as a property: many hedged calls with mixed hedge delays and deadlines', () => {
  it('each settles once with whichever of its attempts answers first, or its deadline; in-flight back to 0', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hedgePlanArb, { minLength: 1, maxLength: 20 }), async (plans) => {
        vi.setSystemTime(0);
        const pool = poolOf({ retryBudget: false }, ['a', 'b', 'c']);
        const endings = plans.map((plan) =>
          track(
            pool.run(
              (_client, call) => {
                const at = call.attempt === 1 ? plan.first : plan.hedge;
                return at === undefined ? never() : after(at, call.attempt === 1 ? 'first' : 'hedge');
              },
              { hedge: { delay: plan.delay }, ...(plan.deadline === undefined ? {} : { deadline: plan.deadline }) },
            ),
          ),
        );
        await vi.advanceTimersByTimeAsync(200);
        expect(endings.map((e) => e.text ?? 'pending')).toEqual(plans.map(expectedHedge));
        for (const e of endings) expect(e.count).toBeLessThanOrEqual(1);
        await pool.destroy(new Error('done'));
        await vi.advanceTimersByTimeAsync(0);
        expect(endings.every((e) => e.count === 1)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
