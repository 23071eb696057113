// What a call's own options make of its plan, next to the race decision: `maxWait` alone or with a
// `timeout`, each honoured; a `timeout` with other options still ends the attempt.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type RunOptions } from '../../../src/index.js';
import { dateClock, describeEnd, settled, type Fake } from './harness.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake' });

/** A pool of one client capped at one call in flight, held busy by a call that answers at `busyMs`. */
async function busyPool(maxWait = 10_000): Promise<{ pool: ClientPool<Fake>; busy: Promise<unknown> }> {
  const pool = new ClientPool<Fake>({ clock: dateClock, maxWait });
  pool.add({ id: 'a' }, { name: 'a', maxInFlight: 1 });
  const busy = pool.run(() => new Promise((resolve) => setTimeout(() => resolve('busy'), 200)));
  await vi.advanceTimersByTimeAsync(0);
  return { pool, busy };
}

describe("a call's maxWait and timeout", () => {
  const OPTIONS: readonly RunOptions<Fake>[] = [{ maxWait: 1_000 }, { maxWait: 1_000, method: 'x' }, { maxWait: 1_000, signal: new AbortController().signal }, { maxWait: 1_000, retry: { attempts: 2 } }, { maxWait: 1_000, traceId: 't' }];
  for (const options of OPTIONS) {
    it(`${JSON.stringify(Object.keys(options))}: a call with its own maxWait and no timeout runs`, async () => {
      const pool = new ClientPool<Fake>({ clock: dateClock });
      pool.add({ id: 'a' }, { name: 'a' });
      expect(describeEnd(await settled(pool.run((client) => client.id, options)))).toBe('value a');
      await pool.close();
    });
  }

  it("maxWait: 0 of the call, with a timeout too, is honoured: a busy client refuses it at once", async () => {
    const { pool, busy } = await busyPool();
    const result = await settled(pool.run(() => 'ran', { timeout: 5_000, maxWait: 0 }), 100, 1);
    expect(describeEnd(result)).toBe('error ERR_CONCURRENCY_LIMITED');
    expect(Date.now()).toBeLessThan(100);
    await settled(busy);
    await pool.close();
  });

  it("maxWait of the call (50 ms) shorter than the pool's, with a timeout: it waits 50 ms, not the pool's 10 s", async () => {
    const { pool, busy } = await busyPool();
    const result = await settled(pool.run(() => 'ran', { timeout: 5_000, maxWait: 50 }), 150, 1);
    expect(describeEnd(result)).toBe('error ERR_CONCURRENCY_LIMITED');
    await settled(busy);
    await pool.close();
  });

  it("maxWait of the call longer than the pool's (10 ms), with a timeout: it is served once the busy call ends", async () => {
    const { pool, busy } = await busyPool(10);
    const result = await settled(pool.run(() => 'ran', { timeout: 5_000, maxWait: 1_000 }), 1_000, 5);
    expect(describeEnd(result)).toBe('value ran');
    await settled(busy);
    await pool.close();
  });

  it('a timeout with a strategy, a method and a key still ends an attempt that never answers', async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock });
    pool.add({ id: 'a' }, { name: 'a' });
    const result = await settled(pool.run(() => new Promise(() => undefined), { timeout: 100, strategy: 'random', method: 'm', key: 'k' }));
    expect(describeEnd(result)).toBe('error ERR_TIMEOUT');
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('an explicit signal: undefined makes no race, and the call runs as a plain one', async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock, retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b' });
    const tried: string[] = [];
    const result = await settled(pool.run((client) => (tried.push(client.id), tried.length === 1 ? Promise.reject(new Error('down')) : client.id), { signal: undefined } as unknown as RunOptions<Fake>));
    expect(describeEnd(result)).toBe('value b');
    expect(tried).toEqual(['a', 'b']);
    await pool.close();
  });
});
