// Attack: settle() from places a user would call it: middleware before the pick, a losing hedge, each
// attempt of a retried call, twice, after remove(); costs with retries, hedges, quorum-like fan-out.
import { describe, expect, it } from 'vitest';
import { ClientPool, TokenBucket, type Call } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';

interface Key {
  readonly id: string;
}

const MINUTE = 60_000;

describe('settle() called in middleware (after the pick: middleware runs inside it)', () => {
  it('a middleware that settles after next() settles the pool-wide and the client limits', async () => {
    const clock = new ManualClock();
    const poolTokens = new TokenBucket({ rate: 10_000, per: MINUTE, clock });
    const pool = new ClientPool<Key>({ clock, limit: { tokens: poolTokens } });
    pool.add({ id: 'k' }, { name: 'k', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    pool.use({
      name: 'settler',
      async execute(call: Call<Key>, next) {
        const value = await next(call);
        call.settle({ tokens: 100 });
        return value;
      },
    });
    await pool.run(() => 'x', { cost: { tokens: 1_000 } });
    expect(poolTokens.available).toBe(9_900);
    expect(pool.members()[0]!.quota).toEqual({ tokens: 9_900 });
  });
});

describe('settle() twice and after remove()', () => {
  it('settling twice with different names keeps both figures', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock });
    pool.add({ id: 'k' }, { name: 'k', limit: { tokens: { rate: 10_000, per: MINUTE }, usd: { rate: 100, per: MINUTE } } });
    await pool.run((_key, call) => {
      call.settle({ tokens: 500 });
      call.settle({ usd: 2 });
      call.settle({ tokens: 700 });
    }, { cost: { tokens: 1_000, usd: 5 } });
    expect(pool.members()[0]!.quota).toEqual({ tokens: 9_300, usd: 98 });
  });

  it('settle() after the client was removed does not throw', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock });
    const key = { id: 'k' };
    pool.add(key, { limit: { tokens: { rate: 100 } } });
    let kept: Call<Key> | undefined;
    await pool.run((_k, call) => {
      kept = call;
    }, { cost: { tokens: 10 } });
    await pool.remove(key);
    expect(() => kept!.settle({ tokens: 5 })).not.toThrow();
  });

  it('requests settled to 0 gives the request back', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock });
    pool.add({ id: 'k' }, { limit: { rate: 10 } });
    await pool.run((_key, call) => call.settle({ requests: 0 }));
    expect(pool.members()[0]!.tokens).toBe(10);
  });
});

describe('costs with retries and hedges', () => {
  it('a retried call settles each attempt on the key that served it', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, retry: { attempts: 2, backoff: { initial: 0, max: 0 } }, breaker: false, strategy: 'round-robin' });
    pool.add({ id: 'a' }, { name: 'a', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    pool.add({ id: 'b' }, { name: 'b', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    let calls = 0;
    await pool.run((_key, call) => {
      call.settle({ tokens: 100 });
      if (++calls === 1) throw new Error('first fails');
      return 'ok';
    }, { cost: { tokens: 1_000 } });
    expect(pool.members().map((m) => m.quota)).toEqual([{ tokens: 9_900 }, { tokens: 9_900 }]);
  });

  it('a losing hedge that settles after it lost still corrects its own key', async () => {
    // A clock that stands still: no token comes back while the machine takes its time between the settles and the read.
    const pool = new ClientPool<Key>({ clock: new ManualClock(), hedge: { delay: 5 }, strategy: 'round-robin' });
    pool.add({ id: 'slow' }, { name: 'slow', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    pool.add({ id: 'fast' }, { name: 'fast', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    let settleLoser: (() => void) | undefined;
    const result = await pool.run(async (key, call) => {
      if (key.id === 'slow') {
        settleLoser = () => call.settle({ tokens: 0 });
        await new Promise((resolve) => setTimeout(resolve, 50));
        return 'slow';
      }
      call.settle({ tokens: 10 });
      return 'fast';
    }, { cost: { tokens: 1_000 } });
    expect(result).toBe('fast');
    settleLoser!();
    const quota = Object.fromEntries(pool.members().map((m) => [m.name, Math.round(m.quota!['tokens']!)]));
    expect(quota).toEqual({ slow: 10_000, fast: 9_990 });
    await pool.close();
  });

  it('a hedged call whose cost fits only one key does not fail: the hedge is skipped or waits', async () => {
    const pool = new ClientPool<Key>({ hedge: { delay: 1 }, maxWait: 0 });
    pool.add({ id: 'small' }, { name: 'small', limit: { tokens: { rate: 1_000, per: MINUTE } } });
    pool.add({ id: 'large' }, { name: 'large', limit: { tokens: { rate: 40_000, per: MINUTE } } });
    const result = await pool.run(async (key) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return key.id;
    }, { cost: { tokens: 5_000 } });
    expect(result).toBe('large');
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
    await pool.close();
  });
});

describe('coalesce with costs', () => {
  it('two coalesced calls reserve one cost, once', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock });
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 10_000, per: MINUTE } } });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const fn = async (): Promise<string> => {
      await gate;
      return 'x';
    };
    const a = pool.run(fn, { coalesce: 'same', cost: { tokens: 1_000 } });
    const b = pool.run(fn, { coalesce: 'same', cost: { tokens: 1_000 } });
    release();
    await Promise.all([a, b]);
    expect(pool.members()[0]!.quota).toEqual({ tokens: 9_000 });
  });
});
