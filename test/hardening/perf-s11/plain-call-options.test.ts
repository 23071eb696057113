import { subscribe, unsubscribe, tracingChannel } from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, CHANNELS, type CallEnd, type Middleware } from '../../../src/index.js';
import { dateClock, useFakeTime } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';

useFakeTime();

type Client = { name: string };

function pool2(options: ConstructorParameters<typeof ClientPool<Client>>[0] = {}): ClientPool<Client> {
  const pool = new ClientPool<Client>({ clock: dateClock, ...options });
  pool.add({ name: 'a' }, { name: 'a' });
  pool.add({ name: 'b' }, { name: 'b' });
  return pool;
}

describe('a call with no options takes its method "unknown" from `methods`', () => {
  it('times out when methods.unknown has a timeout', async () => {
    const pool = pool2({ methods: { unknown: { timeout: 50 } } });
    const result = pool.run(() => new Promise(() => {}));
    const seen = expect(result).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    await vi.advanceTimersByTimeAsync(60);
    await seen;
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.destroy();
  });

  it('is retried when methods.unknown retries', async () => {
    const pool = pool2({ methods: { unknown: { retry: { attempts: 2, backoff: { initial: 1, max: 1, jitter: 'none' } } } } });
    let calls = 0;
    const result = pool.run(() => (++calls === 1 ? Promise.reject(new Error('down')) : Promise.resolve('ok')));
    await vi.advanceTimersByTimeAsync(10);
    await expect(result).resolves.toBe('ok');
    expect(calls).toBe(2);
    await pool.destroy();
  });

  it('takes its cost from methods.unknown.cost off the pool limit', async () => {
    const pool = pool2({ limit: { rate: 1, burst: 5 }, methods: { unknown: { cost: { requests: 5 } } } });
    await pool.run(() => Promise.resolve(1));
    // The burst is spent: the next call waits or is refused, as the same call with empty options is.
    const plain = pool.run(() => Promise.resolve(2), undefined);
    const withEmpty = pool.run(() => Promise.resolve(3), {});
    const outcomes = await Promise.all([plain, withEmpty].map((p) => Promise.race([p.then(() => 'resolved', (e: unknown) => (e as { code: string }).code), vi.advanceTimersByTimeAsync(1).then(() => 'pending')])));
    expect(outcomes[0]).toBe(outcomes[1]);
    expect(outcomes[0]).not.toBe('resolved');
    await pool.destroy();
  });
});

describe('run() with no options refuses bad input by rejecting', () => {
  it('rejects, never throws, for a closed pool', async () => {
    const pool = pool2();
    await pool.close();
    let result: Promise<unknown> | undefined;
    expect(() => (result = pool.run(() => 1))).not.toThrow();
    await expect(result).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
  });

  it('rejects, never throws, for a function that is not one', async () => {
    const pool = pool2();
    for (const fn of [undefined, null, 1, 'x', {}, Promise.resolve()]) {
      let result: Promise<unknown> | undefined;
      expect(() => (result = pool.run(fn as never))).not.toThrow();
      await expect(result).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    }
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });

  it('rejects with PoolClosedError a call made while close() waits for one in flight', async () => {
    const pool = pool2();
    const d = deferred<string>();
    const first = pool.run(() => d.promise);
    const closing = pool.close();
    await expect(pool.run(() => 'late')).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    d.resolve('done');
    await expect(first).resolves.toBe('done');
    await closing;
  });
});

describe('middleware added by use() after plain calls', () => {
  it('onCallEnd added after plain calls hears the next plain calls, labelled unknown, with their duration', async () => {
    const pool = pool2();
    await pool.run(() => 1);
    const ends: CallEnd<Client>[] = [];
    pool.use({ name: 'ends', onCallEnd: (end) => void ends.push(end) });
    const d = deferred<number>();
    const call = pool.run(() => d.promise);
    await vi.advanceTimersByTimeAsync(25);
    d.resolve(2);
    await expect(call).resolves.toBe(2);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ method: 'unknown', options: undefined, error: undefined, durationMs: 25, source: 'upstream' });
    await pool.close();
  });

  it('around added while a plain call is in flight runs around the calls after it, not the one in flight', async () => {
    const pool = pool2();
    const d = deferred<number>();
    const inFlight = pool.run(() => d.promise);
    const arounds: string[] = [];
    pool.use({ name: 'around', around: (scope, next) => (arounds.push(scope.method), next()) });
    await expect(pool.run(() => 5)).resolves.toBe(5);
    d.resolve(4);
    await expect(inFlight).resolves.toBe(4);
    expect(arounds).toEqual(['unknown']);
    await pool.close();
  });

  it('onOutcome added while a plain call is in flight hears its success, and inFlight goes back to 0', async () => {
    const pool = pool2();
    const d = deferred<number>();
    const inFlight = pool.run(() => d.promise);
    const outcomes: string[] = [];
    pool.use({ name: 'outcomes', onOutcome: (call, outcome) => void outcomes.push(`${call.clientName}:${outcome.kind}`) });
    d.resolve(4);
    await expect(inFlight).resolves.toBe(4);
    expect(outcomes).toEqual(['a:success']);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });

  it('execute middleware added after plain calls ran sees the next plain call', async () => {
    const pool = pool2();
    await pool.run(() => 1);
    const seen: string[] = [];
    pool.use(async (call, next) => {
      seen.push(call.method);
      return next(call);
    });
    await expect(pool.run(() => 2)).resolves.toBe(2);
    expect(seen).toEqual(['unknown']);
    await pool.close();
  });
});

