// Every run() option still does what the README's table says now that the call runs with a copy of the
// options (readRunOptions), each given through a getter (read once) so the copy is what carries it.
import { tracingChannel } from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { CHANNELS, ClientPool, TRACE_ID, traceId, type Balancer, type Call, type CallScope, type PoolMember, type RunOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

interface Fake {
  readonly id: string;
}

useUnhandledGuard({ time: 'fake-timers' });

const clock = { now: (): number => Date.now() };

/** `values` as options whose every key is an enumerable getter (read-once is what makes them work). */
function viaGetters(values: Record<string, unknown>): RunOptions<Fake> {
  const options = {};
  for (const [key, value] of Object.entries(values)) Object.defineProperty(options, key, { enumerable: true, get: () => value });
  return options;
}

function poolOf(names: readonly string[], extra: ConstructorParameters<typeof ClientPool<Fake>>[0] = {}): ClientPool<Fake> {
  const pool = new ClientPool<Fake>({ clock, ...extra });
  for (const name of names) pool.add({ id: name }, { name });
  return pool;
}

async function codeOf(promise: Promise<unknown>, ms: number): Promise<string> {
  let code = 'pending';
  promise.then(
    () => (code = 'resolved'),
    (error: unknown) => (code = (error as { code?: string }).code ?? String(error)),
  );
  await vi.advanceTimersByTimeAsync(ms);
  return code;
}

const never = (): Promise<never> => new Promise<never>(() => undefined);

describe('each run option works when given through a getter', () => {
  it('timeout ends a slow call with ERR_TIMEOUT at that timeout', async () => {
    const pool = poolOf(['a']);
    const call = pool.run(never, viaGetters({ timeout: 100 }));
    expect(await codeOf(call, 99)).toBe('pending');
    expect(await codeOf(call, 1)).toBe('ERR_TIMEOUT');
  });

  it('deadline ends a slow call with ERR_DEADLINE_EXCEEDED', async () => {
    const pool = poolOf(['a']);
    const call = pool.run(never, viaGetters({ deadline: 100 }));
    expect(await codeOf(call, 101)).toMatch(/ERR_DEADLINE_EXCEEDED|ERR_TIMEOUT/);
  });

  it('maxWait bounds the wait for a full client (ERR_CONCURRENCY_LIMITED)', async () => {
    const pool = new ClientPool<Fake>({ clock });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: 1 });
    const blocker = pool.run(never);
    void blocker.catch(() => undefined);
    const call = pool.run(() => 1, viaGetters({ maxWait: 50 }));
    expect(await codeOf(call, 49)).toBe('pending');
    expect(await codeOf(call, 2)).toBe('ERR_CONCURRENCY_LIMITED');
  });

  it('a signal aborted before the call rejects at once with ERR_ABORTED', async () => {
    const pool = poolOf(['a']);
    const controller = new AbortController();
    controller.abort(new Error('before'));
    let calls = 0;
    const call = pool.run(() => ++calls, viaGetters({ signal: controller.signal }));
    expect(await codeOf(call, 0)).toBe('ERR_ABORTED');
    expect(calls).toBe(0);
  });

  it('a signal aborted while the call waits for a client ends the wait', async () => {
    const pool = new ClientPool<Fake>({ clock, maxWait: 10_000 });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: 1 });
    void pool.run(never).catch(() => undefined);
    const controller = new AbortController();
    const call = pool.run(() => 1, viaGetters({ signal: controller.signal }));
    expect(await codeOf(call, 10)).toBe('pending');
    controller.abort(new Error('during wait'));
    expect(await codeOf(call, 0)).toBe('ERR_ABORTED');
  });

  it('a signal aborted during the call reaches call.signal and ends the call', async () => {
    const pool = poolOf(['a']);
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const call = pool.run((_client, c: Call<Fake>) => {
      inner = c.signal;
      return never();
    }, viaGetters({ signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(0);
    const reason = new Error('during call');
    controller.abort(reason);
    expect(await codeOf(call, 0)).toBe('ERR_ABORTED');
    expect(inner?.aborted).toBe(true);
  });

  it('key sends calls with one key to one client', async () => {
    const pool = poolOf(['a', 'b', 'c', 'd']);
    const picked = new Set<string>();
    for (let i = 0; i < 12; i++) picked.add(await pool.run((client) => client.id, viaGetters({ key: 'user:42' })));
    expect(picked.size).toBe(1);
  });

  it('minHeight sends the call only to a client at that height, and gives up after maxWait', async () => {
    const pool = poolOf(['a', 'b']);
    for (let i = 0; i < 2; i++) await pool.run((client, c: Call<Fake>) => c.reportHeight(client.id === 'a' ? 100 : 10));
    await vi.advanceTimersByTimeAsync(0);
    const picked = new Set<string>();
    for (let i = 0; i < 4; i++) picked.add(await pool.run((client) => client.id, viaGetters({ minHeight: 50, maxWait: 0 })));
    expect([...picked]).toEqual(['a']);
    const call = pool.run(() => 1, viaGetters({ minHeight: 1_000, maxWait: 20 }));
    expect(await codeOf(call, 19)).toBe('pending');
    expect(await codeOf(call, 2)).toBe('ERR_HEIGHT_NOT_REACHED');
  });

  it('strategy per call: a Balancer given for the call picks', async () => {
    const pool = poolOf(['a', 'b', 'c']);
    const lastOne: Balancer<Fake> = { pick: (ready: readonly PoolMember<Fake>[]) => ready[ready.length - 1]! };
    const picked: string[] = [];
    for (let i = 0; i < 3; i++) picked.push(await pool.run((client) => client.id, viaGetters({ strategy: lastOne })));
    expect(picked).toEqual(['c', 'c', 'c']);
  });

  it("priority 'low' is shed at once when the only client is full (ERR_SHED)", async () => {
    const pool = new ClientPool<Fake>({ clock, maxWait: 10_000 });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: 1 });
    void pool.run(never).catch(() => undefined);
    expect(await codeOf(pool.run(() => 1, viaGetters({ priority: 'low' })), 0)).toBe('ERR_SHED');
  });

  it('cost is charged against a limit by name', async () => {
    const pool = new ClientPool<Fake>({ clock });
    pool.add({ id: 'a' }, { name: 'a', limit: { tokens: { rate: 1, per: 60_000, burst: 100 } } });
    await expect(pool.run(() => 1, viaGetters({ cost: { tokens: 100 } }))).resolves.toBe(1);
    // The bucket is empty now: a second call for 100 tokens cannot be served at once.
    expect(await codeOf(pool.run(() => 2, viaGetters({ cost: { tokens: 100 }, maxWait: 0 })), 0)).not.toBe('resolved');
  });

  it('retry retries on another client', async () => {
    const pool = poolOf(['a', 'b']);
    const tried: string[] = [];
    const value = pool.run((client) => {
      tried.push(client.id);
      if (tried.length === 1) throw new Error('first fails');
      return 'ok';
    }, viaGetters({ retry: { attempts: 2, backoff: { initial: 1, max: 1, jitter: 'none' } } }));
    await vi.advanceTimersByTimeAsync(10);
    await expect(value).resolves.toBe('ok');
    expect(new Set(tried).size).toBe(2);
  });

  it('hedge starts a second attempt after its delay', async () => {
    const pool = poolOf(['a', 'b']);
    const tried: string[] = [];
    const value = pool.run((client) => {
      tried.push(client.id);
      return tried.length === 1 ? never() : 'hedged';
    }, viaGetters({ hedge: { delay: 20 } }));
    await vi.advanceTimersByTimeAsync(19);
    expect(tried.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(value).resolves.toBe('hedged');
  });

  it('traceId is passed on by the traceId() middleware', async () => {
    const pool = poolOf(['a']);
    pool.use(traceId());
    const id = await pool.run((_client, c: Call<Fake>) => c.get(TRACE_ID), viaGetters({ traceId: 'trace-1' }));
    expect(id).toBe('trace-1');
  });

  it('method picks its methods entry (a method timeout applies)', async () => {
    const pool = poolOf(['a'], { methods: { slow: { timeout: 30 } } });
    const call = pool.run(never, viaGetters({ method: 'slow' }));
    expect(await codeOf(call, 29)).toBe('pending');
    expect(await codeOf(call, 1)).toBe('ERR_TIMEOUT');
  });

  it('method labels each attempt (call.method) and onCallEnd', async () => {
    const pool = poolOf(['a']);
    const labels: string[] = [];
    pool.use({ name: 'labels', execute: (c, next) => (labels.push(c.method), next(c)), onCallEnd: ({ method }) => void labels.push(`end:${method}`) });
    await pool.run(() => 1, viaGetters({ method: 'get_slot' }));
    expect(labels).toEqual(['get_slot', 'end:get_slot']);
  });
});

