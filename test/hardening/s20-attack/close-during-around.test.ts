import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { settle } from './helpers.js';

// close() "stops new calls ... waits for calls in flight" (README). A call whose run() came before close(),
// but whose around hook (an async cache lookup, say) calls next() after it, is not counted as in flight: its
// next() runs #run on a closing pool and the caller gets PoolClosedError, where a pool without the hook would
// have run it. Pre-existing (not from 3a81f89); open (NOTES.md, fault 7), its test kept out of the suite
// until it is fixed. The control stays.

describe('close() and a call held in its around hook', () => {
  it('control: without the hook, a call started before close() runs', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const call = settle(pool.run(async (c) => { await new Promise((r) => setImmediate(r)); return c; }, { method: 'get' }));
    const closing = pool.close();
    expect(await call).toEqual({ ok: true, value: 'a' });
    await closing;
  });
});
