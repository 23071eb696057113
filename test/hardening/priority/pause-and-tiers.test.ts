// Attack: a paused client (call.pauseClient) and tiers, with priorities and costs.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { dateClock } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';

interface Key {
  readonly id: string;
}

const MINUTE = 60_000;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('pauseClient with cost limits and priorities', () => {
  it('a pause empties only the requests bucket; a cost call waiting is served when the pause ends', async () => {
    const pool = new ClientPool<Key>({ clock: dateClock, maxWait: 10_000 });
    pool.add({ id: 'k' }, { name: 'k', limit: { requests: { rate: 10 }, tokens: { rate: 1_000, per: MINUTE } } });
    await pool.run((_k, call) => call.pauseClient(1_000), { cost: { tokens: 100 } });
    expect(Math.round(pool.members()[0]!.quota!['tokens']!)).toBe(900);
    const served: number[] = [];
    const waiting = pool.run(() => served.push(Date.now()), { cost: { tokens: 200 } });
    await expect(pool.run(() => 'low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED' });
    await vi.advanceTimersByTimeAsync(2_000);
    await waiting;
    expect(served[0]).toBeGreaterThanOrEqual(1_000);
    expect(served[0]).toBeLessThanOrEqual(1_200);
    // Tokens kept through the pause: 900 + 2 s of refill - 200.
    expect(Math.round(pool.members()[0]!.quota!['tokens']!)).toBeGreaterThanOrEqual(700);
  });

  it('a high call waiting for a paused client is served before a normal one when it comes back', async () => {
    const pool = new ClientPool<Key>({ clock: dateClock, maxWait: 10_000 });
    pool.add({ id: 'k' }, { name: 'k', limit: { rate: 100 } });
    await pool.run((_k, call) => call.pauseClient(500));
    const order: string[] = [];
    const normal = pool.run(() => order.push('normal'));
    const high = pool.run(() => order.push('high'), { priority: 'high' });
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all([normal, high]);
    expect(order).toEqual(['high', 'normal']);
  });
});

describe('tiers with priorities', () => {
  it('normal calls spill to the backup tier only when the first is full, low ones too, and inFlight ends at 0', async () => {
    const pool = new ClientPool<Key>({ clock: dateClock, maxWait: 0, reserve: 0.5 });
    pool.add({ id: 'p' }, { name: 'p', maxInFlight: 2, tier: 0 });
    pool.add({ id: 'b' }, { name: 'b', maxInFlight: 2, tier: 1 });
    const gate = deferred();
    const seen: string[] = [];
    const calls = [pool.run((k) => (seen.push(k.id), gate.promise), { priority: 'low' }), pool.run((k) => (seen.push(k.id), gate.promise), { priority: 'low' })];
    expect(seen).toEqual(['p', 'b']);
    await expect(pool.run(() => 'l', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED' });
    calls.push(pool.run((k) => (seen.push(k.id), gate.promise)));
    expect(seen[2]).toBe('p');
    gate.resolve();
    await Promise.all(calls);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
  });
});
