// Attack: reserve at its edges, and tiny caps.
import { describe, expect, it } from 'vitest';
import { ClientPool, TokenBucket } from '../../../src/index.js';
import { deferred, ManualClock } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

describe('reserve edges', () => {
  it('reserve 0: a low call takes the last slot and the last pool-wide token', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 1, burst: 2, clock });
    const pool = new ClientPool<Backend>({ clock, reserve: 0, limit: bucket, maxWait: 0 });
    pool.add({ id: 'a' }, { maxInFlight: 2 });
    const gate = deferred();
    const calls = [pool.run(() => gate.promise, { priority: 'low' }), pool.run(() => gate.promise, { priority: 'low' })];
    expect(pool.members()[0]!.inFlight).toBe(2);
    expect(bucket.available).toBe(0);
    gate.resolve();
    await Promise.all(calls);
  });

  it('reserve 0.999 with a cap of 1 000: one low call at a time, normal calls use the rest', async () => {
    const pool = new ClientPool<Backend>({ reserve: 0.999, maxWait: 0 });
    pool.add({ id: 'a' }, { maxInFlight: 1_000 });
    const gate = deferred();
    const low = pool.run(() => gate.promise, { priority: 'low' });
    await expect(pool.run(() => 'x', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED', short: 'client' });
    const normals = Array.from({ length: 999 }, () => pool.run(() => gate.promise));
    expect(pool.members()[0]!.inFlight).toBe(1_000);
    gate.resolve();
    await Promise.all([low, ...normals]);
  });

  it.each([
    [0.34, 100, 66],
    [0.3, 90, 63],
  ])('reserve %d with a cap of %d: low calls hold exactly floor(cap x (1 - reserve)) = %d slots, as the docs compute it', async (reserve, cap, share) => {
    const pool = new ClientPool<Backend>({ reserve, maxWait: 0 });
    pool.add({ id: 'a' }, { maxInFlight: cap });
    const gate = deferred();
    const lows: Promise<unknown>[] = [];
    for (let i = 0; i < cap; i++) lows.push(pool.run(() => gate.promise, { priority: 'low' }).catch((e: unknown) => e));
    const lowInFlight = pool.members()[0]!.inFlight;
    gate.resolve();
    await Promise.all(lows);
    expect(lowInFlight).toBe(share);
  });

  it('a client without a cap has no slot reserve: low calls are never shed for slots', async () => {
    const pool = new ClientPool<Backend>({ reserve: 0.9, maxWait: 0 });
    pool.add({ id: 'a' });
    const gate = deferred();
    const lows = Array.from({ length: 100 }, () => pool.run(() => gate.promise, { priority: 'low' }));
    expect(pool.members()[0]!.inFlight).toBe(100);
    gate.resolve();
    await Promise.all(lows);
  });

  it('reserve x burst of a client limit that is not a whole token: low takes only while that much stays', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Backend>({ clock, reserve: 0.25, maxWait: 0 });
    pool.add({ id: 'a' }, { limit: { rate: 1, burst: 3 } });
    // 0.75 of 3 kept: low takes 2 (leaving 1 >= 0.75), not a third (0 < 0.75).
    await pool.run(() => 'l', { priority: 'low' });
    await pool.run(() => 'l', { priority: 'low' });
    await expect(pool.run(() => 'l', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED' });
    await expect(pool.run(() => 'n')).resolves.toBe('n');
  });

  it('a low call on an idle pool of one client with maxInFlight 1 is served (the docs promise shedding only under load)', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 0 });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    await expect(pool.run(() => 'low', { priority: 'low' })).resolves.toBe('low');
  });

  it('a low call on an idle client whose limit has a burst of 1 is served (default reserve)', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Backend>({ clock, maxWait: 0 });
    pool.add({ id: 'a' }, { limit: { rate: 1, burst: 1 } });
    await expect(pool.run(() => 'low', { priority: 'low' })).resolves.toBe('low');
  });

  it('a low call on an idle pool whose pool-wide limit has a burst of 1 is served (default reserve)', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Backend>({ clock, limit: { rate: 1, burst: 1 }, maxWait: 0 });
    pool.add({ id: 'a' });
    await expect(pool.run(() => 'low', { priority: 'low' })).resolves.toBe('low');
  });

  it('the shed error of a low call on a pool without clients is NoClientsError, not a shed', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 0 });
    await expect(pool.run(() => 'low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_NO_CLIENTS' });
  });
});
