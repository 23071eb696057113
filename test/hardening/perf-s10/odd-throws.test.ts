import { describe, expect, it } from 'vitest';
import { ClientPool, type Call, type RunOptions } from '../../../src/index.js';

type Client = { name: string };

const odd: readonly unknown[] = [undefined, null, 'a string', 42, Symbol('s'), { message: 'plain object' }, Object.create(null) as object];
const raced: readonly RunOptions<Client>[] = [{ timeout: 1_000 }, { signal: new AbortController().signal }, { hedge: { delay: 1_000 } }, { deadline: 1_000 }];

// The race stage now catches what arming, joining or the chain below throws and rejects with it as it
// stands (`reject(error as Error)`): whatever a timed call's function or middleware throws, the caller
// still gets an Error ("never reject with a non-Error"), and the client is given back.
describe('a raced call whose function or middleware throws an odd value synchronously', () => {
  for (const options of raced) {
    const label = Object.keys(options)[0]!;
    it(`rejects with an Error and gives the client back (${label}; the function throws)`, async () => {
      const pool = new ClientPool<Client>({ retryBudget: false });
      pool.add({ name: 'a' });
      for (const value of odd) {
        const error = await pool
          .run(() => {
            throw value;
          }, options)
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
      }
      expect(pool.members()[0]!.inFlight).toBe(0);
      await pool.close();
    });

    it(`rejects with an Error and gives the client back (${label}; a middleware throws)`, async () => {
      const pool = new ClientPool<Client>({ retryBudget: false });
      pool.add({ name: 'a' });
      let value: unknown;
      pool.use((call: Call<Client>, next) => {
        if (call.method === 'odd') throw value;
        return next(call);
      });
      for (const v of odd) {
        value = v;
        const error = await pool.run(() => Promise.resolve('never'), { ...options, method: 'odd' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
      }
      expect(pool.members()[0]!.inFlight).toBe(0);
      await expect(pool.run(() => Promise.resolve('ok'), options)).resolves.toBe('ok');
      await pool.close();
    });
  }
});
