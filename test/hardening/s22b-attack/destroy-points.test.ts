import { describe, expect, it, vi } from 'vitest';
import { ClientPool, PoolClosedError } from '../../../src/index.js';
import { gate, state, turns, type Seen } from '../../helpers/promise-state.js';
import { inFlight, watchedPool } from '../../helpers/watched-pool.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Probe (passes): destroy(reason) at many points of a call with around hooks, from many places. Every caller
// settles: PoolClosedError with the reason as cause, or fn's answer when fn answered before destroy; onCallEnd
// once per call; nothing in flight; no fake timer left; destroy() resolves; nothing unhandled.
// Fake timers (setTimeout/Date), setImmediate real.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

const R = new Error('R');
type Hook = (s: unknown, next: () => Promise<unknown>) => Promise<unknown>;
type Fn = (c: string, call: { signal: AbortSignal }) => unknown;
interface Ctx {
  pool: ClientPool<string>;
  destroy: () => void;
  destroyed: Promise<void> | undefined;
}
interface Case {
  readonly opts?: Record<string, unknown>;
  readonly hook: (ctx: Ctx) => Hook;
  readonly execute?: (ctx: Ctx) => (call: unknown, next: () => Promise<unknown>) => Promise<unknown>;
  readonly fn: (ctx: Ctx) => Fn;
  readonly run?: Record<string, unknown>;
  readonly callers?: number;
  /** ms of fake time before destroy() (when the test calls it). */
  readonly at?: number;
  /** The test calls destroy() (else something inside the call does). */
  readonly external?: boolean;
  readonly before?: (ctx: Ctx) => Promise<void>;
  readonly expect: 'closed' | 'v';
}

const honour: Fn = (_c, call) => new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('aborted'))));
const hang = (): Promise<never> => new Promise<never>(() => undefined);
const pass: Hook = (_s, next) => next();
const hangAfter: Hook = async (_s, next) => {
  try {
    return await next();
  } finally {
    await hang();
  }
};

const CASES: Record<string, Case> = {
  'hook waiting before next()': { hook: () => async (_s, next) => (await hang(), next()), fn: () => () => 'v', external: true, expect: 'closed' },
  'hook before next(), with signal and timeout': { hook: () => async (_s, next) => (await hang(), next()), fn: () => () => 'v', run: { signal: new AbortController().signal, timeout: 5_000 }, external: true, expect: 'closed' },
  'attempt in flight, pass-through': { hook: () => pass, fn: () => honour, external: true, expect: 'closed' },
  'attempt in flight, fn ignores signal, hook pass-through': { hook: () => pass, fn: () => hang, external: true, expect: 'closed' },
  'attempt in flight, hook hangs after': { hook: () => hangAfter, fn: () => honour, external: true, expect: 'closed' },
  'fn answered, hook still running': { hook: () => async (_s, next) => { const v = await next(); await hang(); return v; }, fn: () => () => 'v', external: true, expect: 'closed' },
  'fn answered, hook still running, deadline 2^31-1': { hook: () => async (_s, next) => { const v = await next(); await hang(); return v; }, fn: () => () => 'v', run: { deadline: 2 ** 31 - 1 }, external: true, expect: 'closed' },
  'retry backoff inside the hook (hook hangs after)': { opts: { retry: { attempts: 3, backoff: { initial: 1_000, max: 1_000, jitter: 'none' } } }, hook: () => hangAfter, fn: () => () => { throw new Error('boom'); }, at: 500, external: true, expect: 'closed' },
  'hedge delay inside the hook': { opts: { hedge: { delay: 1_000 } }, hook: () => pass, fn: () => honour, at: 500, external: true, expect: 'closed' },
  'two hedged attempts inside the hook': { opts: { hedge: { delay: 100 } }, hook: () => hangAfter, fn: () => honour, at: 500, external: true, expect: 'closed' },
  'three coalesced callers, fn ignoring the signal': { hook: () => pass, fn: () => hang, run: { coalesce: 'k' }, callers: 3, external: true, expect: 'closed' },
  'after close() started (attempt in flight)': { hook: () => hangAfter, fn: () => honour, before: async (ctx) => void ctx.pool.close(), external: true, expect: 'closed' },
  'after close() resolved (hook hangs after fn answered)': { hook: () => async (_s, next) => { const v = await next(); await hang(); return v; }, fn: () => () => 'v', before: async (ctx) => ctx.pool.close(), external: true, expect: 'closed' },
  'twice (second reason ignored)': { hook: () => hangAfter, fn: () => honour, before: async () => undefined, external: true, expect: 'closed' },
  'from the hook before next()': { hook: (ctx) => (_s, next) => (ctx.destroy(), next()), fn: () => () => 'v', expect: 'closed' },
  'from the hook after next() (fn answered at once)': { hook: (ctx) => (_s, next) => { const p = next(); ctx.destroy(); return p; }, fn: () => () => 'v', expect: 'v' },
  'from the hook after next(), fn honouring the signal': { hook: (ctx) => (_s, next) => { const p = next(); ctx.destroy(); return p; }, fn: () => honour, expect: 'closed' },
  'from fn, synchronously (fn then honours the signal)': { hook: () => pass, fn: (ctx) => (c, call) => (ctx.destroy(), honour(c, call)), expect: 'closed' },
  'from an execute middleware before its next()': { hook: () => pass, execute: (ctx) => (_c, next) => (ctx.destroy(), next()), fn: () => honour, expect: 'closed' },
  'from an execute middleware after its next()': { hook: () => pass, execute: (ctx) => (_c, next) => { const p = next(); ctx.destroy(); return p; }, fn: () => honour, expect: 'closed' },
  'from a limiter take() (async wait)': { opts: { limit: { tryTake: () => false, take: () => Promise.resolve() } }, hook: () => pass, fn: () => honour, expect: 'closed' },
};

