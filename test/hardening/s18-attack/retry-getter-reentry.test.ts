import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';

// The `retry` object is read (validated) inside runLabelled, after the label-only flag was consumed: its
// getters may close, destroy or reshape the pool. The call must settle, nothing stays in flight.

async function bounded<V>(p: Promise<V>): Promise<V | 'hung'> {
  return Promise.race([p, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 1000))]);
}

describe('retry option getters that act on the pool', () => {
  for (const action of ['close', 'destroy', 'use', 'remove'] as const) {
    for (const extra of [{}, { maxWait: 1_000 }]) {
      it(`a retry getter that calls pool.${action}(): the call settles ${JSON.stringify(extra)}`, { timeout: 5000 }, async () => {
        const pool = new ClientPool<string>();
        pool.add('a', { name: 'a' });
        pool.add('b', { name: 'b' });
        let side: Promise<unknown> | undefined;
        const retry = {
          get attempts(): number {
            if (side === undefined) {
              if (action === 'close') side = pool.close();
              else if (action === 'destroy') side = pool.destroy(new Error('bye'));
              else if (action === 'use') { pool.use({ name: 'late', execute: (call, next) => next(call) }); side = Promise.resolve(); }
              else side = pool.remove('a');
            }
            return 2;
          },
          backoff: { initial: 0 },
        };
        const outcome = await bounded(pool.run((c, call) => (call.attempt === 1 ? Promise.reject(new Error('x')) : c), { method: 'get', retry, ...extra }).then((v) => v, (e: { code?: string }) => e.code));
        expect(outcome).not.toBe('hung');
        expect(await bounded(side!.then(() => 'done', () => 'done'))).toBe('done');
        expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
        if (!pool.isClosed) await pool.close();
      });
    }
  }
});
