import { describe, expect, it } from 'vitest';
import { ClientPool, hasErrorCode, type Call } from '../../src/index.js';

// The pick stage settles a held attempt through handlers bound to the attempt (`Attempt.heldSucceeded`,
// `laneSucceeded`, `heldFailed`; a raced one through its race's `succeed` and `fail`). The attempt is the
// `call` the user's function is given: writing those names on it must change nothing of how it settles.
const HANDLERS = ['heldSucceeded', 'laneSucceeded', 'heldFailed', 'succeed', 'fail', 'capture'] as const;

function overwriteHandlers(call: Call<{ readonly id: string }>): void {
  for (const name of HANDLERS) {
    // A hang if the pool took it: a promise that never settles, or a handler that drops the answer.
    Object.defineProperty(call, name, { value: () => new Promise(() => {}), configurable: true, writable: true });
  }
}

/** Each way a call's first attempt is held: the lane (no options), `hold` (an `onOutcome` hook), and a race (`timeout`). */
const PATHS = [
  ['the lane', (): ClientPool<{ readonly id: string }> => new ClientPool(), undefined],
  [
    'a hold with an onOutcome hook',
    (): ClientPool<{ readonly id: string }> => {
      const pool = new ClientPool<{ readonly id: string }>();
      pool.use({ name: 'observer', execute: (call, next) => next(call), onOutcome: () => {} });
      return pool;
    },
    undefined,
  ],
  ['a race (timeout)', (): ClientPool<{ readonly id: string }> => new ClientPool(), { timeout: 60_000 }],
] as const;

describe("a held attempt settles through the pool's own handlers, whatever its function writes on its call", () => {
  for (const [path, makePool, options] of PATHS) {
    it(`${path}: a success resolves with its value and frees the client`, async () => {
      const pool = makePool();
      pool.add({ id: 'a' });
      const value = await pool.run((client, call) => {
        overwriteHandlers(call);
        return Promise.resolve(client.id);
      }, options);
      expect(value).toBe('a');
      expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 1, failures: 0 });
      await pool.close();
    });

    it(`${path}: a failure rejects with the pool's error and frees the client`, async () => {
      const pool = makePool();
      pool.add({ id: 'a' });
      const error = await pool
        .run((_client, call) => {
          overwriteHandlers(call);
          return Promise.reject(new Error('upstream down'));
        }, options)
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
      expect(hasErrorCode(error, 'ERR_CLIENT_CALL')).toBe(true);
      expect((error as Error).cause).toEqual(new Error('upstream down'));
      expect(pool.members()[0]).toMatchObject({ inFlight: 0, failures: 1 });
      await pool.close();
    });
  }
});
