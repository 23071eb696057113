// Attack: a pool-wide limit, client limits and caps together: calls of each priority waiting in each
// queue, then close() or destroy(): everything ends, no timer is left behind, no rejection unhandled.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { useFakeTimeWatchingRejections } from '../../helpers/fake-time-watch.js';
import { dateClock } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';

interface Key {
  readonly id: string;
}

const MINUTE = 60_000;
const unhandled = useFakeTimeWatchingRejections();

function busyPool(): ClientPool<Key> {
  const pool = new ClientPool<Key>({ clock: dateClock, maxWait: 60_000, limit: { requests: { rate: 5, burst: 5 }, tokens: { rate: 2_000, per: MINUTE } } });
  pool.add({ id: 'a' }, { name: 'a', maxInFlight: 2, limit: { tokens: { rate: 1_000, per: MINUTE } } });
  pool.add({ id: 'b' }, { name: 'b', maxInFlight: 2, limit: { tokens: { rate: 1_000, per: MINUTE } } });
  return pool;
}

describe.each(['close', 'destroy'] as const)('%s() with calls waiting everywhere', (how) => {
  it('ends every call, leaves inFlight 0 and no timer', async () => {
    const pool = busyPool();
    const gate = deferred();
    const settled: Promise<unknown>[] = [];
    const run = (cost: number, priority: 'high' | 'normal' | 'low', hold = false): void => {
      settled.push(pool.run(() => (hold ? gate.promise.then(() => 'held') : 'v'), { cost: { tokens: cost }, priority, timeout: 120_000 }).catch((e: unknown) => e));
    };
    // Four slots held, with most of the tokens.
    for (let i = 0; i < 4; i++) run(400, 'normal', true);
    // Behind them: waits for slots, for client tokens, for pool-wide requests; low ones shed.
    for (let i = 0; i < 12; i++) run(50 + i * 50, (['high', 'normal', 'low'] as const)[i % 3]!, false);
    await vi.advanceTimersByTimeAsync(10);
    const ending = how === 'close' ? pool.close() : pool.destroy(new Error('bye'));
    gate.resolve();
    await vi.advanceTimersByTimeAsync(200_000);
    await ending;
    const results = await Promise.all(settled);
    expect(results).toHaveLength(16);
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(unhandled).toEqual([]);
  });
});
