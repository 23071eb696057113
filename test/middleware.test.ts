import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { describe, expect, it, vi } from 'vitest';
import { callKey, ClientPool, isCancelled, rateLimit, TRACE_ID, traceId, type AnyMiddleware, type Call, type Middleware, type MiddlewareFunction, type Next } from '../src/index.js';
import { otelMetrics, tracing } from '../src/otel/index.js';
import { prometheusMetrics } from '../src/prometheus/index.js';
import { closeWorkingPools, expectInvalid, thrownBy, workingPool } from './helpers/bad-input.js';

interface Fake {
  readonly id: string;
}

closeWorkingPools();

describe('middleware chain', () => {
  it('runs as an onion, first registered outermost, in object and function form', async () => {
    const log: string[] = [];
    const objectForm = (name: string): Middleware => ({
      name,
      async execute(call, next) {
        log.push(`${name} in`);
        const result = await next(call);
        log.push(`${name} out`);
        return result;
      },
    });
    const functionForm: MiddlewareFunction = async function wrap(call, next) {
      log.push('fn in');
      try {
        return await next(call);
      } finally {
        log.push('fn out');
      }
    };
    const pool = new ClientPool<Fake>({ middleware: [objectForm('outer')] });
    pool.use(functionForm).use(objectForm('inner'));
    pool.add({ id: 'a' });
    await pool.run(() => void log.push('call'));
    expect(log).toEqual(['outer in', 'fn in', 'inner in', 'call', 'inner out', 'fn out', 'outer out']);
  });

  it('middleware can short-circuit, change the result, and see errors', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' });
    pool.use(async (call, next) => {
      if (call.method === 'cached') return 'from cache';
      try {
        return `wrapped ${String(await next(call))}`;
      } catch (error) {
        return `recovered ${(error as Error).message}`;
      }
    });
    await expect(pool.run(() => 'x', { method: 'cached' })).resolves.toBe('from cache');
    await expect(pool.run(() => 'x')).resolves.toBe('wrapped x');
    await expect(pool.run(() => Promise.reject(new Error('bad')))).resolves.toBe('recovered bad');
  });

  it('shares typed values through the call bag', async () => {
    const user = callKey<{ id: number }>('user');
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' });
    pool.use((call, next) => {
      call.set(user, { id: 7 });
      return next(call);
    });
    const seen = await pool.run((_client, call) => call.get(user)?.id);
    expect(seen).toBe(7);
    await expect(pool.run((_client, call) => call.get(callKey<string>('other')))).resolves.toBeUndefined();
  });

  it('composes the chain when middleware changes, not per call', async () => {
    let nextIdentities = new Set<Next>();
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' });
    pool.use((call, next) => {
      nextIdentities.add(next);
      return next(call);
    });
    pool.use((call, next) => next(call));
    for (let i = 0; i < 10; i++) await pool.run(() => 1);
    expect(nextIdentities.size).toBe(1);
    nextIdentities = new Set();
    pool.use((call, next) => next(call));
    for (let i = 0; i < 3; i++) await pool.run(() => 1);
    expect(nextIdentities.size).toBe(1);
  });

  it('middleware written for any client fits a typed pool', async () => {
    const generic: MiddlewareFunction = (call: Call<unknown>, next) => next(call);
    const pool = new ClientPool<Fake>({ middleware: [generic] });
    pool.add({ id: 'a' });
    await expect(pool.run((client) => client.id)).resolves.toBe('a');
  });

  it('attach() receives the pool observer when registered', async () => {
    const seen: string[] = [];
    const pool = new ClientPool<Fake>({ breaker: { maxFailures: 1 } });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.use({
      name: 'observer',
      execute: (call, next) => next(call),
      attach(observer) {
        seen.push(observer.members().map((m) => m.name).join());
        observer.onStateChange((change) => seen.push(`${change.client} ${change.to.kind}`));
      },
    });
    await pool.run(() => Promise.reject(new Error('x'))).catch(() => 0);
    expect(seen).toEqual(['a', 'a open']);
  });

  it('around() runs once per pool call, outside all its attempts, in registration order', async () => {
    vi.useFakeTimers();
    try {
      const log: string[] = [];
      const pool = new ClientPool<Fake>({ retry: { attempts: 3, backoff: { initial: 0 } }, hedge: { delay: 10 } });
      for (const id of ['a', 'b', 'c']) pool.add({ id }, { name: id });
      for (const name of ['outer', 'inner']) {
        pool.use({
          name,
          async around(scope, next) {
            log.push(`${name} around ${scope.method}`);
            try {
              return await next();
            } finally {
              log.push(`${name} done`);
            }
          },
          execute: (call, next) => (log.push(`${name} ${call.kind}#${call.attempt} ${call.clientName}`), next(call)),
        });
      }
      const result = pool.run(
        (client) => (client.id === 'a' ? Promise.reject(new Error('a down')) : new Promise((resolve) => setTimeout(() => resolve(client.id), client.id === 'b' ? 50 : 5))),
        { method: 'm' },
      );
      await vi.advanceTimersByTimeAsync(100);
      await expect(result).resolves.toBe('c');
      expect(log).toEqual([
        'outer around m',
        'inner around m',
        'outer first#1 a',
        'inner first#1 a',
        'outer retry#2 b',
        'inner retry#2 b',
        'outer hedge#3 c',
        'inner hedge#3 c',
        'inner done',
        'outer done',
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('isCancelled tells a lost hedge or caller abort from a timeout; close() gets the pool', async () => {
    const seen: boolean[] = [];
    let closedWith: unknown;
    const pool = new ClientPool<Fake>({ timeout: 20 });
    pool.add({ id: 'a' });
    pool.use({
      name: 'probe',
      async execute(call, next) {
        try {
          return await next(call);
        } finally {
          seen.push(isCancelled(call));
        }
      },
      close(observer) {
        closedWith = observer;
      },
    });
    // A function that honours its signal, so that the middleware sees the attempt end.
    const cooperative = (_client: Fake, call: Call<Fake>): Promise<never> =>
      new Promise((_resolve, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason as Error)));
    await pool.run(cooperative).catch(() => undefined);
    const controller = new AbortController();
    const aborted = pool.run(cooperative, { signal: controller.signal, timeout: 1_000 }).catch(() => undefined);
    controller.abort();
    await aborted;
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seen).toEqual([false, true]);
    await pool.close();
    expect(closedWith).toBe(pool);
  });

  it('refuses the same middleware twice on one pool (its hooks would run, and count, twice per call)', () => {
    const pool = new ClientPool<Fake>();
    const observer = { name: 'observer', onOutcome: () => undefined };
    const step = (call: Call<Fake>, next: Next): Promise<unknown> => next(call);
    pool.use(observer).use(step);
    expect(() => pool.use(observer)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'middleware' }));
    expect(() => pool.use(step)).toThrow(/middleware must be used once per pool/);
    // Another pool takes it: the rule is per pool.
    expect(() => new ClientPool<Fake>().use(observer).use(step)).not.toThrow();
  });

  it('refuses a function already in the pool in another shape, naming the hook the two share', () => {
    const step = (call: Call<Fake>, next: Next): Promise<unknown> => next(call);
    const bound = step.bind(undefined);
    const shapes: readonly [string, AnyMiddleware<Fake>, AnyMiddleware<Fake>, string][] = [
      ['f, then { execute: f }', step, { name: 'again', execute: step }, 'step'],
      ['a bound function, then in an object', bound, { name: 'again', execute: bound }, 'bound step'],
      ['{ execute: f } in two objects', { name: 'first', execute: step }, { name: 'again', execute: step }, 'first'],
    ];
    for (const [shape, first, second, name] of shapes) {
      const pool = new ClientPool<Fake>().use(first);
      expect(() => pool.use(second), shape).toThrow(expect.objectContaining({ name: 'InvalidOptionError', option: 'middleware.execute', value: typeof first === 'function' ? first : step }));
      expect(() => pool.use(second), shape).toThrow(`middleware.execute must be a function no other middleware of this pool has for execute() (it is the execute() of middleware "${name}", already in the pool`);
    }
    // The function itself after it in object form: it is already in the pool.
    expect(() => new ClientPool<Fake>().use({ name: 'first', execute: step }).use(step)).toThrow(/middleware must be used once per pool \(this one is already in it\)/);
  });

  it.each(['execute', 'onOutcome', 'onCallEnd', 'around'] as const)('refuses two middleware objects with the same %s function', (hook) => {
    const shared = (): Promise<undefined> => Promise.resolve(undefined);
    const pool = new ClientPool<Fake>().use({ name: 'one', [hook]: shared });
    expect(() => pool.use({ name: 'two', [hook]: shared })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: `middleware.${hook}`, message: expect.stringContaining(`the ${hook}() of middleware "one"`) as string }),
    );
  });

  it('leaves the pool as it was after refusing a middleware that shares a hook: its hooks never run, nor its attach()', async () => {
    const log: string[] = [];
    const around = (_scope: unknown, next: () => Promise<unknown>): Promise<unknown> => {
      log.push('around');
      return next();
    };
    const pool = new ClientPool<Fake>().use({ name: 'timing', around });
    pool.add({ id: 'a' });
    const attach = vi.fn();
    const onOutcome = vi.fn();
    expect(() => pool.use({ name: 'copy', around, onOutcome, attach })).toThrow(expect.objectContaining({ option: 'middleware.around' }));
    await pool.run(() => 'ok');
    expect(log).toEqual(['around']);
    expect(attach).not.toHaveBeenCalled();
    expect(onOutcome).not.toHaveBeenCalled();
    // The pool still takes middleware of its own.
    pool.use({ name: 'own', onOutcome });
    await pool.run(() => 'ok');
    expect(log).toEqual(['around', 'around']);
    expect(onOutcome).toHaveBeenCalledTimes(1);
  });

  it('takes two instances of one middleware class, which share its prototype methods, each running once per call', async () => {
    class Counting implements Middleware<Fake> {
      readonly name = 'counting';
      calls = 0;
      outcomes = 0;
      execute(call: Call<Fake>, next: Next): Promise<unknown> {
        this.calls++;
        return next(call);
      }
      onOutcome(): void {
        this.outcomes++;
      }
      around(_scope: unknown, next: () => Promise<unknown>): Promise<unknown> {
        return next();
      }
    }
    const [one, two] = [new Counting(), new Counting()];
    const pool = new ClientPool<Fake>().use(one).use(two);
    pool.add({ id: 'a' });
    await pool.run(() => 'ok');
    expect([one.calls, one.outcomes, two.calls, two.outcomes]).toEqual([1, 1, 1, 1]);
  });

  it.each([
    ['prometheusMetrics()', (): Middleware => prometheusMetrics()],
    ['otelMetrics() on a meter provider', (): Middleware => otelMetrics({ meterProvider: new MeterProvider() })],
    ['otelMetrics() with no meter provider (the no-op meter)', (): Middleware => otelMetrics()],
    ['tracing()', (): Middleware => tracing()],
    ['rateLimit()', (): Middleware => rateLimit({ rate: 10 })],
    ['traceId()', (): Middleware => traceId()],
  ])('takes two instances of the built-in %s on one pool', (_, make) => {
    expect(() => new ClientPool<Fake>().use(make()).use(make())).not.toThrow();
  });

  it('compares hooks inherited from a plain object, which are not a class\'s methods', () => {
    const base: Middleware<Fake> = { name: 'base', execute: (call, next) => next(call) };
    expect(() => new ClientPool<Fake>().use(base).use(Object.create(base) as Middleware<Fake>)).toThrow(expect.objectContaining({ option: 'middleware.execute' }));
    expect(() => new ClientPool<Fake>().use(Object.create(base) as Middleware<Fake>).use(Object.create(base) as Middleware<Fake>)).toThrow(
      expect.objectContaining({ option: 'middleware.execute' }),
    );
  });

  it('compares the hooks of a middleware whose prototype chain never ends (a Proxy) without walking it to the end', () => {
    let steps = 0;
    // Throws rather than hangs if walked too far, so that the test fails instead of blocking the run.
    const endless = (): object =>
      new Proxy({}, {
        getPrototypeOf: () => {
          if (++steps > 10_000) throw new Error('walked 10 000 prototypes');
          return endless();
        },
      });
    const execute = (call: Call<Fake>, next: Next): Promise<unknown> => next(call);
    // Owns nothing: reads `execute` from somewhere up a chain of prototypes without end.
    const inheritsEndlessly = new Proxy({}, {
      get: (_, key) => (key === 'execute' ? execute : key === 'name' ? 'endless' : undefined),
      getPrototypeOf: () => endless(),
    });
    const pool = new ClientPool<Fake>().use({ name: 'other', execute: (call, next) => next(call) });
    expect(() => pool.use(inheritsEndlessly as Middleware<Fake>)).not.toThrow();
    expect(() => new ClientPool<Fake>().use(execute).use(inheritsEndlessly as Middleware<Fake>)).toThrow(expect.objectContaining({ option: 'middleware.execute' }));
  });

  it('refuses middleware whose hooks cannot be read (a throwing getter or Proxy trap) with InvalidOptionError and the throw as cause', () => {
    const pool = new ClientPool<Fake>();
    const boom = new Error('boom');
    const getter = { name: 'hostile', get execute(): never { throw boom; } };
    const proxy = new Proxy({}, { get: () => { throw boom; } });
    for (const hostile of [getter, proxy]) {
      expect(() => pool.use(hostile as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'middleware', cause: boom }));
    }
  });

  it('rejects things that are not middleware', () => {
    const pool = new ClientPool<Fake>();
    expect(() => pool.use({ name: 'x' })).toThrow(/middleware must be a function or an object with execute\(\)/);
    expect(() => pool.use(null as unknown as Middleware)).toThrow(/got null/);
  });
});

