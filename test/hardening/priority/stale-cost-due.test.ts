// Attack: a client's "cost due" time noted by a call that left (shed, aborted) outlives it.
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

function capped(): ClientPool<Key> {
  const pool = new ClientPool<Key>({ clock: dateClock, maxWait: 100, reserve: 0 });
  pool.add({ id: 'k' }, { name: 'k', maxInFlight: 1, limit: { tokens: { rate: 1_000, per: MINUTE } } });
  return pool;
}

describe('a call that waited only for a slot', () => {
  it('fails with ERR_CONCURRENCY_LIMITED after a shed low call was short of its cost', async () => {
    const pool = capped();
    await pool.run(() => 'a', { cost: { tokens: 900 } });
    await expect(pool.run(() => 'low', { priority: 'low', cost: { tokens: 500 } })).rejects.toMatchObject({ code: 'ERR_SHED' });
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const waiting = pool.run(() => 'slot').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(150);
    // Only the cap held it: the client has 100+ tokens for a request-only call.
    expect(await waiting).toMatchObject({ code: 'ERR_CONCURRENCY_LIMITED' });
    gate.resolve();
    await held;
  });

  it('fails with ERR_CONCURRENCY_LIMITED after a large call that was short of its cost was aborted', async () => {
    const pool = capped();
    await pool.run(() => 'a', { cost: { tokens: 900 } });
    const controller = new AbortController();
    const big = pool.run(() => 'big', { cost: { tokens: 500 }, signal: controller.signal, maxWait: 60_000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5);
    controller.abort();
    expect(await big).toMatchObject({ code: 'ERR_ABORTED' });
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const waiting = pool.run(() => 'slot').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(150);
    expect(await waiting).toMatchObject({ code: 'ERR_CONCURRENCY_LIMITED' });
    gate.resolve();
    await held;
  });
});
