// A `label` function that throws or returns no label: every call through the proxy rejects with a
// CallbackError (what it threw as the cause), on a populated pool and on an empty one; reading the
// method never throws, so `p.get('k').catch(handle)` catches it.
import { describe, expect, it } from 'vitest';
import { CallbackError, ClientPool } from '../../src/index.js';

class Store {
  get(key: string): Promise<string> {
    return Promise.resolve(key);
  }
}

describe('pool.proxy(): a label function that fails', () => {
  it.each([
    ['a populated pool', true],
    ['an empty pool', false],
  ])('on %s, the call rejects with CallbackError instead of throwing', async (_name, isPopulated) => {
    const pool = new ClientPool<Store>();
    if (isPopulated) pool.add(new Store(), { name: 'a' });
    const failure = new Error('label broke');
    const proxy = pool.proxy({ label: () => { throw failure; } });
    let promise: Promise<string> | undefined;
    expect(() => (promise = proxy.get('k'))).not.toThrow();
    await expect(promise).rejects.toMatchObject({ name: 'CallbackError', code: 'ERR_CALLBACK', cause: failure });
    if (isPopulated) expect(pool.members()[0]).toMatchObject({ successes: 0, failures: 0 });
  });

  it('a label that is not a non-empty string rejects the call too', async () => {
    const pool = new ClientPool<Store>();
    pool.add(new Store(), { name: 'a' });
    await expect(pool.proxy({ label: () => '' }).get('k')).rejects.toBeInstanceOf(CallbackError);
  });
});
