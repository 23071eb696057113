// Cost quotas (issue 15 §1): limits that count cost (tokens, dollars), not calls; calls declare a cost
// and settle the real figure; a pick goes where the quota has room.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, RateLimitedError, TokenBucket, type Call, type Limiter } from '../../src/index.js';
import { recordWarnings } from '../helpers/warnings.js';
import { dateClock } from '../helpers/fake-time.js';
import { ManualClock } from '../helpers/manual-clock.js';

interface Key {
  readonly id: string;
}

const MINUTE = 60_000;

/** Two API keys of 10 000 and 40 000 tokens a minute, as an LLM provider gives them. */
function twoKeys(clock: { now(): number }, options: { strategy?: 'most-headroom' | 'round-robin'; maxWait?: number } = {}): { pool: ClientPool<Key>; small: Key; large: Key } {
  const pool = new ClientPool<Key>({ clock, strategy: options.strategy ?? 'most-headroom', maxWait: options.maxWait ?? 0 });
  const small = { id: 'small' };
  const large = { id: 'large' };
  pool.add(small, { name: 'small', limit: { tokens: { rate: 10_000, per: MINUTE } } });
  pool.add(large, { name: 'large', limit: { tokens: { rate: 40_000, per: MINUTE } } });
  return { pool, small, large };
}

function quotaOf(pool: ClientPool<Key>, name: string): Readonly<Record<string, number>> | undefined {
  return pool.members().find((m) => m.name === name)?.quota;
}

