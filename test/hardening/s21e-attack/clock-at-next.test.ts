import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, DeadlineExceededError, type CallEnd } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf } from '../../helpers/promise-state.js';
import { inFlight } from '../../helpers/watched-pool.js';
import { rig, messageOf, type Rig } from '../../helpers/around-rig.js';

// Pins the moved entry (4f5d944, HeldCall.release) against the clock at next(): a clock stepped back
// between run() and next(), a clock already past the deadline at next() (ahead of the timers), and a
// guarded clock that throws or reads NaN around next(). In each the caller gets the attempt's error
// (naming client a) at the deadline, once, and nothing is left in flight.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

let r: Rig | undefined;
let pool: ClientPool<string> | undefined;
afterEach(async () => {
  await r?.done();
  r = undefined;
  await pool?.destroy();
  pool = undefined;
});

const hang = (): Promise<never> => new Promise(() => undefined);

async function firstSettled(seen: () => unknown, until: number, step: (t: number) => Promise<void>): Promise<number> {
  for (let t = 1; t <= until; t++) {
    await step(t);
    await turns(2);
    if (seen() !== 'pending') return t;
  }
  return -1;
}

describe('the clock at next()', () => {
  it('stepped back 990 ms between run() and next(): the attempt\'s error at 100 ms, not later', async () => {
    const g = gate();
    r = rig([async (_s, next) => { await g.promise; return next(); }]);
    r.clock.t = 1000;
    const seen = state(r.pool.run(hang, { deadline: 100 }));
    await turns();
    await r.advance(10, 10);
    g.open();
    await turns();
    const rr = r;
    const at = await firstSettled(seen, 120, (t) => (t <= 10 ? Promise.resolve() : rr.advance(1, t)));
    expect(at).toBe(100);
    expect(messageOf(errorOf(seen()))).toBe('call deadline of 100 ms exceeded on client a');
    expect(r.ends).toHaveLength(1);
    expect(r.traceEnds).toHaveLength(1);
    expect(inFlight(r.pool)).toBe(0);
  });

  it('stepped back, a hook falling back 1 ms after the attempt\'s error: the fallback reaches the caller', async () => {
    const g = gate();
    r = rig([async (_s, next) => {
      await g.promise;
      try {
        return await next();
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return 'fallback';
      }
    }]);
    r.clock.t = 1000;
    const seen = state(r.pool.run(hang, { deadline: 100 }));
    await turns();
    await r.advance(10, 10);
    g.open();
    await turns();
    for (let t = 11; t <= 110; t++) await r.advance(1, t);
    await turns();
    expect(seen()).toEqual({ ok: true, value: 'fallback' });
    expect(r.traceEnds).toEqual([{ result: 'fallback' }]);
  });

  it('the clock 50 ms past the deadline at next() (timers at 60 ms): fn never runs, DeadlineExceededError once', async () => {
    const g = gate();
    let ran = 0;
    r = rig([async (_s, next) => { await g.promise; return next(); }]);
    const seen = state(r.pool.run(() => { ran++; return 'v'; }, { deadline: 100 }));
    await turns();
    await r.advance(60, 150);
    g.open();
    await turns();
    await r.advance(5, 155);
    await turns();
    expect(errorOf(seen())).toBeInstanceOf(DeadlineExceededError);
    expect(ran).toBe(0);
    expect(r.ends).toHaveLength(1);
    expect(r.traceEnds).toHaveLength(1);
    expect(inFlight(r.pool)).toBe(0);
  });

  for (const [label, bad] of [['throws', () => { throw new Error('clock'); }], ['reads NaN', () => NaN]] as const) {
    it(`a guarded clock that ${label} from before next() on: the attempt's error at 100 ms (time stands still, the timers fire)`, async () => {
      const g = gate();
      let t = 0;
      let isBad = false;
      const ends: CallEnd<string>[] = [];
      pool = new ClientPool<string>({ clock: { now: () => (isBad ? bad() : t) } });
      pool.use({ name: 'ends', onCallEnd: (e) => void ends.push(e) });
      pool.use({ name: 'h', around: async (_s, next) => { await g.promise; return next(); } });
      pool.add('a', { name: 'a' });
      const seen = state(pool.run(hang, { deadline: 100 }));
      await turns();
      t = 10;
      await vi.advanceTimersByTimeAsync(10);
      isBad = true;
      g.open();
      await turns();
      const at = await firstSettled(seen, 150, async (i) => {
        if (i > 10) await vi.advanceTimersByTimeAsync(1);
      });
      isBad = false;
      expect(at).toBe(100);
      expect(messageOf(errorOf(seen()))).toBe('call deadline of 100 ms exceeded on client a');
      expect(ends).toHaveLength(1);
      expect(inFlight(pool)).toBe(0);
    });
  }
});
