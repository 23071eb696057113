// Attack: hostile `limit` option objects (Proxies, throwing getters, odd numbers) on add() and the pool.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';

interface Key {
  readonly id: string;
}

const throwingProxy = (): object =>
  new Proxy(
    {},
    {
      get() {
        throw new Error('get trap');
      },
      has() {
        throw new Error('has trap');
      },
      ownKeys() {
        throw new Error('ownKeys trap');
      },
      getOwnPropertyDescriptor() {
        throw new Error('gopd trap');
      },
    },
  );

describe('hostile limit options are refused with InvalidOptionError naming the option', () => {
  it('a client limit that is a Proxy throwing on every trap', () => {
    const pool = new ClientPool<Key>();
    expect(() => pool.add({ id: 'k' }, { limit: throwingProxy() as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'limit' }));
    expect(pool.members()).toEqual([]);
  });

  it('a named client limit that is a Proxy throwing on every trap', () => {
    const pool = new ClientPool<Key>();
    let thrown: unknown;
    try {
      pool.add({ id: 'k' }, { limit: { tokens: throwingProxy() } as never });
    } catch (error) {
      thrown = error;
    }
    // Compared field by field: printing the error would print the Proxy in it, which throws.
    expect((thrown as { code?: unknown }).code).toBe('ERR_INVALID_OPTION');
    expect((thrown as { option?: unknown }).option).toBe('limit.tokens');
    expect(pool.members()).toEqual([]);
  });

  it('a pool limit that is a Proxy throwing on every trap', () => {
    expect(() => new ClientPool<Key>({ limit: throwingProxy() as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });

  it('a named limit whose getter throws', () => {
    const pool = new ClientPool<Key>();
    const limit = {
      get tokens(): object {
        throw new Error('getter');
      },
    };
    expect(() => pool.add({ id: 'k' }, { limit: limit as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'limit.tokens' }));
  });

  it.each([
    ['a burst below 1', { tokens: { rate: 10, burst: 0.5 } }, 'limit.tokens.burst'],
    ['a NaN burst', { tokens: { rate: 10, burst: Number.NaN } }, 'limit.tokens.burst'],
    ['an Infinity rate', { tokens: { rate: Number.POSITIVE_INFINITY } }, 'limit.tokens.rate'],
    ['a negative per', { tokens: { rate: 1, per: -5 } }, 'limit.tokens.per'],
    ['maxWait on a client limit', { tokens: { rate: 1, maxWait: 5 } }, 'limit.tokens.maxWait'],
    ['a null limit by name', { tokens: null }, 'limit.tokens'],
    ['an array limit by name', { tokens: [1] }, 'limit.tokens'],
  ])('%s', (_what, limit, option) => {
    const pool = new ClientPool<Key>();
    expect(() => pool.add({ id: 'k' }, { limit: limit as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option }));
  });

  it('a pool limit by name takes maxWait per limit, and a misspelt key is named in full', () => {
    expect(() => new ClientPool<Key>({ limit: { tokens: { rate: 10, maxWiat: 5 } } as never })).toThrow(expect.objectContaining({ option: 'limit.tokens.maxWiat' }));
  });

  it('a methods cost with a throwing getter is refused when the pool is made, naming it', () => {
    const cost = {
      get tokens(): number {
        throw new Error('getter');
      },
    };
    expect(() => new ClientPool<Key>({ methods: { chat: { cost } } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });
});
