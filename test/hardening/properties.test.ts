/**
 * Properties: random sequences of successes, failures, aborts, clock jumps, client additions
 * and removals, run through a real ClientPool, against a model of what the pool promises.
 *
 * Mutation-checked (each mutation made by hand in src/, the file run, then src/ restored and
 * `git diff src/` checked empty):
 * - ConsecutiveBreaker admitting one probe too many (`<` to `<=` in canAcquire and `>=` to `>` in
 *   acquire): the half-open property fails within its first runs. (Changing acquire alone is not
 *   visible through the pool, which asks canAcquire first: an equivalent mutant at this level.)
 * - weightedRandom ignoring weights (`weights.set(member.slot, 1)`): the weighted-random limit fails;
 * - TokenBucket granting one token more than the burst (`> capacity` to `> capacity + interval`): the
 *   bucket property fails;
 * - RetryBudget withdrawing below one token (`< 1` to `< 0`): the retry-budget property fails.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AllCircuitsOpenError,
  ClientPool,
  NoClientsError,
  seededRandom,
  type CircuitState,
  type StrategyName,
} from '../../src/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';

interface Fake {
  readonly id: number;
}

/** Let every promise reaction run (no fake timers in the tests that use it). */
const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------------------------------------------
// Breakers: half-open probes bounded, an open client never picked while another is eligible.

type BreakerCommand =
  | { readonly kind: 'start' }
  | { readonly kind: 'settle'; readonly index: number; readonly isSuccess: boolean }
  | { readonly kind: 'abort'; readonly index: number }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'toggle'; readonly client: number };

const breakerCommand: fc.Arbitrary<BreakerCommand> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<BreakerCommand>({ kind: 'start' }) },
  // Failures outnumber successes, so that circuits open often.
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('settle' as const), index: fc.nat(), isSuccess: fc.integer({ min: 0, max: 9 }).map((n) => n < 4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), index: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 300 }) }, { weight: 1, arbitrary: fc.constant(1_000_000) }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('toggle' as const), client: fc.nat(3) }) },
);

/** One stint of a client in the pool: added, perhaps removed (and then draining), never reused. */
interface Stint {
  readonly client: Fake;
  readonly name: string;
  isPresent: boolean;
  inFlight: number;
  probesInFlight: number;
  /** The half-open state object its probe successes count towards, and how many it has had. */
  period: CircuitState | undefined;
  periodSuccesses: number;
  successes: number;
  failures: number;
  cancelled: number;
}

interface Running {
  readonly stint: Stint;
  readonly isProbe: boolean;
  readonly answer: ReturnType<typeof deferred<string>>;
  readonly controller: AbortController;
}

const STRATEGIES: readonly StrategyName[] = ['round-robin', 'weighted-random', 'random', 'smooth-weighted-round-robin', 'least-in-flight', 'p2c-ewma'];

/** Whether the model says `stint` may take a call now, given its circuit state just before. */
function isEligible(stint: Stint, state: CircuitState, now: number, probes: number): boolean {
  if (state.kind === 'closed') return true;
  if (state.kind === 'open' && now < state.until) return false;
  // A half-open period admits `probes` in all: its probe successes keep their permits.
  return stint.probesInFlight + (state === stint.period ? stint.periodSuccesses : 0) < probes;
}