describe('coalesce and cache through the copy', () => {
  it('two callers with different option objects (one a getter) share one flight', async () => {
    const pool = poolOf(['a']);
    let calls = 0;
    let release!: (value: string) => void;
    const fn = (): Promise<string> => {
      calls++;
      return new Promise<string>((resolve) => (release = resolve));
    };
    const first = pool.run(fn, { coalesce: 'k' });
    const second = pool.run(fn, viaGetters({ coalesce: 'k' }));
    await vi.advanceTimersByTimeAsync(0);
    release('shared');
    await expect(Promise.all([first, second])).resolves.toEqual(['shared', 'shared']);
    expect(calls).toBe(1);
  });

  it('a cached result is reused within its ttl, given through a getter', async () => {
    const pool = poolOf(['a']);
    let calls = 0;
    const options = viaGetters({ coalesce: 'c', cache: { ttl: 1_000 } });
    expect(await pool.run(() => ++calls, options)).toBe(1);
    expect(await pool.run(() => ++calls, options)).toBe(1);
    await vi.advanceTimersByTimeAsync(1_001);
    expect(await pool.run(() => ++calls, options)).toBe(2);
  });

  it('each coalesced caller keeps its own signal', async () => {
    const pool = poolOf(['a']);
    let release!: (value: string) => void;
    const fn = (): Promise<string> => new Promise<string>((resolve) => (release = resolve));
    const controller = new AbortController();
    const first = pool.run(fn, viaGetters({ coalesce: 'k', signal: controller.signal }));
    const second = pool.run(fn, { coalesce: 'k' });
    await vi.advanceTimersByTimeAsync(0);
    controller.abort(new Error('first leaves'));
    expect(await codeOf(first, 0)).toBe('ERR_ABORTED');
    release('still');
    await expect(second).resolves.toBe('still');
  });
});

