import { describe, expect, it } from 'vitest';
import { ClientPool, type CallSource, type Middleware } from '../../src/index.js';

/** A pool of one client whose answer the test releases, and the sources `onCallEnd` heard. */
function setup(): { pool: ClientPool<object>; sources: CallSource[]; calls: () => number; answer: (value: number) => Promise<number> } {
  const sources: CallSource[] = [];
  const listener: Middleware<object> = { name: 'sources', onCallEnd: ({ source }) => void sources.push(source) };
  const pool = new ClientPool<object>({ breaker: false }).use(listener);
  pool.add({}, { name: 'a' });
  let count = 0;
  return {
    pool,
    sources,
    calls: () => count,
    answer: (value) => {
      count++;
      return Promise.resolve(value);
    },
  };
}

describe('CallEnd.source: where each caller\'s answer came from', () => {
  it('a call of its own is upstream; callers that joined its coalesce key are shared', async () => {
    const { pool, sources, calls, answer } = setup();
    await Promise.all([pool.run(() => answer(1), { coalesce: 'k' }), pool.run(() => answer(2), { coalesce: 'k' }), pool.run(() => answer(3), { coalesce: 'k' })]);
    await pool.run(() => answer(4));
    expect(calls()).toBe(2);
    expect(sources).toEqual(['upstream', 'shared', 'shared', 'upstream']);
    await pool.close();
  });

  it('a fresh cached result is cache; a stale one served on failure is stale', async () => {
    const { pool, sources } = setup();
    const cache = { ttl: 0, staleIfError: 60_000, onStale: (): void => undefined };
    expect(await pool.run(() => 7, { coalesce: 'price', cache: { ttl: 60_000 } })).toBe(7);
    expect(await pool.run(() => 8, { coalesce: 'price', cache: { ttl: 60_000 } })).toBe(7);
    expect(await pool.run(() => 9, { coalesce: 'other', cache })).toBe(9);
    expect(await pool.run(() => Promise.reject(new Error('down')), { coalesce: 'other', cache })).toBe(9);
    expect(sources).toEqual(['upstream', 'cache', 'upstream', 'stale']);
    await pool.close();
  });

  it('a shared call that fails is heard as shared, with its error', async () => {
    const ends: [CallSource, string | undefined][] = [];
    const pool = new ClientPool<object>().use({ name: 'ends', onCallEnd: ({ source, error }) => void ends.push([source, error?.code]) });
    pool.add({}, { name: 'a' });
    const failing = (): Promise<never> => Promise.reject(new Error('down'));
    await Promise.allSettled([pool.run(failing, { coalesce: 'k' }), pool.run(failing, { coalesce: 'k' })]);
    expect(ends).toEqual([
      ['upstream', 'ERR_CLIENT_CALL'],
      ['shared', 'ERR_CLIENT_CALL'],
    ]);
    await pool.close();
  });
});
