import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, RateLimitedError, TokenBucket } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { ending, run } from './rig.js';

// Was a fault of a3ad865 (reverted in session 23; the behaviour is older than a3ad865); now pins: BY DESIGN
// (strict GCRA, design point 4 of session 23), a token granted late - its timer ran late, here by a 1 ms
// stall - is charged at the time it was granted, so the next waiter's token moves by the same lateness; a
// waiter whose token was due at exactly its deadline is then refused (before its maxWait when the bucket sees
// it at once). Why: the bucket never grants more than burst + rate * window in any window (the property test
// "never grant more than burst + rate * window, in any window" in test/limit/token-bucket.test.ts). Charging a
// late grant from its due time instead would put two tokens 9 ms apart at a rate of one per 10 ms. A user who
// queues a waiter at its very deadline gives maxWait some slack.
// Input kept: `{ rate: 100, burst: 1 }` (a token per 10 ms), maxWait 20: one take, two queued at 0 (tokens at
// 10 and 20). The loop stalls 1 ms: `vi.setSystemTime(+1)` at 5 ms (the clock `Date.now()` 1 ms ahead of the
// fake timers from then on); on real timers a 3 ms busy-wait at 8 ms.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

describe('a timer 1 ms late moves the next waiter\'s token by 1 ms (strict GCRA, by design)', () => {
  it('TokenBucket, Date.now clock 1 ms ahead of the timers from 5 ms on: b served at 11, c refused at once at 11 ("next token in 10 ms")', async () => {
    const bucket = new TokenBucket({ rate: 100, burst: 1, maxWait: 20, clock: { now: () => Date.now() } });
    await bucket.take();
    const b = ending(bucket.take());
    const c = ending(bucket.take());
    await vi.advanceTimersByTimeAsync(5);
    vi.setSystemTime(Date.now() + 1);
    await run(40, 1);
    const timers = vi.getTimerCount();
    bucket.close();
    // b's timer (set for 10) ran at 11 on the clock: its token is charged at 11, c's is due at 21, past its
    // deadline 20: refused as soon as b is served (at 11 on the clock), with the ms to its token.
    expect({ b: b.at, bOk: b.ok, c: c.at, cOk: c.ok }).toEqual({ b: 11, bOk: true, c: 11, cOk: false });
    expect(c.value).toBeInstanceOf(RateLimitedError);
    expect((c.value as Error).message).toContain('bucket');
    expect((c.value as RateLimitedError).retryAfterMs).toBe(10);
    expect(timers).toBe(0);
  });

  it('control: TokenBucket, Date.now clock in step with the timers: both queued takes served, at 10 and 20', async () => {
    const bucket = new TokenBucket({ rate: 100, burst: 1, maxWait: 20, clock: { now: () => Date.now() } });
    await bucket.take();
    const b = ending(bucket.take());
    const c = ending(bucket.take());
    await vi.advanceTimersByTimeAsync(5);
    await run(40, 1);
    bucket.close();
    expect({ b: b.at, bOk: b.ok, c: c.at, cOk: c.ok }).toEqual({ b: 10, bOk: true, c: 20, cOk: true });
  });

  it('pool limit { rate: 100, burst: 1 }, maxWait 20, clock 1 ms ahead from 5 ms on: 1 at 0, 2 at 11, the third refused by the bucket at 11', async () => {
    const limit = { rate: 100, burst: 1 };
    const pool = new ClientPool<string>({ maxWait: 20, clock: { now: () => Date.now() }, limit });
    pool.add('a', { name: 'a' });
    const calls = [1, 2, 3].map((k) => ending(pool.run(() => k)));
    await vi.advanceTimersByTimeAsync(5);
    vi.setSystemTime(Date.now() + 1);
    await run(40, 1);
    const timers = vi.getTimerCount();
    await pool.destroy();
    expect(calls.map((c) => [c.at, c.ok])).toEqual([
      [0, true],
      [11, true],
      [11, false],
    ]);
    expect(calls.slice(0, 2).map((c) => c.value)).toEqual([1, 2]);
    const refused = calls[2]!.value as RateLimitedError;
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused.message).toContain('bucket');
    expect(refused.retryAfterMs).toBe(10);
    expect(timers).toBe(0);
  });

  it("client limit { rate: 100, burst: 1 }, maxWait 20, clock 1 ms ahead from 5 ms on: 1 at 0, 2 at 11, the third refused at its deadline (20)", async () => {
    const limit = { rate: 100, burst: 1 };
    const pool = new ClientPool<string>({ maxWait: 20, clock: { now: () => Date.now() } });
    pool.add('a', { name: 'a', limit });
    const calls = [1, 2, 3].map((k) => ending(pool.run(() => k)));
    await vi.advanceTimersByTimeAsync(5);
    vi.setSystemTime(Date.now() + 1);
    await run(40, 1);
    const timers = vi.getTimerCount();
    await pool.destroy();
    // The client queue does not refuse ahead of the deadline here (the client's token comes at 21 on the
    // clock, 1 ms past the third call's deadline): it is refused at its deadline, 20 on the clock.
    expect(calls.map((c) => [c.at, c.ok])).toEqual([
      [0, true],
      [11, true],
      [20, false],
    ]);
    expect(calls.slice(0, 2).map((c) => c.value)).toEqual([1, 2]);
    const refused = calls[2]!.value as RateLimitedError;
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused.message).toContain('every client');
    // The token is 1 ms away on the clock; the client queue's estimate says 0 (see NOTES.md, "observations").
    expect(refused.retryAfterMs).toBeGreaterThanOrEqual(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(1);
    expect(timers).toBe(0);
  });
});

describe('real timers, real clock: a 3 ms busy-wait at 8 ms', () => {
  beforeEach(() => vi.useRealTimers());
  afterEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] }));

  it('TokenBucket { rate: 100, burst: 1 }, maxWait 20: b always served; c served, or refused by the bucket once b is served (by design)', async () => {
    const bucket = new TokenBucket({ rate: 100, burst: 1, maxWait: 20 });
    await bucket.take();
    const order: string[] = [];
    const b = bucket.take().then(() => void order.push('b served'));
    const c = bucket.take().then(
      () => void order.push('c served'),
      (error: unknown) => void order.push(error instanceof RateLimitedError && error.message.includes('bucket') ? 'c refused' : `c: ${String(error)}`),
    );
    setTimeout(() => {
      const end = performance.now() + 3;
      while (performance.now() < end) {
        // a busy event loop
      }
    }, 8);
    await Promise.all([b, c]);
    bucket.close();
    // Whether c is refused depends on how late b's timer ran (the 3 ms stall makes it late unless a loaded
    // machine ran b's timer before the busy-wait): never on anything else, and never before b is served.
    expect([
      ['b served', 'c served'],
      ['b served', 'c refused'],
    ]).toContainEqual(order);
  });
});
