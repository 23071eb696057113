// Attack: tokens are neither lost nor counted twice: after calls that ran, waited in vain, were aborted or
// ended by close(), each limit holds exactly its start less what the calls that reached a client took.
import { describe, expect, it } from 'vitest';
import { ClientPool, TokenBucket } from '../../../src/index.js';

interface Key {
  readonly id: string;
}

/** Rates so slow that nothing refills while a test runs (one token a day). */
const SLOW = { per: 86_400_000 } as const;

describe('quota conservation', () => {
  it('calls refused, aborted or timed out while waiting for a client give back exactly what they took', async () => {
    const poolTokens = new TokenBucket({ rate: 100_000, burst: 100_000, ...SLOW });
    const pool = new ClientPool<Key>({ maxWait: 40, limit: { tokens: poolTokens } });
    pool.add({ id: 'k' }, { maxInFlight: 1, limit: { tokens: { rate: 10_000, ...SLOW } } });
    let release!: () => void;
    const busy = pool.run(() => new Promise<void>((resolve) => (release = resolve)), { cost: { tokens: 1_000 } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const controllers = Array.from({ length: 5 }, () => new AbortController());
    const timedOut = Array.from({ length: 5 }, (_, i) => pool.run(() => i, { cost: { tokens: 100 } }).catch((e: unknown) => e));
    const aborted = controllers.map((c, i) => pool.run(() => i, { cost: { tokens: 200 }, signal: c.signal, maxWait: 10_000 }).catch((e: unknown) => e));
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const c of controllers) c.abort();
    const outcomes = await Promise.all([...timedOut, ...aborted]);
    expect(outcomes.every((o) => o instanceof Error)).toBe(true);
    release();
    await busy;
    expect(Math.round(poolTokens.available)).toBe(99_000);
    expect(Math.round(pool.members()[0]!.quota!['tokens']!)).toBe(9_000);
    await pool.close();
  });

  it('a hedge that loses before it reached a client gives back the pool-wide cost it took', async () => {
    const poolTokens = new TokenBucket({ rate: 100_000, burst: 100_000, ...SLOW });
    const pool = new ClientPool<Key>({ maxWait: 10_000, hedge: { delay: 5 }, limit: { tokens: poolTokens } });
    // One client with room for one call at a time: the hedge waits for a slot and loses while waiting.
    pool.add({ id: 'k' }, { maxInFlight: 1 });
    await pool.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return 'first';
    }, { cost: { tokens: 1_000 } });
    expect(Math.round(poolTokens.available)).toBe(99_000);
    await pool.close();
  });
});
