import { describe, expect, it, vi } from 'vitest';
import { AbortedError, ClientPool, DeadlineExceededError, PoolClosedError, type CallEnd } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { errorOf, gate, state, turns } from '../../helpers/promise-state.js';

// Pins what holds of coalesced calls with around hooks, aborts, close() and a cache (4ed6f2c's second
// change): checked once, a flight runs on the check, each caller keeps its own signal, a stale result
// stands in for a failure, a deadline counts from run() through slow hooks.

useUnhandledGuard({ time: 'real', quietWarnings: true });

describe('coalesce + around', () => {
  it('a caller held in its hook and aborted leaves alone: the other caller\'s flight runs once and answers it', async () => {
    const pool = new ClientPool<string>();
    const firstHook = gate();
    let first = true;
    const ends: CallEnd<string>[] = [];
    pool.use({ name: 'h', around: async (_s, next) => { if (first) { first = false; await firstHook.promise; } return next(); }, onCallEnd: (end) => void ends.push(end) });
    pool.add('a');
    const fnGate = gate();
    let runs = 0;
    const fn = async (c: string): Promise<string> => { runs++; await fnGate.promise; return c; };
    const ac = new AbortController();
    const held = state(pool.run(fn, { coalesce: 'k', signal: ac.signal }));
    const other = state(pool.run(fn, { coalesce: 'k' }));
    await turns();
    expect(runs).toBe(1);
    ac.abort();
    await turns();
    expect(errorOf(held())).toBeInstanceOf(AbortedError);
    firstHook.open();
    await turns();
    // The late next() of the aborted caller is refused for its own signal; it joins no flight.
    expect(runs).toBe(1);
    fnGate.open();
    await turns();
    expect(other()).toEqual({ ok: true, value: 'a' });
    expect(ends.map((e) => e.error?.code ?? e.source)).toEqual(['ERR_ABORTED', 'upstream']);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('every caller of a flight aborts: the shared call is aborted (its call.signal), inFlight back to 0', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'h', around: (_s, next) => next() });
    pool.add('a');
    let flightSignal: AbortSignal | undefined;
    const ac = new AbortController();
    const calls = Array.from({ length: 20 }, () => state(pool.run((c, call) => { flightSignal = call.signal; return new Promise((_, reject) => call.signal.addEventListener('abort', () => reject(new Error('cut')))); }, { coalesce: 'k', signal: ac.signal })));
    await turns();
    ac.abort();
    await turns();
    for (const call of calls) expect(errorOf(call())).toBeInstanceOf(AbortedError);
    expect(flightSignal?.aborted).toBe(true);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('close() while one caller is held and another is in the flight: the held one ends, the flight finishes, close waits for it', async () => {
    const pool = new ClientPool<string>();
    const hook = gate();
    let first = true;
    pool.use({ name: 'h', around: async (_s, next) => { if (first) { first = false; return next(); } await hook.promise; return next(); } });
    pool.add('a');
    const fnGate = gate();
    let runs = 0;
    const fn = async (c: string): Promise<string> => { runs++; await fnGate.promise; return c; };
    const flying = state(pool.run(fn, { coalesce: 'k' }));
    await turns();
    const held = state(pool.run(fn, { coalesce: 'k' }));
    await turns();
    const closing = state(pool.close());
    await turns();
    expect(errorOf(held())).toBeInstanceOf(PoolClosedError);
    expect(closing()).toBe('pending');
    fnGate.open();
    await turns();
    expect(flying()).toEqual({ ok: true, value: 'a' });
    expect(closing()).toEqual({ ok: true, value: undefined });
    hook.open();
    await turns();
    expect(runs).toBe(1);
  });

  it('nested cache getters are read once, with a hook', async () => {
    const pool = new ClientPool<string>();
    pool.use({ name: 'h', around: async (_s, next) => { await Promise.resolve(); return next(); } });
    pool.add('a');
    let reads = 0;
    const cache = { get ttl() { reads++; return 1000; } };
    await expect(pool.run((c) => c, { coalesce: 'k', cache })).resolves.toBe('a');
    expect(reads).toBe(1);
    await pool.close();
  });
});

describe('coalesce + cache + staleIfError', () => {
  it('a failure inside staleIfError is answered by the stale result, onStale told once, source stale, through a hook', async () => {
    let t = 0;
    const pool = new ClientPool<string>({ clock: { now: () => t } });
    const ends: CallEnd<string>[] = [];
    pool.use({ name: 'h', around: async (_s, next) => { await Promise.resolve(); return next(); }, onCallEnd: (end) => void ends.push(end) });
    pool.add('a');
    const onStale = vi.fn();
    const cache = { ttl: 100, staleIfError: 1000, onStale };
    await expect(pool.run(() => 'v1', { coalesce: 'k', cache })).resolves.toBe('v1');
    t = 50;
    await expect(pool.run(() => 'v2', { coalesce: 'k', cache })).resolves.toBe('v1');
    t = 500;
    await expect(pool.run(() => { throw new Error('down'); }, { coalesce: 'k', cache })).resolves.toBe('v1');
    expect(onStale).toHaveBeenCalledTimes(1);
    t = 5000;
    await expect(pool.run(() => { throw new Error('down'); }, { coalesce: 'k', cache })).rejects.toMatchObject({ code: 'ERR_CLIENT_CALL' });
    expect(ends.map((e) => e.source)).toEqual(['upstream', 'cache', 'stale', 'upstream']);
    await pool.close();
  });

  it('a caller aborted while the flight fails gets AbortedError, not the stale result', async () => {
    let t = 0;
    const pool = new ClientPool<string>({ clock: { now: () => t } });
    pool.add('a');
    const cache = { ttl: 10, staleIfError: 1000, onStale: () => undefined };
    await pool.run(() => 'v1', { coalesce: 'k', cache });
    t = 100;
    const ac = new AbortController();
    const fnGate = gate();
    const steady = state(pool.run(async () => { await fnGate.promise; throw new Error('down'); }, { coalesce: 'k', cache }));
    const leaving = state(pool.run(() => 'never', { coalesce: 'k', cache, signal: ac.signal }));
    await turns();
    ac.abort();
    await turns();
    expect(errorOf(leaving())).toBeInstanceOf(AbortedError);
    fnGate.open();
    await turns();
    expect(steady()).toEqual({ ok: true, value: 'v1' });
    await pool.close();
  });
});

describe('coalesce + deadline through slow hooks', () => {
  it('a deadline counts from run(): a hook that takes longer leaves the flight no time (DeadlineExceededError), fn never runs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let t = 0;
      const pool = new ClientPool<string>({ clock: { now: () => t } });
      pool.use({ name: 'slow', around: async (_s, next) => { await new Promise((resolve) => setTimeout(resolve, 200)); return next(); } });
      pool.add('a');
      let runs = 0;
      const call = state(pool.run((c) => (runs++, c), { coalesce: 'k', deadline: 100 }));
      t = 200;
      await vi.advanceTimersByTimeAsync(200);
      await vi.advanceTimersByTimeAsync(1);
      expect(errorOf(call())).toBeInstanceOf(DeadlineExceededError);
      expect(runs).toBe(0);
      await pool.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