describe('cost quotas: splitting traffic by what each key has left', () => {
  it('most-headroom drains keys of 10 000 and 40 000 tokens a minute 1 : 4 from the first call: a burst of 50 1 000-token calls takes 10 and 40', async () => {
    const { pool } = twoKeys(new ManualClock());
    const served = { small: 0, large: 0 };
    for (let i = 0; i < 50; i++) served[(await pool.run((key) => key.id, { cost: { tokens: 1_000 } })) as 'small' | 'large']++;
    expect(served).toEqual({ small: 10, large: 40 });
    // At every step each key kept the same share of its quota: none ran dry while the other had room.
    await expect(pool.run(() => 'x', { cost: { tokens: 1_000 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
  });

  it.each(['most-headroom', 'round-robin'] as const)('at twice the capacity, the calls that pass split 1 : 4 and the rest fail fast with ERR_RATE_LIMITED (%s)', async (strategy) => {
    const clock = new ManualClock();
    const { pool } = twoKeys(clock, { strategy });
    const served = { small: 0, large: 0 };
    let refused = 0;
    for (let i = 0; i < 2_000; i++) {
      try {
        const name = await pool.run((key) => key.id, { cost: { tokens: 1_000 } });
        served[name as 'small' | 'large']++;
      } catch (error) {
        expect(error).toMatchObject({ code: 'ERR_RATE_LIMITED' });
        refused++;
      }
      clock.advance(MINUTE / 100);
    }
    // 20 minutes at 50 000 tokens a minute, plus the two full buckets at the start: 1 050 calls, less
    // what the last partial refills leave.
    expect(served.small + served.large).toBeGreaterThanOrEqual(1_040);
    expect(served.small + served.large).toBeLessThanOrEqual(1_050);
    expect(refused).toBe(2_000 - served.small - served.large);
    expect(served.large / served.small).toBeGreaterThan(3.9);
    expect(served.large / served.small).toBeLessThan(4.1);
  });

  it('a call whose cost exceeds one key\'s burst goes to the other key, which it fits', async () => {
    const clock = new ManualClock();
    const { pool } = twoKeys(clock, { strategy: 'round-robin' });
    const names = [];
    for (let i = 0; i < 2; i++) names.push(await pool.run((key) => key.id, { cost: { tokens: 20_000 } }));
    expect(names).toEqual(['large', 'large']);
    // The large key's 40 000 held two such calls; the third waits for it (here maxWait is 0, so it fails
    // at once), since the small key never fits one. The small key's tokens were never touched.
    await expect(pool.run((key) => key.id, { cost: { tokens: 20_000 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', retryAfterMs: 30_000 });
    expect(quotaOf(pool, 'small')).toEqual({ tokens: 10_000 });
    // Calls it fits still go to it.
    await expect(pool.run((key) => key.id, { cost: { tokens: 1_000 } })).resolves.toBe('small');
  });

  it('a cost no key can ever hold is refused with ERR_INVALID_OPTION naming the limit and its largest burst', async () => {
    const { pool } = twoKeys(new ManualClock());
    const error = await pool.run(() => 'never', { cost: { tokens: 50_000 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'cost.tokens' });
    expect((error as Error).message).toContain('40000');
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
  });
});

describe('cost quotas: settling the real figure', () => {
  it('settling 300 of a reserved 1 000 returns 700 to the key', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock });
    pool.add({ id: 'k' }, { name: 'k', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    await pool.run((_key, call) => {
      expect(quotaOf(pool, 'k')).toEqual({ tokens: 9_000 });
      call.settle({ tokens: 300 });
      return 'done';
    }, { cost: { tokens: 1_000 } });
    expect(quotaOf(pool, 'k')).toEqual({ tokens: 9_700 });
  });

  it('settling more than was reserved charges the difference, into debt; the key is skipped until it has refilled', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, maxWait: 0 });
    pool.add({ id: 'k' }, { name: 'k', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    await pool.run((_key, call) => call.settle({ tokens: 12_000 }), { cost: { tokens: 1_000 } });
    // 2 000 tokens of debt: 12 s of refill at 10 000 a minute before the next 1 000-token call fits too.
    await expect(pool.run(() => 'x', { cost: { tokens: 1_000 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    clock.advance(17_999);
    await expect(pool.run(() => 'x', { cost: { tokens: 1_000 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    clock.advance(1);
    await expect(pool.run(() => 'x', { cost: { tokens: 1_000 } })).resolves.toBe('x');
  });

  it('settle sets the figure rather than adding to it: settling twice corrects the first', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock });
    pool.add({ id: 'k' }, { name: 'k', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    await pool.run((_key, call) => {
      call.settle({ tokens: 500 });
      call.settle({ tokens: 800 });
    }, { cost: { tokens: 1_000 } });
    expect(quotaOf(pool, 'k')).toEqual({ tokens: 9_200 });
  });

  it('a settle after the call resolved (a stream\'s usage at its end) still reaches the key', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock });
    pool.add({ id: 'k' }, { name: 'k', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    let kept: Call<Key> | undefined;
    await pool.run((_key, call) => {
      kept = call;
    }, { cost: { tokens: 4_000 } });
    expect(quotaOf(pool, 'k')).toEqual({ tokens: 6_000 });
    kept!.settle({ tokens: 1_500 });
    expect(quotaOf(pool, 'k')).toEqual({ tokens: 8_500 });
  });

  it('the pool-wide limits are settled with the client\'s', async () => {
    const clock = new ManualClock();
    const poolTokens = new TokenBucket({ rate: 100_000, per: MINUTE, clock });
    const pool = new ClientPool<Key>({ clock, limit: { requests: { rate: 10 }, tokens: poolTokens } });
    pool.add({ id: 'k' }, { name: 'k', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    await pool.run((_key, call) => {
      expect(poolTokens.available).toBe(99_000);
      call.settle({ tokens: 100 });
    }, { cost: { tokens: 1_000 } });
    expect(quotaOf(pool, 'k')).toEqual({ tokens: 9_900 });
    expect(poolTokens.available).toBe(99_900);
  });

  it('refuses a settle amount that is not a finite number >= 0, by name', async () => {
    const pool = new ClientPool<Key>();
    pool.add({ id: 'k' }, { limit: { tokens: { rate: 10 } } });
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY, '5', null]) {
      await expect(pool.run((_key, call) => call.settle({ tokens: bad as number }), { cost: { tokens: 1 } })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'settle.tokens' });
    }
    expect(pool.members()[0]!.inFlight).toBe(0);
  });
});

describe('cost quotas: several limits at once', () => {
  it('a call passes a key only when every one of its limits has room, and takes from none otherwise', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, maxWait: 0 });
    pool.add({ id: 'k' }, { name: 'k', limit: { requests: { rate: 10 }, tokens: { rate: 2_000, per: MINUTE } } });
    await pool.run(() => 'a', { cost: { tokens: 1_500 } });
    // Requests have room (9 left), tokens do not (500): nothing is taken.
    await expect(pool.run(() => 'b', { cost: { tokens: 1_000 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', retryAfterMs: 15_000 });
    expect(quotaOf(pool, 'k')).toEqual({ requests: 9, tokens: 500 });
    // Passed over for that cost only: a call it has room for still goes to it.
    await expect(pool.run(() => 'c')).resolves.toBe('c');
    expect(quotaOf(pool, 'k')).toEqual({ requests: 8, tokens: 500 });
    clock.advance(15_000);
    await expect(pool.run(() => 'd', { cost: { tokens: 1_000 } })).resolves.toBe('d');
    expect(quotaOf(pool, 'k')).toEqual({ requests: 9, tokens: 0 });
  });

  it('a call waits (FIFO, maxWait) for tokens when no key has room, and is served once one has', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    try {
      const pool = new ClientPool<Key>({ clock: dateClock, maxWait: 10_000 });
      pool.add({ id: 'k' }, { name: 'k', limit: { tokens: { rate: 6_000, per: MINUTE } } });
      await pool.run(() => 'a', { cost: { tokens: 6_000 } });
      let isServed = false;
      const waiting = pool.run(() => (isServed = true), { cost: { tokens: 600 } });
      const result = expect(waiting).resolves.toBe(true);
      // 600 tokens at 6 000 a minute come back in 6 s: not before.
      await vi.advanceTimersByTimeAsync(5_990);
      expect(isServed).toBe(false);
      await vi.advanceTimersByTimeAsync(10);
      await result;
    } finally {
      vi.useRealTimers();
    }
  });

  it('a method\'s cost is every call\'s of that method, and a call\'s own cost overrides it', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, methods: { chat: { cost: { tokens: 2_000 } } } });
    pool.add({ id: 'k' }, { name: 'k', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    await pool.run(() => 'x', { method: 'chat' });
    expect(quotaOf(pool, 'k')).toEqual({ tokens: 8_000 });
    await pool.run(() => 'x', { method: 'chat', cost: { tokens: 500 } });
    expect(quotaOf(pool, 'k')).toEqual({ tokens: 7_500 });
  });

  it('a 429 pauses only that key: the other serves, and the paused key\'s tokens stay for later', async () => {
    const clock = new ManualClock();
    const { pool } = twoKeys(clock, { strategy: 'round-robin' });
    await expect(pool.run((key, call) => {
      if (key.id === 'small') call.pauseClient(30_000);
      throw new Error('429');
    }, { cost: { tokens: 1_000 } })).rejects.toThrow();
    const names = [];
    for (let i = 0; i < 5; i++) names.push(await pool.run((key) => key.id, { cost: { tokens: 1_000 } }));
    expect(names).toEqual(['large', 'large', 'large', 'large', 'large']);
    // The pause keeps the small key out for 30 s; its token quota is kept (a pause spends no budget).
    expect(quotaOf(pool, 'small')).toEqual({ tokens: 9_000 });
    clock.advance(30_000);
    const after = [];
    for (let i = 0; i < 4; i++) after.push(await pool.run((key) => key.id, { cost: { tokens: 1_000 } }));
    expect(after).toContain('small');
  });

  it('each attempt of a retried call takes its cost: retries spend the quota too', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Key>({ clock, retry: { attempts: 2, backoff: { initial: 0, max: 0 } }, breaker: false });
    pool.add({ id: 'a' }, { name: 'a', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    pool.add({ id: 'b' }, { name: 'b', limit: { tokens: { rate: 10_000, per: MINUTE } } });
    let calls = 0;
    await pool.run(() => {
      if (++calls === 1) throw new Error('first fails');
      return 'ok';
    }, { cost: { tokens: 1_000 } });
    expect([quotaOf(pool, 'a'), quotaOf(pool, 'b')]).toEqual([{ tokens: 9_000 }, { tokens: 9_000 }]);
  });
});

describe('cost quotas: shared limits (a Limiter such as a Redis bucket) by name', () => {
  /** A shared limiter that records what it is asked; `refuse` makes its takes fail. */
  function sharedLimiter(options: { refuse?: boolean; adjustThrows?: boolean } = {}): Limiter & { taken: number[]; adjusted: number[] } {
    const taken: number[] = [];
    const adjusted: number[] = [];
    return {
      taken,
      adjusted,
      take: (n: number) => {
        if (options.refuse === true) return Promise.reject(new RateLimitedError(1_000, 'shared'));
        taken.push(n);
        return Promise.resolve();
      },
      adjust: (n: number) => {
        if (options.adjustThrows === true) throw new Error('adjust broke');
        adjusted.push(n);
      },
    };
  }

  it('a shared limit is waited on after the pick, for the cost, and settled through its adjust()', async () => {
    const shared = sharedLimiter();
    const pool = new ClientPool<Key>({ clock: new ManualClock() });
    pool.add({ id: 'k' }, { name: 'k', limit: { requests: { rate: 10 }, tokens: shared } });
    await pool.run((_key, call) => call.settle({ tokens: 700 }), { cost: { tokens: 1_000 } });
    expect(shared.taken).toEqual([1_000]);
    expect(shared.adjusted).toEqual([-300]);
    expect(quotaOf(pool, 'k')).toEqual({ requests: 9 });
  });

  it('a pool-wide shared limit that refuses gives back what the other pool-wide limits took', async () => {
    const clock = new ManualClock();
    const requests = new TokenBucket({ rate: 10, clock });
    const pool = new ClientPool<Key>({ clock, limit: { requests, tokens: sharedLimiter({ refuse: true }) } });
    pool.add({ id: 'k' });
    await expect(pool.run(() => 'x', { cost: { tokens: 5 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect(requests.available).toBe(10);
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  it('a limiter whose adjust() throws is reported as a CLIENTPOOL_CALLBACK_ERROR warning; the call is not failed', async () => {
    const warnings = recordWarnings();
    try {
      const pool = new ClientPool<Key>({ clock: new ManualClock() });
      pool.add({ id: 'k' }, { limit: { tokens: sharedLimiter({ adjustThrows: true }) } });
      await expect(pool.run((_key, call) => {
        call.settle({ tokens: 1 });
        return 'ok';
      }, { cost: { tokens: 10 } })).resolves.toBe('ok');
      expect(warnings.map((w) => w.code)).toEqual(['CLIENTPOOL_CALLBACK_ERROR']);
      expect(warnings[0]!.text).toContain('adjust broke');
    } finally {
      vi.restoreAllMocks();
    }
  });
});

describe('cost quotas: bad input is refused by name', () => {
  it.each([
    ['a negative amount', { tokens: -1 }, 'cost.tokens'],
    ['NaN', { tokens: Number.NaN }, 'cost.tokens'],
    ['Infinity', { usd: Number.POSITIVE_INFINITY }, 'cost.usd'],
    ['a string', { tokens: '5' }, 'cost.tokens'],
    ['above 2^53-1', { tokens: 2 ** 54 }, 'cost.tokens'],
    ['not an object', 5, 'cost'],
    ['an array', [1], 'cost'],
  ])('a cost with %s', async (_what, cost, option) => {
    const pool = new ClientPool<Key>();
    pool.add({ id: 'k' });
    await expect(pool.run(() => 'x', { cost: cost as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option });
  });

  it.each([
    ['an empty object (a bucket without its rate)', {}, 'limit.rate'],
    ['a limit that is a number', { tokens: 5 }, 'limit.tokens'],
    ['a misspelt bucket key', { tokens: { rate: 5, brust: 3 } }, 'limit.tokens.brust'],
    ['a rate of 0', { tokens: { rate: 0 } }, 'limit.tokens.rate'],
    ['a per of 0', { tokens: { rate: 1, per: 0 } }, 'limit.tokens.per'],
    ['a per over 2^31-1 ms', { tokens: { rate: 1, per: 2 ** 31 } }, 'limit.tokens.per'],
    ['a NaN per', { rate: 1, per: Number.NaN }, 'limit.per'],
  ])('a client limit with %s', (_what, limit, option) => {
    const pool = new ClientPool<Key>();
    expect(() => pool.add({ id: 'k' }, { limit: limit as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option }));
  });

  it('a method cost is validated when the pool is made', () => {
    expect(() => new ClientPool<Key>({ methods: { chat: { cost: { tokens: -5 } } } })).toThrow(expect.objectContaining({ option: 'methods.chat.cost.tokens' }));
  });
});

describe('cost quotas: the token bucket guarantee, settle included', () => {
  it('no key lets through more than burst + rate x t in any window of t ms, whatever the costs and refunds (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 5_000 }), cost: fc.integer({ min: 1, max: 3_000 }), refund: fc.integer({ min: 0, max: 100 }) }), { minLength: 1, maxLength: 120 }),
        async (calls) => {
          const clock = new ManualClock();
          const pool = new ClientPool<Key>({ clock, maxWait: 0 });
          const rate = 10_000;
          pool.add({ id: 'k' }, { limit: { tokens: { rate, per: MINUTE } } });
          const passed: { at: number; tokens: number }[] = [];
          for (const { gap, cost, refund } of calls) {
            clock.advance(gap);
            const actual = Math.round((cost * (100 - refund)) / 100);
            const ok = await pool.run((_key, call) => {
              call.settle({ tokens: actual });
              return true;
            }, { cost: { tokens: cost } }).catch(() => false);
            if (ok) passed.push({ at: clock.time, tokens: actual });
          }
          for (let i = 0; i < passed.length; i++) {
            let sum = 0;
            for (let j = i; j < passed.length; j++) {
              sum += passed[j]!.tokens;
              const window = passed[j]!.at - passed[i]!.at;
              expect(sum).toBeLessThanOrEqual(rate + (rate * window) / MINUTE + 1e-6);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('configured as docs/cost-quotas.md says ({ rate: N / 2, per: 60 000, burst: N / 2 }), no key lets more than N through in any 60-s window (property)', async () => {
    const quota = 10_000;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 20_000 }), cost: fc.integer({ min: 1, max: quota / 2 }), used: fc.integer({ min: 0, max: 100 }) }), { minLength: 1, maxLength: 150 }),
        async (calls) => {
          const clock = new ManualClock();
          const pool = new ClientPool<Key>({ clock, maxWait: 0 });
          pool.add({ id: 'k' }, { limit: { tokens: { rate: quota / 2, per: MINUTE, burst: quota / 2 } } });
          const passed: { at: number; tokens: number }[] = [];
          for (const { gap, cost, used } of calls) {
            clock.advance(gap);
            const actual = Math.round((cost * used) / 100);
            const ok = await pool.run((_key, call) => {
              call.settle({ tokens: actual });
              return true;
            }, { cost: { tokens: cost } }).catch(() => false);
            if (ok) passed.push({ at: clock.time, tokens: actual });
          }
          for (let i = 0; i < passed.length; i++) {
            let sum = 0;
            for (let j = i; j < passed.length && passed[j]!.at - passed[i]!.at < MINUTE; j++) sum += passed[j]!.tokens;
            expect(sum).toBeLessThanOrEqual(quota + 1e-6);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a bucket\'s adjust never refunds past a full bucket, and charges into bounded debt', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 100, per: 1_000, burst: 100, clock });
    bucket.adjust(-50);
    expect(bucket.available).toBe(100);
    expect(bucket.tryTake(60)).toBe(true);
    bucket.adjust(-20);
    expect(bucket.available).toBe(60);
    bucket.adjust(200);
    expect(bucket.available).toBe(0);
    expect(bucket.waitTime(1)).toBeCloseTo(1_410, 6);
    bucket.adjust(Number.NaN);
    bucket.adjust(1e300);
    expect(Number.isFinite(bucket.waitTime(1))).toBe(true);
    expect(bucket.waitTime(1)).toBeLessThanOrEqual(2 ** 31 - 1 + 1_000);
  });
});
