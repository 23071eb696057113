import { describe, expect, it } from 'vitest';
import { CallbackError, ClientPool } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Probe (passes): the re-entrant next() refusal of d33f3ce (guardedAround's isStarting) breaks no legit
// pattern: next() again from a microtask, a then(), a timer turn or a catch before the first settles returns
// the SAME promise; two sequential synchronous next() calls return the same promise; an abort listener of
// the caller's signal calling next() after it started is handed the same promise. fn runs once each time.
// The refusal itself (fn calling the stored next()) is a handled CallbackError and fn still runs once.

useUnhandledGuard({ time: 'real' });

type Pattern = (next: () => Promise<unknown>, seen: Promise<unknown>[]) => Promise<unknown>;
const PATTERNS: Record<string, Pattern> = {
  'twice in a row, synchronously': (next, seen) => {
    seen.push(next());
    seen.push(next());
    return seen[1]!;
  },
  'again from a microtask before the first settles': async (next, seen) => {
    seen.push(next());
    await Promise.resolve();
    seen.push(next());
    return seen[1];
  },
  'again from then() of an unrelated promise': (next, seen) => {
    seen.push(next());
    return Promise.resolve().then(() => (seen.push(next()), seen[1]));
  },
  'again after a turn of the loop': async (next, seen) => {
    seen.push(next());
    await new Promise((r) => setImmediate(r));
    seen.push(next());
    return seen[1];
  },
  'again in a catch (retry-looking hook)': async (next, seen) => {
    seen.push(next());
    try {
      return await seen[0];
    } catch {
      seen.push(next());
      return seen[1];
    }
  },
};

describe('next() called again, not re-entrantly', () => {
  for (const [name, pattern] of Object.entries(PATTERNS)) {
    for (const fails of [false, true]) {
      it(`${name}${fails ? ' (fn fails)' : ''}: the same promise, fn once`, async () => {
        const pool = new ClientPool<string>();
        const seen: Promise<unknown>[] = [];
        pool.use({ name: 'h', around: (_s, next) => pattern(next, seen) });
        pool.add('a', { name: 'a' });
        let runs = 0;
        const out = state(pool.run(async () => {
          runs++;
          await new Promise((r) => setImmediate(r));
          if (fails) throw new Error('boom');
          return 'v';
        }));
        await turns(6);
        if (fails) expect(out()).toMatchObject({ ok: false, value: { code: 'ERR_CLIENT_CALL' } });
        else expect(out()).toEqual({ ok: true, value: 'v' });
        expect(runs).toBe(1);
        expect(seen.length).toBeGreaterThanOrEqual(1);
        for (const p of seen) expect(p).toBe(seen[0]);
        await pool.close();
      });
    }
  }

  it('an abort listener of the caller calling next() after it started gets the same promise', async () => {
    const pool = new ClientPool<string>();
    const controller = new AbortController();
    const seen: Promise<unknown>[] = [];
    pool.use({
      name: 'h',
      around: (_s, next) => {
        controller.signal.addEventListener('abort', () => void seen.push(next()));
        seen.push(next());
        return seen[0]!;
      },
    });
    pool.add('a', { name: 'a' });
    let runs = 0;
    const out = state(pool.run((_c, call) => (runs++, new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('x'))))), { signal: controller.signal }));
    await turns(2);
    controller.abort('stop');
    await turns(4);
    expect(out()).toMatchObject({ ok: false, value: { code: 'ERR_ABORTED' } });
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]);
    expect(runs).toBe(1);
    await pool.close();
  });

  it('control: fn calling the stored next() is refused (CallbackError, handled) and fn runs once', async () => {
    const pool = new ClientPool<string>();
    let stored: (() => Promise<unknown>) | undefined;
    pool.use({ name: 'h', around: (_s, next) => ((stored = next), next()) });
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    let runs = 0;
    let refusal: unknown;
    const out = state(pool.run(() => {
      runs++;
      stored!().catch((e: unknown) => (refusal = e));
      return 'v';
    }));
    await turns(4);
    expect(out()).toEqual({ ok: true, value: 'v' });
    expect(runs).toBe(1);
    expect(refusal).toBeInstanceOf(CallbackError);
    await pool.close();
  });
});
