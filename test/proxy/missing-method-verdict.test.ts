// A proxy call that picks a client without the method is a refusal (src/pipeline/classify.ts), retried elsewhere (call-attempts.ts isRetryable).
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';

interface Cache {
  get(key: string): Promise<string>;
}
const full = (name: string): Cache => ({ get: (key) => Promise.resolve(`${key}@${name}`) });
const bare = (): Cache => ({}) as Cache;

describe('pool.proxy(): a client without the method is not a failing client', () => {
  it('its breaker and failure count stay as they were: the call is a refusal', async () => {
    const pool = new ClientPool<Cache>({ breaker: { maxFailures: 1 } });
    pool.add(full('a'), { name: 'a' });
    pool.add(bare(), { name: 'old' });
    const cache = pool.proxy();
    const results = await Promise.all([1, 2, 3, 4].map(() => cache.get('k').then(() => 'ok', (e: { code: string }) => e.code)));
    expect(results).toEqual(['ok', 'ERR_MISSING_METHOD', 'ok', 'ERR_MISSING_METHOD']);
    const old = pool.members().find((m) => m.name === 'old');
    expect(old).toMatchObject({ failures: 0, successes: 0, refused: 2, inFlight: 0 });
    expect(old?.state.kind).toBe('closed');
  });

  it('with a retry policy, the call moves on to a client that has the method, even when the first client lacks it', async () => {
    const pool = new ClientPool<Cache>({ retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.add(bare(), { name: 'old' });
    pool.add(full('a'), { name: 'a' });
    pool.add(full('b'), { name: 'b' });
    const cache = pool.proxy();
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) answers.push(await cache.get('k'));
    expect(answers.every((answer) => answer === 'k@a' || answer === 'k@b')).toBe(true);
    expect(pool.members().find((m) => m.name === 'old')).toMatchObject({ failures: 0 });
  });
});
