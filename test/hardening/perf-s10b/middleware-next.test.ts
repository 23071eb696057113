import { describe, expect, it } from 'vitest';
import { ClientPool, type Call, type Next } from '../../../src/index.js';
import { inFlight, settled, turn, type Client, captureUnhandled } from './harness.js';

// What next() returned is held per middleware stage (saved and restored around execute), not on the
// attempt: re-entrant calls through the same stage, next() twice or late, and other promises returned
// must still give each caller its own answer, hand every client back and leave nothing unhandled.

const unhandled = captureUnhandled({ fakeTimers: false });

async function quiet(): Promise<void> {
  for (let i = 0; i < 5; i++) await turn();
}

function poolWith(...middleware: ((call: Call<Client>, next: Next) => Promise<unknown>)[]): ClientPool<Client> {
  const pool = new ClientPool<Client>({ retryBudget: false });
  pool.add({ name: 'a' }, { name: 'a' });
  pool.add({ name: 'b' }, { name: 'b' });
  for (const m of middleware) pool.use(m);
  return pool;
}

const boom = (): Promise<never> => Promise.reject(new Error('boom'));

describe('a middleware that starts calls through its own pool from execute', () => {
  it('a nested call made synchronously before next() gets its own answer, the outer call its own', async () => {
    const nested: Promise<unknown>[] = [];
    const pool: ClientPool<Client> = poolWith((call, next) => {
      if (call.method === 'outer') nested.push(settled(pool.run(() => Promise.reject(new Error('inner boom')), { method: 'inner' })));
      return next(call);
    });
    await expect(pool.run(() => Promise.resolve('outer ok'), { method: 'outer' })).resolves.toBe('outer ok');
    expect(await nested[0]).toMatchObject({ code: 'ERR_CLIENT_CALL' });
    await quiet();
    expect(inFlight(pool)).toBe(0);
    expect(unhandled).toEqual([]);
    await pool.close();
  });

  it('a nested call made synchronously after next() and dropped by a middleware that returns another promise leaves nothing unhandled', async () => {
    const pool: ClientPool<Client> = poolWith((call, next) => {
      const chain = next(call);
      if (call.method === 'outer') void pool.run(boom, { method: 'inner' }).catch(() => undefined);
      // Another promise than the chain: the chain (which rejects) is dropped.
      return call.method === 'outer' ? Promise.resolve('mine') : chain;
    });
    await expect(pool.run(boom, { method: 'outer' })).resolves.toBe('mine');
    await quiet();
    expect(inFlight(pool)).toBe(0);
    expect(unhandled).toEqual([]);
    await pool.close();
  });

  it('nested calls from inside the function, through the same middleware, with retries, answer each caller', async () => {
    const pool: ClientPool<Client> = poolWith((call, next) => next(call));
    const depth = (n: number): Promise<unknown> =>
      pool.run((client) => (n === 0 ? (client.name === 'a' ? boom() : Promise.resolve('leaf')) : depth(n - 1).then((v) => `${String(v)}<${n}`)), { retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    const results = await Promise.all([depth(3), depth(2), depth(0)].map(settled));
    for (const result of results) expect(result).toHaveProperty('value');
    expect(inFlight(pool)).toBe(0);
    await quiet();
    expect(unhandled).toEqual([]);
    await pool.close();
  });

  it('an async middleware that starts a call on another pool and then calls next answers both', async () => {
    const other = poolWith();
    const pool: ClientPool<Client> = poolWith(async (call, next) => {
      const token = await other.run((client) => Promise.resolve(`token from ${client.name}`));
      call.set = call.set.bind(call);
      return next(call).then((v) => `${String(v)} with ${token}`);
    });
    await expect(pool.run(() => Promise.resolve('ok'))).resolves.toMatch(/^ok with token from/);
    expect(inFlight(pool) + inFlight(other)).toBe(0);
    await Promise.all([pool.close(), other.close()]);
  });
});

describe('a middleware that misuses next', () => {
  it('calling next twice synchronously and returning the second: the caller gets ERR_CALLBACK and the dropped first chain is handled', async () => {
    const pool = poolWith((call, next) => {
      void next(call);
      return next(call);
    });
    const result = await settled(pool.run(boom));
    expect(result).toMatchObject({ code: 'ERR_CALLBACK' });
    await quiet();
    expect(inFlight(pool)).toBe(0);
    // Failed before the fix: the first chain's rejection ('boom') was unhandled. The stage kept only what
    // the last next() returned, so the chain of an earlier next() of the same execute was never handled.
    expect(unhandled).toEqual([]);
    await pool.close();
  });

  it('calling next twice synchronously and returning the first: the caller gets the first chain\'s answer (not ERR_CALLBACK), nothing unhandled', async () => {
    const pool = poolWith((call, next) => {
      const first = next(call);
      void next(call);
      return first;
    });
    const result = await settled(pool.run(boom));
    expect(result).toMatchObject({ code: 'ERR_CLIENT_CALL' });
    await quiet();
    expect(inFlight(pool)).toBe(0);
    expect(unhandled).toEqual([]);
    await pool.close();
  });

  it('calling next after returning: the late chain is handled, the caller gets what the middleware returned', async () => {
    let late: (() => void) | undefined;
    const pool = poolWith((call, next) => {
      late = () => void next(call);
      return Promise.resolve('early');
    });
    await expect(pool.run(boom)).resolves.toBe('early');
    late!();
    await quiet();
    expect(inFlight(pool)).toBe(0);
    expect(unhandled).toEqual([]);
    await pool.close();
  });

  it('throwing after calling next: the caller gets the throw, the dropped chain is handled', async () => {
    const pool = poolWith((call, next) => {
      void next(call);
      throw new Error('after next');
    });
    const result = await settled(pool.run(boom));
    expect(result).toMatchObject({ message: expect.stringContaining('after next') as unknown });
    await quiet();
    expect(inFlight(pool)).toBe(0);
    expect(unhandled).toEqual([]);
    await pool.close();
  });

  it('two middleware, the inner one throwing after a nested call through the pool: each caller answered', async () => {
    const nested: Promise<unknown>[] = [];
    const pool: ClientPool<Client> = poolWith(
      (call, next) => next(call),
      (call, next) => {
        if (call.method === 'outer') {
          nested.push(settled(pool.run(() => Promise.resolve('inner ok'), { method: 'inner' })));
          void next(call);
          throw new Error('inner middleware broke');
        }
        return next(call);
      },
    );
    const result = await settled(pool.run(boom, { method: 'outer', retry: { attempts: 2, backoff: { initial: 0, max: 0 } } }));
    expect(result).toHaveProperty('code');
    expect(await nested[0]).toEqual({ value: 'inner ok' });
    await quiet();
    expect(inFlight(pool)).toBe(0);
    expect(unhandled).toEqual([]);
    await pool.close();
  });
});
