import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientCallError } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns } from '../../helpers/promise-state.js';
import { inFlight, settle, shape } from '../../helpers/watched-pool.js';
import { rig, type Hook, type Rig } from '../../helpers/around-rig.js';

// Pins: an around hook that passes next()'s result on (awaited or returned as is) gives the caller the
// very outcome a pool without hooks gives, for aborts, deadlines, timeouts, failures, retries and hedges,
// with the clock and timers in lockstep at whole ms. onCallEnd and the trace hear it once, the signal
// keeps no listener, nothing is in flight after.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

const rigs: Rig[] = [];
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((r) => r.done()));
});

const hooks: Record<string, Hook[]> = {
  none: [],
  returns: [(_s, next) => next()],
  awaits: [async (_s, next) => await next()],
  'two awaiting': [async (_s, next) => await next(), async (_s, next) => { const v = await next(); return v; }],
  'awaits a microtask before': [async (_s, next) => { await Promise.resolve(); return next(); }],
};

type Driver = (r: Rig, ac: AbortController) => Promise<void>;
interface Case {
  readonly fn: (client: string, call: { signal: AbortSignal }) => unknown;
  readonly options: Record<string, unknown>;
  readonly drive: Driver;
  readonly clients?: string[];
}

const hang = (): Promise<never> => new Promise<never>(() => undefined);
const steps = async (r: Rig, ms: number): Promise<void> => {
  for (let i = 0; i < ms; i++) {
    await r.advance(1);
    await turns(2);
  }
};

const cases: Record<string, Case> = {
  'abort while fn hangs': { fn: hang, options: {}, drive: async (r, ac) => { await steps(r, 5); ac.abort('why'); await turns(); } },
  'deadline while fn hangs': { fn: hang, options: { deadline: 50 }, drive: (r) => steps(r, 60) },
  'timeout while fn hangs (signal given)': { fn: hang, options: { timeout: 30 }, drive: (r) => steps(r, 40) },
  'timeout under a deadline': { fn: hang, options: { timeout: 30, deadline: 100 }, drive: (r) => steps(r, 40) },
  'fn throws (ClientCallError)': { fn: () => { throw new Error('boom'); }, options: { deadline: 100 }, drive: (r) => steps(r, 5) },
  'retries: last error': { fn: () => Promise.reject(new Error('down')), options: { retry: { attempts: 3, backoff: { initial: 50 } }, deadline: 1000 }, drive: (r) => steps(r, 400) },
  'retries: deadline cuts the backoff': { fn: () => Promise.reject(new Error('down')), options: { retry: { attempts: 3, backoff: { initial: 50 } }, deadline: 120 }, drive: (r) => steps(r, 200) },
  'retries: deadline 60 ends the backoff early': { fn: () => Promise.reject(new Error('down')), options: { retry: { attempts: 3, backoff: { initial: 50 } }, deadline: 60 }, drive: (r) => steps(r, 100) },
  'retries: abort mid-backoff': { fn: () => Promise.reject(new Error('down')), options: { retry: { attempts: 3, backoff: { initial: 50 } } }, drive: async (r, ac) => { await steps(r, 20); ac.abort('mid'); await turns(); } },
  'retries: deadline hits a retried attempt': { fn: (c) => (c === 'a' ? Promise.reject(new Error('down')) : hang()), options: { retry: { attempts: 3, backoff: { initial: 50 } }, deadline: 90 }, drive: (r) => steps(r, 120), clients: ['a', 'b'] },
  'hedge: both hang, deadline': { fn: hang, options: { hedge: { delay: 10 }, deadline: 60 }, drive: (r) => steps(r, 80), clients: ['a', 'b'] },
  'hedge: both hang, abort': { fn: hang, options: { hedge: { delay: 10 } }, drive: async (r, ac) => { await steps(r, 20); ac.abort('x'); await turns(); }, clients: ['a', 'b'] },
  'hedge: second wins': { fn: (c) => (c === 'a' ? hang() : 'from b'), options: { hedge: { delay: 10 }, deadline: 100 }, drive: (r) => steps(r, 30), clients: ['a', 'b'] },
  'destroy(reason) while fn hangs (signal given)': { fn: hang, options: {}, drive: async (r) => { await steps(r, 3); void r.pool.destroy(new Error('bye')); await turns(); } },
  'destroy(reason) while fn hangs (deadline given)': { fn: hang, options: { deadline: 500 }, drive: async (r) => { await steps(r, 3); void r.pool.destroy(new Error('bye')); await turns(); } },
  'coalesced call, abort': { fn: hang, options: { coalesce: 'k' }, drive: async (r, ac) => { await steps(r, 3); ac.abort('co'); await turns(); } },
  'coalesced call, deadline': { fn: hang, options: { coalesce: 'k', deadline: 40 }, drive: (r) => steps(r, 50) },
  'abort at the same moment fn answers': {
    fn: (_c, call) => new Promise((resolve) => call.signal.addEventListener('abort', () => resolve('late answer'))),
    options: {},
    drive: async (r, ac) => { await steps(r, 3); ac.abort('now'); await turns(); },
  },
};

