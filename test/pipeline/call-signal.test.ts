import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { deferred } from '../helpers/manual-clock.js';

describe('call.signal of a plain call (no timeout, no caller signal, no hedge)', () => {
  it('is the attempt\'s own: two calls never share one', async () => {
    const pool = new ClientPool<object>();
    pool.add({}, { name: 'a' });
    const first = await pool.run((_client, call) => call.signal);
    const second = await pool.run((_client, call) => call.signal);
    expect(first).not.toBe(second);
    await pool.close();
  });

  it('is never aborted after its call succeeded, not even by destroy()', async () => {
    const pool = new ClientPool<object>();
    pool.add({}, { name: 'a' });
    const signal = await pool.run((_client, call) => call.signal);
    await pool.destroy('shutting down');
    expect(signal.aborted).toBe(false);
  });

  it('aborts when destroy() ends the call in flight, and the client is released', async () => {
    const pool = new ClientPool<object>();
    pool.add({}, { name: 'a' });
    const seen = deferred<AbortSignal>();
    const call = pool.run((_client, call) => {
      seen.resolve(call.signal);
      return new Promise((_resolve, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason as Error)));
    });
    call.catch(() => {});
    const signal = await seen.promise;
    await pool.destroy('shutting down');
    expect(signal.aborted).toBe(true);
    await expect(call).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    expect(pool.members()).toEqual([]);
  });

  it('read after destroy() is aborted already', async () => {
    const pool = new ClientPool<object>();
    pool.add({}, { name: 'a' });
    const gate = deferred();
    let signal: AbortSignal | undefined;
    const call = pool.run(async (_client, call) => {
      await gate.promise;
      signal = call.signal;
    });
    const destroyed = pool.destroy('shutting down');
    gate.resolve();
    await call.catch(() => {});
    await destroyed;
    expect(signal?.aborted).toBe(true);
  });
});
