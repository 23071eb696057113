import { describe, expect, it } from 'vitest';
import { CallbackError, ClientPool, type RunOptions } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Was a fault (s22 #3, fixed in session 22): an around hook's `next()` called a second time while the first `next()` is still
// running synchronously (re-entrantly: fn, or anything fn calls, invokes the hook's stored `next`)
// starts a second journey: fn runs twice, on two attempts, for one call with no retry, and the caller
// gets the second run's value. guardedAround (src/middleware/middleware.ts) caches the inner promise
// only once `run()` has returned (`inner = run()`), so a call of `next` inside `run()` finds `inner`
// undefined. docs/middleware.md / call-pipeline.md: a second next() "never reaches the client again";
// guardedAround's own contract: "the call inside starts at most once however often `next()` is called".
// The same re-entrant second `next(call)` of an `execute` middleware is refused (control).

useUnhandledGuard({ time: 'real', quietWarnings: true });

const CASES: Record<string, RunOptions<string>> = {
  'no options': {},
  timeout: { timeout: 60_000 },
  coalesce: { coalesce: 'k' },
};

describe('a re-entrant second next() of an around hook', () => {
  for (const [name, options] of Object.entries(CASES)) {
    it(`${name}: fn runs once, the caller gets its first answer`, async () => {
      const pool = new ClientPool<string>();
      let stored: (() => Promise<unknown>) | undefined;
      pool.use({ name: 'keeps-next', around: (_s, next) => { stored = next; return next(); } });
      pool.add('a', { name: 'a' });
      pool.add('b', { name: 'b' });
      let runs = 0;
      let second: Promise<unknown> | undefined;
      const seen = state(pool.run(() => {
        runs++;
        if (runs === 1) {
          second = stored!();
          second.catch(() => undefined);
        }
        return `v${runs}`;
      }, options));
      await turns(5);
      expect(runs).toBe(1);
      expect(seen()).toEqual({ ok: true, value: 'v1' });
      const attempts = pool.members().reduce((n, m) => n + m.successes + m.failures + m.refused + m.cancelled, 0);
      expect(attempts).toBe(1);
      await pool.close();
    });
  }

  it('an inner hook calling the outer hook\'s stored next() synchronously: the inner hook and fn run once', async () => {
    const pool = new ClientPool<string>();
    let outerNext: (() => Promise<unknown>) | undefined;
    let innerRuns = 0;
    pool.use({ name: 'outer', around: (_s, next) => { outerNext = next; return next(); } });
    pool.use({ name: 'inner', around: (_s, next) => {
      innerRuns++;
      if (innerRuns === 1) outerNext!().catch(() => undefined);
      return next();
    } });
    pool.add('a', { name: 'a' });
    let runs = 0;
    const seen = state(pool.run(() => ++runs));
    await turns(5);
    expect(innerRuns).toBe(1);
    expect(runs).toBe(1);
    expect(seen()).toEqual({ ok: true, value: 1 });
    await pool.close();
  });

  it('control: an execute middleware calling next(call) re-entrantly is refused; fn runs once', async () => {
    const pool = new ClientPool<string>();
    let again: (() => Promise<unknown>) | undefined;
    pool.use({ name: 'x', execute: (call, next) => { again = () => next(call); return next(call); } });
    pool.add('a', { name: 'a' });
    let runs = 0;
    let second: (() => unknown) | undefined;
    const seen = state(pool.run(() => {
      runs++;
      if (runs === 1) second = state(again!());
      return `v${runs}`;
    }));
    await turns(5);
    expect(runs).toBe(1);
    expect(seen()).toEqual({ ok: true, value: 'v1' });
    expect((second!() as { value: unknown }).value).toBeInstanceOf(CallbackError);
    await pool.close();
  });
});
