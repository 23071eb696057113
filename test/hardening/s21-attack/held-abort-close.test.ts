import { describe, expect, it, vi } from 'vitest';
import { tracingChannel } from 'node:diagnostics_channel';
import { getEventListeners } from 'node:events';
import { AbortedError, CallbackError, ClientPool, PoolClosedError, type CallEnd } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { errorOf, gate, state, turns } from '../../helpers/promise-state.js';

// Pins what holds of 4ed6f2c's held calls (a call in its around hooks before the innermost next()):
// the caller's abort, close() and destroy() end it at once; the hook's later next() never runs fn; the
// pool keeps one listener per signal; onCallEnd and the trace hear each call once; inFlight back to 0.

useUnhandledGuard({ time: 'real', quietWarnings: true });

function slowPool(hook: Promise<void>, ends: CallEnd<string>[] = []): { pool: ClientPool<string>; runs: () => number; fn: (c: string) => string } {
  const pool = new ClientPool<string>();
  pool.use({ name: 'slow', around: async (_scope, next) => { await hook; return next(); }, onCallEnd: (end) => void ends.push(end) });
  pool.add('a');
  let n = 0;
  return { pool, runs: () => n, fn: (c) => (n++, c) };
}

describe('held calls: abort', () => {
  it('50 calls held on one signal: one listener, all rejected at once by its abort, none runs fn, each heard once, no listener left', async () => {
    const hook = gate();
    const ends: CallEnd<string>[] = [];
    const { pool, fn, runs } = slowPool(hook.promise, ends);
    const warnings: string[] = [];
    const onWarning = (w: Error): number => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const ac = new AbortController();
      const calls = Array.from({ length: 50 }, () => state(pool.run(fn, { signal: ac.signal })));
      await turns();
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
      ac.abort('bye');
      await turns();
      for (const call of calls) {
        const error = errorOf(call());
        expect(error).toBeInstanceOf(AbortedError);
        expect((error as AbortedError).cause).toBe('bye');
      }
      hook.open();
      await turns(10);
      expect(runs()).toBe(0);
      expect(ends).toHaveLength(50);
      expect(ends.every((end) => end.error instanceof AbortedError)).toBe(true);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
      expect(pool.members().map((m) => m.inFlight)).toEqual([0]);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
    await pool.close();
  });

  it('50 calls held on one signal, released by next(): they run, and no listener is left after a turn', async () => {
    const hook = gate();
    const { pool, fn, runs } = slowPool(hook.promise);
    const ac = new AbortController();
    const calls = Array.from({ length: 50 }, () => pool.run(fn, { signal: ac.signal }));
    await turns();
    hook.open();
    await expect(Promise.all(calls)).resolves.toHaveLength(50);
    await turns();
    expect(runs()).toBe(50);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await pool.close();
  });

  it('an outer hook that aborts the signal before next() skips the inner hook; fn never runs', async () => {
    const ac = new AbortController();
    const inner = vi.fn((_s: unknown, next: () => Promise<unknown>) => next());
    const pool = new ClientPool<string>();
    pool.use({ name: 'outer', around: (_s, next) => { ac.abort('outer'); return next(); } });
    pool.use({ name: 'inner', around: inner });
    pool.add('a');
    let runs = 0;
    const error = await pool.run((c) => (runs++, c), { signal: ac.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).cause).toBe('outer');
    expect(inner).not.toHaveBeenCalled();
    expect(runs).toBe(0);
    await pool.close();
  });

  it('a hook that aborts after an await, then calls next(): AbortedError, fn never runs', async () => {
    const ac = new AbortController();
    const pool = new ClientPool<string>();
    pool.use({ name: 'h', around: async (_s, next) => { await Promise.resolve(); ac.abort('late'); await Promise.resolve(); return next(); } });
    pool.add('a');
    let runs = 0;
    const error = await pool.run((c) => (runs++, c), { signal: ac.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(runs).toBe(0);
    await pool.close();
  });

  it('abort during fn (after next()): AbortedError from the race, inFlight back to 0', async () => {
    const ac = new AbortController();
    const pool = new ClientPool<string>();
    pool.use({ name: 'h', around: async (_s, next) => { await Promise.resolve(); return next(); } });
    pool.add('a');
    const fnGate = gate();
    const call = state(pool.run(async (c) => { await fnGate.promise; return c; }, { signal: ac.signal }));
    await turns();
    expect(pool.members()[0]!.inFlight).toBe(1);
    ac.abort();
    await turns();
    expect(errorOf(call())).toBeInstanceOf(AbortedError);
    fnGate.open();
    await turns();
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('abort during a retry backoff, with an around hook: AbortedError, no further attempt, heard once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const ends: CallEnd<string>[] = [];
      // A fixed random: a jittered backoff below 1 ms would let the retry in before the abort.
      const pool = new ClientPool<string>({ retry: { attempts: 3 }, random: () => 0.5 });
      pool.use({ name: 'h', around: (_s, next) => next(), onCallEnd: (end) => void ends.push(end) });
      pool.add('a');
      pool.add('b');
      const ac = new AbortController();
      let attempts = 0;
      const call = state(pool.run(() => { attempts++; throw new Error('down'); }, { signal: ac.signal }));
      await vi.advanceTimersByTimeAsync(1);
      expect(attempts).toBe(1);
      ac.abort('stop');
      await vi.advanceTimersByTimeAsync(10_000);
      expect(errorOf(call())).toBeInstanceOf(AbortedError);
      expect(attempts).toBe(1);
      expect(ends).toHaveLength(1);
      await pool.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('held calls: close() and destroy()', () => {
  it('close() inside a hook before next(): PoolClosedError, close resolves, fn never runs', async () => {
    const pool = new ClientPool<string>();
    let closing: Promise<void> | undefined;
    pool.use({ name: 'h', around: (_s, next) => { closing = pool.close(); return next(); } });
    pool.add('a');
    let runs = 0;
    await expect(pool.run((c) => (runs++, c))).rejects.toBeInstanceOf(PoolClosedError);
    await closing;
    expect(runs).toBe(0);
  });

  it('destroy(reason) twice while held: the first reason is the cause; both resolve; the hook\'s late next() runs nothing', async () => {
    const hook = gate();
    const ends: CallEnd<string>[] = [];
    const { pool, fn, runs } = slowPool(hook.promise, ends);
    const call = state(pool.run(fn));
    await turns();
    await Promise.all([pool.destroy('first'), pool.destroy('second')]);
    await turns();
    const error = errorOf(call());
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as PoolClosedError).cause).toBe('first');
    hook.open();
    await turns();
    expect(runs()).toBe(0);
    expect(ends.map((e) => e.error)).toEqual([error]);
  });

  it('close() then destroy(reason) while held: close came first, so a plain PoolClosedError', async () => {
    const hook = gate();
    const { pool, fn } = slowPool(hook.promise);
    const call = state(pool.run(fn));
    await turns();
    const closing = pool.close();
    await pool.destroy('late');
    await closing;
    await turns();
    const error = errorOf(call());
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as PoolClosedError).cause).toBeUndefined();
    hook.open();
    await turns();
  });

  it('a hook that destroys the pool and answers without next(): PoolClosedError with the reason, not its answer', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'h', around: async () => { await pool.destroy('why'); return 'cached'; } });
    pool.add('a');
    const error = await pool.run((c) => c).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoolClosedError);
    expect((error as PoolClosedError).cause).toBe('why');
  });

  it('close() inside fn with other calls held: the held ones end, the running one finishes', async () => {
    const hook = gate();
    const pool = new ClientPool<string>();
    let first = true;
    pool.use({ name: 'h', around: async (_s, next) => { if (first) { first = false; return next(); } await hook.promise; return next(); } });
    pool.add('a');
    const fnGate = gate();
    const closed = gate();
    let closing: Promise<void> | undefined;
    const running = state(pool.run(async (c) => { await closed.promise; closing = pool.close(); await fnGate.promise; return c; }));
    await turns();
    const held = Array.from({ length: 3 }, () => state(pool.run((c) => c)));
    await turns();
    closed.open();
    await turns();
    expect(closing).toBeDefined();
    for (const call of held) expect(errorOf(call())).toBeInstanceOf(PoolClosedError);
    expect(running()).toBe('pending');
    const done = state(closing!);
    await turns();
    expect(done()).toBe('pending');
    fnGate.open();
    await closing;
    expect(running()).toEqual({ ok: true, value: 'a' });
    hook.open();
    await turns();
  });

  it('close() inside onCallEnd of a call while others are held: they end, nothing unhandled', async () => {
    const hook = gate();
    const pool = new ClientPool<string>();
    let closing: Promise<void> | undefined;
    let held = false;
    pool.use({
      name: 'h',
      around: async (scope, next) => { if (scope.method === 'slow') { held = true; await hook.promise; } return next(); },
      onCallEnd: (end) => { if (end.method === 'fast') closing ??= pool.close(); },
    });
    pool.add('a');
    const slow = state(pool.run((c) => c, { method: 'slow' }));
    await turns();
    expect(held).toBe(true);
    await expect(pool.run((c) => c, { method: 'fast' })).resolves.toBe('a');
    await closing;
    await turns();
    expect(errorOf(slow())).toBeInstanceOf(PoolClosedError);
    hook.open();
    await turns();
  });
});

