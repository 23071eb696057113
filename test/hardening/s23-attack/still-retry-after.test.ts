import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, PoolClosedError, RateLimitedError, TokenBucket } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { DID_NOT_ANSWER, OVERDUE_MS, ending, run } from './rig.js';

// Was a fault of a3ad865 (reverted in session 23); now pins: the retryAfterMs of a wait ended on a clock that
// does not move. A client wait given up by the pool says what the clock says (the client's token, 1 000 ms
// away); a pool `limit` wait given up by the pool says 0, by design (the pool's backstop cannot ask the
// limiter: `RateLimitedError: a limiter that did not answer within maxWait`, retryAfterMs 0); a standalone
// TokenBucket is not refused at all (it decides on its clock alone) and ends with close().
// (a3ad865 refused all three at maxWait with "next token in 0 ms", its "now" being the timers' time.)
// Input kept: clock `{ now: () => 0 }`, `{ rate: 1, per: 1_000, burst: 1 }`, maxWait 5 000, one take, one waiting.
// Fake timers (setTimeout, Date) from 0, 100 ms steps.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

const limit = { rate: 1, per: 1_000, burst: 1 };

describe('retryAfterMs of a wait on a still clock', () => {
  it('TokenBucket.take(): not refused; waitTime() counts the waiter (2 000); close() ends it', async () => {
    const bucket = new TokenBucket({ ...limit, maxWait: 5_000, clock: { now: () => 0 } });
    await bucket.take();
    const waiting = ending(bucket.take());
    await run(6_000, 100);
    const waitTime = bucket.waitTime();
    expect(waiting.ok).toBeUndefined();
    bucket.close();
    await run(100, 100);
    // The queued waiter's token (1 000 ms away) and then the next one's.
    expect(waitTime).toBe(2_000);
    expect(waiting.value).toBeInstanceOf(PoolClosedError);
    expect(waiting.at).toBe(6_000);
  });

  it('pool limit: given up at 10 000 with retryAfterMs 0 (the backstop, "did not answer"); the bucket dropped its waiter', async () => {
    const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => 0 }, limit });
    pool.add('a', { name: 'a' });
    await pool.run(() => 'v1');
    const waiting = ending(pool.run(() => 'v2'));
    await run(11_000, 100);
    const timers = vi.getTimerCount();
    await pool.destroy();
    expect(waiting.value).toBeInstanceOf(RateLimitedError);
    expect((waiting.value as Error).message).toContain(DID_NOT_ANSWER);
    expect((waiting.value as RateLimitedError).retryAfterMs).toBe(0);
    expect(waiting.at).toBe(5_000 + OVERDUE_MS);
    expect(timers).toBe(0);
  });

  it("client limit: given up at 10 000 with the client's token on the clock, retryAfterMs 1 000", async () => {
    const pool = new ClientPool<string>({ maxWait: 5_000, clock: { now: () => 0 } });
    pool.add('a', { name: 'a', limit });
    await pool.run(() => 'v1');
    const waiting = ending(pool.run(() => 'v2'));
    await run(11_000, 100);
    await pool.destroy();
    expect(waiting.value).toBeInstanceOf(RateLimitedError);
    expect((waiting.value as Error).message).toContain('every client');
    expect((waiting.value as RateLimitedError).retryAfterMs).toBe(1_000);
    expect(waiting.at).toBe(5_000 + OVERDUE_MS);
  });

  it('control: the up-front refusal (maxWait 500 < the 1 000 ms to the token) says 1 000', async () => {
    const bucket = new TokenBucket({ ...limit, maxWait: 500, clock: { now: () => 0 } });
    await bucket.take();
    const refused = ending(bucket.take());
    await run(100, 100);
    bucket.close();
    expect((refused.value as RateLimitedError).retryAfterMs).toBe(1_000);
  });
});
