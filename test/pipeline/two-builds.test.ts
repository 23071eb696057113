import { describe, expect, it, vi } from 'vitest';
import { ClientPool, hasErrorCode, TimeoutError, TokenBucket, type RateLimitEvent } from '../../src/index.js';

/**
 * The package ships an ESM and a CommonJS build: a user may mix objects of both. A second copy of the
 * modules (fresh module graph) stands in for the other build: same code, different class identities.
 */
async function otherBuild(): Promise<typeof import('../../src/index.js')> {
  vi.resetModules();
  return import('../../src/index.js');
}

describe('two builds, one behaviour', () => {
  it('a TokenBucket from the other build is routed around when empty and reports its refusals', async () => {
    const other = await otherBuild();
    expect(other.TokenBucket).not.toBe(TokenBucket);
    const pool = new ClientPool<{ id: string }>({ maxWait: 0 });
    const bucket = new other.TokenBucket({ rate: 1, burst: 1 });
    pool.add({ id: 'limited' }, { name: 'limited', limit: bucket });
    pool.add({ id: 'free' }, { name: 'free' });
    const events: RateLimitEvent[] = [];
    pool.onRateLimit((event) => events.push(event));
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await pool.run((client) => client.id));
    expect(seen.filter((id) => id === 'limited')).toHaveLength(1);
    expect(pool.members().find((m) => m.name === 'limited')!.tokens).toBeLessThan(1);
    await pool.close();

    const alone = new ClientPool<{ id: string }>({ maxWait: 0 });
    alone.add({ id: 'limited' }, { name: 'limited', limit: new other.TokenBucket({ rate: 1, burst: 1 }) });
    alone.onRateLimit((event) => events.push(event));
    await alone.run(() => 'spends the token');
    const error = await alone.run(() => 'refused').catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_RATE_LIMITED')).toBe(true);
    expect(events.at(-1)).toMatchObject({ scope: 'client', rejected: true });
    await alone.close();
  });

  it('errors of the other build satisfy instanceof of this one', async () => {
    const other = await otherBuild();
    const error = new other.TimeoutError(10);
    expect(error).toBeInstanceOf(TimeoutError);
  });
});
