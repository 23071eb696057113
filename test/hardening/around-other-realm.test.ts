// An `around` hook that returns a promise of another realm (a vm context): adopted as a promise, its
// rejection reaching the caller typed, never unhandled.
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { unhandledDuring } from '../helpers/unhandled.js';

describe('around hooks returning a promise of another realm', () => {
  it('a rejecting one fails the call with a clientpool error, the rejection as its cause, and nothing goes unhandled', async () => {
    const pool = new ClientPool<object>();
    pool.add({});
    pool.use({ name: 'realm', around: () => runInNewContext('Promise.reject(new Error("around in another realm broke"))') as Promise<unknown> });
    let error: unknown;
    const unhandled = await unhandledDuring(async () => {
      error = await pool.run(() => 'x').catch((e: unknown) => e);
    });
    expect(unhandled).toEqual([]);
    expect(error).toMatchObject({ code: 'ERR_CALLBACK' });
    expect(String((error as { cause?: { message?: unknown } }).cause?.message)).toContain('another realm');
  });

  it('a resolving one gives its value', async () => {
    const pool = new ClientPool<object>();
    pool.add({});
    const adopt = runInNewContext('(next) => Promise.resolve().then(next)') as (next: () => Promise<unknown>) => Promise<unknown>;
    pool.use({ name: 'realm', around: (_scope, next) => adopt(next) });
    await expect(pool.run(() => 'x')).resolves.toBe('x');
  });
});
