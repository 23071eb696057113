import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { state, turns } from '../../helpers/promise-state.js';
import { inFlight, shape } from '../../helpers/watched-pool.js';
import { rig, type Hook, type Rig } from '../../helpers/around-rig.js';

// Pins (fast-check, 150 runs, seed 2104): with the clock on whole ms, random calls (per-attempt fn
// behaviour: reject, hang, answer after k ms, throw on abort; a deadline; a caller abort at some ms; a
// retry policy; a hedge; one or two clients) give the caller the same outcome with a pass-through hook
// (returned, awaited, two awaiting) as with none; onCallEnd hears it once; nothing in flight; no
// listener left on the signal.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

const rigs: Rig[] = [];
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((r) => r.done()));
});

type Behaviour = { kind: 'reject' } | { kind: 'hang' } | { kind: 'answer'; after: number } | { kind: 'hangThenAbortAnswer' };

const behaviour: fc.Arbitrary<Behaviour> = fc.oneof(
  fc.constant({ kind: 'reject' as const }),
  fc.constant({ kind: 'hang' as const }),
  fc.record({ kind: fc.constant('answer' as const), after: fc.integer({ min: 0, max: 120 }) }),
  fc.constant({ kind: 'hangThenAbortAnswer' as const }),
);

const scenario = fc.record({
  attempts: fc.array(behaviour, { minLength: 4, maxLength: 4 }),
  deadline: fc.option(fc.integer({ min: 5, max: 150 }), { nil: undefined }),
  abortAt: fc.option(fc.integer({ min: 0, max: 160 }), { nil: undefined }),
  retry: fc.option(fc.record({ attempts: fc.integer({ min: 1, max: 3 }), initial: fc.integer({ min: 5, max: 50 }) }), { nil: undefined }),
  hedge: fc.option(fc.integer({ min: 3, max: 40 }), { nil: undefined }),
  twoClients: fc.boolean(),
  hook: fc.constantFrom('returns', 'awaits', 'two awaiting'),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

const hookSets: Record<string, Hook[]> = {
  returns: [(_s, next) => next()],
  awaits: [async (_s, next) => await next()],
  'two awaiting': [async (_s, next) => await next(), async (_s, next) => { const v = await next(); return v; }],
};

async function play(sc: Scenario, hooks: Hook[]): Promise<{ outcome: unknown; ends: number; inFlight: number; listeners: number }> {
  const r = rig(hooks, {}, sc.twoClients ? ['a', 'b'] : ['a']);
  rigs.push(r);
  let n = 0;
  const fn = (client: string, call: { signal: AbortSignal }): unknown => {
    const b = sc.attempts[Math.min(n++, sc.attempts.length - 1)]!;
    if (b.kind === 'reject') return Promise.reject(new Error(`down ${client}`));
    if (b.kind === 'hang') return new Promise(() => undefined);
    if (b.kind === 'hangThenAbortAnswer') return new Promise((resolve) => call.signal.addEventListener('abort', () => resolve('late')));
    return new Promise((resolve) => setTimeout(() => resolve(`from ${client}`), b.after));
  };
  const ac = new AbortController();
  const options: Record<string, unknown> = { signal: ac.signal };
  if (sc.deadline !== undefined) options['deadline'] = sc.deadline;
  if (sc.retry !== undefined) options['retry'] = { attempts: sc.retry.attempts, backoff: { initial: sc.retry.initial } };
  if (sc.hedge !== undefined) options['hedge'] = { delay: sc.hedge };
  const seen = state(r.pool.run(fn, options));
  await turns(2);
  for (let t = 0; t <= 200; t++) {
    if (t === sc.abortAt) ac.abort(`abort at ${t}`);
    await r.advance(1);
    await turns(2);
  }
  if (sc.abortAt === undefined) ac.abort('the end');
  await turns(3);
  const s = seen();
  return { outcome: s === 'pending' ? 'pending' : shape(s), ends: r.ends.length, inFlight: inFlight(r.pool), listeners: getEventListeners(ac.signal, 'abort').length };
}

describe('a pass-through hook changes no outcome (whole-ms clock)', () => {
  it('property', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const base = await play(sc, []);
        const hooked = await play(sc, hookSets[sc.hook]!);
        expect(hooked.outcome).toEqual(base.outcome);
        expect(hooked.ends).toBe(1);
        expect(hooked.inFlight).toBe(0);
        expect(hooked.listeners).toBe(0);
        await Promise.all(rigs.splice(0).map((r) => r.done()));
      }),
      { numRuns: 150, seed: 2104 },
    );
  }, 60_000);
});
