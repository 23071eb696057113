// Calls whose options say nothing of the pick (a timeout, a signal, a method, retries) take the plain
// pick: the same clients, in the same order, as calls with no options; a key, a minHeight, a cost or a
// priority still take the full pick.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type RunOptions } from '../../../src/index.js';
import { dateClock, useFakeTime } from '../../helpers/fake-time.js';
import { advance, jobs, outcome, poolOf, type Fake } from './helpers.js';

useFakeTime();
vi.setConfig({ testTimeout: 10_000 });

async function picks(pool: ClientPool<Fake>, options: (RunOptions<Fake> | undefined)[]): Promise<unknown[]> {
  return Promise.all(options.map((o) => pool.run((c) => c.id, o).catch((e: { code: string }) => e.code)));
}

describe('the plain pick for calls with options that say nothing of it', () => {
  it('round-robin goes on through calls with and without a timeout, a signal, a method or retries', async () => {
    const pool = poolOf(3);
    const signal = new AbortController().signal;
    expect(await picks(pool, [undefined, { timeout: 10 }, { signal }, {}, { method: 'm', timeout: 5 }, { retry: { attempts: 2 } }, undefined])).toEqual(['c0', 'c1', 'c2', 'c0', 'c1', 'c2', 'c0']);
  });

  it('a per-call strategy with a timeout is used: least-in-flight avoids the busy client', async () => {
    const pool = poolOf(2);
    const busy = pool.run(() => new Promise(() => {}), { timeout: 1_000 });
    busy.catch(() => undefined);
    await jobs();
    expect(await picks(pool, [{ timeout: 10, strategy: 'least-in-flight' }])).toEqual(['c1']);
    expect(await picks(pool, [{ timeout: 10, strategy: 'least-in-flight' }])).toEqual(['c1']);
  });

  it('a key with a timeout still goes to its client on the ring, every time', async () => {
    const pool = poolOf(3);
    const got = await picks(pool, [{ key: 'user-1', timeout: 10 }, { key: 'user-1', timeout: 10 }, { key: 'user-1', signal: new AbortController().signal }]);
    expect(new Set(got).size).toBe(1);
  });

  it('a client out of in-memory tokens is passed over by a timed call as by a plain one', async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock, maxWait: 0 });
    pool.add({ id: 'a' }, { name: 'a', limit: { rate: 1, burst: 1 } });
    pool.add({ id: 'b' }, { name: 'b' });
    expect(await picks(pool, [{ timeout: 10 }, { timeout: 10 }, { timeout: 10 }, undefined])).toEqual(['a', 'b', 'b', 'b']);
  });

  it('a client with an open circuit is passed over by a timed call, and a half-open probe is taken by one', async () => {
    const pool = poolOf(2, { breaker: { maxFailures: 1, cooldown: 100 } });
    expect(await outcome(pool.run(() => Promise.reject(new Error('x')), { timeout: 10 }))).toEqual({ code: 'ERR_CLIENT_CALL' });
    expect(await picks(pool, [{ timeout: 10 }, { timeout: 10 }])).toEqual(['c1', 'c1']);
    await advance(150);
    const after = await picks(pool, [{ timeout: 10 }, { timeout: 10 }]);
    expect(after).toContain('c0');
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
  });

  it('with calls waiting for a client, a timed call goes in line behind them', async () => {
    const pool = poolOf(1, { maxWait: 1_000 }, { maxInFlight: 1 });
    const order: string[] = [];
    let release!: () => void;
    const held = pool.run(() => new Promise<void>((resolve) => (release = resolve)));
    await jobs();
    const waiting = pool.run(() => void order.push('waiting'));
    const timed = pool.run(() => void order.push('timed'), { timeout: 500 });
    await jobs();
    release();
    await advance(1);
    await Promise.all([held, waiting, timed]);
    expect(order).toEqual(['waiting', 'timed']);
  });
});
