import { describe, expect, it, vi } from 'vitest';
import { AbortedError, ClientPool, DeadlineExceededError, PoolClosedError } from '../../src/index.js';
import { gate, state, turns } from '../helpers/promise-state.js';
import { useUnhandledGuard } from '../helpers/unhandled.js';

/** Run `body` with `setTimeout`/`clearTimeout` faked (the clock is the test's own), real timers after. */
async function withFakeTimeouts(body: () => Promise<void>): Promise<void> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    await body();
  } finally {
    vi.useRealTimers();
  }
}

// A call inside its around hooks before the innermost next() is held (src/pipeline/held-calls.ts): its
// caller's abort rejects it at once, and close() or destroy() end it with PoolClosedError, as they end
// calls waiting for a token or a client. close() does not wait for a hook. A hook that goes on later runs
// its next() into that refusal; nobody waits for it, and nothing is left unhandled.

useUnhandledGuard({ time: 'real' });

function heldPool(hookGate: Promise<void>, ends: unknown[] = []): { pool: ClientPool<string>; fnRuns: () => number; fn: (c: string) => string } {
  const pool = new ClientPool<string>();
  pool.use({ name: 'async-lookup', around: async (_scope, next) => { await hookGate; return next(); }, onCallEnd: (end) => void ends.push(end.error) });
  pool.add('a');
  let runs = 0;
  return { pool, fnRuns: () => runs, fn: (c) => (runs++, c) };
}

describe('a call held in its around hook before next()', () => {
  it('its caller\'s abort rejects it with AbortedError (the reason as cause) while the hook still waits', async () => {
    const hook = gate();
    const ends: unknown[] = [];
    const { pool, fn, fnRuns } = heldPool(hook.promise, ends);
    const ac = new AbortController();
    const call = state(pool.run(fn, { signal: ac.signal }));
    await turns();
    const reason = new Error('caller gave up');
    ac.abort(reason);
    await turns();
    const seen = call();
    expect(seen).toMatchObject({ ok: false });
    const error = (seen as { value: unknown }).value;
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).cause).toBe(reason);
    hook.open();
    await turns();
    expect(fnRuns()).toBe(0);
    expect(ends).toEqual([error]);
    await pool.close();
  });

  it('close() ends it with PoolClosedError and resolves without waiting for the hook; the hook\'s later next() never runs fn', async () => {
    const hook = gate();
    const { pool, fn, fnRuns } = heldPool(hook.promise);
    const call = state(pool.run(fn, { method: 'get' }));
    await turns();
    await pool.close();
    await turns(1);
    expect(call()).toMatchObject({ ok: false, value: expect.any(PoolClosedError) });
    hook.open();
    await turns();
    expect(fnRuns()).toBe(0);
  });

  it('destroy(reason) ends it with PoolClosedError, the reason as cause, before destroy() resolves', async () => {
    const hook = gate();
    const { pool, fn } = heldPool(hook.promise);
    const call = state(pool.run(fn, { signal: new AbortController().signal }));
    await turns();
    const reason = new Error('shutdown');
    await pool.destroy(reason);
    await turns(1);
    expect(call()).toMatchObject({ ok: false, value: expect.any(PoolClosedError) });
    expect(((call() as { value: PoolClosedError }).value).cause).toBe(reason);
    hook.open();
    await turns();
  });

  it('a call whose hook has called next() is in flight: close() waits for it and it resolves', async () => {
    const fnGate = gate();
    const pool = new ClientPool<string>();
    pool.use({ name: 'pass', around: async (_scope, next) => { await Promise.resolve(); return next(); } });
    pool.add('a');
    let started = false;
    const call = pool.run(async (c) => { started = true; await fnGate.promise; return c; });
    while (!started) await turns(1);
    const closing = pool.close();
    fnGate.open();
    expect(await call).toBe('a');
    await closing;
  });

  it('a signal shared by many held calls: one abort ends them all, each with AbortedError', async () => {
    const hook = gate();
    const { pool, fn } = heldPool(hook.promise);
    const ac = new AbortController();
    const calls = Array.from({ length: 50 }, () => state(pool.run(fn, { signal: ac.signal })));
    await turns();
    ac.abort();
    await turns();
    expect(calls.every((c) => { const s = c(); return s !== 'pending' && s.value instanceof AbortedError; })).toBe(true);
    hook.open();
    await turns();
    await pool.close();
  });

  it('control: a hook that calls next() at once, then the caller aborts during fn: AbortedError through the pipeline, as without hooks', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'pass', around: (_scope, next) => next() });
    pool.add('a');
    const ac = new AbortController();
    const call = pool.run(() => new Promise<string>(() => {}), { signal: ac.signal }).catch((e: unknown) => e);
    await turns(1);
    ac.abort();
    expect(await call).toBeInstanceOf(AbortedError);
    await pool.close();
  });
});

