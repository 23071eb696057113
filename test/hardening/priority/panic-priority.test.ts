// Attack: panic routing (maxEjectedPercent) and the reserve kept from low calls.
import { describe, expect, it } from 'vitest';
import { ClientPool, TokenBucket } from '../../../src/index.js';
import { deferred, ManualClock } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

/** A pool of two clients, both open: every call goes to panic routing. */
async function panicking(limit?: { a: TokenBucket; b: TokenBucket }): Promise<ClientPool<Backend>> {
  const clock = new ManualClock();
  const pool = new ClientPool<Backend>({ clock, reserve: 0.5, maxWait: 0, maxEjectedPercent: 50, breaker: { maxFailures: 1, cooldown: 60_000 }, strategy: 'round-robin' });
  pool.add({ id: 'a' }, { name: 'a', maxInFlight: 2, ...(limit === undefined ? {} : { limit: limit.a }) });
  pool.add({ id: 'b' }, { name: 'b', maxInFlight: 2, ...(limit === undefined ? {} : { limit: limit.b }) });
  for (let i = 0; i < 2; i++) await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
  expect(pool.members().map((m) => m.state.kind)).toEqual(['open', 'open']);
  return pool;
}

describe('panic routing keeps the reserve from low calls', () => {
  it('no client holds more than floor(cap x (1 - reserve)) low calls under panic routing', async () => {
    const pool = await panicking();
    const gate = deferred();
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 4; i++) calls.push(pool.run(() => gate.promise, { priority: 'low' }).catch((e: unknown) => e));
    const inFlight = pool.members().map((m) => m.inFlight);
    gate.resolve();
    await Promise.all(calls);
    expect(Math.max(...inFlight)).toBeLessThanOrEqual(1);
  });

  it('a low call under panic routing leaves reserve x burst of a client\'s limit', async () => {
    const clock = new ManualClock();
    const a = new TokenBucket({ rate: 1, burst: 4, clock });
    const b = new TokenBucket({ rate: 1, burst: 4, clock });
    const pool = await panicking({ a, b });
    for (let i = 0; i < 8; i++) await pool.run(() => 'low', { priority: 'low' }).catch(() => undefined);
    // Two of each four kept for normal and high calls.
    expect(a.available).toBeGreaterThanOrEqual(2);
    expect(b.available).toBeGreaterThanOrEqual(2);
  });
});
