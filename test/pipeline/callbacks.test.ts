import { afterEach, describe, expect, it, vi } from 'vitest';
import { CallbackError, ClientPool, hasErrorCode, InvalidOptionError, isClientPoolError, type Balancer, type Middleware } from '../../src/index.js';
import { unhandledDuring } from '../helpers/unhandled.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const a = { id: 'a' };
const b = { id: 'b' };


let warnings: unknown[] = [];
function quietWarnings(): void {
  warnings = [];
  vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => void warnings.push(warning));
}

describe('a user callback that throws or misbehaves never leaks a call', () => {
  it('an around hook that throws makes run() reject with a clientpool error, after options are checked', async () => {
    const pool = new ClientPool<{ readonly id: string }>();
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

  it('an isFailure that throws counts the failure; the caller gets the original error as cause', async () => {
    quietWarnings();
    const pool = new ClientPool<typeof a>({ isFailure: (e) => (e as { cause: { status: number } }).cause.status >= 500 });
    pool.add(a);
    const error = await pool.run(() => Promise.reject('boom')).catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_CLIENT_PANIC')).toBe(true);
    expect((error as Error).cause).toBe('boom');
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, failures: 1 });
    expect(warnings).toHaveLength(1);
    await pool.close();
  });

  it('a retryOn that throws ends the retries with the attempt error', async () => {
    quietWarnings();
    const pool = new ClientPool<typeof a>({ retry: { retryOn: (e) => (e.cause as { response: { status: number } }).response.status >= 500 } });
    pool.add(a);
    pool.add(b);
    let calls = 0;
    const error = await pool
      .run(() => {
        calls++;
        throw new Error('down');
      })
      .catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_CLIENT_CALL')).toBe(true);
    expect(calls).toBe(1);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });

  it('a retryAfter that throws is as if it found none', async () => {
    quietWarnings();
    const pool = new ClientPool<typeof a>({ retry: { attempts: 2, backoff: { initial: 0, max: 0 }, retryAfter: () => { throw new Error('bad'); } } });
    pool.add(a);
    pool.add(b);
    let calls = 0;
    await expect(pool.run(() => (++calls === 1 ? Promise.reject(new Error('first fails')) : 'second'))).resolves.toBe('second');
    await pool.close();
  });

  it('a middleware that calls next() but returns nothing fails the call with ERR_CALLBACK, and the dropped rejection is handled', async () => {
    const pool = new ClientPool<typeof a>();
    pool.use((call, next) => {
      void next(call);
      return undefined as unknown as Promise<unknown>;
    });
    pool.add(a);
    const unhandled = await unhandledDuring(async () => {
      const error = await pool.run(() => Promise.reject(new Error('late'))).catch((e: unknown) => e);
      expect(hasErrorCode(error, 'ERR_CALLBACK')).toBe(true);
    });
    expect(unhandled).toEqual([]);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('a middleware that calls next() twice runs the function once; the second next() is refused', async () => {
    const pool = new ClientPool<typeof a>();
    let runs = 0;
    let second: unknown;
    pool.use(async (call, next) => {
      const value = await next(call);
      second = await next(call).catch((e: unknown) => e);
      return value;
    });
    pool.add(a);
    await expect(pool.run(() => ++runs)).resolves.toBe(1);
    expect(runs).toBe(1);
    expect(hasErrorCode(second, 'ERR_CALLBACK')).toBe(true);
    await pool.close();
  });

  it('a middleware that passes a copy of the call fails the call with ERR_CALLBACK, the client given back', async () => {
    const pool = new ClientPool<typeof a>();
    pool.use((call, next) => next({ ...call }));
    pool.add(a);
    let ran = false;
    const error = await pool.run(() => (ran = true)).catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_CALLBACK')).toBe(true);
    expect(ran).toBe(false);
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, failures: 0 });
    await pool.close();
  });

  it('a middleware that passes something else to next() fails the call with ERR_CALLBACK', async () => {
    const pool = new ClientPool<typeof a>();
    pool.use((_call, next) => next({} as never));
    pool.add(a);
    expect(hasErrorCode(await pool.run(() => 1).catch((e: unknown) => e), 'ERR_CALLBACK')).toBe(true);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('a middleware that throws synchronously is recovered, and counted as a refusal (the client was never reached)', async () => {
    const pool = new ClientPool<typeof a>();
    pool.use(() => {
      throw new Error('sync');
    });
    pool.add(a);
    expect(hasErrorCode(await pool.run(() => 1).catch((e: unknown) => e), 'ERR_CLIENT_CALL')).toBe(true);
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, failures: 0, refused: 1 });
    await pool.close();
  });

  it('an around hook that returns nothing fails the call with ERR_CALLBACK, with no unhandled rejection', async () => {
    const pool = new ClientPool<typeof a>();
    const around: Middleware = { name: 'bad-around', around: (_scope, next) => void next() as never };
    pool.use(around);
    pool.add(a);
    const unhandled = await unhandledDuring(async () => {
      const error = await pool.run(() => Promise.reject(new Error('inner'))).catch((e: unknown) => e);
      expect(hasErrorCode(error, 'ERR_CALLBACK')).toBe(true);
    });
    expect(unhandled).toEqual([]);
    await pool.close();
  });

  it('a balancer whose pick() throws fails the call with ERR_CALLBACK and the error as cause', async () => {
    const broken = new Error('pick broke');
    const strategy: Balancer<typeof a> = { pick: () => { throw broken; } };
    const pool = new ClientPool<typeof a>({ strategy });
    pool.add(a);
    const error = await pool.run(() => 1).catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_CALLBACK')).toBe(true);
    expect((error as Error).cause).toBe(broken);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('an error whose causes form a cycle ends its retries', async () => {
    const pool = new ClientPool<typeof a>({ retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.add(a);
    pool.add(b);
    const first = new Error('a');
    const second = new Error('b', { cause: first });
    (first as { cause?: unknown }).cause = second;
    const error = await pool.run(() => Promise.reject(first)).catch((e: unknown) => e);
    expect(isClientPoolError(error)).toBe(true);
    await pool.close();
  });

  it('errors with throwing getters and Proxies are recovered into typed errors', async () => {
    quietWarnings();
    const pool = new ClientPool<typeof a>({ retry: { attempts: 2, backoff: { initial: 0, max: 0 } }, isFailure: (e) => (e as { status: number }).status > 0 });
    pool.add(a);
    pool.add(b);
    const getter = Object.defineProperty(new Error('getter'), 'cause', { get: () => { throw new Error('no cause for you'); } });
    const proxy = new Proxy({}, { get: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } });
    for (const thrown of [getter, proxy]) {
      const error = await pool.run(() => Promise.reject(thrown)).catch((e: unknown) => e);
      expect(isClientPoolError(error)).toBe(true);
    }
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });

  it('an onOutcome hook that throws is reported, and the call and counters are unharmed', async () => {
    quietWarnings();
    const pool = new ClientPool<typeof a>();
    pool.use({ name: 'bad-observer', onOutcome: () => { throw new Error('observer'); } });
    pool.add(a);
    await expect(pool.run(() => 7)).resolves.toBe(7);
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, successes: 1 });
    await pool.close();
  });

  it('a client removed from a state-change listener is never called after its close hook ran', async () => {
    const events: string[] = [];
    const pool = new ClientPool<typeof a>({ breaker: { maxFailures: 1, cooldown: 0 } });
    pool.add(a, { name: 'a', close: () => void events.push('closed a') });
    pool.onStateChange((change) => {
      if (change.to.kind === 'half-open') void pool.remove('a');
    });
    await pool.run(() => Promise.reject(new Error('open it'))).catch(() => undefined);
    // Cooldown 0: the next pick moves it to half-open, and the listener removes it mid-pick.
    const result = await pool.run((client) => {
      events.push(`called ${client.id}`);
      return 'ran';
    }).catch((e: unknown) => (e as { code: string }).code);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const closedAt = events.indexOf('closed a');
    expect(closedAt).toBeGreaterThanOrEqual(0);
    expect(events.slice(closedAt + 1)).not.toContain('called a');
    expect(['ran', 'ERR_NO_CLIENTS', 'ERR_ALL_CIRCUITS_OPEN']).toContain(result);
    await pool.close();
  });
});

describe('hostile values and broken hooks never leak a call', () => {
  it.each([
    ['a Proxy of a promise', () => new Proxy(Promise.resolve(1), {})],
    ['a promise subclass whose then throws', () => {
      class Bad<V> extends Promise<V> {
        override then(): never {
          throw new Error('no then for you');
        }
      }
      return Bad.resolve(1);
    }],
    // The pool takes a native promise as it is (as Promise.resolve would): what merely looks like one must still fail typed.
    ['an object that only inherits from Promise.prototype', () => Object.create(Promise.prototype) as Promise<number>],
    ['a native promise with a throwing then of its own', () => Object.assign(Promise.resolve(1), { then: () => { throw new Error('own then'); } })],
    ['a native promise whose constructor getter throws', () => Object.defineProperty(Promise.resolve(1), 'constructor', { get: () => { throw new Error('constructor'); } })],
  ])('a function returning %s gets a typed error and gives the client back', async (_name, make) => {
    const pool = new ClientPool<typeof a>();
    pool.add(a);
    const error = await pool.run(() => make()).catch((e: unknown) => e);
    expect(isClientPoolError(error)).toBe(true);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it.each([
    ['Object.create(call)', (call: object) => Object.create(call) as object],
    ['a Proxy of the call', (call: object) => new Proxy(call, {})],
  ])('a middleware passing %s to next() fails the attempt with ERR_CALLBACK and no failure of the client', async (_name, wrap) => {
    const pool = new ClientPool<typeof a>({ breaker: { maxFailures: 1 } });
    pool.use((call, next) => next(wrap(call) as typeof call));
    pool.add(a);
    const error = await pool.run(() => 1).catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_CALLBACK')).toBe(true);
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, failures: 0, state: { kind: 'closed' } });
    await pool.close();
  });

  it('a middleware that calls next() and returns a non-promise leaves no unhandled rejection when the function throws at once', async () => {
    const pool = new ClientPool<typeof a>();
    pool.use((call, next) => {
      void next(call);
      return 42 as unknown as Promise<unknown>;
    });
    pool.add(a);
    const unhandled = await unhandledDuring(async () => {
      const error = await pool.run(() => {
        throw new Error('sync');
      }).catch((e: unknown) => e);
      expect(hasErrorCode(error, 'ERR_CALLBACK')).toBe(true);
    });
    expect(unhandled).toEqual([]);
    await pool.close();
  });

  it('an around hook that calls next() after it returned leaves no unhandled rejection', async () => {
    let late: (() => Promise<unknown>) | undefined;
    const pool = new ClientPool<typeof a>();
    pool.use({ name: 'late', around: (_scope, next) => ((late = next), Promise.resolve('early')) });
    pool.add(a);
    let runs = 0;
    await expect(pool.run(() => ++runs)).resolves.toBe('early');
    const unhandled = await unhandledDuring(async () => {
      void late!();
      await pool.run(() => Promise.reject(new Error('fails'))).catch(() => undefined);
    });
    expect(unhandled).toEqual([]);
    expect(runs).toBeLessThanOrEqual(1);
    await pool.close();
  });

  it('a custom breaker whose methods throw is reported, admits calls, and never leaks one', async () => {
    quietWarnings();
    const boom = (): never => {
      throw new Error('breaker broke');
    };
    const pool = new ClientPool<typeof a>({
      breaker: () => ({ get state(): never { return boom(); }, acquire: boom, canAcquire: boom, success: boom, failure: boom, release: boom }),
    });
    pool.add(a);
    await expect(pool.run(() => 'ok')).resolves.toBe('ok');
    await expect(pool.run(() => Promise.reject(new Error('x')))).rejects.toMatchObject({ code: 'ERR_CLIENT_CALL' });
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('a balancer whose hooks throw is reported, and calls and close() go on', async () => {
    quietWarnings();
    const strategy: Balancer<typeof a> = {
      pick: (ready) => ready[0]!,
      onReady: () => { throw new Error('onReady'); },
      onUnready: () => { throw new Error('onUnready'); },
      onInFlight: () => { throw new Error('onInFlight'); },
    };
    const pool = new ClientPool<typeof a>({ strategy });
    pool.add(a);
    await expect(pool.run(() => 'ok')).resolves.toBe('ok');
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });

  it('a listener throwing a value that cannot become a string is reported, and the call is unharmed', async () => {
    quietWarnings();
    const pool = new ClientPool<typeof a>({ breaker: { maxFailures: 1 } });
    pool.onStateChange(() => {
      throw Object.create(null) as Error;
    });
    pool.add(a);
    await expect(pool.run(() => Promise.reject(new Error('opens it')))).rejects.toMatchObject({ code: 'ERR_CLIENT_CALL' });
    expect(pool.members()[0]).toMatchObject({ inFlight: 0, state: { kind: 'open' } });
    await pool.close();
  });

  it('a thrown value forging the clientpool brand with a throwing code getter is recovered, the client given back', async () => {
    quietWarnings();
    const forged = Object.defineProperty({ [Symbol.for('clientpool.error')]: true }, 'code', { get: () => { throw new Error('gotcha'); } });
    const pool = new ClientPool<typeof a>();
    pool.add(a);
    const error = await pool.run(() => Promise.reject(forged)).catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_CLIENT_PANIC')).toBe(true);
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });
});

describe('middleware that answers for the client', () => {
  it('a middleware that answers and calls next() later (stale-while-revalidate) never reaches a client after its attempt ended', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>();
    let late: Promise<unknown> | undefined;
    pool.use((call, next) => {
      setTimeout(() => {
        late = next(call);
      }, 20);
      return Promise.resolve('cached');
    });
    pool.add(a);
    let runs = 0;
    const unhandled = await unhandledDuring(async () => {
      await expect(pool.run(() => ++runs)).resolves.toBe('cached');
      await pool.close();
      await vi.advanceTimersByTimeAsync(30);
      expect(hasErrorCode(await late!.catch((e: unknown) => e), 'ERR_CALLBACK')).toBe(true);
      vi.useRealTimers();
    });
    expect(unhandled).toEqual([]);
    expect(runs).toBe(0);
  });

  it('a cache hit in a middleware is the caller\'s success but no verdict on the client: a half-open circuit stays half-open', async () => {
    const pool = new ClientPool<typeof a>({ breaker: { maxFailures: 1, cooldown: 0 } });
    let cacheHit = false;
    pool.use((call, next) => (cacheHit ? Promise.resolve('cached') : next(call)));
    pool.add(a);
    await pool.run(() => Promise.reject(new Error('opens it'))).catch(() => undefined);
    cacheHit = true;
    await expect(pool.run(() => 'fresh')).resolves.toBe('cached');
    expect(pool.members()[0]).toMatchObject({ successes: 0, refused: 1, inFlight: 0, state: { kind: 'half-open' } });
    await pool.close();
  });
});

describe('nested around hooks are each guarded', () => {
  it('an inner hook that throws after an outer one dropped the call leaves no unhandled rejection', async () => {
    const pool = new ClientPool<typeof a>();
    pool.use({ name: 'outer', around: (_scope, next) => (void next(), next()) });
    pool.use({ name: 'inner', around: async (_scope, next) => {
      await next();
      throw new Error('inner boom');
    } });
    pool.add(a);
    let runs = 0;
    const unhandled = await unhandledDuring(async () => {
      const error = await pool.run(() => ++runs).catch((e: unknown) => e);
      expect(hasErrorCode(error, 'ERR_CALLBACK')).toBe(true);
    });
    expect(unhandled).toEqual([]);
    expect(runs).toBe(1);
    await pool.close();
  });

  it('an inner hook that returns nothing under an async outer hook fails the call with ERR_CALLBACK', async () => {
    const pool = new ClientPool<typeof a>();
    pool.use({ name: 'outer', around: async (_scope, next) => next() });
    pool.use({ name: 'inner', around: (_scope, next) => void next() as never });
    pool.add(a);
    expect(hasErrorCode(await pool.run(() => 1).catch((e: unknown) => e), 'ERR_CALLBACK')).toBe(true);
    await pool.close();
  });
});