describe('a hook that refuses the call for the hooks inside it', () => {
  it('an outer hook that aborts the signal before next(): the inner hook never runs, the caller gets AbortedError', async () => {
    const pool = new ClientPool<string>();
    const ac = new AbortController();
    let inner = 0;
    pool.use({ name: 'outer', around: (_s, next) => { ac.abort(new Error('gone')); return next(); } });
    pool.use({ name: 'inner', around: () => { inner++; return Promise.resolve('cached'); } });
    pool.add('a');
    expect(await pool.run((c) => c, { signal: ac.signal }).catch((e: unknown) => e)).toBeInstanceOf(AbortedError);
    expect(inner).toBe(0);
    await pool.close();
  });

  it('an outer hook that closes the pool before next(): the inner hook never runs, the caller gets PoolClosedError', async () => {
    const pool = new ClientPool<string>();
    let inner = 0;
    pool.use({ name: 'outer', around: (_s, next) => { void pool.close(); return next(); } });
    pool.use({ name: 'inner', around: () => { inner++; return Promise.resolve('cached'); } });
    pool.add('a');
    expect(await pool.run((c) => c, { method: 'get' }).catch((e: unknown) => e)).toBeInstanceOf(PoolClosedError);
    expect(inner).toBe(0);
  });

  it.each([
    ['retry.attempts', (ac: AbortController) => ({ retry: { get attempts() { ac.abort(); return 2; } } })],
    ['hedge.delay', (ac: AbortController) => ({ hedge: { get delay() { ac.abort(); return 5; } } })],
    ['cost.requests', (ac: AbortController) => ({ cost: { get requests() { ac.abort(); return 1; } } })],
  ])('a %s getter that aborts the signal while the call is checked: no hook runs, AbortedError', async (_name, make) => {
    const pool = new ClientPool<string>();
    let hooks = 0;
    pool.use({ name: 'cache', around: () => { hooks++; return Promise.resolve('cached'); } });
    pool.add('a');
    const ac = new AbortController();
    expect(await pool.run((c) => c, { signal: ac.signal, ...make(ac) }).catch((e: unknown) => e)).toBeInstanceOf(AbortedError);
    expect(hooks).toBe(0);
    await pool.close();
  });

  it('a cost getter that closes the pool while the call is checked: no hook runs, PoolClosedError', async () => {
    const pool = new ClientPool<string>();
    let hooks = 0;
    pool.use({ name: 'cache', around: () => { hooks++; return Promise.resolve('cached'); } });
    pool.add('a');
    const options = { cost: { get requests() { void pool.close(); return 1; } } };
    expect(await pool.run((c) => c, options).catch((e: unknown) => e)).toBeInstanceOf(PoolClosedError);
    expect(hooks).toBe(0);
  });
});

describe('a deadline passing while the call is held', () => {
  it('the caller gets DeadlineExceededError at its deadline, without waiting for the hook; fn never runs', async () => {
    await withFakeTimeouts(async () => {
      let t = 0;
      const pool = new ClientPool<string>({ clock: { now: () => t } });
      const hook = gate();
      pool.use({ name: 'lock', around: async (_s, next) => { await hook.promise; return next(); } });
      pool.add('a');
      let runs = 0;
      const call = state(pool.run((c) => (runs++, c), { deadline: 100 }));
      t += 99;
      await vi.advanceTimersByTimeAsync(99);
      expect(call()).toBe('pending');
      t += 2;
      await vi.advanceTimersByTimeAsync(2);
      await turns();
      expect(call()).toMatchObject({ ok: false, value: expect.any(DeadlineExceededError) });
      expect(((call() as { value: DeadlineExceededError }).value).deadlineMs).toBe(100);
      hook.open();
      await turns();
      expect(runs).toBe(0);
      await pool.close();
    });
  });

  it('control: a hook that calls next() before the deadline leaves the call to run', async () => {
    let t = 0;
    const pool = new ClientPool<string>({ clock: { now: () => t } });
    pool.use({ name: 'lock', around: async (_s, next) => { await Promise.resolve(); t += 50; return next(); } });
    pool.add('a');
    expect(await pool.run((c) => c, { deadline: 100 })).toBe('a');
    await pool.close();
  });
});