describe('hooks that misbehave', () => {
  it('next() twice: fn once, the same answer', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'twice', around: async (_s, next) => { const a = next(); const b = next(); expect(a).toBe(b); return b; } });
    pool.add('a');
    let runs = 0;
    await expect(pool.run((c) => (runs++, c))).resolves.toBe('a');
    expect(runs).toBe(1);
    await pool.close();
  });

  it('a sync hook returning a non-promise after next(): CallbackError, fn ran once, inFlight back to 0', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'sync', around: ((_s: unknown, next: () => Promise<unknown>) => { void next(); return 'plain'; }) as never });
    pool.add('a');
    let runs = 0;
    await expect(pool.run((c) => (runs++, c))).rejects.toBeInstanceOf(CallbackError);
    await turns();
    expect(runs).toBe(1);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('a hook that throws after next(): CallbackError; the started call is handled', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'throws', around: (_s, next) => { void next(); throw new Error('boom'); } });
    pool.add('a');
    await expect(pool.run(() => Promise.reject(new Error('down')))).rejects.toBeInstanceOf(CallbackError);
    await turns();
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('a hook that never settles and never calls next(): abort ends the caller; close() does not wait', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'hang', around: () => new Promise(() => undefined) });
    pool.add('a');
    const ac = new AbortController();
    const a = state(pool.run((c) => c, { signal: ac.signal }));
    const b = state(pool.run((c) => c));
    await turns();
    ac.abort();
    await turns();
    expect(errorOf(a())).toBeInstanceOf(AbortedError);
    expect(b()).toBe('pending');
    await pool.close();
    await turns();
    expect(errorOf(b())).toBeInstanceOf(PoolClosedError);
  });

  it('a hook calling next() late, after the call was aborted: fn never runs, nothing unhandled', async () => {
    const pool = new ClientPool<string>();
    let later: (() => Promise<unknown>) | undefined;
    pool.use({ name: 'late', around: (_s, next) => { later = next; return new Promise(() => undefined); } });
    pool.add('a');
    const ac = new AbortController();
    let runs = 0;
    const call = state(pool.run((c) => (runs++, c), { signal: ac.signal }));
    await turns();
    ac.abort();
    await turns();
    expect(errorOf(call())).toBeInstanceOf(AbortedError);
    await expect(later!()).rejects.toBeInstanceOf(AbortedError);
    expect(runs).toBe(0);
    await pool.close();
  });
});

describe('the clientpool:call trace and onCallEnd', () => {
  it('start and asyncEnd once per call, for calls aborted, closed, answered while held', async () => {
    const channel = tracingChannel('clientpool:call');
    const seen = { start: 0, asyncEnd: 0 };
    const subscribers = { start: () => { seen.start++; }, end: () => undefined, asyncStart: () => undefined, asyncEnd: () => { seen.asyncEnd++; }, error: () => undefined };
    channel.subscribe(subscribers);
    try {
      const hook = gate();
      const ends: CallEnd<string>[] = [];
      const { pool, fn } = slowPool(hook.promise, ends);
      const ac = new AbortController();
      const calls = [state(pool.run(fn, { signal: ac.signal })), state(pool.run(fn)), state(pool.run(fn, { signal: AbortSignal.abort() }))];
      await turns();
      ac.abort();
      await turns();
      await pool.close();
      hook.open();
      await turns(10);
      expect(calls.map((c) => (errorOf(c()) as Error).constructor)).toEqual([AbortedError, PoolClosedError, AbortedError]);
      expect(seen).toEqual({ start: 3, asyncEnd: 3 });
      expect(ends).toHaveLength(3);
    } finally {
      channel.unsubscribe(subscribers);
    }
  });
});
