import { describe, expect, it, vi } from 'vitest';
import { ClientPool, isClientPoolError, type CallEnd, type CallScope } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';

// Probe (passes): every kind of misbehaving around hook x three functions x six ways a call ends.
// Fake timers (setTimeout/Date) and a manual clock moved with them in 5 ms steps; setImmediate real.
// Invariants checked for each of the 198 cases:
// - nothing unhandled; what the caller gets is a clientpool error (or the value);
// - onCallEnd hears a settled call exactly once, and a pending one never;
// - a call with a deadline or an aborted signal always settles (AbortedError / DeadlineExceededError,
//   or the hook's own CallbackError, or fn's value when it came first);
// - close() resolves once fn answered, or when the hook held the call before next() (close() ends it);
// - destroy() resolves, every client's in-flight count is 0, and no timer is left afterwards;
// - destroy(reason) settles every call, held or past next(), fn ignoring call.signal included (session 22:
//   destroy-hook-after-next.test.ts was the fault of hooks hanging after next()).

type Hook = (s: CallScope<string>, next: () => Promise<unknown>) => unknown;
const never = new Promise<never>(() => undefined);
const HOOKS: Record<string, () => Hook> = {
  pass: () => (_s, n) => n(),
  nextTwice: () => (_s, n) => { void n(); return n(); },
  neverNext: () => () => never,
  neverThenable: () => () => ({ then: () => undefined }),
  nonPromise: () => (_s, n) => { void n(); return 42; },
  throwBefore: () => () => { throw new Error('before'); },
  throwAfterNext: () => (_s, n) => { void n(); throw new Error('after'); },
  lateNext: () => async (_s, n) => { await new Promise((r) => setTimeout(r, 60)); return n(); },
  hangAfterNext: () => async (_s, n) => { await n(); await never; },
  hangInFinally: () => async (_s, n) => { try { return await n(); } finally { await never; } },
  thenableOfNext: () => (_s, n) => ({ then: (res: (v: unknown) => void) => res(n()) }),
};
const FNS: Record<string, () => (c: string, call: { signal: AbortSignal }) => unknown> = {
  answers: () => () => 'v',
  honoursSignal: () => (_c, call) => new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('stopped')))),
  ignoresSignal: () => () => never,
};
const TRIGGERS = ['none', 'timeout', 'deadline', 'abort', 'close', 'destroy'] as const;
const HELD_AT_CLOSE = new Set(['neverNext', 'neverThenable', 'lateNext', 'throwBefore']);

describe('around hooks x functions x endings', () => {
  for (const [hookName, hook] of Object.entries(HOOKS)) for (const [fnName, fn] of Object.entries(FNS)) for (const trigger of TRIGGERS) {
    it(`${hookName} / ${fnName} / ${trigger}`, async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const unhandled: unknown[] = [];
      const onUnhandled = (r: unknown): number => unhandled.push(r);
      process.on('unhandledRejection', onUnhandled);
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      try {
        let t = 0;
        const pool = new ClientPool<string>({ clock: { now: () => t } });
        const ends: CallEnd<string>[] = [];
        pool.use({ name: 'ends', onCallEnd: (e) => void ends.push(e) });
        pool.use({ name: 'hook', around: hook() as (s: CallScope<string>, n: () => Promise<unknown>) => Promise<unknown> });
        pool.add('a', { name: 'a' });
        const ac = new AbortController();
        const options = trigger === 'timeout' ? { timeout: 100 } : trigger === 'deadline' ? { deadline: 100 } : trigger === 'abort' ? { signal: ac.signal } : {};
        const seen = state(pool.run(fn(), options));
        const step = async (ms: number): Promise<void> => {
          for (let i = 0; i < ms; i += 5) {
            t += 5;
            await vi.advanceTimersByTimeAsync(5);
          }
        };
        await step(50);
        let closing: (() => unknown) | undefined;
        if (trigger === 'abort') ac.abort('why');
        if (trigger === 'close') closing = state(pool.close());
        if (trigger === 'destroy') closing = state(pool.destroy('why'));
        await step(200);
        await turns(5);
        const before = seen();
        if (before !== 'pending' && !before.ok) expect(isClientPoolError(before.value)).toBe(true);
        if (trigger === 'deadline' || trigger === 'abort') expect(before).not.toBe('pending');
        // close() waits for an attempt in flight (it does not abort call.signal): it resolves once fn answered, or
        // when the hook held the call before next() (close() ends such calls).
        if (trigger === 'close' && (fnName === 'answers' || HELD_AT_CLOSE.has(hookName))) expect(closing!()).not.toBe('pending');
        if (trigger === 'destroy') {
          expect(closing!()).not.toBe('pending');
          // Every call here goes through a hook: destroy() ends it, held or past next() (fn ignoring call.signal too).
          expect(before).not.toBe('pending');
          if (before !== 'pending' && !before.ok && (before.value as { code?: string }).code === 'ERR_POOL_CLOSED') expect((before.value as Error).cause).toBe('why');
        }
        const destroyed = state(pool.destroy('final'));
        await step(10);
        await turns(5);
        expect(destroyed()).not.toBe('pending');
        expect(pool.members().reduce((n, m) => n + m.inFlight, 0)).toBe(0);
        expect(vi.getTimerCount()).toBe(0);
        const after = seen();
        expect(after).not.toBe('pending');
        expect(ends).toHaveLength(1);
        expect(unhandled).toEqual([]);
      } finally {
        warn.mockRestore();
        process.off('unhandledRejection', onUnhandled);
        vi.useRealTimers();
      }
    });
  }
});
