import { describe, expect, expectTypeOf, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { ExcludedMethodError } from '../../src/proxy.js';

class Store {
  readonly admin = { flushLogs: (): Promise<number> => Promise.resolve(1), stats: (): Promise<number> => Promise.resolve(2) };
  get(key: string): Promise<string> {
    return Promise.resolve(`value of ${key}`);
  }
  flushall(): Promise<'OK'> {
    return Promise.resolve('OK');
  }
  flushdb(): Promise<'OK'> {
    return Promise.resolve('OK');
  }
  watchKeys(): Promise<string> {
    return Promise.resolve('watching');
  }
  set1(): Promise<number> {
    return Promise.resolve(1);
  }
}

function store(): ClientPool<Store> {
  const pool = new ClientPool<Store>();
  pool.add(new Store());
  return pool;
}

const read = (proxy: object, ...path: string[]): unknown => path.reduce<unknown>((node, step) => (node as Record<string, unknown>)[step], proxy);

describe('pool.proxy(): include and exclude take globs', () => {
  it('exclude: `*` matches names within a segment, at any depth', async () => {
    const proxy = store().proxy({ exclude: ['flush*'] });
    expect(() => read(proxy, 'flushall')).toThrow(ExcludedMethodError);
    expect(() => read(proxy, 'flushdb')).toThrow(expect.objectContaining({ reason: 'excluded' }) as Error);
    expect(() => read(proxy, 'admin', 'flushLogs')).toThrow(expect.objectContaining({ method: 'proxy.admin.flushLogs' }) as Error);
    await expect(proxy.get('k')).resolves.toBe('value of k');
    expectTypeOf(proxy).not.toHaveProperty('flushall');
    expectTypeOf(proxy).not.toHaveProperty('flushdb');
    expectTypeOf(proxy).toHaveProperty('get');
  });

  it('exclude: `**` matches across segments and `?` one character', async () => {
    const everythingUnderAdmin = store().proxy({ exclude: ['admin.**'] });
    expect(() => read(everythingUnderAdmin, 'admin', 'stats')).toThrow(ExcludedMethodError);
    await expect(everythingUnderAdmin.flushall()).resolves.toBe('OK');
    const oneChar = store().proxy({ exclude: ['se??'] });
    expect(() => read(oneChar, 'set1')).toThrow(ExcludedMethodError);
    await expect(oneChar.get('k')).resolves.toBe('value of k'); // `?` does not match an empty string
    const oneSegment = store().proxy({ exclude: ['admin.*'] });
    expect(() => read(oneSegment, 'admin', 'stats')).toThrow(ExcludedMethodError);
    expect(read(oneSegment, 'admin')).toBeTypeOf('object'); // the resource itself is not under admin.*
  });

  it('include: a glob brings back default exclusions it matches', async () => {
    const plain = store().proxy();
    expect(() => read(plain, 'watchKeys')).toThrow(expect.objectContaining({ reason: 'stream or connection state' }) as Error);
    const included = store().proxy({ include: ['watch*'] });
    await expect(included.watchKeys()).resolves.toBe('watching');
    expectTypeOf(plain).not.toHaveProperty('watchKeys');
    expectTypeOf(included).toHaveProperty('watchKeys');
  });
});
