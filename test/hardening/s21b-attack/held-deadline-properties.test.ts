import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { ClientPool, type CallEnd } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, type Gate, type Seen } from '../../helpers/promise-state.js';
import { countTrace } from '../../helpers/watched-pool.js';

// A property over random runs with deadlines (s21-attack's property had none): calls with a deadline or
// none, an own/shared/no signal, a coalesce key or none, held in an around hook until their gate opens;
// interleaved with time passing (the pool's clock and fake timers advanced together), gate openings,
// aborts and close(). Whatever the order: each call settles once; a call whose deadline passed before
// its gate opened ends with DeadlineExceededError (or an earlier abort/close) and its fn never runs;
// a plain call that resolved ran its fn once; onCallEnd and the trace hear each call once; inFlight back
// to 0; nothing unhandled. docs/call-pipeline.md: "its `deadline` (from `run()`) with
// `DeadlineExceededError` when it passes ... `fn` never runs".

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

type Step = { readonly kind: 'open'; readonly call: number } | { readonly kind: 'abort'; readonly call: number } | { readonly kind: 'abortShared' } | { readonly kind: 'advance'; readonly ms: number } | { readonly kind: 'close' };

const callSpec = fc.record({
  signal: fc.constantFrom<'own' | 'shared' | 'none'>('own', 'shared', 'none'),
  coalesce: fc.constantFrom<string | undefined>(undefined, 'k1', 'k2'),
  deadline: fc.constantFrom<number | undefined>(undefined, 10, 50, 100),
});
const stepArb = (n: number): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 0, max: n - 1 }).map((call): Step => ({ kind: 'open', call })) },
    { weight: 4, arbitrary: fc.constantFrom(1, 9, 10, 40, 50, 100).map((ms): Step => ({ kind: 'advance', ms })) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: n - 1 }).map((call): Step => ({ kind: 'abort', call })) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: 'abortShared' }) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: 'close' }) },
  );

const nameOf = (s: Seen): string => (s === 'pending' ? 'pending' : s.ok ? 'ok' : (s.value as Error).name);

describe('held calls with deadlines, random interleavings', () => {
  it('each call settles once as the docs say; a call past its deadline while held never runs fn', async () => {
    const trace = countTrace();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(callSpec, { minLength: 1, maxLength: 8 }).chain((calls) => fc.tuple(fc.constant(calls), fc.array(stepArb(calls.length), { maxLength: 16 }))),
          async ([specs, steps]) => {
            trace.reset();
            let t = 0;
            const pool = new ClientPool<string>({ clock: { now: () => t } });
            const ends: CallEnd<string>[] = [];
            const gates: Gate[] = specs.map(() => gate());
            const openedAt: (number | undefined)[] = specs.map(() => undefined);
            pool.use({
              name: 'h',
              around: async (scope, next) => {
                await gates[Number(scope.options.traceId)]!.promise;
                return next();
              },
              onCallEnd: (end) => void ends.push(end),
            });
            pool.add('a');
            const shared = new AbortController();
            const own = specs.map(() => new AbortController());
            const runs = specs.map(() => 0);
            let closed = false;
            let closing: Promise<void> | undefined;
            const seen = specs.map((spec, i) => {
              const signal = spec.signal === 'own' ? own[i]!.signal : spec.signal === 'shared' ? shared.signal : undefined;
              const options = { traceId: String(i), method: `m${i}`, ...(signal && { signal }), ...(spec.coalesce !== undefined && { coalesce: spec.coalesce }), ...(spec.deadline !== undefined && { deadline: spec.deadline }) };
              return state(pool.run((c) => (runs[i]!++, c), options));
            });
            const endedAt: (number | undefined)[] = specs.map(() => undefined);
            const note = (): void => seen.forEach((s, i) => { if (endedAt[i] === undefined && s() !== 'pending') endedAt[i] = t; });
            await turns(2);
            note();
            for (const step of steps) {
              if (step.kind === 'open') {
                openedAt[step.call] ??= t;
                gates[step.call]!.open();
              } else if (step.kind === 'abort') own[step.call]!.abort('own');
              else if (step.kind === 'abortShared') shared.abort('shared');
              else if (step.kind === 'close') {
                closed = true;
                closing ??= pool.close();
              } else {
                // The clock and the timers in lockstep, 1 ms at a time (a clock jumping ahead of the
                // timers re-arms the deadline queue early: an odd clock, not what this property is about).
                for (let k = 0; k < step.ms; k++) {
                  t += 1;
                  await vi.advanceTimersByTimeAsync(1);
                }
              }
              await turns(2);
              note();
            }
            if (!closed) expect(pool.members()[0]?.inFlight).toBe(0);
            for (let i = 0; i < specs.length; i++) {
              const spec = specs[i]!;
              const s = seen[i]!();
              const opened = openedAt[i];
              // Past its deadline before its gate opened (or never opened): never ran fn for it.
              if (spec.deadline !== undefined && (opened === undefined ? t >= spec.deadline : opened >= spec.deadline)) {
                if (spec.coalesce === undefined) expect(runs[i]).toBe(0);
                if (opened === undefined || opened > spec.deadline) expect(['DeadlineExceededError', 'AbortedError', 'PoolClosedError']).toContain(nameOf(s));
                // Not a tick before its deadline.
                if (nameOf(s) === 'DeadlineExceededError') expect(endedAt[i]).toBeGreaterThanOrEqual(spec.deadline);
              }
              if (spec.coalesce === undefined) {
                expect(runs[i]).toBeLessThanOrEqual(1);
                if (s !== 'pending' && s.ok) expect(runs[i]).toBe(1);
              }
            }
            // End everything: open every gate, close, let time pass.
            gates.forEach((g) => g.open());
            closing ??= pool.close();
            for (let k = 0; k < 200; k++) {
              t += 1;
              await vi.advanceTimersByTimeAsync(1);
            }
            await turns(4);
            await closing;
            for (const s of seen) expect(s()).not.toBe('pending');
            const byMethod = new Map<string, number>();
            for (const end of ends) byMethod.set(end.method, (byMethod.get(end.method) ?? 0) + 1);
            expect([...byMethod.values()].every((n) => n === 1)).toBe(true);
            expect(ends).toHaveLength(specs.length);
            expect(trace.counts).toEqual({ start: specs.length, asyncEnd: specs.length });
          },
        ),
        { numRuns: 300, seed: 2121 },
      );
    } finally {
      trace.unsubscribe();
    }
  });
});
