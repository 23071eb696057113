// Attack: Limiter objects of your own that throw, never answer, or answer late, used as named limits.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, TokenBucket, type Limiter } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { recordWarnings } from '../../helpers/warnings.js';
import { unhandledDuring } from '../../helpers/unhandled.js';

interface Key {
  readonly id: string;
}

describe('a pool-wide shared limit whose tryTake throws', () => {
  it('gives back what the in-memory pool limits took before it threw', async () => {
    const clock = new ManualClock();
    const requests = new TokenBucket({ rate: 10, clock });
    const tokens = new TokenBucket({ rate: 1_000, clock });
    const broken: Limiter = {
      take: () => Promise.resolve(),
      tryTake: () => {
        throw new Error('tryTake broke');
      },
      adjust: () => {},
    };
    const pool = new ClientPool<Key>({ clock, limit: { requests, tokens, usd: broken } });
    pool.add({ id: 'k' });
    const error = await pool.run(() => 'x', { cost: { tokens: 100, usd: 1 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_CALLBACK' });
    // The call failed before it ran: nothing it reserved stays taken.
    expect(requests.available).toBe(10);
    expect(tokens.available).toBe(1_000);
  });
});

describe('a pool-wide shared limit whose adjust throws during a refund', () => {
  it('a refusal that gives back through a throwing adjust still gives back the other limits and rejects as the limiter refused', async () => {
    recordWarnings();
    try {
      const clock = new ManualClock();
      const requests = new TokenBucket({ rate: 10, clock });
      const first: Limiter = {
        take: () => Promise.resolve(),
        adjust: () => {
          throw new Error('adjust broke');
        },
      };
      const refusing: Limiter = {
        take: () => Promise.reject(Object.assign(new Error('no'), { code: 'ERR_RATE_LIMITED' })),
      };
      const pool = new ClientPool<Key>({ clock, maxWait: 100, limit: { requests, a: first, b: refusing } });
      pool.add({ id: 'k' });
      const error = await pool.run(() => 'x', { cost: { a: 1, b: 1 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(requests.available).toBe(10);
      expect(pool.members()[0]!.inFlight).toBe(0);
    } finally {
      vi.restoreAllMocks();
    }
  });
});

describe('a client shared limit that never answers', () => {
  it('a call waiting on it ends with close(), leaks no inFlight, and raises no unhandled rejection', async () => {
    const never: Limiter = { take: () => new Promise<void>(() => {}) };
    const pool = new ClientPool<Key>({ maxWait: 60_000 });
    pool.add({ id: 'k' }, { limit: { requests: { rate: 10 }, tokens: never } });
    const seen = await unhandledDuring(async () => {
      const call = pool.run(() => 'x', { cost: { tokens: 5 } });
      const settled = call.then(() => 'resolved', (e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await pool.close();
      const result = await Promise.race([settled, new Promise((resolve) => setTimeout(() => resolve('hung'), 1_000))]);
      expect(result).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    });
    expect(seen).toEqual([]);
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
  });

  it('a call waiting on it ends with its signal at once', async () => {
    const never: Limiter = { take: () => new Promise<void>(() => {}) };
    const pool = new ClientPool<Key>({ maxWait: 60_000 });
    pool.add({ id: 'k' }, { limit: { tokens: never } });
    const controller = new AbortController();
    const call = pool.run(() => 'x', { cost: { tokens: 5 }, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(new Error('bye'));
    await expect(call).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });
});

describe('a shared limiter answering after the call gave up on it', () => {
  it('tokens it grants after an abort are given back (adjust) rather than lost', async () => {
    let grant: (() => void) | undefined;
    const adjusted: number[] = [];
    const late: Limiter = {
      take: () =>
        new Promise<void>((resolve) => {
          grant = resolve;
        }),
      adjust: (n) => {
        adjusted.push(n);
      },
    };
    const pool = new ClientPool<Key>({ maxWait: 60_000 });
    pool.add({ id: 'k' }, { limit: { tokens: late } });
    const controller = new AbortController();
    const call = pool.run(() => 'x', { cost: { tokens: 5 }, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    grant!();
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The limiter took 5 for a call that never ran: the pool gives them back.
    expect(adjusted).toEqual([-5]);
    await pool.close();
  });
});

describe('close() and destroy() while calls wait for cost tokens', () => {
  it('close() ends a call waiting for in-memory cost tokens with PoolClosedError; no tokens are taken', async () => {
    const pool = new ClientPool<Key>({ maxWait: 60_000 });
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 100, per: 60_000 } } });
    await pool.run(() => 'a', { cost: { tokens: 100 } });
    const waiting = pool.run(() => 'b', { cost: { tokens: 50 } }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await pool.close();
    expect(await waiting).toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
  });

  it('destroy() ends a call waiting for pool-wide cost tokens at once', async () => {
    const pool = new ClientPool<Key>({ maxWait: 60_000, limit: { tokens: { rate: 100, per: 60_000 } } });
    pool.add({ id: 'k' });
    await pool.run(() => 'a', { cost: { tokens: 100 } });
    const waiting = pool.run(() => 'b', { cost: { tokens: 50 } }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const destroyed = pool.destroy(new Error('shutdown'));
    const result = await Promise.race([waiting, new Promise((resolve) => setTimeout(() => resolve('hung'), 1_000))]);
    await destroyed;
    expect(result).not.toBe('hung');
    expect(result).toBeInstanceOf(Error);
  });

  it('settle() after close() does not throw and changes nothing', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock });
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 100 } } });
    let kept: { settle(c: Record<string, number>): void } | undefined;
    await pool.run((_k, call) => {
      kept = call;
    }, { cost: { tokens: 10 } });
    await pool.close();
    expect(() => kept!.settle({ tokens: 5 })).not.toThrow();
  });
});
