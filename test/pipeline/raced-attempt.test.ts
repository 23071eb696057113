// An attempt that can be ended early (a timeout, a caller's signal): its caller waits on the race's
// promise, settled by whichever comes first of the function's end and the early end; the second changes
// nothing. Its success settles through the raced fast lane; a timeout-only plan is shared.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, TimeoutError, type ClientPoolError } from '../../src/index.js';
import { deferred } from '../helpers/manual-clock.js';

interface Fake {
  readonly id: string;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

/** Let every queued promise job run. */
async function settleJobs(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('a call that can be ended early', () => {
  it('a function that rejects after its timeout is not classified again: isFailure never sees the late error', async () => {
    const seen: unknown[] = [];
    const pool = new ClientPool<Fake>({ isFailure: (error) => (seen.push(error), true) });
    pool.add({ id: 'a' }, { name: 'a' });
    const answer = deferred<string>();
    const call = expect(pool.run(() => answer.promise, { timeout: 10 })).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(10);
    await call;
    const late = new Error('late');
    answer.reject(late);
    await settleJobs();
    expect(seen).not.toContain(late);
    expect(pool.members()[0]).toMatchObject({ failures: 1, successes: 0, inFlight: 0 });
    await pool.close();
  });

  it('a function that resolves after its timeout counts no success: the timeout was its verdict', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' }, { name: 'a' });
    const answer = deferred<string>();
    const call = expect(pool.run(() => answer.promise, { timeout: 10 })).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(10);
    await call;
    answer.resolve('late');
    await settleJobs();
    expect(pool.members()[0]).toMatchObject({ failures: 1, successes: 0, cancelled: 0, inFlight: 0 });
    await pool.close();
  });

  it('a timed call that succeeds leaves no deadline, watch or tracked attempt behind: destroy() afterwards ends nothing', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' }, { name: 'a' });
    const controller = new AbortController();
    await expect(pool.run((client) => client.id, { timeout: 10 })).resolves.toBe('a');
    await expect(pool.run((client) => client.id, { signal: controller.signal })).resolves.toBe('a');
    // Past the deadline it had: nothing expires.
    await vi.advanceTimersByTimeAsync(50);
    controller.abort();
    await pool.destroy(new Error('gone'));
    expect(pool.members()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('timed and signalled calls that succeeded are no longer tracked: destroy() still releases a plain call in flight', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' }, { name: 'a' });
    const controller = new AbortController();
    for (let i = 0; i < 3; i++) {
      await pool.run((client) => client.id, { timeout: 10 });
      await pool.run((client) => client.id, { signal: controller.signal });
    }
    void pool.run(() => new Promise<never>(() => {})).catch(() => undefined);
    await settleJobs();
    expect(pool.members()[0]).toMatchObject({ inFlight: 1, successes: 6 });
    // Released by count: destroy() completes (with the attempts still tracked, it would wait for ever).
    let isDone = false;
    void pool.destroy(new Error('gone')).then(() => (isDone = true));
    await settleJobs();
    expect(isDone).toBe(true);
  });

  it('a timed call that succeeds is counted once, with its client free again', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' }, { name: 'a' });
    for (let i = 0; i < 3; i++) await expect(pool.run((client) => client.id, { timeout: 10 })).resolves.toBe('a');
    expect(pool.members()[0]).toMatchObject({ successes: 3, failures: 0, cancelled: 0, inFlight: 0 });
    await vi.advanceTimersByTimeAsync(50);
    expect(pool.members()[0]).toMatchObject({ successes: 3, failures: 0, cancelled: 0, inFlight: 0 });
    await pool.close();
  });

  it('destroy() ends a timed call in flight, which fails once with the destroy error', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' }, { name: 'a' });
    const call = pool.run(() => new Promise<never>(() => {}), { timeout: 1_000 }).then(
      () => undefined,
      (error: unknown) => error as ClientPoolError,
    );
    await settleJobs();
    await pool.destroy(new Error('gone'));
    const error = await call;
    expect(error?.code).toBe('ERR_POOL_CLOSED');
    expect(error?.cause).toMatchObject({ message: 'gone' });
    await vi.advanceTimersByTimeAsync(2_000);
  });
});

describe('a call whose only option of its own is a timeout', () => {
  it('calls with different timeouts each time out after their own', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' }, { name: 'a' });
    const hang = (): Promise<never> => new Promise<never>(() => {});
    for (const timeout of [10, 20, 10, 30, 30]) {
      const call = pool.run(hang, { timeout }).then(
        () => undefined,
        (error: unknown) => error as TimeoutError,
      );
      await vi.advanceTimersByTimeAsync(timeout);
      expect((await call)?.timeoutMs).toBe(timeout);
    }
    await pool.close();
  });

  for (const order of [['low', 'normal'], ['normal', 'low']] as const) {
    it(`two methods with their own priority keep it when their calls give the same timeout (${order.join(' first, then ')})`, async () => {
      vi.useRealTimers();
      const pool = new ClientPool<Fake>({ maxWait: 1_000, methods: { low: { priority: 'low' }, normal: {} } });
      pool.add({ id: 'a' }, { name: 'a', maxInFlight: 1 });
      const holder = deferred<string>();
      const held = pool.run(() => holder.promise);
      await settleJobs();
      // The client is taken: a low-priority call is shed at once, a normal one waits for it.
      const calls = order.map((method) => pool.run((client) => client.id, { method, timeout: 60_000 }).then(
        (value) => value,
        (error: unknown) => (error as ClientPoolError).code,
      ));
      await settleJobs();
      holder.resolve('held');
      await expect(held).resolves.toBe('held');
      const results = Object.fromEntries(await Promise.all(calls.map(async (call, i) => [order[i], await call])));
      expect(results).toEqual({ low: 'ERR_SHED', normal: 'a' });
      await pool.close();
    });
  }
});
