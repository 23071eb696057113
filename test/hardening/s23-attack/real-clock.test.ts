import { describe, expect, it } from 'vitest';
import { ClientPool, RateLimitedError, TokenBucket } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Probes on REAL timers and a real clock (the default performance.now(), and Date.now()), where Node's timers
// fire up to ~1 ms early against performance.now(): a waiter whose token is due exactly at its deadline (rate
// 100/s, burst 1: the second take's token at 10 ms; maxWait 10) must be served, never refused. Written as
// passing probes of a3ad865; they pin the design of session 23 as well (point 1: the limiter queues decide on
// the clock alone, and the owner's wake is served before the deadlines are looked at, so a timer early by a
// fraction of a ms re-arms and a late one serves the waiter late, never refuses it). Each case is run several
// times; no assertion on wall time or speed. Also with the event loop busy (a synchronous busy-wait of 5 ms in
// a callback while the waiters wait). Two or more waiters queued behind one another are NOT here: a timer late
// by a ms moves the next one's token by as much (strict GCRA, by design: late-timer-token.test.ts).

useUnhandledGuard({ time: 'real' });

const REPEAT = 8;

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

describe('real timers, real clock: a token due at the deadline is served', () => {
  for (const clockName of ['performance.now', 'Date.now'] as const) {
    const clock = clockName === 'Date.now' ? { clock: { now: () => Date.now() } } : {};

    it(`${clockName}: TokenBucket, rate 100/s, maxWait 10: the second take is served (x${REPEAT})`, async () => {
      for (let i = 0; i < REPEAT; i++) {
        const bucket = new TokenBucket({ rate: 100, burst: 1, maxWait: 10, ...clock });
        await bucket.take();
        await expect(bucket.take()).resolves.toBeUndefined();
        bucket.close();
      }
    });

    for (const where of ['pool', 'client'] as const) {
      it(`${clockName}: ${where} limit, rate 100/s, maxWait 10: two calls at once, the second (token at its deadline) served (x${REPEAT})`, async () => {
        const limit = { rate: 100, burst: 1 };
        for (let i = 0; i < REPEAT; i++) {
          const pool = new ClientPool<string>({ maxWait: 10, ...clock, ...(where === 'pool' ? { limit } : {}) });
          pool.add('a', { name: 'a', ...(where === 'client' ? { limit } : {}) });
          await expect(Promise.all([pool.run(() => 1), pool.run(() => 2)])).resolves.toEqual([1, 2]);
          await pool.destroy();
        }
      });
    }
  }

  it('busy loop: the first call busy-waits 5 ms in its function; the one behind it (token at 10 ms = its deadline) is served', async () => {
    for (let i = 0; i < REPEAT; i++) {
      const pool = new ClientPool<string>({ maxWait: 10 });
      pool.add('a', { name: 'a', limit: { rate: 100, burst: 1 } });
      const calls = [0, 1].map((k) =>
        pool.run(() => {
          if (k === 0) busyWait(5);
          return k;
        }),
      );
      await expect(Promise.all(calls)).resolves.toEqual([0, 1]);
      await pool.destroy();
    }
  });

  it('a token 10 ms past the deadline (maxWait 10, third take) is refused at once, not after waiting', async () => {
    const bucket = new TokenBucket({ rate: 100, burst: 1, maxWait: 10 });
    const before = performance.now();
    await bucket.take();
    const second = bucket.take();
    let atOnce: unknown = 'pending';
    const third = bucket.take().then(
      () => (atOnce = 'served'),
      (error: unknown) => (atOnce = error),
    );
    // Read after a few microtasks, before any timer: a refusal at once has settled by now, a wait has not.
    for (let i = 0; i < 5; i++) await Promise.resolve();
    const stalled = performance.now() - before >= 9;
    await second;
    // Its token is 20 ms away, its maxWait 10: refused up front - unless this very process stalled 10 ms
    // between the first take and this one (a loaded machine), which moves the token within its maxWait.
    if (!stalled) expect(atOnce).toBeInstanceOf(RateLimitedError);
    else expect(atOnce === 'pending' || atOnce instanceof RateLimitedError).toBe(true);
    await third;
    bucket.close();
  });
});
