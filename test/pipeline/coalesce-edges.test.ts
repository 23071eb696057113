import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, hasErrorCode, type CallEnd, type RunOptions } from '../../src/index.js';
import { deferred } from '../helpers/manual-clock.js';
import { unhandledDuring } from '../helpers/unhandled.js';

const clock = { now: (): number => Date.now() };

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});

afterEach(() => {
  vi.useRealTimers();
});

/** A pool of one client whose upstream call (counted) settles when the test says. */
function upstream(): { pool: ClientPool<object>; fn: () => Promise<string>; calls: () => number; answer: (value: string) => void; fail: (error: Error) => void } {
  let gate = deferred<string>();
  let calls = 0;
  const pool = new ClientPool<object>({ clock });
  pool.add({});
  return {
    pool,
    fn: () => {
      calls++;
      return gate.promise;
    },
    calls: () => calls,
    answer: (value) => {
      gate.resolve(value);
      gate = deferred<string>();
    },
    fail: (error) => gate.reject(error),
  };
}

describe('coalesce: a caller never inherits an abort it did not make', () => {
  it('a caller that joins right after every earlier caller left gets a value, not the aborted call\'s AbortedError', async () => {
    const u = upstream();
    const leaving = new AbortController();
    const first = u.pool.run(u.fn, { coalesce: 'k', signal: leaving.signal }).catch((e: unknown) => e);
    leaving.abort(new Error('first caller left'));
    // Same turn: the first flight is aborted but not settled yet. This caller never aborted anything.
    const second = u.pool.run(u.fn, { coalesce: 'k' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    u.answer('v');
    expect(hasErrorCode(await first, 'ERR_ABORTED')).toBe(true);
    await expect(second).resolves.toBe('v');
    await u.pool.close();
  });

  it('a caller that aborts after the shared call settled still gets the value', async () => {
    const u = upstream();
    const controller = new AbortController();
    const result = u.pool.run(u.fn, { coalesce: 'k', signal: controller.signal });
    u.answer('v');
    await expect(result).resolves.toBe('v');
    controller.abort(new Error('late'));
    await expect(result).resolves.toBe('v');
    await u.pool.close();
  });

  it('two callers sharing one signal both leave when it aborts, and the shared call is aborted with nothing unhandled', async () => {
    // Real timers: unhandledDuring waits a few real turns for late rejections (nothing here is timed).
    vi.useRealTimers();
    const u = upstream();
    const controller = new AbortController();
    let upstreamSignal: AbortSignal | undefined;
    const unhandled = await unhandledDuring(async () => {
      const fn = (_client: object, call: { signal: AbortSignal }): Promise<string> => {
        upstreamSignal = call.signal;
        return u.fn();
      };
      const calls = [u.pool.run(fn, { coalesce: 'k', signal: controller.signal }), u.pool.run(fn, { coalesce: 'k', signal: controller.signal })].map((p) => p.catch((e: unknown) => e));
      controller.abort(new Error('both gone'));
      const errors = await Promise.all(calls);
      expect(errors.map((e) => (e as { code: string }).code)).toEqual(['ERR_ABORTED', 'ERR_ABORTED']);
    });
    expect(unhandled).toEqual([]);
    expect(upstreamSignal?.aborted).toBe(true);
    expect(u.calls()).toBe(1);
    await u.pool.close();
  });

  it('when every caller left and the shared call then fails, nothing is left unhandled', async () => {
    vi.useRealTimers();
    const u = upstream();
    const unhandled = await unhandledDuring(async () => {
      const controllers = [new AbortController(), new AbortController()];
      // The function ignores its signal: the shared call's upstream settles later, with an error nobody waits for.
      const calls = controllers.map((c) => u.pool.run(u.fn, { coalesce: 'k', signal: c.signal }).catch((e: unknown) => e));
      for (const c of controllers) c.abort(new Error('gone'));
      await Promise.all(calls);
      u.fail(new Error('upstream failed late'));
    });
    expect(unhandled).toEqual([]);
    await u.pool.close();
  });
});

describe('coalesce: the first caller\'s options run the shared call, as given', () => {
  it('an inherited timeout (options made with Object.create) still bounds the shared call, as it bounds a call without coalesce', async () => {
    const u = upstream();
    const plain = u.pool.run(u.fn, Object.create({ timeout: 100 }) as RunOptions<object>).catch((e: unknown) => e);
    const options = Object.create({ timeout: 100 }) as { coalesce?: string };
    options.coalesce = 'k';
    const shared = u.pool.run(u.fn, options as RunOptions<object>).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    // Without coalesce the inherited timeout applies: the same options with a key must not lose it.
    expect(hasErrorCode(await plain, 'ERR_TIMEOUT')).toBe(true);
    const settled = await Promise.race([shared, Promise.resolve('still running')]);
    expect(hasErrorCode(settled, 'ERR_TIMEOUT')).toBe(true);
    u.answer('late');
    await u.pool.close();
  });

  it('a later caller\'s different timeout does not change the shared call (the first caller\'s options run it)', async () => {
    const u = upstream();
    const first = u.pool.run(u.fn, { coalesce: 'k', timeout: 100 }).catch((e: unknown) => e);
    const second = u.pool.run(u.fn, { coalesce: 'k', timeout: 10_000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(hasErrorCode(await first, 'ERR_TIMEOUT')).toBe(true);
    expect(hasErrorCode(await second, 'ERR_TIMEOUT')).toBe(true);
    expect(u.calls()).toBe(1);
    await u.pool.close();
  });

  it('a timeout getter that throws makes the call reject with InvalidOptionError, with and without coalesce alike', async () => {
    const u = upstream();
    const tricky = (coalesce?: string): RunOptions<object> => {
      const options: Record<string, unknown> = {};
      if (coalesce !== undefined) options['coalesce'] = coalesce;
      Object.defineProperty(options, 'timeout', {
        enumerable: true,
        get: () => {
          throw new Error('getter broke');
        },
      });
      return options;
    };
    const plainError = await u.pool.run(u.fn, tricky()).catch((e: unknown) => e);
    const sharedError = await u.pool.run(u.fn, tricky('k')).catch((e: unknown) => e);
    expect(hasErrorCode(plainError, 'ERR_INVALID_OPTION')).toBe(true);
    expect(hasErrorCode(sharedError, 'ERR_INVALID_OPTION')).toBe(true);
    await u.pool.close();
  });

  it('options given as a Proxy run the shared call with the values they report', async () => {
    const u = upstream();
    const options = new Proxy({ coalesce: 'k', timeout: 100 }, {}) as RunOptions<object>;
    const call = u.pool.run(u.fn, options).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(hasErrorCode(await call, 'ERR_TIMEOUT')).toBe(true);
    await u.pool.close();
  });
});

describe('coalesce with retries, hedges and deadlines in the shared call', () => {
  it('the shared call retries on the first caller\'s policy, and every caller gets the retried value', async () => {
    const pool = new ClientPool<{ name: string }>({ clock, retryBudget: false });
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b' });
    let calls = 0;
    const fn = (c: { name: string }): Promise<string> => {
      calls++;
      return calls === 1 ? Promise.reject(new Error(`${c.name} failed`)) : Promise.resolve(c.name);
    };
    const results = Array.from({ length: 5 }, () => pool.run(fn, { coalesce: 'k', retry: { attempts: 2, backoff: { initial: 10 } } }));
    await vi.advanceTimersByTimeAsync(100);
    const values = await Promise.all(results);
    expect(new Set(values).size).toBe(1);
    expect(calls).toBe(2);
    await pool.close();
  });

  it('a deadline in the first caller\'s options ends the shared call for every caller', async () => {
    const u = upstream();
    const results = [u.pool.run(u.fn, { coalesce: 'k', deadline: 200 }), u.pool.run(u.fn, { coalesce: 'k' })].map((p) => p.catch((e: unknown) => e));
    await vi.advanceTimersByTimeAsync(200);
    const errors = await Promise.all(results);
    expect(errors.every((e) => hasErrorCode(e, 'ERR_DEADLINE_EXCEEDED') || hasErrorCode(e, 'ERR_TIMEOUT'))).toBe(true);
    await u.pool.close();
  });
});

describe('coalesce and the pool\'s lifecycle', () => {
  it('destroy() during a shared call ends it for every caller with PoolClosedError', async () => {
    const u = upstream();
    const results = Array.from({ length: 3 }, (_, i) => u.pool.run(u.fn, i === 0 ? { coalesce: 'k' } : { coalesce: 'k', signal: new AbortController().signal }).catch((e: unknown) => e));
    await u.pool.destroy(new Error('shutdown'));
    const errors = await Promise.all(results);
    expect(errors.every((e) => hasErrorCode(e, 'ERR_POOL_CLOSED'))).toBe(true);
  });

  it('close() during a shared call waits for it, every caller gets the value, and a caller joining after close() is refused', async () => {
    const u = upstream();
    const results = [u.pool.run(u.fn, { coalesce: 'k' }), u.pool.run(u.fn, { coalesce: 'k' })];
    const closing = u.pool.close();
    await expect(u.pool.run(u.fn, { coalesce: 'k' })).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    u.answer('v');
    expect(await Promise.all(results)).toEqual(['v', 'v']);
    await closing;
  });
});

describe('coalesce as observers see it: each caller is a call, attempts once', () => {
  it('onCallEnd hears every caller, an around hook wraps every caller, onOutcome hears one attempt', async () => {
    const ends: CallEnd<object>[] = [];
    let arounds = 0;
    let outcomes = 0;
    const u = upstream();
    u.pool.use({ name: 'ends', onCallEnd: (end) => void ends.push(end) });
    u.pool.use({
      name: 'around',
      around: (_scope, next) => {
        arounds++;
        return next();
      },
    });
    u.pool.use({
      name: 'outcomes',
      onOutcome: () => {
        outcomes++;
      },
    });
    const leaving = new AbortController();
    const results = [u.pool.run(u.fn, { coalesce: 'k', method: 'm' }), u.pool.run(u.fn, { coalesce: 'k', method: 'm' }), u.pool.run(u.fn, { coalesce: 'k', method: 'm', signal: leaving.signal }).catch((e: unknown) => e)];
    leaving.abort(new Error('left'));
    u.answer('v');
    await Promise.all(results);
    expect(ends).toHaveLength(3);
    expect(arounds).toBe(3);
    expect(outcomes).toBe(1);
    expect(u.calls()).toBe(1);
    await u.pool.close();
  });

  it('the clientpool:call tracing channel traces every caller, each with its own outcome', async () => {
    const starts: unknown[] = [];
    const errors: unknown[] = [];
    const onStart = (message: unknown): void => void starts.push(message);
    const onError = (message: unknown): void => void errors.push((message as { error: unknown }).error);
    subscribe('tracing:clientpool:call:start', onStart);
    subscribe('tracing:clientpool:call:error', onError);
    try {
      const u = upstream();
      const leaving = new AbortController();
      const results = [u.pool.run(u.fn, { coalesce: 'k' }), u.pool.run(u.fn, { coalesce: 'k', signal: leaving.signal }).catch((e: unknown) => e)];
      leaving.abort(new Error('left'));
      u.answer('v');
      await Promise.all(results);
      expect(starts).toHaveLength(2);
      expect(errors).toHaveLength(1);
      expect(hasErrorCode(errors[0], 'ERR_ABORTED')).toBe(true);
      await u.pool.close();
    } finally {
      unsubscribe('tracing:clientpool:call:start', onStart);
      unsubscribe('tracing:clientpool:call:error', onError);
    }
  });
});

describe('coalesce at scale', () => {
  it('20 000 keys are each forgotten once their call settles: a later call with any of them runs again', async () => {
    const pool = new ClientPool<object>({ clock });
    pool.add({});
    let calls = 0;
    const fn = (): Promise<number> => Promise.resolve(++calls);
    const n = 20_000;
    const first = await Promise.all(Array.from({ length: n }, (_, i) => pool.run(fn, { coalesce: `key-${i}` })));
    expect(calls).toBe(n);
    expect(new Set(first).size).toBe(n);
    // Any key, again: a new call each time, never a stale shared one.
    for (const i of [0, 1, 4_242, n - 1]) await pool.run(fn, { coalesce: `key-${i}` });
    expect(calls).toBe(n + 4);
    await pool.close();
  });

  it('eleven callers sharing one signal raise no MaxListenersExceededWarning, as eleven plain calls do not', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): number => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const u = upstream();
      const controller = new AbortController();
      const plain = Array.from({ length: 11 }, () => u.pool.run(u.fn, { signal: controller.signal }));
      u.answer('v');
      await Promise.all(plain);
      await vi.advanceTimersByTimeAsync(0);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
      const shared = Array.from({ length: 11 }, () => u.pool.run(u.fn, { coalesce: 'k', signal: controller.signal }));
      u.answer('w');
      await Promise.all(shared);
      await new Promise((resolve) => process.nextTick(resolve));
      await vi.advanceTimersByTimeAsync(0);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
      await u.pool.close();
    } finally {
      process.off('warning', onWarning);
    }
  });
});