describe('a hook that goes on after its held call ended', () => {
  it('a deadline ended it while the clock lags the timer: the late next() rejects with that DeadlineExceededError, fn never runs', async () => {
    await withFakeTimeouts(async () => {
      const pool = new ClientPool<string>({ clock: { now: () => 0 } });
      const hook = gate();
      let late: Promise<unknown> | undefined;
      pool.use({ name: 'lock', around: async (_s, next) => { await hook.promise; late = next(); return late; } });
      pool.add('a');
      let runs = 0;
      const call = state(pool.run((c) => (runs++, c), { deadline: 100 }));
      await vi.advanceTimersByTimeAsync(101);
      await turns();
      const seen = call();
      expect(seen).toMatchObject({ ok: false, value: expect.any(DeadlineExceededError) });
      hook.open();
      await turns();
      expect(await late!.catch((e: unknown) => e)).toBe((seen as { value: unknown }).value);
      expect(runs).toBe(0);
      await pool.close();
    });
  });

  it('destroy(reason) ended it: the late next() rejects with the same PoolClosedError, the reason as cause', async () => {
    const hook = gate();
    const pool = new ClientPool<string>();
    let late: Promise<unknown> | undefined;
    pool.use({ name: 'lock', around: async (_s, next) => { await hook.promise; late = next(); return late; } });
    pool.add('a');
    const call = state(pool.run((c) => c));
    await turns();
    const reason = new Error('why');
    await pool.destroy(reason);
    hook.open();
    await turns();
    const got = await late!.catch((e: unknown) => e);
    expect(got).toBe((call() as { value: unknown }).value);
    expect((got as PoolClosedError).cause).toBe(reason);
  });

  it('a deadline ended it: an outer hook\'s late next() skips the inner hooks and gets the DeadlineExceededError', async () => {
    await withFakeTimeouts(async () => {
      let t = 0;
      const pool = new ClientPool<string>({ clock: { now: () => t } });
      const hook = gate();
      let inner = 0;
      let late: Promise<unknown> | undefined;
      pool.use({ name: 'outer', around: async (_s, next) => { await hook.promise; late = next(); return late; } });
      pool.use({ name: 'inner', around: () => { inner++; return Promise.resolve('cached'); } });
      pool.add('a');
      const call = state(pool.run((c) => c, { deadline: 100 }));
      t += 101;
      await vi.advanceTimersByTimeAsync(101);
      await turns();
      hook.open();
      await turns();
      expect(await late!.catch((e: unknown) => e)).toBeInstanceOf(DeadlineExceededError);
      expect(call()).toMatchObject({ ok: false, value: expect.any(DeadlineExceededError) });
      expect(inner).toBe(0);
      await pool.close();
    });
  });
});

