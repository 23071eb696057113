import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ClientPool,
  leastInFlight,
  seededRandom,
  strategies,
  weightedRandom,
  type Balancer,
  type PoolMember,
  type StrategyName,
} from '../src/index.js';
import { deferred, ManualClock } from './helpers/manual-clock.js';

interface Fake {
  readonly id: string;
}

function poolWith(weights: readonly number[], strategy: StrategyName, seed = 1): ClientPool<Fake> {
  const pool = new ClientPool<Fake>({ strategy, random: seededRandom(seed), breaker: { maxFailures: 1, cooldown: 1_000 } });
  weights.forEach((weight, i) => pool.add({ id: `c${i}` }, { name: `c${i}`, weight }));
  return pool;
}

async function countPicks(pool: ClientPool<Fake>, calls: number, strategy?: StrategyName): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < calls; i++) {
    const id = await pool.run((client) => client.id, strategy === undefined ? undefined : { strategy });
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const names = Object.keys(strategies) as StrategyName[];

describe('every strategy', () => {
  it.each(names)('%s only picks ready clients and spreads over all of them', async (strategy) => {
    const pool = poolWith([1, 2, 3, 4], strategy);
    await pool.run(() => Promise.reject(new Error('down')), { strategy: 'round-robin' }).catch(() => 0); // opens c0
    const counts = await countPicks(pool, 2_000);
    expect(counts.has('c0')).toBe(false);
    expect([...counts.keys()].sort()).toEqual(['c1', 'c2', 'c3']);
  });

  it.each(names)('%s can be chosen per call', async (strategy) => {
    const pool = poolWith([1, 1], 'round-robin');
    await expect(pool.run((client) => client.id, { strategy })).resolves.toMatch(/^c[01]$/);
  });
});

describe('round-robin', () => {
  it('is fair within +/-1 for any number of clients and calls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 300 }), async (n, calls) => {
        const pool = poolWith(Array.from({ length: n }, () => 1), 'round-robin');
        const counts = [...(await countPicks(pool, calls)).values()];
        if (calls >= n) expect(counts).toHaveLength(n);
        if (counts.length > 0) expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 60 },
    );
  });
});

describe('weighted-random', () => {
  it('matches the weights (chi-squared, fixed seed)', async () => {
    const weights = [1, 2, 3, 4, 10];
    const pool = poolWith(weights, 'weighted-random', 42);
    const calls = 40_000;
    const counts = await countPicks(pool, calls);
    const total = weights.reduce((s, w) => s + w, 0);
    let chi2 = 0;
    weights.forEach((w, i) => {
      const expected = (calls * w) / total;
      chi2 += (((counts.get(`c${i}`) ?? 0) - expected) ** 2) / expected;
    });
    // 4 degrees of freedom: p = 0.001 at 18.47.
    expect(chi2).toBeLessThan(18.47);
  });

  it('honours weights in the limit for random weight sets (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 2, maxLength: 8 }), fc.integer(), async (weights, seed) => {
        const pool = poolWith(weights, 'weighted-random', seed);
        const calls = 8_000;
        const counts = await countPicks(pool, calls);
        const total = weights.reduce((s, w) => s + w, 0);
        weights.forEach((w, i) => {
          const share = (counts.get(`c${i}`) ?? 0) / calls;
          expect(Math.abs(share - w / total)).toBeLessThan(0.04);
        });
      }),
      { numRuns: 15 },
    );
  });

  it('never picks a zero-weight (unready) slot and handles fractional weights', () => {
    const balancer = weightedRandom<Fake>({ random: seededRandom(3), clock: new ManualClock() });
    const members: PoolMember<Fake>[] = [0.5, 0.25, 0.25].map((weight, slot) => ({ client: { id: `m${slot}` }, name: `m${slot}`, weight, slot, inFlight: 0, latencyMs: 0, isMeasured: false, latencyAt: () => 0, headroom: 1 }));
    for (const m of members) balancer.onReady!(m);
    balancer.onUnready!(members[0]!);
    const ready = members.slice(1);
    for (let i = 0; i < 1_000; i++) expect(balancer.pick(ready).name).not.toBe('m0');
  });
});

describe('smooth-weighted-round-robin', () => {
  it('interleaves instead of bursting (5:1:1)', async () => {
    const pool = poolWith([5, 1, 1], 'smooth-weighted-round-robin');
    const sequence: string[] = [];
    for (let i = 0; i < 7; i++) sequence.push(await pool.run((client) => client.id));
    expect(sequence).toEqual(['c0', 'c0', 'c0', 'c1', 'c2', 'c0', 'c0']);
  });

  it('gives every client exactly its weight in every period (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 3 }), async (weights, periods) => {
        const pool = poolWith(weights, 'smooth-weighted-round-robin');
        const total = weights.reduce((s, w) => s + w, 0);
        for (let p = 0; p < periods; p++) {
          const counts = await countPicks(pool, total);
          weights.forEach((w, i) => expect(counts.get(`c${i}`)).toBe(w));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('is deterministic', async () => {
    const run = async (): Promise<string[]> => {
      const pool = poolWith([3, 2, 1], 'smooth-weighted-round-robin');
      const out: string[] = [];
      for (let i = 0; i < 30; i++) out.push(await pool.run((client) => client.id));
      return out;
    };
    expect(await run()).toEqual(await run());
  });
});

describe('least-in-flight', () => {
  it('sends the next call to the client with the fewest calls in flight', async () => {
    const pool = poolWith([1, 1, 1], 'least-in-flight');
    const hold = deferred();
    const held: string[] = [];
    const calls = Array.from({ length: 6 }, () => pool.run(async (client) => {
      held.push(client.id);
      await hold.promise;
    }));
    expect(held.sort()).toEqual(['c0', 'c0', 'c1', 'c1', 'c2', 'c2']);
    hold.resolve();
    await Promise.all(calls);
  });

  it('prefers the idle client over a busy one', async () => {
    const pool = poolWith([1, 1], 'least-in-flight');
    const stuck = deferred();
    const busy = pool.run(() => stuck.promise); // goes to one client and stays
    const picks = await countPicks(pool, 10);
    expect(picks.size).toBe(1);
    stuck.resolve();
    await busy;
  });

  it('keeps a consistent heap through random in-flight changes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(7), fc.boolean()), { maxLength: 200, size: 'max' }), (ops) => {
        const balancer: Balancer<Fake> = leastInFlight<Fake>();
        const members = Array.from({ length: 8 }, (_, slot) => ({ client: { id: `m${slot}` }, name: `m${slot}`, weight: 1, slot, inFlight: 0, latencyMs: 0, isMeasured: false, latencyAt: () => 0, headroom: 1 }));
        for (const m of members) balancer.onReady!(m);
        for (const [slot, up] of ops) {
          const m = members[slot]!;
          m.inFlight = Math.max(0, m.inFlight + (up ? 1 : -1));
          balancer.onInFlight!(m);
          const picked = balancer.pick(members);
          expect(picked.inFlight).toBe(Math.min(...members.map((x) => x.inFlight)));
        }
      }),
    );
  });
});