describe('destroy(reason) at every point of a call with around hooks', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, async () => {
      const ctx: Ctx = {
        pool: undefined as never,
        destroyed: undefined,
        destroy: () => void (ctx.destroyed ??= ctx.pool.destroy(R)),
      };
      const opts = { maxWait: 60_000, ...(c.opts ?? {}) };
      if (name.startsWith('from a limiter')) (opts as unknown as { limit: { take: () => Promise<void> } }).limit.take = () => (ctx.destroy(), Promise.resolve());
      const pool = (ctx.pool = new ClientPool<string>(opts));
      const ends: unknown[] = [];
      pool.use({ name: 'ends', onCallEnd: (e) => void ends.push(e) });
      pool.use({ name: 'h', around: c.hook(ctx) });
      if (c.execute) pool.use({ name: 'x', execute: c.execute(ctx) as never });
      pool.add('a', { name: 'a' });
      pool.add('b', { name: 'b' });
      const callers: (() => Seen)[] = [];
      for (let i = 0; i < (c.callers ?? 1); i++) callers.push(state(pool.run(c.fn(ctx), c.run)));
      await turns(3);
      if (c.at !== undefined) await vi.advanceTimersByTimeAsync(c.at);
      if (c.before) await c.before(ctx);
      await turns(2);
      if (c.external) ctx.destroy();
      if (name.startsWith('twice')) void pool.destroy(new Error('second'));
      await turns(5);
      expect(ctx.destroyed).toBeDefined();
      await ctx.destroyed;
      await turns(2);
      for (const seen of callers) {
        const s = seen();
        if (c.expect === 'v') expect(s).toEqual({ ok: true, value: 'v' });
        else {
          expect(s).toMatchObject({ ok: false });
          const error = (s as { value: unknown }).value;
          expect(error).toBeInstanceOf(PoolClosedError);
          expect((error as Error).cause).toBe(R);
        }
      }
      expect(ends).toHaveLength(callers.length);
      expect(inFlight(pool)).toBe(0);
      expect(pool.size).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    });
  }

  it('a hook that answers after destroy() ended its caller: onCallEnd still once, the caller keeps PoolClosedError', async () => {
    const flush = gate();
    const pool = new ClientPool<string>();
    const ends: unknown[] = [];
    pool.use({ name: 'ends', onCallEnd: (e) => void ends.push(e) });
    pool.use({ name: 'h', around: async (_s, next) => { const v = await next(); await flush.promise; return v; } });
    pool.add('a', { name: 'a' });
    const seen = state(pool.run(() => 'v'));
    await turns(3);
    await pool.destroy(R);
    await turns(3);
    flush.open();
    await turns(3);
    expect(seen()).toMatchObject({ ok: false, value: { code: 'ERR_POOL_CLOSED', cause: R } });
    expect(ends).toHaveLength(1);
  });

  it('destroy() from an onCallEnd listener of another call: the call in flight gets the reason', async () => {
    const pool = new ClientPool<string>();
    let done = false;
    pool.use({ name: 'h', around: (_s, next) => next() });
    pool.use({ name: 'x', onCallEnd: () => { if (!done) { done = true; void pool.destroy(R); } } });
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    const other = state(pool.run(honour));
    const first = state(pool.run(() => 'v'));
    await turns(5);
    expect(first()).toEqual({ ok: true, value: 'v' });
    expect(other()).toMatchObject({ ok: false, value: { code: 'ERR_POOL_CLOSED', cause: R } });
    expect(inFlight(pool)).toBe(0);
  });

  it('the clientpool:call trace and onCallEnd hear each call once when destroy() ends hooks hanging after next()', async () => {
    const hold = gate();
    const w = watchedPool({ around: true, onCallEnd: true, trace: true }, {}, ['a', 'b'], async (_s, next) => {
      const v = await next().catch((e: unknown) => e);
      await hold.promise;
      return v;
    });
    const calls = [state(w.pool.run(() => 'v')), state(w.pool.run(honour)), state(w.pool.run(() => 'v', { deadline: 60_000 }))];
    await turns(3);
    await w.pool.destroy(R);
    await turns(3);
    hold.open();
    await turns(3);
    for (const seen of calls) expect(seen()).toMatchObject({ ok: false, value: { code: 'ERR_POOL_CLOSED', cause: R } });
    expect(w.ends).toHaveLength(3);
    expect(w.trace.filter((t) => t.kind === 'start')).toHaveLength(3);
    expect(w.trace.filter((t) => t.kind === 'asyncEnd')).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
    w.untrace();
  });
});
