import { describe, expect, it } from 'vitest';
import { CallbackError, ClientPool } from '../../src/index.js';

describe('run() always returns a native Promise, whatever promise an around hook returns', () => {
  it('a Promise subclass whose catch() returns something else: run() is a native promise with the value', async () => {
    class Odd<T> extends Promise<T> {
      override catch(): never {
        return 'not a promise' as never;
      }
    }
    const pool = new ClientPool<object>();
    pool.add({});
    pool.use({ name: 'odd', around: (_scope, next) => Odd.resolve(next()) });
    const result = pool.run(() => 'v');
    expect(Object.getPrototypeOf(result)).toBe(Promise.prototype);
    await expect(result).resolves.toBe('v');
    await pool.close();
  });

  it('a Promise subclass whose then() throws: run() rejects with a CallbackError naming the hook', async () => {
    class Throwing<T> extends Promise<T> {
      override then(): never {
        throw new Error('then trap');
      }
    }
    const pool = new ClientPool<object>();
    pool.add({});
    pool.use({
      name: 'throwing',
      around: (_scope, next) => {
        void next();
        return new Throwing<unknown>(() => {});
      },
    });
    const result = pool.run(() => 'v');
    expect(Object.getPrototypeOf(result)).toBe(Promise.prototype);
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallbackError);
    expect(((error as Error).cause as Error).message).toBe('then trap');
    await pool.close();
  });
});
