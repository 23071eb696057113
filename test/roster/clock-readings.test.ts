import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

describe('a clock that reads below zero', () => {
  it('an opened circuit comes back after its cooldown, not when the clock passes 0', async () => {
    const clock = new ManualClock();
    clock.time = -10_000;
    const pool = new ClientPool<object>({ clock, breaker: { maxFailures: 1, cooldown: 100 } });
    pool.add({}, { name: 'a' });
    await expect(pool.run(() => Promise.reject(new Error('down')))).rejects.toMatchObject({ code: 'ERR_CLIENT_CALL' });
    expect(pool.members()[0]!.state.kind).toBe('open');
    clock.advance(200);
    await expect(pool.run(() => Promise.resolve('served'))).resolves.toBe('served');
    await pool.close();
  });

  it('a client with its own rate limit takes calls as its tokens come back', async () => {
    const clock = new ManualClock();
    clock.time = -10_000;
    const pool = new ClientPool<object>({ clock, maxWait: 0 });
    pool.add({}, { name: 'a', limit: { rate: 10, burst: 1 } });
    await expect(pool.run(() => Promise.resolve(1))).resolves.toBe(1);
    await expect(pool.run(() => Promise.resolve(2))).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    clock.advance(100);
    await expect(pool.run(() => Promise.resolve(3))).resolves.toBe(3);
    await pool.close();
  });
});