describe('what sees the copy and what sees the caller object', () => {
  it('call.options is a copy with the 15 known keys, and later changes to the caller object do not reach it', async () => {
    const pool = poolOf(['a']);
    const options: { timeout?: number; method?: string } = { timeout: 500, method: 'm' };
    let inside: RunOptions<Fake> | undefined;
    let release!: () => void;
    const call = pool.run(async (_client, c: Call<Fake>) => {
      inside = c.options;
      await new Promise<void>((resolve) => (release = resolve));
      return c.options.timeout;
    }, options);
    await vi.advanceTimersByTimeAsync(0);
    options.timeout = 5;
    options.method = 'changed';
    release();
    await expect(call).resolves.toBe(500);
    expect(inside).not.toBe(options);
    expect(Object.keys(inside!).sort()).toEqual(['cache', 'coalesce', 'cost', 'deadline', 'hedge', 'key', 'maxWait', 'method', 'minHeight', 'priority', 'retry', 'signal', 'strategy', 'timeout', 'traceId']);
    expect(inside!.method).toBe('m');
  });

  it('onCallEnd gets the options run() was given, read once: a copy with their values', async () => {
    const pool = poolOf(['a']);
    const given: unknown[] = [];
    pool.use({ name: 'ends', onCallEnd: ({ options }) => void given.push(options) });
    const options = { method: 'x' };
    await pool.run(() => 1, options);
    await pool.run(() => 1);
    expect(given).toEqual([options, undefined]);
    expect(given[0]).not.toBe(options);
  });

  it('around scope.options and the clientpool:call message carry the options read once: a copy with their values', async () => {
    const pool = poolOf(['a']);
    const scopes: CallScope<Fake>[] = [];
    pool.use({ name: 'around', around: (scope, next) => (scopes.push(scope), next()) });
    const messages: { options?: unknown }[] = [];
    const noop = (): void => undefined;
    const handlers = { start: (message: unknown): void => void messages.push(message as { options?: unknown }), end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
    const channel = tracingChannel(CHANNELS.call);
    channel.subscribe(handlers);
    try {
      const options = { method: 'x', timeout: 100 };
      await pool.run(() => 1, options);
      expect(scopes[0]!.options).toEqual(options);
      expect(messages[0]!.options).toEqual(options);
      expect(scopes[0]!.options).not.toBe(options);
    } finally {
      channel.unsubscribe(handlers);
    }
  });

  it('quorum runs each of its attempts with the run options it was given', async () => {
    const pool = poolOf(['a', 'b', 'c']);
    const timeouts: (number | undefined)[] = [];
    const value = await pool.quorum((_client, c: Call<Fake>) => (timeouts.push(c.options.timeout), 7), viaGetters({ of: 3, timeout: 250 }) as never);
    expect(value).toBe(7);
    expect(timeouts).toEqual([250, 250, 250]);
  });

  it('a proxy call carries its label in call.method and call.options.method', async () => {
    class Api {
      getSlot(): Promise<number> {
        return Promise.resolve(1);
      }
    }
    const pool = new ClientPool<Api>({ clock });
    pool.add(new Api(), { name: 'a' });
    const labels: [string, string | undefined][] = [];
    pool.use({ name: 'labels', execute: (c, next) => (labels.push([c.method, c.options.method]), next(c)) });
    await expect(pool.proxy().getSlot()).resolves.toBe(1);
    expect(labels).toEqual([['get_slot', 'get_slot']]);
  });
});
