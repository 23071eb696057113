import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, hasErrorCode, PoolClosedError, UnknownClientError } from '../../src/index.js';
import { closeWorkingPools, fake, thrownBy, workingPool } from '../helpers/bad-input.js';

closeWorkingPools();

afterEach(() => {
  vi.useRealTimers();
});

const a = { id: 'a' };
const b = { id: 'b' };

describe('close() ends everything', () => {
  it('close() waits for a removal already under way, close hook included', async () => {
    const log: string[] = [];
    const pool = new ClientPool<{ readonly id: string }>();
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

  it('a call sleeping in a 5 s retry backoff settles before close() resolves, with no timer left', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>({ retry: { attempts: 2, backoff: { initial: 5_000, max: 5_000, jitter: 'none' } } });
    pool.add(a);
    pool.add(b);
    let settledAt: number | undefined;
    const call = pool.run(() => Promise.reject(new Error('fails'))).catch((e: unknown) => {
      settledAt = Date.now();
      return e;
    });
    await vi.advanceTimersByTimeAsync(1);
    const start = Date.now();
    let closedAt: number | undefined;
    const closed = pool.close().then(() => (closedAt = Date.now()));
    await vi.advanceTimersByTimeAsync(0);
    await closed;
    expect(hasErrorCode(await call, 'ERR_CLIENT_CALL')).toBe(true);
    expect(settledAt).toBeDefined();
    expect(settledAt! - start).toBe(0);
    expect(closedAt! - start).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a call waiting out a Retry-After settles when the pool closes', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>({ retry: { attempts: 2, backoff: { initial: 0, max: 60_000 } } });
    pool.add(a);
    pool.add(b);
    const call = pool.run(() => Promise.reject(Object.assign(new Error('429'), { retryAfterMs: 30_000 }))).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1);
    await pool.close();
    expect(hasErrorCode(await call, 'ERR_CLIENT_CALL')).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close({ signal }) turns into destroy when its signal aborts: never-settling calls reject and hooks run', async () => {
    const closedHooks: string[] = [];
    const pool = new ClientPool<typeof a>();
    pool.add(a, { name: 'a', close: () => void closedHooks.push('a') });
    const timed = pool.run(() => new Promise(() => {}), { timeout: 60_000 }).catch((e: unknown) => e);
    let seenSignal: AbortSignal | undefined;
    const plain = pool.run((_client, call) => {
      seenSignal = call.signal;
      return new Promise((_resolve, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason)));
    }).catch((e: unknown) => e);
    const controller = new AbortController();
    const closing = pool.close({ signal: controller.signal });
    controller.abort(new Error('shutdown deadline'));
    await closing;
    expect(hasErrorCode(await timed, 'ERR_POOL_CLOSED')).toBe(true);
    expect(hasErrorCode(await plain, 'ERR_POOL_CLOSED')).toBe(true);
    expect(seenSignal?.aborted).toBe(true);
    expect(closedHooks).toEqual(['a']);
  });

  it('destroy(reason) ends calls at every point: waiting for a token, in flight, and in backoff', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>({ limit: { rate: 1, burst: 1 }, timeout: 60_000 });
    pool.add(a);
    const inFlight = pool.run(() => new Promise(() => {})).catch((e: unknown) => e);
    const waiting = pool.run(() => 'never', { maxWait: 10_000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1);
    const reason = new Error('now');
    await pool.destroy(reason);
    const inFlightError = await inFlight;
    expect(hasErrorCode(inFlightError, 'ERR_POOL_CLOSED')).toBe(true);
    expect((inFlightError as Error).cause).toBe(reason);
    expect(hasErrorCode(await waiting, 'ERR_POOL_CLOSED')).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a call started after close() fails with ERR_POOL_CLOSED', async () => {
    const pool = new ClientPool<typeof a>();
    pool.add(a);
    await pool.close();
    expect(hasErrorCode(await pool.run(() => 1).catch((e: unknown) => e), 'ERR_POOL_CLOSED')).toBe(true);
  });
});

describe('nothing is called on a client after close() or destroy() gave it up', () => {
  it('a plain call held up by a middleware never reaches a client destroyed meanwhile', async () => {
    vi.useFakeTimers();
    const closedClient = { id: 'a', isClosed: false };
    const pool = new ClientPool<typeof closedClient>();
    pool.use(async (call, next) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return next(call);
    });
    pool.add(closedClient, { close: (c) => void (c.isClosed = true) });
    let calledClosed = false;
    const call = pool.run((c) => {
      calledClosed = c.isClosed;
      return 'ran';
    }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(20);
    await pool.destroy();
    expect(closedClient.isClosed).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(hasErrorCode(await call, 'ERR_POOL_CLOSED')).toBe(true);
    expect(calledClosed).toBe(false);
  });

  it('a call waiting on its client\'s shared limit is ended by close(), before the close hook runs', async () => {
    const shared = { take: (): Promise<void> => new Promise(() => {}) };
    const events: string[] = [];
    const pool = new ClientPool<typeof a>();
    pool.add(a, { limit: shared, close: () => void events.push('closed') });
    const call = pool.run(() => {
      events.push('called');
      return 'ran';
    }).catch((e: unknown) => e);
    await new Promise((resolve) => setImmediate(resolve));
    await pool.close();
    expect(hasErrorCode(await call, 'ERR_POOL_CLOSED')).toBe(true);
    expect(events).toEqual(['closed']);
  });
});

describe('after close(), every entry point says so', () => {
  it('run and proxied calls reject PoolClosedError, add throws it, remove rejects UnknownClientError, close and checkHealth resolve', async () => {
    const { pool } = workingPool();
    const proxy = pool.proxy();
    await pool.close();
    let call: Promise<unknown> | undefined;
    expect(() => (call = pool.run((client) => client.id))).not.toThrow();
    const closedError = await call!.catch((e: unknown) => e);
    expect(closedError).toBeInstanceOf(PoolClosedError);
    expect(hasErrorCode(closedError, 'ERR_POOL_CLOSED')).toBe(true);
    await expect(proxy.ping()).rejects.toBeInstanceOf(PoolClosedError);
    expect(thrownBy(() => pool.add(fake('late')))).toBeInstanceOf(PoolClosedError);
    await expect(pool.remove('ok')).rejects.toBeInstanceOf(UnknownClientError);
    await expect(pool.close()).resolves.toBeUndefined();
    await expect(pool.checkHealth()).resolves.toBeUndefined();
    expect(pool.members()).toEqual([]);
    expect(pool.isClosed).toBe(true);
  });

  it('use() after close() throws PoolClosedError and never attaches the middleware', async () => {
    const { pool } = workingPool();
    let attached = 0;
    let closed = 0;
    await pool.close();
    const error = thrownBy(() =>
      pool.use({
        name: 'late',
        execute: (call, next) => next(call),
        attach: () => {
          attached++;
        },
        close: () => {
          closed++;
        },
      }),
    );
    expect(closed).toBe(0);
    // Before the fix: PoolClosedError, as add() and run() give after close(). Actual: accepted
    // and attached (a Prometheus adapter would subscribe to the closed pool's events) and never closed.
    expect(error).toBeInstanceOf(PoolClosedError);
    expect(attached).toBe(0);
  });
});
