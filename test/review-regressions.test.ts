import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CallbackError, ClientPool, InvalidOptionError, leastInFlight, RateLimitedError, TokenBucket, type Limiter } from '../src/index.js';

// Regression tests for bugs a code review found (each once reproduced, now fixed).
interface Fake {
  readonly id: string;
}
const clock = { now: () => Date.now() };

afterEach(() => {
  vi.useRealTimers();
});

describe('review regressions', () => {
  it('a client bucket with someone queued on it does not make the pool spin', async () => {
    const bucket = new TokenBucket({ rate: 1, burst: 5 });
    bucket.tryTake(3);
    const queued = bucket.take(5, { maxWait: 60_000 }).catch(() => undefined);
    const pool = new ClientPool<Fake>({ maxWait: 0 });
    pool.add({ id: 'a' }, { limit: bucket });
    await expect(pool.run((client) => client.id)).rejects.toBeInstanceOf(RateLimitedError);
    bucket.close();
    await queued;
  });

  it('an attempt that waited on a shared limit while the call ended never runs', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const slowLimit: Limiter = { take: () => new Promise((resolve) => setTimeout(resolve, 100)) };
    const pool = new ClientPool<Fake>({ clock, hedge: { delay: 10 }, retryBudget: false });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b', limit: slowLimit });
    const invoked: string[] = [];
    const call = pool.run((client) => {
      invoked.push(client.id);
      return new Promise((resolve) => setTimeout(() => resolve(client.id), 30));
    });
    await vi.advanceTimersByTimeAsync(200);
    await expect(call).resolves.toBe('a');
    expect(invoked).toEqual(['a']);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.remove('b');
  });

  it('a hedge still choosing a client when the call ends leaves no listener on the caller signal', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const pool = new ClientPool<Fake>({ clock, hedge: { delay: 10 }, limit: { rate: 10, burst: 1 }, maxWait: 1_000 });
    pool.add({ id: 'a' });
    pool.add({ id: 'b' });
    const caller = new AbortController();
    const call = pool.run(() => new Promise((resolve) => setTimeout(() => resolve('done'), 30)), { signal: caller.signal });
    await vi.advanceTimersByTimeAsync(40);
    await expect(call).resolves.toBe('done');
    await vi.advanceTimersByTimeAsync(200);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('a timeout opens the breaker whatever isFailure says of other errors', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<Fake>({ clock, timeout: 10, breaker: { maxFailures: 1 }, isFailure: (error) => error instanceof RangeError });
    pool.add({ id: 'a' });
    const call = pool.run(() => new Promise(() => undefined)).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(10);
    await call;
    expect(pool.members()[0]!.state.kind).toBe('open');
  });

  it('close() waits for a removal already under way, close hook included', async () => {
    const log: string[] = [];
    const pool = new ClientPool<Fake>();
    let finishCall!: () => void;
    pool.add({ id: 'a' }, {
      name: 'a',
      close: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push('close hook a');
      },
    });
    // A call in flight keeps the removal draining while close() starts.
    const call = pool.run(() => new Promise<void>((resolve) => (finishCall = resolve)));
    const removal = pool.remove('a');
    expect(pool.size).toBe(0);
    const closing = pool.close().then(() => log.push('closed'));
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(log).toEqual([]);
    finishCall();
    await Promise.all([call, removal, closing]);
    expect(log).toEqual(['close hook a', 'closed']);
  });

  it('an around hook that throws makes run() reject with a clientpool error, after options are checked', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' });
    pool.use({
      name: 'm',
      execute: (call, next) => next(call),
      around: () => {
        throw new Error('boom');
      },
    });
    const result = pool.run(() => 1, { method: 'get' });
    await expect(result).rejects.toBeInstanceOf(CallbackError);
    await expect(pool.run(() => 1, { method: 42 as unknown as string })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('a new stateful balancer per call is refused rather than registered forever; a stateless one is fine', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' });
    await expect(pool.run(() => 1, { strategy: leastInFlight<Fake>() })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(pool.run((client) => client.id, { strategy: { pick: (ready) => ready[0]! } })).resolves.toBe('a');
  });
});
