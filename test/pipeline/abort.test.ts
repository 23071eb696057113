import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, hasErrorCode, type Balancer, type Limiter } from '../../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

const client = { id: 'a' };

describe('an abort is honoured at every await of the journey', () => {
  it('a caller abort while a custom limiter answers rejects ERR_ABORTED without starting the function', async () => {
    const limit: Limiter = { take: async () => {} };
    const pool = new ClientPool<typeof client>({ limit });
    pool.add(client);
    const controller = new AbortController();
    let started = false;
    const call = pool.run(() => {
      started = true;
      return new Promise(() => {});
    }, { signal: controller.signal });
    controller.abort(new Error('caller left'));
    const error: unknown = await call.catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_ABORTED')).toBe(true);
    expect((error as Error).cause).toEqual(new Error('caller left'));
    expect(started).toBe(false);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('an abort fired from onRateLimit, after the wait for a pool token, stops the call before its function', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof client>({ limit: { rate: 10, burst: 1 } });
    pool.add(client);
    await pool.run(() => 'spends the only token');
    const controller = new AbortController();
    pool.onRateLimit(() => controller.abort(new Error('gave up')));
    let started = false;
    const call = pool.run(() => {
      started = true;
      return new Promise(() => {});
    }, { signal: controller.signal });
    const settled = call.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(150);
    const error = await settled;
    expect(hasErrorCode(error, 'ERR_ABORTED')).toBe(true);
    expect(started).toBe(false);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('an abort while the call waits for a client with tokens leaves the queue at once', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof client>();
    pool.add(client, { limit: { rate: 1, burst: 1 } });
    await pool.run(() => 'spends the client token');
    const controller = new AbortController();
    const call = pool.run(() => 'never', { signal: controller.signal, maxWait: 5_000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort('stop');
    expect(hasErrorCode(await call, 'ERR_ABORTED')).toBe(true);
    await pool.close();
  });

  it('a caller abort ends a function that ignores its signal, and the client hears no verdict', async () => {
    const pool = new ClientPool<typeof client>({ breaker: { maxFailures: 1 } });
    pool.add(client);
    const controller = new AbortController();
    const call = pool.run(() => new Promise(() => {}), { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort('bye');
    expect(hasErrorCode(await call, 'ERR_ABORTED')).toBe(true);
    const [member] = pool.members();
    expect(member).toMatchObject({ inFlight: 0, cancelled: 1, failures: 0, state: { kind: 'closed' } });
    await pool.close();
  });

  it('one listener per caller signal however many calls share it, none left once the event loop turns with nothing in flight', async () => {
    const pool = new ClientPool<typeof client>();
    pool.add(client);
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    const gates: (() => void)[] = [];
    const calls = Array.from({ length: 50 }, () => pool.run(() => new Promise<void>((resolve) => gates.push(resolve)), { signal: controller.signal }));
    await Promise.resolve();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    for (const open of gates) open();
    await Promise.all(calls);
    // Kept until the loop turns: calls in a row share it rather than adding and removing one each.
    await pool.run(() => 'again', { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toHaveLength(0);
    await pool.close();
  });
});

describe('every wait of a retry or hedge attempt ends with the caller', () => {
  it('a hedged call waiting for a pool token rejects ERR_ABORTED at the abort, not when the token comes', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof client>({ limit: { rate: 0.5, burst: 1 }, maxWait: 10_000 });
    pool.add(client);
    await pool.run(() => 'spends the token');
    const controller = new AbortController();
    let settledAt: number | undefined;
    const start = Date.now();
    const call = pool.run(() => 'never', { signal: controller.signal, hedge: { delay: 50 } }).catch((e: unknown) => {
      settledAt = Date.now() - start;
      return e;
    });
    await vi.advanceTimersByTimeAsync(50);
    controller.abort('gave up');
    await vi.advanceTimersByTimeAsync(1);
    expect(settledAt).toBeDefined();
    expect(settledAt!).toBeLessThanOrEqual(51);
    expect(hasErrorCode(await call, 'ERR_ABORTED')).toBe(true);
    await pool.close();
  });

  it('a retry waiting for a pool token rejects ERR_ABORTED at the abort', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof client>({ limit: { rate: 0.2, burst: 1 }, maxWait: 10_000, retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.add(client);
    const controller = new AbortController();
    const call = pool.run(() => Promise.reject(new Error('first fails')), { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort('gave up');
    await vi.advanceTimersByTimeAsync(1);
    expect(hasErrorCode(await call, 'ERR_ABORTED')).toBe(true);
    await pool.close();
  });

  it('a custom limiter that ignores its signal and never answers cannot hold a call past its abort or close()', async () => {
    const limit: Limiter = { take: () => new Promise(() => {}) };
    const pool = new ClientPool<typeof client>({ limit });
    pool.add(client);
    const controller = new AbortController();
    const aborted = pool.run(() => 'never', { signal: controller.signal }).catch((e: unknown) => e);
    const closed = pool.run(() => 'never').catch((e: unknown) => e);
    controller.abort('stop');
    expect(hasErrorCode(await aborted, 'ERR_ABORTED')).toBe(true);
    await pool.close();
    expect(hasErrorCode(await closed, 'ERR_POOL_CLOSED')).toBe(true);
  });

  it('many plain calls reading call.signal at once raise no MaxListenersExceededWarning', async () => {
    const pool = new ClientPool<typeof client>();
    pool.add(client);
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    const calls = Array.from({ length: 30 }, () =>
      pool.run((_c, call) => new Promise<void>((resolve) => {
        const onAbort = (): void => undefined;
        call.signal.addEventListener('abort', onAbort);
        setTimeout(() => {
          call.signal.removeEventListener('abort', onAbort);
          resolve();
        }, 1);
      })),
    );
    await Promise.all(calls);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toHaveLength(0);
    await pool.close();
  });
});

describe('a wait can be ended by anything a pick runs', () => {
  it('a waiter aborted by a listener during the queue\'s own pick gives its client back', async () => {
    // Prefers a: when the queue wakes for b's token, a's cooldown is over and the pick probes it.
    const preferA: Balancer<{ id: string }> = { pick: (ready) => ready.find((m) => m.name === 'a') ?? ready[0]! };
    const pool = new ClientPool<{ id: string }>({ strategy: preferA, breaker: { maxFailures: 1, cooldown: 30 }, maxWait: 5_000 });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b', limit: { rate: 5, burst: 1 } });
    await pool.run(() => Promise.reject(new Error('opens a'))).catch(() => undefined);
    await pool.run(() => 'spends b\'s token');
    const controller = new AbortController();
    pool.onStateChange((change) => {
      if (change.to.kind === 'half-open') controller.abort('changed my mind');
    });
    const error = await pool.run(() => 'ran', { signal: controller.signal }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('ERR_ABORTED');
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });

  it.each(['destroy', 'close'] as const)('%s() from onRateLimit as the queue serves a waiter counts it once and calls nothing', async (how) => {
    const pool = new ClientPool<{ id: string }>({ maxWait: 5_000 });
    pool.add({ id: 'a' }, { name: 'a', limit: { rate: 20, burst: 1 } });
    await pool.run(() => 'spends the token');
    pool.onRateLimit((event) => {
      if (event.scope === 'client' && !event.rejected) {
        if (how === 'destroy') void pool.destroy();
        else void pool.close();
      }
    });
    let runs = 0;
    const error = await pool.run(() => ++runs).catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_POOL_CLOSED')).toBe(true);
    expect(runs).toBe(0);
    await pool.close();
  });

  it('a custom limiter that ignores maxWait is given up on after maxWait and a margin: ERR_RATE_LIMITED', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof client>({ limit: { take: () => new Promise(() => {}) }, maxWait: 100 });
    pool.add(client);
    const call = pool.run(() => 'never').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(hasErrorCode(await call, 'ERR_RATE_LIMITED')).toBe(true);
    await pool.close();
  });
});

describe('a wait ended by the caller or a won hedge is a cancellation', () => {
  it('a caller abort while the client\'s shared limit is waited on counts as cancelled, not as the client\'s error', async () => {
    vi.useFakeTimers();
    const shared = { take: (_n: number, options?: { signal?: AbortSignal }) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 200);
      options?.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    }) };
    const pool = new ClientPool<typeof client>();
    pool.add(client, { name: 'a', limit: shared });
    const kinds: string[] = [];
    pool.use({ name: 'kinds', onOutcome: (_call, outcome) => void kinds.push(outcome.kind) });
    const controller = new AbortController();
    const call = pool.run(() => 1, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(20);
    controller.abort('left');
    expect(hasErrorCode(await call, 'ERR_ABORTED')).toBe(true);
    expect(kinds).toEqual(['cancelled']);
    expect(pool.members()[0]).toMatchObject({ cancelled: 1, refused: 0, inFlight: 0 });
    await pool.close();
  });

  it('many calls waiting on one caller signal share one listener on it', async () => {
    const pool = new ClientPool<typeof client>({ limit: { rate: 1_000, burst: 1 }, maxWait: 5_000 });
    pool.add(client);
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    const calls = Array.from({ length: 20 }, () => pool.run(() => 'ok', { signal: controller.signal }));
    await Promise.resolve();
    expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
    await Promise.all(calls);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toHaveLength(0);
    await pool.close();
  });
});

describe('no listener is left on the caller signal once the call is over', () => {
  it('a hedge still choosing a client when the call ends leaves no listener on the caller signal', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const pool = new ClientPool<{ readonly id: string }>({ clock: { now: () => Date.now() }, hedge: { delay: 10 }, limit: { rate: 10, burst: 1 }, maxWait: 1_000 });
    pool.add({ id: 'a' });
    pool.add({ id: 'b' });
    const caller = new AbortController();
    const call = pool.run(() => new Promise((resolve) => setTimeout(() => resolve('done'), 30)), { signal: caller.signal });
    await vi.advanceTimersByTimeAsync(40);
    await expect(call).resolves.toBe('done');
    await vi.advanceTimersByTimeAsync(200);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('a timed-out call whose function never settles leaves no listener on the caller signal', async () => {
    const pool = new ClientPool<{ readonly id: string }>({ timeout: 5, breaker: false });
    pool.add({ id: 'a' });
    const shared = new AbortController().signal;
    const error = await pool.run(() => new Promise(() => undefined), { signal: shared }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TIMEOUT' });
    // The shared listener stays until the loop turns (for the next call on the signal), then goes.
    // Before the fix: one listener (#guarded's `forward`) remained, for ever.
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(shared, 'abort')).toHaveLength(0);
  });
});
