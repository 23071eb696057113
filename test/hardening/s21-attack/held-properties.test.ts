import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AbortedError, CallbackError, ClientPool, PoolClosedError, type CallEnd } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, type Gate, type Seen } from '../../helpers/promise-state.js';
import { countTrace } from '../../helpers/watched-pool.js';

// A property over random runs: calls (own signal, a shared signal or none; a coalesce key or none) held
// in an around hook that, once its gate opens, calls next(), answers itself, or throws; interleaved with
// gate openings, aborts, close() and destroy(). Whatever the order: every call settles exactly once as the
// docs say (aborted while held: AbortedError; closed while held: PoolClosedError, destroy's reason as
// cause), onCallEnd and the trace hear each call once, fn runs only for calls released before their end,
// inFlight ends at 0, nothing is unhandled.

useUnhandledGuard({ time: 'real', quietWarnings: true });

type Behaviour = 'next' | 'answer' | 'throw';
type Step = { readonly kind: 'open'; readonly call: number } | { readonly kind: 'abort'; readonly call: number } | { readonly kind: 'abortShared' } | { readonly kind: 'close' } | { readonly kind: 'destroy' };

const callSpec = fc.record({ signal: fc.constantFrom<'own' | 'shared' | 'none'>('own', 'shared', 'none'), coalesce: fc.boolean(), behaviour: fc.constantFrom<Behaviour>('next', 'answer', 'throw') });
const stepArb = (n: number): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 0, max: n - 1 }).map((call): Step => ({ kind: 'open', call })) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: n - 1 }).map((call): Step => ({ kind: 'abort', call })) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: 'abortShared' }) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: 'close' }) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: 'destroy' }) },
  );

describe('held calls, random interleavings', () => {
  it('each call settles once, as the docs say; hooks heard once; nothing left', async () => {
    const trace = countTrace();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(callSpec, { minLength: 1, maxLength: 8 }).chain((calls) => fc.tuple(fc.constant(calls), fc.array(stepArb(calls.length), { maxLength: 16 }))),
          async ([specs, steps]) => {
            trace.reset();
            const pool = new ClientPool<string>();
            const ends: CallEnd<string>[] = [];
            const gates: Gate[] = specs.map(() => gate());
            const behaviourOf = new Map<unknown, { index: number; behaviour: Behaviour }>();
            const released = new Set<number>();
            pool.use({
              name: 'h',
              around: async (scope, next) => {
                const { index, behaviour } = behaviourOf.get(scope.options.traceId)!;
                await gates[index]!.promise;
                if (behaviour === 'answer') return 'hook';
                if (behaviour === 'throw') throw new Error('hook threw');
                released.add(index);
                return next();
              },
              onCallEnd: (end) => void ends.push(end),
            });
            pool.add('a');
            pool.add('b');
            const shared = new AbortController();
            const own = specs.map(() => new AbortController());
            const fnRuns: number[] = specs.map(() => 0);
            const calls: (() => Seen)[] = specs.map((spec, index) => {
              const traceId = `t${index}`;
              behaviourOf.set(traceId, { index, behaviour: spec.behaviour });
              const signal = spec.signal === 'own' ? own[index]!.signal : spec.signal === 'shared' ? shared.signal : undefined;
              return state(pool.run(async (c) => { fnRuns[index]!++; await Promise.resolve(); return c; }, { traceId, ...(signal === undefined ? {} : { signal }), ...(spec.coalesce ? { coalesce: 'k' } : {}) }));
            });
            await turns(2);
            // What each call's end should be, decided by the first of: its gate opening, its signal aborting, the pool closing.
            const expected: ('open' | 'aborted' | 'closed' | { destroyed: true })[] = specs.map(() => 'open');
            const decided: boolean[] = specs.map(() => false);
            let isClosed = false;
            const closings: Promise<void>[] = [];
            for (const step of steps) {
              if (step.kind === 'open') {
                if (!decided[step.call]) decided[step.call] = true;
                gates[step.call]!.open();
              } else if (step.kind === 'abort' || step.kind === 'abortShared') {
                for (const [i, spec] of specs.entries()) {
                  const hit = step.kind === 'abort' ? i === step.call && spec.signal === 'own' : spec.signal === 'shared';
                  if (hit && !decided[i]) {
                    decided[i] = true;
                    expected[i] = 'aborted';
                  }
                }
                if (step.kind === 'abort') own[step.call]!.abort('own');
                else shared.abort('shared');
              } else {
                for (const i of specs.keys()) {
                  if (!decided[i]) {
                    decided[i] = true;
                    expected[i] = step.kind === 'destroy' && !isClosed ? { destroyed: true } : 'closed';
                  }
                }
                isClosed = true;
                closings.push(step.kind === 'close' ? pool.close() : pool.destroy('reason'));
              }
              await turns(2);
            }
            for (const g of gates) g.open();
            await turns(4);
            closings.push(pool.close());
            await Promise.all(closings);
            await turns(4);
            for (const [i, seen] of calls.map((c) => c()).entries()) {
              expect(seen, `call ${i}`).not.toBe('pending');
              const want = expected[i]!;
              if (want === 'aborted') expect((seen as { value: unknown }).value, `call ${i}`).toBeInstanceOf(AbortedError);
              else if (want === 'closed' || typeof want === 'object') {
                const error = (seen as { value: unknown }).value;
                expect(error, `call ${i}`).toBeInstanceOf(PoolClosedError);
                if (typeof want === 'object') expect((error as PoolClosedError).cause, `call ${i}`).toBe('reason');
              } else if (specs[i]!.behaviour === 'answer') expect(seen, `call ${i}`).toEqual({ ok: true, value: 'hook' });
              else if (specs[i]!.behaviour === 'throw') expect((seen as { value: unknown }).value, `call ${i}`).toBeInstanceOf(CallbackError);
              else expect(seen, `call ${i}`).toMatchObject({ ok: true });
              if (want !== 'open' || specs[i]!.behaviour !== 'next') expect(fnRuns[i], `fn of call ${i}`).toBe(0);
            }
            expect(ends).toHaveLength(specs.length);
            expect(trace.counts).toEqual({ start: specs.length, asyncEnd: specs.length });
            expect(fnRuns.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(released.size);
            expect(pool.members()).toEqual([]);
          },
        ),
        { numRuns: 150, seed: 21 },
      );
    } finally {
      trace.unsubscribe();
    }
  });
});