describe('traceId middleware', () => {
  it('passes on the caller trace ID, visible to the function and later middleware', async () => {
    const logged: string[] = [];
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' });
    pool.use(traceId());
    pool.use(async (call, next) => {
      logged.push(`[${call.get(TRACE_ID) ?? '-'}] ${call.method}`);
      return next(call);
    });
    const seen = await pool.run((_client, call) => call.get(TRACE_ID), { traceId: 'abc123', method: 'get' });
    expect(seen).toBe('abc123');
    expect(logged).toEqual(['[abc123] get']);
  });

  it('generates distinct W3C-shaped IDs when none is given', async () => {
    const pool = new ClientPool<Fake>({ middleware: [traceId()] });
    pool.add({ id: 'a' });
    const ids = new Set<string | undefined>();
    for (let i = 0; i < 1_000; i++) ids.add(await pool.run((_client, call) => call.get(TRACE_ID)));
    expect(ids.size).toBe(1_000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('takes a custom generator', async () => {
    let n = 0;
    const pool = new ClientPool<Fake>({ middleware: [traceId({ generate: () => `t${++n}` })] });
    pool.add({ id: 'a' });
    await expect(pool.run((_client, call) => call.get(TRACE_ID))).resolves.toBe('t1');
  });
});

describe('middleware factories and use() with bad input', () => {
  it.each([
    ['rate 0', 'rateLimit.rate', { rate: 0 }, 0],
    ['burst 0', 'rateLimit.burst', { rate: 1, burst: 0 }, 0],
    ['maxWait negative', 'rateLimit.maxWait', { rate: 1, maxWait: -1 }, -1],
  ] as const)('rateLimit: %s gives InvalidOptionError naming %s', (_label, option, options, value) => {
    expectInvalid(
      thrownBy(() => rateLimit(options)),
      option,
      value,
    );
  });

  it('use() of things that are not middleware: InvalidOptionError naming middleware, and the pool keeps working', async () => {
    const { pool, stillWorks } = workingPool();
    for (const bad of [5, 'logging', undefined, { name: 'x', execute: 'no' }]) {
      expectInvalid(thrownBy(() => pool.use(bad as unknown as Middleware)), 'middleware', bad);
    }
    await stillWorks();
  });

  it('rateLimit(null) and rateLimit({ limiter: 5 }) throw InvalidOptionError naming the option', () => {
    // Before the fix: actual TypeError "Cannot use 'in' operator to search for 'limiter' in null".
    expectInvalid(
      thrownBy(() => rateLimit(null as never)),
      'rateLimit',
      null,
    );
    expectInvalid(
      thrownBy(() => rateLimit({ limiter: 5 as never })),
      'rateLimit.limiter',
      5,
    );
  });

  it('traceId({ generate: 5 }) throws InvalidOptionError naming traceId.generate when the middleware is made', async () => {
    const { pool } = workingPool({ breaker: { maxFailures: 1 } });
    const error = thrownBy(() => pool.use(traceId({ generate: 5 as never })));
    // Actual: no error; the next call rejects ClientCallError "generate is not a function" and opens `ok`'s circuit.
    // Before the fix: InvalidOptionError naming generate when the middleware is made.
    expectInvalid(error, 'traceId.generate', 5);
  });
});