describe('a hook that hangs after next() (a slow flush, a fallback)', () => {
  it('the caller\'s abort lets it go with AbortedError one turn later; close() does not end it', async () => {
    const slow = gate();
    const pool = new ClientPool<string>();
    pool.use({ name: 'flush', around: async (_s, next) => { const value = await next(); await slow.promise; return value; } });
    pool.add('a');
    const ac = new AbortController();
    const call = state(pool.run((c) => c, { signal: ac.signal }));
    await turns();
    expect(call()).toBe('pending');
    ac.abort(new Error('gone'));
    await turns();
    expect(call()).toMatchObject({ ok: false, value: expect.any(AbortedError) });
    slow.open();
    await pool.close();
  });

  it('its deadline lets it go with DeadlineExceededError', async () => {
    await withFakeTimeouts(async () => {
      let t = 0;
      const slow = gate();
      const pool = new ClientPool<string>({ clock: { now: () => t } });
      pool.use({ name: 'flush', around: async (_s, next) => { const value = await next(); await slow.promise; return value; } });
      pool.add('a');
      const call = state(pool.run((c) => c, { deadline: 100 }));
      await turns();
      t += 101;
      await vi.advanceTimersByTimeAsync(101);
      await turns();
      expect(call()).toMatchObject({ ok: false, value: expect.any(DeadlineExceededError) });
      slow.open();
      await pool.close();
    });
  });

  it('control: a hook that passes the pipeline\'s error on gets there first: the attempt\'s DeadlineExceededError, naming its client', async () => {
    await withFakeTimeouts(async () => {
      let t = 0;
      const pool = new ClientPool<string>({ clock: { now: () => t } });
      pool.use({ name: 'pass', around: (_s, next) => next() });
      pool.add('a', { name: 'a' });
      const call = state(pool.run(() => new Promise<string>(() => {}), { deadline: 100 }));
      await turns();
      t += 101;
      await vi.advanceTimersByTimeAsync(101);
      await turns();
      expect(call()).toMatchObject({ ok: false, value: expect.any(DeadlineExceededError) });
      expect(((call() as { value: Error }).value).message).toContain('on client a');
      await pool.close();
    });
  });
});

describe('a next() called by a listener of the very abort that ends the call', () => {
  it('an abort listener added before run() calls next(): the caller rejects with AbortedError, next() gets the same error, fn never runs', async () => {
    const pool = new ClientPool<string>();
    let stored: (() => Promise<unknown>) | undefined;
    let fromNext: unknown;
    const ac = new AbortController();
    ac.signal.addEventListener('abort', () => void stored?.().catch((e: unknown) => (fromNext = e)));
    pool.use({ name: 'lock', around: (_s, next) => { stored = next; return new Promise(() => {}); } });
    pool.add('a');
    let runs = 0;
    const call = state(pool.run((c) => (runs++, c), { signal: ac.signal }));
    await turns();
    ac.abort('why');
    await turns();
    expect(call()).toMatchObject({ ok: false, value: expect.any(AbortedError) });
    expect(fromNext).toBe((call() as { value: unknown }).value);
    expect(runs).toBe(0);
    await pool.close();
  });
});

describe('a call past next() and its deadline', () => {
  it('released at a fraction of a ms: a pass-through hook gives the caller the attempt\'s DeadlineExceededError, naming its client', async () => {
    await withFakeTimeouts(async () => {
      const clock = { t: 0 };
      const hook = gate();
      const pool = new ClientPool<string>({ clock: { now: () => clock.t } });
      pool.use({ name: 'lock', around: async (_s, next) => { await hook.promise; return next(); } });
      pool.add('a', { name: 'a' });
      const call = state(pool.run(() => new Promise<string>(() => {}), { deadline: 100 }));
      clock.t = 10.7;
      await vi.advanceTimersByTimeAsync(10);
      hook.open();
      await turns();
      clock.t = 100;
      await vi.advanceTimersByTimeAsync(90);
      await turns();
      clock.t = 101;
      await vi.advanceTimersByTimeAsync(1);
      await turns();
      expect(call()).toMatchObject({ ok: false, value: expect.any(DeadlineExceededError) });
      expect(((call() as { value: Error }).value).message).toContain('on client a');
      await pool.close();
    });
  });

  it('close() has resolved and the hook hangs after next(): the deadline still lets the caller go', async () => {
    await withFakeTimeouts(async () => {
      let t = 0;
      const slow = gate();
      const pool = new ClientPool<string>({ clock: { now: () => t } });
      pool.use({ name: 'flush', around: async (_s, next) => { const value = await next(); await slow.promise; return value; } });
      pool.add('a');
      const call = state(pool.run((c) => c, { deadline: 100 }));
      await turns();
      await pool.close();
      expect(call()).toBe('pending');
      t += 110;
      await vi.advanceTimersByTimeAsync(110);
      await turns();
      expect(call()).toMatchObject({ ok: false, value: expect.any(DeadlineExceededError) });
      slow.open();
    });
  });
});
