import { describe, expect, it } from 'vitest';
import { ClientPool, PoolClosedError } from '../../../src/index.js';
import { settle } from './helpers.js';

// close() "stops new calls ... waits for calls in flight" (README). A call whose run() came before close(),
// but whose around hook (an async cache lookup, say) has not called next() yet, is not in flight: it is held
// (src/pipeline/held-calls.ts), and close() ends it with PoolClosedError at once, as it ends calls waiting for
// a token or a client (decided in session 21; helper-90's fault 7 asked for close() to wait for it).

describe('close() and a call held in its around hook', () => {
  it('a call started before close(), whose around hook awaits before next(): PoolClosedError at close(), which does not wait for the hook', async () => {
    const pool = new ClientPool<string>();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let fnRuns = 0;
    pool.use({ name: 'async-lookup', around: async (_scope, next) => { await gate; return next(); } });
    pool.add('a');
    const call = settle(pool.run((c) => (fnRuns++, c), { method: 'get' }));
    await pool.close();
    const got = await call;
    expect(got.ok).toBe(false);
    expect(got.value).toBeInstanceOf(PoolClosedError);
    release();
    await new Promise((r) => setImmediate(r));
    expect(fnRuns).toBe(0);
  });

  it('control: without the hook, a call started before close() runs', async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    const call = settle(pool.run(async (c) => { await new Promise((r) => setImmediate(r)); return c; }, { method: 'get' }));
    const closing = pool.close();
    expect(await call).toEqual({ ok: true, value: 'a' });
    await closing;
  });
});