describe('properties', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a breaker never admits more than its probes while half-open, and an open client is never picked while another is eligible', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxFailures: fc.integer({ min: 1, max: 3 }),
          cooldown: fc.integer({ min: 0, max: 200 }),
          halfOpenProbes: fc.integer({ min: 1, max: 3 }),
          cooldownMultiplier: fc.integer({ min: 1, max: 3 }),
        }),
        fc.constantFrom(...STRATEGIES),
        fc.integer(),
        fc.array(breakerCommand, { maxLength: 300, size: 'max' }),
        async (breaker, strategy, seed, commands) => {
          const clock = new ManualClock();
          const pool = new ClientPool<Fake>({ clock, random: seededRandom(seed), strategy, breaker });
          const clients = [0, 1, 2, 3].map((id) => ({ id }));
          const present = new Map<number, Stint>();
          const running: Running[] = [];
          const removals: Promise<void>[] = [];
          const results: Promise<unknown>[] = [];
          const add = (client: Fake): void => {
            const name = `c${client.id}`;
            pool.add(client, { name, weight: 1 + client.id });
            present.set(client.id, { client, name, isPresent: true, inFlight: 0, probesInFlight: 0, period: undefined, periodSuccesses: 0, successes: 0, failures: 0, cancelled: 0 });
          };
          for (const client of clients) add(client);

          const finish = (call: Running, outcome: 'successes' | 'failures' | 'cancelled'): void => {
            call.stint.inFlight--;
            if (call.isProbe) call.stint.probesInFlight--;
            call.stint[outcome]++;
          };

          for (const command of commands) {
            switch (command.kind) {
              case 'start': {
                const before = new Map(pool.members().map((m) => [m.name, m.state]));
                const eligible = [...present.values()].filter((s) => isEligible(s, before.get(s.name)!, clock.time, breaker.halfOpenProbes));
                let picked: Fake | undefined;
                const answer = deferred<string>();
                const controller = new AbortController();
                const result = pool.run(
                  (client) => {
                    picked = client;
                    return answer.promise;
                  },
                  { signal: controller.signal },
                );
                results.push(result.catch(() => undefined));
                // The function runs synchronously in run() when a client is ready.
                if (picked === undefined) {
                  const error = await result.catch((e: unknown) => e);
                  expect(error).toBeInstanceOf(pool.size === 0 ? NoClientsError : AllCircuitsOpenError);
                  expect(eligible.map((s) => s.name)).toEqual([]);
                  break;
                }
                const stint = present.get(picked.id);
                // Never a removed client, never one the model says is out.
                expect(stint?.name).toBeDefined();
                expect(eligible.map((s) => s.name)).toContain(stint!.name);
                const isProbe = before.get(stint!.name)!.kind !== 'closed';
                stint!.inFlight++;
                if (isProbe) stint!.probesInFlight++;
                // The half-open bound: in-flight probes never exceed halfOpenProbes.
                expect(stint!.probesInFlight).toBeLessThanOrEqual(breaker.halfOpenProbes);
                running.push({ stint: stint!, isProbe, answer, controller });
                break;
              }
              case 'settle': {
                if (running.length === 0) break;
                const call = running.splice(command.index % running.length, 1)[0]!;
                const state = pool.members().find((m) => m.name === call.stint.name && call.stint.isPresent)?.state;
                if (command.isSuccess) call.answer.resolve('ok');
                else call.answer.reject(new Error('upstream failed'));
                await drain();
                finish(call, command.isSuccess ? 'successes' : 'failures');
                if (call.isProbe && command.isSuccess && state?.kind === 'half-open') {
                  if (call.stint.period !== state) call.stint.periodSuccesses = 0;
                  call.stint.period = state;
                  call.stint.periodSuccesses++;
                }
                break;
              }
              case 'abort': {
                if (running.length === 0) break;
                const call = running.splice(command.index % running.length, 1)[0]!;
                call.controller.abort(new Error('caller gave up'));
                await drain();
                finish(call, 'cancelled');
                break;
              }
              case 'advance':
                clock.advance(command.ms);
                break;
              case 'toggle': {
                const stint = present.get(command.client);
                if (stint === undefined) add(clients[command.client]!);
                else {
                  stint.isPresent = false;
                  present.delete(command.client);
                  removals.push(pool.remove(stint.client));
                }
                break;
              }
            }
            // The pool's counts are the model's, for every client in the pool.
            const members = pool.members();
            expect(members.map((m) => m.name).sort()).toEqual([...present.values()].map((s) => s.name).sort());
            for (const member of members) {
              const stint = [...present.values()].find((s) => s.name === member.name)!;
              expect([member.inFlight, member.successes, member.failures, member.cancelled]).toEqual([stint.inFlight, stint.successes, stint.failures, stint.cancelled]);
            }
          }

          // Wind down: every call ends, every removal resolves (its calls drained), nothing is left pending.
          for (const call of running.splice(0)) call.answer.resolve('late');
          await Promise.all(removals);
          await Promise.all(results);
          expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
          await pool.close();
        },
      ),
      { numRuns: 200 },
    );
  });

  // -------------------------------------------------------------------------------------------------
  // Weights honoured in the limit.

  it('weighted-random picks each ready client in proportion to its weight, after any adds and removes', async () => {
    const PICKS = 20_000;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: 0.1, max: 10, noNaN: true }), { minLength: 2, maxLength: 6 }),
        fc.array(fc.nat(5), { maxLength: 12, size: 'max' }),
        fc.integer(),
        async (weights, toggles, seed) => {
          const pool = new ClientPool<Fake>({ strategy: 'weighted-random', random: seededRandom(seed), breaker: false });
          const clients = weights.map((_, id) => ({ id }));
          const present = new Set<number>();
          for (const client of clients) {
            pool.add(client, { name: `c${client.id}`, weight: weights[client.id]! });
            present.add(client.id);
          }
          for (const toggle of toggles) {
            const id = toggle % clients.length;
            if (present.has(id)) {
              await pool.remove(`c${id}`);
              present.delete(id);
            } else {
              pool.add(clients[id]!, { name: `c${id}`, weight: weights[id]! });
              present.add(id);
            }
          }
          if (present.size === 0) return;
          const counts = new Array<number>(clients.length).fill(0);
          const calls: Promise<unknown>[] = [];
          for (let i = 0; i < PICKS; i++) calls.push(pool.run((client) => counts[client.id]!++));
          await Promise.all(calls);
          const total = [...present].reduce((sum, id) => sum + weights[id]!, 0);
          for (let id = 0; id < clients.length; id++) {
            if (!present.has(id)) {
              expect(counts[id]).toBe(0);
              continue;
            }
            const p = weights[id]! / total;
            // Six standard deviations of the binomial count: a false alarm about once in 500 million.
            expect(Math.abs(counts[id]! - PICKS * p)).toBeLessThanOrEqual(6 * Math.sqrt(PICKS * p * (1 - p)) + 1);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('smooth-weighted-round-robin gives each client exactly its weight in every cycle of sum(weights) picks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 4 }), async (weights, cycles) => {
        const pool = new ClientPool<Fake>({ strategy: 'smooth-weighted-round-robin', breaker: false });
        weights.forEach((weight, id) => pool.add({ id }, { name: `c${id}`, weight }));
        const total = weights.reduce((a, b) => a + b, 0);
        for (let cycle = 0; cycle < cycles; cycle++) {
          const counts = new Array<number>(weights.length).fill(0);
          for (let i = 0; i < total; i++) await pool.run((client) => counts[client.id]!++);
          expect(counts).toEqual(weights);
        }
      }),
      { numRuns: 100 },
    );
  });

  // -------------------------------------------------------------------------------------------------
  // Token buckets: never more than burst + rate x t, pool-wide and per client, waiting or not.

  type LimitCommand =
    | { readonly kind: 'call'; readonly pause: number }
    | { readonly kind: 'abort'; readonly index: number }
    | { readonly kind: 'advance'; readonly ms: number };

  const limitCommand: fc.Arbitrary<LimitCommand> = fc.oneof(
    // A few calls ask the pool to pause their client, as a 429 with Retry-After would.
    { weight: 12, arbitrary: fc.record({ kind: fc.constant('call' as const), pause: fc.oneof({ weight: 19, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 500 }) }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), index: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 100 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 5_000 }) }) }) },
  );

  /**
   * Any rate, including those whose token interval (1000 / rate ms) does not add up exactly in floating
   * point: they once made the pool spin forever (test/limit/pool-and-client-limits.test.ts).
   */
  const anyRate = fc.integer({ min: 1, max: 50 });

  it('the token buckets never grant more than burst + rate x t, through the pool, with waits, aborts, pauses and clock jumps', async () => {
    vi.useFakeTimers();
    await fc.assert(
      fc.asyncProperty(
        fc.record({ rate: anyRate, burst: fc.integer({ min: 1, max: 20 }) }),
        fc.array(fc.option(fc.record({ rate: anyRate, burst: fc.integer({ min: 1, max: 10 }) }), { nil: undefined }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 2_000 }),
        fc.array(limitCommand, { maxLength: 300, size: 'max' }),
        async (limit, clientLimits, maxWait, commands) => {
          vi.clearAllTimers();
          vi.setSystemTime(0);
          const pool = new ClientPool<Fake>({ clock: { now: () => Date.now() }, limit, maxWait, breaker: false });
          clientLimits.forEach((clientLimit, id) => pool.add({ id }, clientLimit === undefined ? { name: `c${id}` } : { name: `c${id}`, limit: clientLimit }));
          let granted = 0;
          const grantedBy = new Array<number>(clientLimits.length).fill(0);
          const controllers: AbortController[] = [];
          const results: Promise<unknown>[] = [];
          const violations: string[] = [];
          for (const command of commands) {
            if (command.kind === 'advance') await vi.advanceTimersByTimeAsync(command.ms);
            else if (command.kind === 'abort') controllers[command.index % Math.max(1, controllers.length)]?.abort();
            else {
              const controller = new AbortController();
              controllers.push(controller);
              const result = pool.run(
                (client, call) => {
                  // Checked here, recorded, and asserted outside: the pool would turn a throw into a call failure.
                  const t = Date.now() / 1_000;
                  granted++;
                  grantedBy[client.id]!++;
                  if (granted > limit.burst + limit.rate * t + 1e-9) violations.push(`pool: ${granted} granted at ${t} s`);
                  const own = clientLimits[client.id];
                  if (own !== undefined && grantedBy[client.id]! > own.burst + own.rate * t + 1e-9) violations.push(`c${client.id}: ${grantedBy[client.id]} granted at ${t} s`);
                  if (command.pause > 0) call.pauseClient(command.pause);
                },
                { signal: controller.signal },
              );
              results.push(result.catch(() => undefined));
              await Promise.resolve();
            }
            expect(violations).toEqual([]);
          }
          // Every waiting call ends: nothing is left pending, and close() leaves no timer. (maxWait bounds
          // each wait, the pool token's and a client's, not their sum: so up to twice maxWait.)
          let isSettled = false;
          void Promise.all(results).then(() => (isSettled = true));
          for (let i = 0; i < 4 && !isSettled; i++) await vi.advanceTimersByTimeAsync(maxWait + 1);
          expect(isSettled).toBe(true);
          expect(violations).toEqual([]);
          await pool.close();
          expect(vi.getTimerCount()).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  // -------------------------------------------------------------------------------------------------
  // The retry budget: extra attempts never exceed reserve + ratio x calls.

  type RetryCommand =
    | { readonly kind: 'call' }
    | { readonly kind: 'abort'; readonly index: number }
    | { readonly kind: 'advance'; readonly ms: number }
    | { readonly kind: 'toggle'; readonly client: number };

  const retryCommand: fc.Arbitrary<RetryCommand> = fc.oneof(
    { weight: 6, arbitrary: fc.constant<RetryCommand>({ kind: 'call' }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), index: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 300 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('toggle' as const), client: fc.nat(3) }) },
  );

  it('retries and hedges never exceed reserve + ratio x calls, counted as attempts through the pool', async () => {
    vi.useFakeTimers();
    await fc.assert(
      fc.asyncProperty(
        fc.record({ ratio: fc.double({ min: 0, max: 1, noNaN: true }), reserve: fc.integer({ min: 0, max: 10 }) }),
        fc.record({ attempts: fc.integer({ min: 1, max: 5 }), initial: fc.integer({ min: 0, max: 50 }) }),
        fc.option(fc.record({ delay: fc.integer({ min: 1, max: 50 }), maxHedges: fc.integer({ min: 1, max: 2 }) }), { nil: undefined }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }),
        fc.integer(),
        fc.array(retryCommand, { maxLength: 200, size: 'max' }),
        async (budget, retry, hedge, failureRates, seed, commands) => {
          vi.clearAllTimers();
          vi.setSystemTime(0);
          const random = seededRandom(seed);
          const pool = new ClientPool<Fake>({
            clock: { now: () => Date.now() },
            random: seededRandom(seed + 1),
            breaker: { maxFailures: 3, cooldown: 100 },
            retry: { attempts: retry.attempts, backoff: { initial: retry.initial, max: 100 } },
            retryBudget: budget,
            ...(hedge === undefined ? {} : { hedge }),
          });
          const clients = [0, 1, 2, 3].map((id) => ({ id }));
          const present = new Set<number>();
          for (const client of clients) {
            pool.add(client, { name: `c${client.id}` });
            present.add(client.id);
          }
          const attemptsOf: number[] = [];
          const controllers: AbortController[] = [];
          const results: Promise<unknown>[] = [];
          const removals: Promise<void>[] = [];
          const check = (): void => {
            const extra = attemptsOf.reduce((sum, n) => sum + Math.max(0, n - 1), 0);
            expect(extra).toBeLessThanOrEqual(budget.reserve + budget.ratio * attemptsOf.length + 1e-9);
          };
          for (const command of commands) {
            if (command.kind === 'advance') await vi.advanceTimersByTimeAsync(command.ms);
            else if (command.kind === 'abort') controllers[command.index % Math.max(1, controllers.length)]?.abort();
            else if (command.kind === 'toggle') {
              if (present.delete(command.client)) removals.push(pool.remove(`c${command.client}`));
              else {
                pool.add(clients[command.client]!, { name: `c${command.client}` });
                present.add(command.client);
              }
            } else {
              const id = attemptsOf.push(0) - 1;
              const controller = new AbortController();
              controllers.push(controller);
              const result = pool.run(
                (client, call) => {
                  attemptsOf[id]!++;
                  const fails = random() < failureRates[client.id]!;
                  const latency = Math.floor(random() * 80);
                  return new Promise((resolve, reject) => {
                    const timer = setTimeout(() => (fails ? reject(new Error('upstream failed')) : resolve('ok')), latency);
                    call.signal.addEventListener('abort', () => {
                      clearTimeout(timer);
                      reject(call.signal.reason as Error);
                    }, { once: true });
                  });
                },
                { signal: controller.signal },
              );
              results.push(result.catch(() => undefined));
              await Promise.resolve();
            }
            check();
          }
          // Let every call finish (retries, backoffs, hedges), then check once more.
          let isSettled = false;
          void Promise.all([...results, ...removals]).then(() => (isSettled = true));
          for (let i = 0; i < 100 && !isSettled; i++) await vi.advanceTimersByTimeAsync(100);
          expect(isSettled).toBe(true);
          check();
          await pool.close();
          expect(vi.getTimerCount()).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
