import { describe, expect, it } from 'vitest';
import { CallbackError, ClientPool, type Balancer } from '../../src/index.js';

/** A balancer whose pick is an object nobody can read: every property access throws. */
const unreadable: Balancer<object> = {
  pick: () => new Proxy({}, { get: () => { throw new Error('unreadable pick'); } }) as never,
};

describe('a custom balancer that returns something unreadable', () => {
  it('fails the call with a CallbackError, the original as its cause', async () => {
    const pool = new ClientPool<object>({ strategy: unreadable });
    pool.add({}, { name: 'a' });
    const error = await pool.run(() => Promise.resolve(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallbackError);
    expect((error as CallbackError).cause).toMatchObject({ message: 'unreadable pick' });
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('fails a call woken from the queue the same way, without an uncaught exception', async () => {
    let picks = 0;
    const later: Balancer<object> = { pick: (ready) => (++picks <= 1 ? ready[0]! : unreadable.pick(ready)) };
    const pool = new ClientPool<object>({ strategy: later, maxWait: 5_000 });
    pool.add({}, { name: 'a', limit: { rate: 1_000, burst: 1 } });
    await pool.run(() => Promise.resolve('first'));
    await expect(pool.run(() => Promise.resolve('second'))).rejects.toBeInstanceOf(CallbackError);
    await pool.close();
  });
});

describe('an async balancer pick() that rejects', () => {
  it('fails the call with a CallbackError and reports the rejection: nothing is left unhandled', async () => {
    const warnings: unknown[] = [];
    const onWarning = (warning: unknown): void => void warnings.push(warning);
    process.on('warning', onWarning);
    const asyncPick: Balancer<object> = { pick: (() => Promise.reject(new Error('async pick failed'))) as never };
    const pool = new ClientPool<object>({ strategy: asyncPick });
    pool.add({}, { name: 'a' });
    await expect(pool.run(() => Promise.resolve(1))).rejects.toBeInstanceOf(CallbackError);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(String(warnings.map(String))).toContain('async pick failed');
    await pool.close();
  });
});