describe('p2c-ewma', () => {
  it('sends most traffic away from a slow client', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ strategy: 'p2c-ewma', clock, random: seededRandom(9) });
    for (const id of ['fast1', 'fast2', 'slow']) pool.add({ id }, { name: id });
    const counts = new Map<string, number>();
    for (let i = 0; i < 3_000; i++) {
      const id = await pool.run((client) => {
        clock.advance(client.id === 'slow' ? 100 : 10);
        return client.id;
      });
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.get('slow') ?? 0).toBeLessThan(3_000 * 0.05);
    expect(counts.get('fast1')).toBeGreaterThan(1_000);
    expect(counts.get('fast2')).toBeGreaterThan(1_000);
  });
});

describe('p2c-ewma recovery and failures', () => {
  it('a client that was slow once gets traffic back as its estimate decays with time', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ strategy: 'p2c-ewma', clock, random: seededRandom(4), breaker: false });
    for (const id of ['a', 'b', 'c']) pool.add({ id }, { name: id });
    let cIsSlow = true;
    const call = (client: Fake): string => {
      clock.advance(client.id === 'c' && cIsSlow ? 500 : 10);
      return client.id;
    };
    for (let i = 0; i < 30; i++) await pool.run(call);
    cIsSlow = false;
    clock.advance(600_000);
    const counts = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const id = await pool.run(call);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.get('c') ?? 0).toBeGreaterThan(100);
  });

  it('a client that fails fast gets less than its share, even without a breaker', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ strategy: 'p2c-ewma', clock, random: seededRandom(8), breaker: false });
    for (const id of ['a', 'b', 'c', 'd', 'dead']) pool.add({ id }, { name: id });
    let dead = 0;
    for (let i = 0; i < 2_000; i++) {
      await pool
        .run((client) => {
          if (client.id === 'dead') {
            dead++;
            clock.advance(1);
            throw new Error('refused');
          }
          clock.advance(20);
        })
        .catch(() => undefined);
    }
    expect(dead / 2_000).toBeLessThan(0.1);
  });

  it('an unmeasured client with a call outstanding is not picked again until it answers', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ strategy: 'p2c-ewma', clock, random: seededRandom(2) });
    pool.add({ id: 'hole' }, { name: 'hole' });
    pool.add({ id: 'ok' }, { name: 'ok' });
    // `ok` answers once and is measured; `hole` is not yet.
    await pool.run(() => clock.advance(10), { strategy: { pick: (ready) => ready.find((m) => m.name === 'ok')! } });
    const picks: string[] = [];
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      pending.push(pool.run((client) => {
        picks.push(client.id);
        return client.id === 'hole' ? new Promise(() => undefined) : client.id;
      }, { timeout: 1_000_000 }).catch(() => undefined));
    }
    expect(picks.filter((p) => p === 'hole').length).toBeLessThanOrEqual(1);
  });
});

describe('retries avoid the client that failed, whatever the strategy', () => {
  it.each(names)('%s', async (strategy) => {
    const pool = new ClientPool<Fake>({ strategy, random: seededRandom(3), retry: { attempts: 3, backoff: { initial: 0 } }, breaker: false });
    for (const id of ['bad', 'good1', 'good2']) pool.add({ id }, { name: id });
    const tried: string[] = [];
    const result = await pool.run((client) => {
      tried.push(client.id);
      if (client.id === 'bad') throw new Error('bad');
      return client.id;
    }, { strategy: { pick: (ready) => ready.find((m) => m.name === 'bad') ?? ready[0]! } });
    expect(result).toMatch(/good/);
    expect(tried[0]).toBe('bad');
    expect(tried).toHaveLength(2);
  });
});

describe('custom balancer', () => {
  it('is used as the pool default or per call', async () => {
    const last: Balancer<Fake> = { pick: (ready) => ready[ready.length - 1]! };
    const pool = new ClientPool<Fake>({ strategy: last });
    pool.add({ id: 'a' });
    pool.add({ id: 'b' });
    await expect(pool.run((client) => client.id)).resolves.toBe('b');
    const first: Balancer<Fake> = { pick: (ready) => ready[0]! };
    await expect(pool.run((client) => client.id, { strategy: first })).resolves.toBe('a');
  });
});
