// Attack: a low call that took a pool-wide token and is then shed at the pick gives the token back.
import { describe, expect, it } from 'vitest';
import { ClientPool, TokenBucket } from '../../../src/index.js';
import { deferred, ManualClock } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

describe('pool-wide tokens of shed calls', () => {
  it('a low call shed for want of a client gives its pool-wide token back', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 1, burst: 10, clock });
    const pool = new ClientPool<Backend>({ clock, limit: bucket, reserve: 0, maxWait: 0 });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    expect(bucket.available).toBe(9);
    for (let i = 0; i < 5; i++) await expect(pool.run(() => 'low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED', short: 'client' });
    expect(bucket.available).toBe(9);
    gate.resolve();
    await held;
  });

  it('a low call shed at the client\'s reserve gives back its pool-wide cost', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Backend>({ clock, limit: { tokens: { rate: 1_000, per: 60_000 } }, reserve: 0.5, maxWait: 0 });
    pool.add({ id: 'a' }, { maxInFlight: 2 });
    const gate = deferred();
    const held = pool.run(() => gate.promise, { priority: 'low', cost: { tokens: 100 } });
    // The second low call finds the client at floor(2 x 0.5) = 1 low call: shed, its 100 tokens back.
    await expect(pool.run(() => 'low', { priority: 'low', cost: { tokens: 100 } })).rejects.toMatchObject({ code: 'ERR_SHED' });
    // 900 left: a normal call of 900 fits at once.
    await expect(pool.run(() => 'normal', { cost: { tokens: 900 }, maxWait: 0 })).resolves.toBe('normal');
    gate.resolve();
    await held;
  });
});
