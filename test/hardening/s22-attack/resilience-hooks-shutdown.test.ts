import { tracingChannel } from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, isClientPoolError, type CallEnd, type CallScope, type RunOptions } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';

// Probe (passes): around hooks (pass-through, a fallback on next()'s failure, two stacked layers, a late
// next() after 30 ms) x retry with backoffs / hedge / hedge + deadline / retry + deadline / three coalesced
// callers x nothing, the caller's abort, close(), destroy(reason) at 45 ms. A manual clock moved with the
// fake timers in 1 ms steps. For each: every caller settles (typed error, or the value), onCallEnd and the
// `clientpool:call` trace hear each caller once, nothing in flight, close()/destroy() resolve, no timer
// left, nothing unhandled; the fallback hook's answer reaches every caller; destroy(reason) of a hedged
// call gives PoolClosedError with the reason as cause.

type Hook = (s: CallScope<string>, next: () => Promise<unknown>) => Promise<unknown>;
const HOOKS: Record<string, Hook[]> = {
  pass: [(_s, n) => n()],
  fallback: [async (_s, n) => { try { return await n(); } catch { return 'fb'; } }],
  twoLayers: [async (_s, n) => await n(), (_s, n) => n()],
  lateNext: [async (_s, n) => { await new Promise((r) => setTimeout(r, 30)); return n(); }],
};
const MODES: Record<string, RunOptions<string>> = {
  retryBackoff: { retry: { attempts: 3, backoff: { initial: 100, max: 100 } } },
  hedge: { hedge: { delay: 10 }, timeout: 500 },
  hedgeDeadline: { hedge: { delay: 10 }, deadline: 80 },
  retryDeadline: { retry: { attempts: 5, backoff: { initial: 20, max: 20 } }, deadline: 70 },
  coalesce3: { coalesce: 'k', timeout: 500 },
};
const TRIGGERS = ['none', 'abort', 'close', 'destroy'] as const;
const channel = tracingChannel('clientpool:call');

describe('resilience x hooks x shutdown', () => {
  for (const [hookName, hooks] of Object.entries(HOOKS)) for (const [mode, modeOptions] of Object.entries(MODES)) for (const trigger of TRIGGERS) {
    it(`${hookName} / ${mode} / ${trigger}`, async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const unhandled: unknown[] = [];
      const onUnhandled = (r: unknown): number => unhandled.push(r);
      process.on('unhandledRejection', onUnhandled);
      let t = 0;
      const pool = new ClientPool<string>({ clock: { now: () => t }, retryBudget: false, random: () => 0.5 });
      let traceEnds = 0;
      const sub = { start: () => undefined, end: () => undefined, asyncStart: () => undefined, error: () => undefined, asyncEnd: (m: unknown) => { if ((m as { pool?: unknown }).pool === pool) traceEnds++; } };
      channel.subscribe(sub);
      try {
        const ends: CallEnd<string>[] = [];
        pool.use({ name: 'ends', onCallEnd: (e) => void ends.push(e) });
        hooks.forEach((around, i) => pool.use({ name: `hook${i}`, around }));
        for (const c of ['a', 'b', 'c']) pool.add(c, { name: c });
        const ac = new AbortController();
        const fn = (_c: string, call: { signal: AbortSignal }): Promise<never> => mode.startsWith('retry')
          ? Promise.reject(new Error('fail'))
          : new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('stopped'))));
        const callers = Array.from({ length: mode === 'coalesce3' ? 3 : 1 }, () => state(pool.run(fn, { ...modeOptions, signal: ac.signal })));
        const step = async (ms: number): Promise<void> => {
          for (let i = 0; i < ms; i++) {
            t++;
            await vi.advanceTimersByTimeAsync(1);
          }
        };
        await step(45);
        let closing: (() => unknown) | undefined;
        if (trigger === 'abort') ac.abort('why');
        if (trigger === 'close') closing = state(pool.close());
        if (trigger === 'destroy') closing = state(pool.destroy('why'));
        await step(700);
        await turns(3);
        for (const seen of callers) {
          const s = seen();
          expect(s).not.toBe('pending');
          if (s !== 'pending' && !s.ok) expect(isClientPoolError(s.value)).toBe(true);
          if (hookName === 'fallback') expect(s).toEqual({ ok: true, value: 'fb' });
          if (hookName !== 'fallback' && trigger === 'destroy' && mode.startsWith('hedge')) {
            expect((s as { value: { code?: string; cause?: unknown } }).value.code).toBe('ERR_POOL_CLOSED');
            expect((s as { value: { cause?: unknown } }).value.cause).toBe('why');
          }
        }
        if (closing !== undefined) expect(closing()).not.toBe('pending');
        expect(ends).toHaveLength(callers.length);
        expect(traceEnds).toBe(callers.length);
        expect(pool.members().reduce((n, m) => n + m.inFlight, 0)).toBe(0);
        await pool.destroy('final');
        await step(5);
        await turns(3);
        expect(vi.getTimerCount()).toBe(0);
        expect(unhandled).toEqual([]);
      } finally {
        channel.unsubscribe(sub);
        process.off('unhandledRejection', onUnhandled);
        vi.useRealTimers();
      }
    });
  }
});
