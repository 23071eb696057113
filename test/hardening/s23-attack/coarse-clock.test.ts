import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, RateLimitedError, TokenBucket } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { ending, run, type Ending } from './rig.js';

// Was a fault of a3ad865 (reverted in session 23); now pins: on a coarse clock (whole 16 ms ticks) waiters are
// served at the clock's first tick after their tokens, as on a3ad865's parent, none refused (design point 5 of
// session 23: the limiter queues decide on the clock alone, so a clock that reads the same for two 1 ms timers
// is not taken for standing still).
// (a3ad865 took such a clock for standing still after two 1 ms timers within one tick, dropped the owner's
// wake and slept to the deadlines: served at 50 instead of 16, and with burst 5 five takes refused.)
// Input kept: clock `floor(Date.now() / 16) * 16` under fake timers (setTimeout, Date; 1 ms steps), and on real
// timers a cached performance.now() refreshed by a 16 ms interval; `{ rate: 1000, burst: 10 | 5 }` drained,
// ten takes or calls queued, maxWait 50 (real timers: 100).
// The real-timer case asserts "none refused" only when the run took less wall time than could push a token
// past its deadline (a few tens of ms; always on a quiet machine): a loop stalled that long would make a late
// grant move the next tokens (strict GCRA, by design), and such refusals are then what the design says.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

const coarse = { now: (): number => Math.floor(Date.now() / 16) * 16 };
const inStep = { now: (): number => Date.now() };

const outcome = (w: Ending[]): string[] => w.map((e) => `${e.at}:${e.ok === true ? 'served' : e.ok === false ? 'refused' : 'pending'}`);

describe('a clock that ticks every 16 ms, tokens every 1 ms', () => {
  it('TokenBucket { rate: 1000, burst: 10 }, drained, ten takes queued (maxWait 50): all served at 16', async () => {
    const bucket = new TokenBucket({ rate: 1_000, burst: 10, maxWait: 50, clock: coarse });
    await bucket.take(10);
    const waiting = Array.from({ length: 10 }, () => ending(bucket.take()));
    await run(100, 1);
    bucket.close();
    expect(outcome(waiting)).toEqual(Array(10).fill('16:served'));
  });

  it('TokenBucket { rate: 1000, burst: 5 }, drained, ten takes queued (maxWait 50): five served at 16, five at 32, none refused', async () => {
    const bucket = new TokenBucket({ rate: 1_000, burst: 5, maxWait: 50, clock: coarse });
    await bucket.take(5);
    const waiting = Array.from({ length: 10 }, () => ending(bucket.take()));
    await run(100, 1);
    bucket.close();
    expect(outcome(waiting)).toEqual([...Array(5).fill('16:served'), ...Array(5).fill('32:served')]);
  });

  for (const where of ['pool', 'client'] as const) {
    it(`${where} limit { rate: 1000, burst: 5 }, ten calls at once (maxWait 50): five at 0, five at 16`, async () => {
      const limit = { rate: 1_000, burst: 5 };
      const pool = new ClientPool<string>({ maxWait: 50, clock: coarse, ...(where === 'pool' ? { limit } : {}) });
      pool.add('a', { name: 'a', ...(where === 'client' ? { limit } : {}) });
      const calls = Array.from({ length: 10 }, (_, i) => ending(pool.run(() => i)));
      await run(100, 1);
      await pool.destroy();
      expect(outcome(calls)).toEqual([...Array(5).fill('0:served'), ...Array(5).fill('16:served')]);
    });
  }

  it('control: a clock in step with the timers serves the ten takes at 1, 2, ... 10 ms', async () => {
    const bucket = new TokenBucket({ rate: 1_000, burst: 10, maxWait: 50, clock: inStep });
    await bucket.take(10);
    const waiting = Array.from({ length: 10 }, () => ending(bucket.take()));
    await run(100, 1);
    bucket.close();
    expect(outcome(waiting)).toEqual(Array.from({ length: 10 }, (_, i) => `${i + 1}:served`));
  });
});

describe('real timers: a cached performance.now() refreshed by a 16 ms interval', () => {
  beforeEach(() => vi.useRealTimers());
  afterEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] }));

  it('TokenBucket { rate: 1000, burst: 5 }, drained, ten takes queued (maxWait 100): none refused (x3)', async () => {
    for (let i = 0; i < 3; i++) {
      const startedAt = performance.now();
      let cached = performance.now();
      const tick = setInterval(() => (cached = performance.now()), 16);
      const bucket = new TokenBucket({ rate: 1_000, burst: 5, maxWait: 100, clock: { now: () => cached } });
      await bucket.take(5);
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => bucket.take()));
      const took = performance.now() - startedAt;
      clearInterval(tick);
      bucket.close();
      const refused = results.filter((r) => r.status === 'rejected');
      // Every take settles, and a refusal is only ever the bucket's RateLimitedError.
      expect(refused.every((r) => r.reason instanceof RateLimitedError)).toBe(true);
      // Served at the ticks after their tokens (about 16 and 32 ms): none refused unless the loop stalled for
      // most of maxWait (the last tokens' deadline is 100 ms of the cached clock after the takes).
      if (took < 80) expect(refused.length).toBe(0);
    }
  });
});