async function outcome(hookSet: Hook[], c: Case): Promise<{ shape: unknown; cause: unknown; ends: unknown[]; trace: unknown[]; listeners: number; inFlight: number; error: unknown }> {
  const r = rig(hookSet, { strategy: 'round-robin' } as never, c.clients ?? ['a']);
  rigs.push(r);
  const ac = new AbortController();
  const p = settle(r.pool.run(c.fn, { signal: ac.signal, ...c.options }));
  const seen = state(p);
  await c.drive(r, ac);
  const s = seen();
  if (s === 'pending') return { shape: 'pending', cause: undefined, ends: [], trace: [], listeners: -1, inFlight: -1, error: undefined };
  const settled = await p;
  const error = settled.ok ? undefined : settled.value;
  return {
    shape: shape(settled),
    cause: (error as { cause?: unknown } | undefined)?.cause,
    ends: r.ends.map((e) => e.error),
    trace: r.traceEnds,
    listeners: getEventListeners(ac.signal, 'abort').length,
    inFlight: inFlight(r.pool),
    error,
  };
}

describe('a hook that passes next() on changes nothing the caller sees', () => {
  for (const [caseName, c] of Object.entries(cases)) {
    it(caseName, async () => {
      const base = await outcome(hooks['none']!, c);
      expect(base.shape).not.toBe('pending');
      for (const [hookName, hookSet] of Object.entries(hooks)) {
        if (hookName === 'none') continue;
        const got = await outcome(hookSet, c);
        expect({ hook: hookName, shape: got.shape }).toEqual({ hook: hookName, shape: base.shape });
        expect({ hook: hookName, cause: shape({ ok: false, value: got.cause }) }).toEqual({ hook: hookName, cause: shape({ ok: false, value: base.cause }) });
        expect(got.ends).toHaveLength(1);
        expect(got.trace).toHaveLength(1);
        if (got.error !== undefined) {
          expect(got.ends[0]).toBe(got.error);
          expect(got.trace[0]).toBe(got.error);
        }
        expect(got.listeners).toBe(0);
        expect(got.inFlight).toBe(0);
      }
    });
  }

  it('ClientCallError names its client through a hook', async () => {
    const got = await outcome(hooks['awaits']!, cases['fn throws (ClientCallError)']!);
    expect(got.error).toBeInstanceOf(ClientCallError);
  });
});

describe('while INSIDE: one listener on the caller signal, none after', () => {
  it('listener count during and after', async () => {
    const g = gate();
    const r = rig([async (_s, next) => { const v = await next(); await g.promise; return v; }]);
    rigs.push(r);
    const ac = new AbortController();
    const seen = state(r.pool.run(() => 'v', { signal: ac.signal }));
    await turns();
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    g.open();
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'v' });
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});
