import { afterEach, describe, expect, it, vi } from 'vitest';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ClientPool, InvalidOptionError, PoolClosedError, type RunOptions, type Outcome } from '../../../src/index.js';

const never = (): Promise<never> => new Promise(() => {});
const retry = { attempts: 3, backoff: { initial: 5, jitter: 'none' as const } };

async function race<V>(p: Promise<V>, ms = 1000): Promise<V | 'hung'> {
  return Promise.race([p, new Promise<'hung'>((r) => setTimeout(() => r('hung'), ms))]);
}

describe('label-only calls: robustness', () => {
  afterEach(() => { vi.useRealTimers(); });

  it.each<[string, unknown]>([
    ['a number', 5],
    ['null', null],
    ['true', true],
    ['attempts 0', { attempts: 0 }],
    ['attempts -1', { attempts: -1 }],
    ['attempts NaN', { attempts: Number.NaN }],
    ['unknown key', { attempt: 2 }],
    ['bad backoff', { backoff: 'fast' }],
    ['retryOn not a function', { retryOn: 1 }],
    ['a throwing getter', { get attempts(): number { throw new Error('getter'); } }],
  ])('an invalid retry (%s) rejects InvalidOptionError, never throws synchronously', { timeout: 5000 }, async (_what, value) => {
    const pool = new ClientPool<string>();
    pool.add('a');
    let result: Promise<unknown> | undefined;
    expect(() => { result = pool.run((c) => c, { method: 'get', retry: value } as RunOptions<string>); }).not.toThrow();
    await expect(result).rejects.toBeInstanceOf(InvalidOptionError);
    // and the same as the general path
    await expect(pool.run((c) => c, { method: 'get', maxWait: 1000, retry: value } as RunOptions<string>)).rejects.toBeInstanceOf(InvalidOptionError);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('a throwing retryOn fails the call (does not hang) and leaves inFlight at 0', { timeout: 5000 }, async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    pool.add('b');
    const p = pool.run(() => Promise.reject(new Error('x')), { method: 'get', retry: { attempts: 3, retryOn: () => { throw new Error('retryOn broke'); } } });
    const outcome = await race(p.then(() => 'resolved', (e: unknown) => e));
    expect(outcome).not.toBe('hung');
    expect(outcome).toBeInstanceOf(Error);
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
    await pool.close();
  });

  it('a throwing retryAfter settles the call', { timeout: 5000 }, async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    pool.add('b');
    const p = pool.run((c, call) => (call.attempt === 1 ? Promise.reject(new Error('x')) : c), { method: 'get', retry: { attempts: 3, backoff: { initial: 0 }, retryAfter: () => { throw new Error('ra'); } } });
    const outcome = await race(p.then((v) => v, (e: unknown) => e));
    expect(outcome).not.toBe('hung');
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
    await pool.close();
  });

  it('a throwing isFailure settles label-only calls with retries', { timeout: 5000 }, async () => {
    const pool = new ClientPool<string>({ isFailure: () => { throw new Error('isFailure broke'); } });
    pool.add('a');
    pool.add('b');
    const outcome = await race(pool.run(() => Promise.reject(new Error('x')), { method: 'get', retry: { attempts: 2, backoff: { initial: 0 } } }).then(() => 'ok', (e: unknown) => e));
    expect(outcome).not.toBe('hung');
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
    await pool.close();
  });

  it('destroy() during a label-only call waiting in retry backoff settles it (with its last error, as close() documents)', { timeout: 5000 }, async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>();
    pool.add('a');
    pool.add('b');
    const p = pool.run(() => Promise.reject(new Error('x')), { method: 'get', retry: { attempts: 3, backoff: { initial: 10_000, max: 10_000, jitter: 'none' } } }).then(() => 'ok', (e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1);
    const destroyed = pool.destroy(new Error('bye'));
    await vi.advanceTimersByTimeAsync(20_000);
    await destroyed;
    expect(await p).toMatchObject({ code: 'ERR_CLIENT_CALL' });
    expect(pool.isClosed).toBe(true);
  });

  it('destroy() during a label-only call whose first attempt hangs settles it', { timeout: 5000 }, async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>();
    pool.add('a');
    // docs/call-pipeline.md: an untimed function that ignores call.signal keeps its own promise; this one honours it.
    const honours = (_c: string, call: { signal: AbortSignal }): Promise<never> => new Promise((_r, reject) => { call.signal.addEventListener('abort', () => { reject(call.signal.reason); }); });
    const p = pool.run(honours, { method: 'get', retry }).then(() => 'ok', (e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1);
    expect(pool.members()[0]!.inFlight).toBe(1);
    const destroyed = pool.destroy(new Error('bye'));
    await vi.advanceTimersByTimeAsync(100);
    expect(await p).toBeInstanceOf(PoolClosedError);
    await destroyed;
  });

  // docs/call-pipeline.md: close() ends calls sleeping in a retry backoff with their last error; same as the general path.
  it('close() while a label-only call with retries is in flight: it ends with its last error, as on the general path', { timeout: 5000 }, async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>();
    pool.add('a');
    pool.add('b');
    const seen: number[] = [];
    const p = Promise.allSettled([pool.run((c, call) => { seen.push(call.attempt); return call.attempt === 1 ? Promise.reject(new Error('x')) : c; }, { method: 'get', retry })]);
    const closed = pool.close();
    await vi.advanceTimersByTimeAsync(100);
    const settled = await p;
    await closed;
    expect(settled[0].status).toBe('rejected');
    expect((settled[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_CLIENT_CALL' });
    expect(seen).toEqual([1]);
  });

  it('close() before a label-only call rejects it with PoolClosedError', { timeout: 5000 }, async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    await pool.close();
    await expect(pool.run((c) => c, { method: 'get', retry })).rejects.toBeInstanceOf(PoolClosedError);
    await expect(pool.run((c) => c, { traceId: 'x' })).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('an options getter that closes the pool while being read: the call settles and nothing is left in flight', { timeout: 5000 }, async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    let closing: Promise<void> | undefined;
    const options = { get method(): string { closing ??= pool.close(); return 'get'; }, retry };
    const outcome = await race(pool.run((c) => c, options).then((v) => v, (e: unknown) => e));
    expect(outcome).not.toBe('hung');
    await race(closing!);
    expect(pool.isClosed).toBe(true);
  });

  it('an options getter that re-enters pool.run with a timed call: both calls keep their own options', { timeout: 5000 }, async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>();
    pool.add('a');
    let inner: Promise<unknown> | undefined;
    const outer = { get method(): string { inner ??= pool.run(never, { timeout: 20 }).catch((e: unknown) => e); return 'get'; } };
    const outerCall = pool.run((c) => c, outer);
    await vi.advanceTimersByTimeAsync(50);
    expect(await outerCall).toBe('a');
    expect((await inner as { code?: string }).code).toBe('ERR_TIMEOUT');
    await pool.close();
  });

  it('a timed call whose getter re-enters with a label-only call still times out', { timeout: 5000 }, async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>();
    pool.add('a');
    let inner: Promise<unknown> | undefined;
    const outer = { method: 'slow', get timeout(): number { inner ??= pool.run((c) => c, { method: 'get' }); return 20; } };
    const outerCall = pool.run(never, outer).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    expect((await outerCall as { code?: string }).code).toBe('ERR_TIMEOUT');
    expect(await inner).toBe('a');
    await pool.close();
  });

  it('a getter re-entering another pool does not leak that pool\'s flag', { timeout: 5000 }, async () => {
    vi.useFakeTimers();
    const p1 = new ClientPool<string>();
    const p2 = new ClientPool<string>();
    p1.add('a');
    p2.add('b');
    let inner: Promise<unknown> | undefined;
    const outer = { get signal(): AbortSignal | undefined { inner ??= p2.run((c) => c, { method: 'x' }); return undefined; }, timeout: 20 };
    const outerCall = p1.run(never, outer as RunOptions<string>).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    expect((await outerCall as { code?: string }).code).toBe('ERR_TIMEOUT');
    expect(await inner).toBe('b');
    await p1.close();
    await p2.close();
  });

  it('middleware execute and onOutcome see label-only calls, each attempt', { timeout: 5000 }, async () => {
    const pool = new ClientPool<string>();
    pool.add('a');
    pool.add('b');
    const executed: number[] = [];
    const outcomes: string[] = [];
    pool.use({ name: 'm', execute: (call, next) => { executed.push(call.attempt); return next(call); }, onOutcome: (_call, outcome: Outcome) => { outcomes.push(outcome.kind); } });
    await pool.run((c, call) => (call.attempt === 1 ? Promise.reject(new Error('x')) : c), { method: 'get', retry: { attempts: 2, backoff: { initial: 0 } } });
    expect(executed).toEqual([1, 2]);
    expect(outcomes).toEqual(['failure', 'success']);
    await pool.close();
  });

  it('onCallEnd hears a label-only call once, with its method', { timeout: 5000 }, async () => {
    const ends: { method: string; error: unknown }[] = [];
    const pool = new ClientPool<string>({ middleware: [{ name: 'ends', onCallEnd: (end) => { ends.push({ method: end.method, error: end.error }); } }] });
    pool.add('a');
    pool.add('b');
    await pool.run((c, call) => (call.attempt === 1 ? Promise.reject(new Error('x')) : c), { method: 'get', retry: { attempts: 2, backoff: { initial: 0 } } });
    expect(ends).toEqual([{ method: 'get', error: undefined }]);
    await pool.close();
  });

  it('a traced label-only call publishes on clientpool:call and settles', { timeout: 5000 }, async () => {
    const msgs: unknown[] = [];
    const listener = (m: unknown): void => { msgs.push(m); };
    subscribe('tracing:clientpool:call:start', listener);
    try {
      const pool = new ClientPool<string>();
      pool.add('a');
      expect(await pool.run((c) => c, { method: 'get', traceId: 'tr', retry })).toBe('a');
      expect(msgs.length).toBeGreaterThan(0);
      await pool.close();
    } finally {
      unsubscribe('tracing:clientpool:call:start', listener);
    }
  });

  it('pool hedge + { retry: false } per call still hedges (the pool hedge is the method\'s)', { timeout: 5000 }, async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>({ hedge: { delay: 10 } });
    pool.add('a');
    pool.add('b');
    const seen: number[] = [];
    const call = pool.run((c, a) => { seen.push(a.attempt); return a.attempt === 1 ? never() : c; }, { retry: false });
    await vi.advanceTimersByTimeAsync(20);
    expect(typeof await call).toBe('string');
    expect(seen).toEqual([1, 2]);
    await pool.close();
  });

  it('pool deadline applies to a label-only call', { timeout: 5000 }, async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<string>({ deadline: 30 });
    pool.add('a');
    const call = pool.run(never, { method: 'x', retry }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    expect((await call as { code?: string }).code).toBe('ERR_DEADLINE_EXCEEDED');
    await pool.close();
  });
});