describe('the clientpool:call channel and plain calls', () => {
  it('traces a plain call once subscribed, and not after unsubscribing', async () => {
    const pool = pool2();
    await pool.run(() => 1);
    const starts: unknown[] = [];
    const channel = tracingChannel(CHANNELS.call);
    const handlers = { start: (message: unknown) => void starts.push(message), end: () => {}, asyncStart: () => {}, asyncEnd: () => {}, error: () => {} };
    channel.subscribe(handlers);
    try {
      await pool.run(() => 2);
      expect(starts).toHaveLength(1);
    } finally {
      channel.unsubscribe(handlers);
    }
    await pool.run(() => 3);
    expect(starts).toHaveLength(1);
    await pool.close();
  });

  it('a plain call in flight when the channel is subscribed settles, counters back to 0', async () => {
    const pool = pool2();
    const d = deferred<number>();
    const call = pool.run(() => d.promise);
    const onStart = (): void => {};
    subscribe('tracing:clientpool:call:start', onStart);
    try {
      d.resolve(1);
      await expect(call).resolves.toBe(1);
    } finally {
      unsubscribe('tracing:clientpool:call:start', onStart);
    }
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });
});

describe('the retry budget and plain calls', () => {
  it('grows with plain calls once a call of a method that retries has run', async () => {
    const pool = pool2({ methods: { write: { retry: { attempts: 2, backoff: { initial: 1, max: 1, jitter: 'none' } } } } });
    let failed = false;
    const write = pool.run(() => (failed ? Promise.resolve(1) : ((failed = true), Promise.reject(new Error('down')))), { method: 'write' });
    await vi.advanceTimersByTimeAsync(10);
    await write;
    // One retry withdrew 1 of the reserve's 10; each call then deposits 0.1.
    const before = pool.retryBudget!.balance;
    expect(before).toBeLessThan(10);
    for (let i = 0; i < 5; i++) await pool.run(() => i);
    expect(pool.retryBudget!.balance).toBeCloseTo(before + 0.5, 6);
    await pool.close();
  });

  it('grows alike for plain calls and calls with empty options', async () => {
    const balances: number[] = [];
    for (const options of [undefined, {}]) {
      const pool = pool2({ methods: { write: { retry: { attempts: 2, backoff: { initial: 1, max: 1, jitter: 'none' } } } } });
      let failed = false;
      const write = pool.run(() => (failed ? Promise.resolve(1) : ((failed = true), Promise.reject(new Error('down')))), { method: 'write' });
      await vi.advanceTimersByTimeAsync(10);
      await write;
      for (let i = 0; i < 5; i++) await pool.run(() => i, options);
      balances.push(pool.retryBudget!.balance);
      await pool.close();
    }
    expect(balances[0]).toBe(balances[1]);
    expect(balances[0]).toBeLessThan(10);
  });
});

describe('quorum() with onCallEnd middleware', () => {
  it('is heard once, with its method label and its duration on the pool clock', async () => {
    const ends: CallEnd<Client>[] = [];
    const pool = pool2({ middleware: [{ name: 'ends', onCallEnd: (end) => void ends.push(end) } satisfies Middleware<Client>] });
    pool.add({ name: 'c' }, { name: 'c' });
    const result = pool.quorum(
      () =>
        new Promise<number>((resolve) => {
          setTimeout(() => resolve(7), 40);
        }),
      { of: 3, agree: 2, method: 'balance' },
    );
    await vi.advanceTimersByTimeAsync(50);
    await expect(result).resolves.toBe(7);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ method: 'balance', error: undefined, durationMs: 40 });
    await pool.close();
  });
});
