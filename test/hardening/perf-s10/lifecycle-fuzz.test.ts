import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type RunOptions } from '../../../src/index.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

type Client = { name: string };

interface CallSpec {
  readonly timeout: number | undefined;
  readonly deadline: number | undefined;
  readonly hedge: number | undefined;
  readonly retry: number | undefined;
  /** Which of the shared signals it passes, if any. */
  readonly signal: number | undefined;
  /** Per attempt: ms until it answers (-1: never), and whether it fails. */
  readonly answers: readonly (readonly [number, boolean])[];
  readonly startAt: number;
}

type Event = { readonly kind: 'abort'; readonly signal: number; readonly at: number } | { readonly kind: 'end'; readonly how: 'close' | 'destroy'; readonly at: number };

const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
const callSpec: fc.Arbitrary<CallSpec> = fc.record({
  timeout: maybe(fc.integer({ min: 1, max: 300 })),
  deadline: maybe(fc.integer({ min: 1, max: 400 })),
  hedge: maybe(fc.integer({ min: 0, max: 100 })),
  retry: maybe(fc.integer({ min: 0, max: 80 })),
  signal: maybe(fc.integer({ min: 0, max: 2 })),
  answers: fc.array(fc.tuple(fc.integer({ min: -1, max: 250 }), fc.boolean()), { minLength: 1, maxLength: 3 }),
  startAt: fc.integer({ min: 0, max: 200 }),
});
const event: fc.Arbitrary<Event> = fc.oneof(
  fc.record({ kind: fc.constant('abort' as const), signal: fc.integer({ min: 0, max: 2 }), at: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ kind: fc.constant('end' as const), how: fc.constantFrom('close' as const, 'destroy' as const), at: fc.integer({ min: 0, max: 300 }) }),
);

// Timeouts, deadlines, hedges, backoffs and caller signals on the pool's one timer and shared signal
// watches, with aborts and close()/destroy() at random points. Afterwards: every call settled with an
// Error or a value, no client is held, no timer or immediate is left, and no signal keeps a listener.
describe('random calls, aborts and closes at any point', () => {
  it('every call settles, with an Error when it fails; once closed, no timer, immediate or listener is left', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(callSpec, { minLength: 1, maxLength: 12 }), fc.array(event, { maxLength: 4 }), async (specs, events) => {
        vi.clearAllTimers();
        const pool = new ClientPool<Client>({ retryBudget: false, strategy: 'round-robin', breaker: false });
        for (const name of ['a', 'b', 'c']) pool.add({ name }, { name });
        const controllers = [new AbortController(), new AbortController(), new AbortController()];
        const results: Promise<unknown>[] = [];
        let ended: Promise<void> | undefined;
        const schedule = [...specs.map((s) => ({ at: s.startAt, run: () => start(s) })), ...events.map((e) => ({ at: e.at, run: () => apply(e) }))].sort((x, y) => x.at - y.at);
        function start(spec: CallSpec): void {
          let attempt = 0;
          const options: RunOptions<Client> = {
            ...(spec.timeout === undefined ? {} : { timeout: spec.timeout }),
            ...(spec.deadline === undefined ? {} : { deadline: spec.deadline }),
            ...(spec.hedge === undefined ? {} : { hedge: { delay: spec.hedge } }),
            ...(spec.retry === undefined ? {} : { retry: { attempts: 3, backoff: { initial: spec.retry, max: spec.retry, jitter: 'none' as const } } }),
            ...(spec.signal === undefined ? {} : { signal: controllers[spec.signal]!.signal }),
          };
          results.push(
            pool
              .run((_client, call) => {
                const [ms, fails] = spec.answers[attempt++ % spec.answers.length]!;
                // One that never answers still honours its call's signal, as a client should: a call with
                // no timeout or signal whose function ignores it is the one thing destroy() cannot end
                // for its caller (docs/call-pipeline.md, "close() and destroy()").
                if (ms < 0) return new Promise((_resolve, reject) => call.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
                return new Promise((resolve, reject) => setTimeout(() => (fails ? reject(new Error('down')) : resolve('ok')), ms));
              }, options)
              .then(
                () => 'value',
                (error: unknown) => (error instanceof Error ? 'error' : `non-Error ${String(error)}`),
              ),
          );
        }
        function apply(e: Event): void {
          if (e.kind === 'abort') controllers[e.signal]!.abort(`abort ${e.signal}`);
          else ended ??= e.how === 'close' ? pool.close() : pool.destroy();
        }
        let now = 0;
        for (const step of schedule) {
          await vi.advanceTimersByTimeAsync(step.at - now);
          now = step.at;
          step.run();
        }
        // Whatever never answers is ended by destroy() in the end.
        await vi.advanceTimersByTimeAsync(2_000);
        ended ??= pool.close();
        void pool.destroy();
        await vi.advanceTimersByTimeAsync(1_000);
        await ended;
        const outcomes = await Promise.all(results);
        expect(outcomes.filter((o) => o !== 'value' && o !== 'error')).toEqual([]);
        expect(pool.members().map((m) => m.inFlight)).toEqual([]);
        await vi.advanceTimersByTimeAsync(0);
        // Only the fake setTimeouts of functions still "answering" may remain: none after 3 s.
        expect(vi.getTimerCount()).toBe(0);
        expect(controllers.map((c) => getEventListeners(c.signal, 'abort').length)).toEqual([0, 0, 0]);
      }),
      { numRuns: 200 },
    );
  });
});
