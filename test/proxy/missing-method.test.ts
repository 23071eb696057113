// A proxy call that picks a client without that method (a pool of clients of different kinds) fails
// with MissingMethodError naming the method and the client, before the client's code runs.
import { describe, expect, it } from 'vitest';
import { ClientPool, hasErrorCode, isClientPoolError } from '../../src/index.js';
import type { Call } from '../../src/call.js';
import { createProxy, MissingMethodError, type ProxyTarget } from '../../src/proxy.js';

/** A cache: `get`, plus a `stats` resource. */
interface Cache {
  get(key: string): Promise<string>;
  readonly stats: { hits(): Promise<number> };
}

const full = (name: string): Cache => ({ get: (key) => Promise.resolve(`${key}@${name}`), stats: { hits: () => Promise.resolve(7) } });
/** An older client of the same pool that has neither `get` nor `stats`. */
const bare = (): Cache => ({}) as Cache;

function mixedPool(): ClientPool<Cache> {
  const pool = new ClientPool<Cache>({ strategy: 'round-robin' });
  pool.add(full('a'), { name: 'a' });
  pool.add(bare(), { name: 'old' });
  return pool;
}

describe('pool.proxy(): a client without the method', () => {
  it('a call that picks it rejects with MissingMethodError (code, method, clientName); the other client answers', async () => {
    const pool = mixedPool();
    const cache = pool.proxy();
    await expect(cache.get('k')).resolves.toBe('k@a');
    const error: unknown = await cache.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingMethodError);
    expect(isClientPoolError(error)).toBe(true);
    expect(hasErrorCode(error, 'ERR_MISSING_METHOD' as never)).toBe(true);
    expect(error).toMatchObject({ name: 'MissingMethodError', code: 'ERR_MISSING_METHOD', method: 'proxy.get', clientName: 'old' });
    expect((error as Error).message).toMatch(/^proxy\.get is not a method of client "old": the call did not reach it/);
    await expect(cache.get('k')).resolves.toBe('k@a');
  });

  it('the same for a nested method whose resource the client lacks', async () => {
    const pool = mixedPool();
    const cache = pool.proxy();
    await expect(cache.stats.hits()).resolves.toBe(7);
    await expect(cache.stats.hits()).rejects.toMatchObject({ code: 'ERR_MISSING_METHOD', method: 'proxy.stats.hits', clientName: 'old' });
  });

  it('a long client name is cut short in the message, kept whole in clientName', async () => {
    const name = 'n'.repeat(500);
    const pool = new ClientPool<Cache>();
    pool.add(full('a'), { name: 'a' });
    pool.add(bare(), { name });
    const cache = pool.proxy();
    await cache.get('k');
    const error = (await cache.get('k').catch((e: unknown) => e)) as MissingMethodError;
    const seen = [error.clientName.length, error.message.length < 300];
    expect(seen).toEqual([500, true]);
  });
});

/** A target over a list of clients, run in turn, as a pool that lists its clients to the proxy would be. */
function listTarget(clients: readonly Cache[]): Required<ProxyTarget<Cache>> {
  let next = 0;
  return {
    sample: () => clients[0],
    clients: () => clients,
    run: async (fn) => {
      const index = next++ % clients.length;
      return fn(clients[index]!, { clientName: `c${index}`, signal: new AbortController().signal } as Call<Cache>);
    },
  };
}

describe('createProxy(): a target that lists its clients', () => {
  it('finds a member the first client lacks on another one, and checks option keys on all of them', async () => {
    const target = listTarget([bare(), full('b')]);
    const cache = createProxy(target, { methods: { 'stats.hits': { timeout: 10 } } });
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'ERR_MISSING_METHOD', clientName: 'c0' });
    await expect(cache.get('k')).resolves.toBe('k@b');
    await expect(cache.stats.hits()).rejects.toMatchObject({ code: 'ERR_MISSING_METHOD', method: 'proxy.stats.hits' });
    expect(() => createProxy(listTarget([bare(), bare()]), { methods: { get: {} } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'proxy options.methods.get' }) as Error);
    expect(() => (createProxy(listTarget([bare(), bare()])) as unknown as Record<string, unknown>)['get']).toThrow(expect.objectContaining({ option: 'proxy.get' }) as Error);
  });

  it('without the list, the first client alone tells what a member is', () => {
    const listed = listTarget([bare(), full('b')]);
    const target: ProxyTarget<Cache> = { sample: () => listed.sample(), run: (fn, options) => listed.run(fn, options) };
    expect(() => (createProxy(target) as unknown as Record<string, unknown>)['get']).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'proxy.get' }) as Error);
  });
});
