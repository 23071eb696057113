// Attack: waiting high and normal calls ended by abort, deadline, maxWait, close() and destroy().
import { describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { useFakeTimeWatchingRejections } from '../../helpers/fake-time-watch.js';
import { dateClock } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

const unhandled = useFakeTimeWatchingRejections();

function onePool(maxWait = 10_000): ClientPool<Backend> {
  const pool = new ClientPool<Backend>({ clock: dateClock, maxWait });
  pool.add({ id: 'a' }, { name: 'a', maxInFlight: 1 });
  return pool;
}

describe('waiting calls of each priority end cleanly', () => {
  it('an aborted waiting high call leaves the line; the normal behind it is served', async () => {
    const pool = onePool();
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const normal = pool.run(() => 'normal');
    const controller = new AbortController();
    const high = pool.run(() => 'high', { priority: 'high', signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(await high).toMatchObject({ code: 'ERR_ABORTED' });
    gate.resolve();
    await vi.advanceTimersByTimeAsync(10);
    await held;
    await expect(normal).resolves.toBe('normal');
    expect(pool.members()[0]!.inFlight).toBe(0);
    expect(unhandled).toEqual([]);
  });

  it('a stream of high calls holds normal ones only until their maxWait: ERR_CONCURRENCY_LIMITED', async () => {
    const pool = onePool(100);
    const stop = { now: false };
    let highDone = 0;
    const feed = async (): Promise<void> => {
      while (!stop.now) {
        const calls = [0, 1].map(() => pool.run(() => new Promise((r) => setTimeout(r, 10)), { priority: 'high', maxWait: 10_000 }).then(() => highDone++));
        await Promise.race(calls);
      }
    };
    const feeding = feed();
    await vi.advanceTimersByTimeAsync(5);
    const normal = pool.run(() => 'normal').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(150);
    expect(await normal).toMatchObject({ code: 'ERR_CONCURRENCY_LIMITED' });
    stop.now = true;
    await vi.advanceTimersByTimeAsync(1_000);
    await feeding;
    expect(highDone).toBeGreaterThan(5);
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  it('a waiting high call past its deadline fails with ERR_DEADLINE_EXCEEDED; inFlight back to 0', async () => {
    const pool = onePool();
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const high = pool.run(() => 'high', { priority: 'high', deadline: 50 }).catch((e: unknown) => e);
    const normal = pool.run(() => 'normal', { deadline: 50 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60);
    expect(await high).toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED' });
    expect(await normal).toMatchObject({ code: 'ERR_DEADLINE_EXCEEDED' });
    gate.resolve();
    await held;
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  it('close() ends waiting high and normal calls with ERR_POOL_CLOSED and sheds new low ones', async () => {
    const pool = onePool();
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const waiting = [pool.run(() => 'h', { priority: 'high' }), pool.run(() => 'n'), pool.run(() => 'h2', { priority: 'high' })].map((p) => p.catch((e: unknown) => e));
    const closing = pool.close();
    const results = await Promise.all(waiting);
    expect(results.map((r) => (r as { code?: string }).code)).toEqual(['ERR_POOL_CLOSED', 'ERR_POOL_CLOSED', 'ERR_POOL_CLOSED']);
    await expect(pool.run(() => 'low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    gate.resolve();
    await held;
    await closing;
    expect(unhandled).toEqual([]);
  });

  it('destroy() ends running and waiting calls of every priority; nothing hangs', async () => {
    const pool = onePool();
    const running = pool.run(() => new Promise(() => undefined), { priority: 'high', timeout: 60_000 }).catch((e: unknown) => e);
    const waiting = [pool.run(() => 'h', { priority: 'high' }), pool.run(() => 'n')].map((p) => p.catch((e: unknown) => e));
    const low = pool.run(() => 'l', { priority: 'low' }).catch((e: unknown) => e);
    const destroying = pool.destroy(new Error('bye'));
    await vi.advanceTimersByTimeAsync(10);
    await destroying;
    const results = await Promise.all([running, ...waiting, low]);
    expect(results.every((r) => r instanceof Error)).toBe(true);
    expect((results[3] as { code?: string }).code).toBe('ERR_SHED');
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it('a normal call arriving while a high one waits queues behind it', async () => {
    const pool = onePool();
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const order: string[] = [];
    const high = pool.run(() => order.push('high'), { priority: 'high' });
    const normal = pool.run(() => order.push('normal'));
    const high2 = pool.run(() => order.push('high2'), { priority: 'high' });
    gate.resolve();
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all([held, high, normal, high2]);
    expect(order).toEqual(['high', 'high2', 'normal']);
  });
});
