import { describe, expect, it } from 'vitest';
import { ClientPool, type CacheOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, type Seen } from '../../helpers/promise-state.js';

// Pins cache + staleIfError with callers that abort, with and without an around hook: a caller that
// left gets AbortedError (never the stale value); the callers still there when the shared call fails get
// the stale value, each its own onStale told once; when every caller left, the shared call is aborted
// and nobody is told of a stale value. README `cache`: "when the call fails, serve one younger than
// `staleIfError` and tell `onStale`"; docs/resilience.md: "one that aborts leaves alone (its promise
// rejects with `AbortedError`) and the others still get the value".

useUnhandledGuard({ time: 'real', quietWarnings: true });

const nameOf = (s: Seen): string => (s === 'pending' ? 'pending' : s.ok ? `ok:${String(s.value)}` : (s.value as Error).name);

function cachedPool(withHook: boolean, clock: { t: number }): { pool: ClientPool<string>; hookGate: { open: () => void } } {
  const pool = new ClientPool<string>({ clock: { now: () => clock.t } });
  const hookGate = gate();
  if (withHook) pool.use({ name: 'h', around: async (s, next) => { if (s.method === 'held') await hookGate.promise; return next(); } });
  pool.add('a');
  return { pool, hookGate };
}

for (const withHook of [false, true]) {
  describe(`cache + staleIfError + abort (${withHook ? 'with' : 'without'} an around hook)`, () => {
    it('one of three callers aborts, the shared call fails: the two left get the stale value, each onStale once', async () => {
      const clock = { t: 0 };
      const { pool } = cachedPool(withHook, clock);
      const stale: string[] = [];
      const cache = (who: string): CacheOptions => ({ ttl: 10, staleIfError: 1_000, onStale: () => { stale.push(who); } });
      expect(await pool.run(() => 'v1', { coalesce: 'k', cache: cache('seed') })).toBe('v1');
      clock.t = 50;
      const fail = gate();
      let runs = 0;
      const fn = async (): Promise<string> => { runs++; await fail.promise; throw new Error('upstream down'); };
      const ac = new AbortController();
      const bc = new AbortController();
      const a = state(pool.run(fn, { coalesce: 'k', cache: cache('a'), signal: ac.signal }));
      const b = state(pool.run(fn, { coalesce: 'k', cache: cache('b'), signal: bc.signal }));
      const c = state(pool.run(fn, { coalesce: 'k', cache: cache('c') }));
      await turns();
      ac.abort('a left');
      await turns();
      expect(nameOf(a())).toBe('AbortedError');
      fail.open();
      await turns();
      expect([nameOf(b()), nameOf(c())]).toEqual(['ok:v1', 'ok:v1']);
      expect(stale.sort()).toEqual(['b', 'c']);
      expect(runs).toBe(1);
      await pool.close();
    });

    it('every caller aborts: the shared call is aborted, AbortedError for each, no onStale, the cache not refreshed', async () => {
      const clock = { t: 0 };
      const { pool } = cachedPool(withHook, clock);
      const stale: string[] = [];
      const cache = { ttl: 10, staleIfError: 1_000, onStale: () => { stale.push('x'); } };
      expect(await pool.run(() => 'v1', { coalesce: 'k', cache })).toBe('v1');
      clock.t = 50;
      let flightSignal: AbortSignal | undefined;
      const fn = (_c: string, call: { signal: AbortSignal }): Promise<string> => {
        flightSignal = call.signal;
        return new Promise((resolve) => call.signal.addEventListener('abort', () => resolve('late')));
      };
      const ac = new AbortController();
      const calls = [state(pool.run(fn, { coalesce: 'k', cache, signal: ac.signal })), state(pool.run(fn, { coalesce: 'k', cache, signal: ac.signal }))];
      await turns();
      ac.abort('all left');
      await turns();
      expect(calls.map((s) => nameOf(s()))).toEqual(['AbortedError', 'AbortedError']);
      expect(flightSignal?.aborted).toBe(true);
      expect(stale).toEqual([]);
      // The key was forgotten at once: a later caller starts afresh, the stale entry still there.
      expect(await pool.run(() => 'v2', { coalesce: 'k', cache })).toBe('v2');
      await pool.close();
    });

    if (withHook) {
      it('a caller aborted while held in its hook gets AbortedError, not the stale value; fn never runs for it', async () => {
        const clock = { t: 0 };
        const { pool, hookGate } = cachedPool(true, clock);
        const stale: string[] = [];
        const cache = { ttl: 10, staleIfError: 1_000, onStale: () => { stale.push('x'); } };
        expect(await pool.run(() => 'v1', { coalesce: 'k', cache })).toBe('v1');
        clock.t = 50;
        let runs = 0;
        const ac = new AbortController();
        const held = state(pool.run(() => { runs++; throw new Error('down'); }, { coalesce: 'k', cache, signal: ac.signal, method: 'held' }));
        await turns();
        ac.abort();
        await turns();
        expect(nameOf(held())).toBe('AbortedError');
        hookGate.open();
        await turns();
        expect(runs).toBe(0);
        expect(stale).toEqual([]);
        await pool.close();
      });
    }
  });
}
