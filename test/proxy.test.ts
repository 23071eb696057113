import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { CallbackError, ClientPool, InvalidOptionError, TimeoutError, type Middleware } from '../src/index.js';
import { ExcludedMethodError } from '../src/proxy.js';

class RpcClient {
  readonly url: string;
  calls = 0;
  constructor(url: string) {
    this.url = url;
  }
  getSlot(commitment?: 'finalized' | 'confirmed'): Promise<number> {
    this.calls++;
    return Promise.resolve(commitment === 'finalized' ? 100 : 101);
  }
  getHTTPHeaders(): Record<string, string> {
    return { host: this.url };
  }
  slow(): Promise<string> {
    return new Promise((resolve) => setTimeout(() => resolve('late'), 1_000));
  }
}

function poolOf(...urls: string[]): ClientPool<RpcClient> {
  // The pool's clock is Date.now(): under fake timers it moves with them, so no test depends on real time.
  const pool = new ClientPool<RpcClient>({ clock: { now: () => Date.now() } });
  for (const url of urls) pool.add(new RpcClient(url), { name: url });
  return pool;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('pool.proxy()', () => {
  it('is typed as the client with promised results, and runs each method through the pool', async () => {
    const pool = poolOf('a', 'b');
    const rpc = pool.proxy();
    expectTypeOf(rpc.getSlot).toEqualTypeOf<(commitment?: 'finalized' | 'confirmed') => Promise<number>>();
    expectTypeOf(rpc.getHTTPHeaders).toEqualTypeOf<() => Promise<Record<string, string>>>();
    expectTypeOf(rpc).not.toHaveProperty('url');
    expect(() => (rpc as unknown as Record<string, unknown>)['url']).toThrow(InvalidOptionError);
    await expect(rpc.getSlot('finalized')).resolves.toBe(100);
    await expect(rpc.getHTTPHeaders()).resolves.toEqual({ host: 'b' }); // round robin moved on, `this` kept
  });

  it('labels calls with the method name, snake_case by default', async () => {
    const labels: string[] = [];
    const recordLabel: Middleware = { name: 'labels', execute: (call, next) => (labels.push(call.method), next(call)) };
    const pool = poolOf('a');
    pool.use(recordLabel);
    await pool.proxy().getHTTPHeaders();
    await pool.proxy({ label: 'as-is' }).getSlot();
    await pool.proxy({ label: (name) => `rpc.${name}` }).getSlot();
    expect(labels).toEqual(['get_http_headers', 'getSlot', 'rpc.getSlot']);
  });

  it('applies per-method options such as a timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const pool = poolOf('a');
    const rpc = pool.proxy({ methods: { slow: { timeout: 100 } } });
    const pending = rpc.slow().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(await pending).toBeInstanceOf(TimeoutError);
  });

  it('caches method functions, is not thenable, and is read-only', async () => {
    const pool = poolOf('a');
    const rpc = pool.proxy();
    expect(rpc.getSlot).toBe(rpc.getSlot);
    expect((rpc as unknown as { then?: unknown }).then).toBeUndefined();
    await expect(Promise.resolve(rpc)).resolves.toBe(rpc);
    expect(() => {
      (rpc as unknown as Record<string, unknown>)['getSlot'] = 1;
    }).toThrow(/read-only/);
  });

  it('an empty pool defers the method check to the call, which fails with NoClientsError', async () => {
    const pool = new ClientPool<RpcClient>();
    const rpc = pool.proxy();
    await expect(rpc.getSlot()).rejects.toMatchObject({ code: 'ERR_NO_CLIENTS' });
  });

  it('rejects a bad label option', () => {
    const pool = poolOf('a');
    expect(() => pool.proxy({ label: 'kebab' as 'snake' })).toThrow(/label must be one of "snake", "as-is" or a function, got "kebab"/);
  });

  it('a label function that throws or returns no string rejects the call with a CallbackError, never throws', async () => {
    const pool = poolOf('a');
    const failing = new Error('no');
    await expect(pool.proxy({ label: () => { throw failing; } }).getSlot()).rejects.toMatchObject({ name: 'CallbackError', cause: failing });
    await expect(pool.proxy({ label: () => 5 as unknown as string }).getSlot()).rejects.toBeInstanceOf(CallbackError);
    await expect(pool.proxy({ label: () => '' }).getSlot()).rejects.toThrow(/returned an empty string for getSlot/);
  });

  it('passes exactly the arguments the caller gave: an omitted optional parameter stays omitted', async () => {
    class Counter {
      count(...args: [key: string, callback?: (n: number) => void]): number {
        return args.length;
      }
    }
    const pool = new ClientPool<Counter>();
    pool.add(new Counter());
    const counter = pool.proxy();
    await expect(counter.count('k')).resolves.toBe(1);
    await expect(pool.proxy({ callbacks: 'allow' }).count('k', () => undefined)).resolves.toBe(2);
  });
});

/** An openai-like client: resources hold resources hold methods, each reaching its client through `this`. */
class Completions {
  readonly #owner: string;
  constructor(owner: string) {
    this.#owner = owner;
  }
  create(body: { readonly model: string }): Promise<string> {
    return Promise.resolve(`${body.model} by ${this.#owner}`);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
class AiClient {
  readonly chat: { readonly completions: Completions };
  readonly fineTuning = { jobs: { list: (): string[] => ['job-1'] } };
  readonly baseURL: string;
  readonly tags = ['eu'];
  readonly created = new Date(0);
  readonly pending = Promise.resolve();
  constructor(name: string) {
    this.baseURL = `https://${name}.example`;
    this.chat = { completions: new Completions(name) };
  }
  quit(): Promise<'OK'> {
    return Promise.resolve('OK');
  }
  readonly listeners = new Map<string, () => void>();
  on(event: string, listener: () => void): this {
    this.listeners.set(event, listener);
    return this;
  }
}

function aiPool(...names: string[]): { pool: ClientPool<AiClient>; labels: string[] } {
  const labels: string[] = [];
  const pool = new ClientPool<AiClient>({ middleware: [{ name: 'labels', execute: (call, next) => (labels.push(`${call.method}@${call.clientName}`), next(call)) }] });
  for (const name of names) pool.add(new AiClient(name), { name });
  return { pool, labels };
}

describe('pool.proxy(): nested resources', () => {
  it('runs a nested method on the picked client with its own resource as `this`, labelled by path', async () => {
    const { pool, labels } = aiPool('a', 'b');
    const ai = pool.proxy();
    await expect(ai.chat.completions.create({ model: 'm' })).resolves.toBe('m by a');
    await expect(ai.chat.completions.create({ model: 'm' })).resolves.toBe('m by b');
    await expect(ai.fineTuning.jobs.list()).resolves.toEqual(['job-1']);
    await expect(pool.proxy({ label: 'as-is' }).fineTuning.jobs.list()).resolves.toEqual(['job-1']);
    expect(labels).toEqual(['chat.completions.create@a', 'chat.completions.create@b', 'fine_tuning.jobs.list@a', 'fineTuning.jobs.list@b']);
  });

  it('caches nested proxies; they are read-only and not thenable; data properties throw', () => {
    const { pool } = aiPool('a');
    const ai = pool.proxy();
    expect(ai.chat).toBe(ai.chat);
    expect(ai.chat.completions.create).toBe(ai.chat.completions.create);
    expect((ai.chat as unknown as { then?: unknown }).then).toBeUndefined();
    expect(() => {
      (ai.chat as unknown as Record<string, unknown>)['completions'] = 1;
    }).toThrow(/proxy\.chat\.completions must be left alone/);
    expect(() => (ai as unknown as Record<string, unknown>)['baseURL']).toThrow(expect.objectContaining({ option: 'proxy.baseURL' }) as Error);
  });

  it('arrays, dates and promises are values, not resources: reading them throws', () => {
    const { pool } = aiPool('a');
    const ai = pool.proxy() as unknown as Record<string, unknown>;
    for (const name of ['tags', 'created', 'pending']) expect(() => ai[name], name).toThrow(expect.objectContaining({ option: `proxy.${name}` }) as Error);
  });

  it('on an empty pool, nested members wait for a client to tell their kind', async () => {
    const pool = new ClientPool<AiClient>();
    const ai = pool.proxy();
    const create = ai.chat.completions.create;
    const baseURL = (): unknown => (ai as unknown as Record<string, unknown>)['baseURL'];
    expect(baseURL).not.toThrow();
    await expect(create({ model: 'm' })).rejects.toMatchObject({ code: 'ERR_NO_CLIENTS' });
    pool.add(new AiClient('late'), { name: 'late' });
    expect(baseURL).toThrow(InvalidOptionError);
    await expect(create({ model: 'm' })).resolves.toBe('m by late');
    // Once there is a client, the root caches what it finds.
    expect(ai.chat).toBe(ai.chat);
    await expect(ai.chat.completions.create({ model: 'n' })).resolves.toBe('n by late');
  });

  it('per-method options are keyed by dotted path', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const slow = new AiClient('a');
    slow.chat.completions.create = () => new Promise(() => undefined);
    const pool = new ClientPool<AiClient>({ clock: { now: () => Date.now() } });
    pool.add(slow);
    const pending = pool.proxy({ methods: { 'chat.completions.create': { timeout: 50 } } }).chat.completions.create({ model: 'm' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    expect(await pending).toBeInstanceOf(TimeoutError);
  });
});

describe('pool.proxy(): what is proxied', () => {
  it('lifecycle and event methods are left out by default: reading one throws ExcludedMethodError saying why', () => {
    const { pool } = aiPool('a');
    const ai = pool.proxy() as unknown as Record<string, unknown>;
    const quit = (): unknown => ai['quit'];
    expect(quit).toThrow(ExcludedMethodError);
    expect(quit).toThrow(expect.objectContaining({ code: 'ERR_EXCLUDED_METHOD', method: 'proxy.quit', reason: 'lifecycle' }) as Error);
    expect(quit).toThrow(/lifecycle method.*include: \['quit'\]/);
    expect(() => ai['on']).toThrow(expect.objectContaining({ reason: 'event emitter' }) as Error);
    // Also nested, and also on an empty pool, where kinds are unknown.
    expect(() => (pool.proxy().chat.completions as unknown as Record<string, unknown>)['close']).toThrow(expect.objectContaining({ method: 'proxy.chat.completions.close' }) as Error);
    expect(() => (new ClientPool<AiClient>().proxy() as unknown as Record<string, unknown>)['quit']).toThrow(ExcludedMethodError);
  });

  it('include brings one back, by name or by path', async () => {
    const { pool } = aiPool('a');
    await expect(pool.proxy({ include: ['quit'] }).quit()).resolves.toBe('OK');
    await expect(pool.proxy({ include: ['chat.completions.close'] }).chat.completions.close()).resolves.toBeUndefined();
  });

  it('exclude leaves out a method or a resource, by name or by path, and wins over include', () => {
    const { pool } = aiPool('a');
    const read = (proxy: object, ...path: string[]): unknown => path.reduce<unknown>((node, step) => (node as Record<string, unknown>)[step], proxy);
    expect(() => read(pool.proxy({ exclude: ['create'] }), 'chat', 'completions', 'create')).toThrow(expect.objectContaining({ reason: 'excluded' }) as Error);
    expect(() => read(pool.proxy({ exclude: ['fineTuning'] }), 'fineTuning')).toThrow(/left out by the proxy's exclude option/);
    expect(() => read(pool.proxy({ exclude: ['chat.completions.create'] }), 'chat', 'completions', 'create')).toThrow(ExcludedMethodError);
    expect(read(pool.proxy({ exclude: ['completions.create'] }), 'chat', 'completions', 'create')).toBeTypeOf('function');
    expect(() => read(pool.proxy({ include: ['quit'], exclude: ['quit'] }), 'quit')).toThrow(ExcludedMethodError);
  });

  it('a call whose last argument is a function is refused, before any client is used, unless callbacks are allowed', async () => {
    const { pool, labels } = aiPool('a');
    const loose = pool.proxy({ include: ['on'] });
    await expect(loose.on('x', () => undefined)).rejects.toMatchObject({ code: 'ERR_EXCLUDED_METHOD', reason: 'callback', method: 'proxy.on' });
    expect(labels).toEqual([]);
    await expect(pool.proxy({ include: ['on'], callbacks: 'allow' }).on('x', () => undefined)).resolves.toBeInstanceOf(AiClient);
  });

  it('refuses bad include, exclude, callbacks and signal options, naming them', () => {
    const { pool } = aiPool('a');
    expect(() => pool.proxy({ include: 'quit' as never })).toThrow(expect.objectContaining({ option: 'proxy options.include' }) as Error);
    expect(() => pool.proxy({ exclude: ['ok', 5 as never] })).toThrow(expect.objectContaining({ option: 'proxy options.exclude[1]', value: 5 }) as Error);
    expect(() => pool.proxy({ callbacks: 'maybe' as never })).toThrow(expect.objectContaining({ option: 'proxy options.callbacks' }) as Error);
    expect(() => pool.proxy({ signal: { quit: -1 } as never })).toThrow(expect.objectContaining({ option: 'proxy options.signal.quit', value: -1 }) as Error);
    expect(() => pool.proxy({ run: 5 as never })).toThrow(expect.objectContaining({ option: 'proxy options.run' }) as Error);
  });
});

describe('pool.proxy(): run options and the attempt signal', () => {
  interface Fetcher {
    fetch(url: string, init?: { readonly signal?: AbortSignal; readonly headers?: Record<string, string> }): Promise<AbortSignal | undefined>;
  }

  it('puts call.signal into the options parameter named by the signal option, in place of the caller\'s own, which it follows', async () => {
    const seen: { init: unknown; signal: AbortSignal | undefined }[] = [];
    const attemptSignals: AbortSignal[] = [];
    const pool = new ClientPool<Fetcher>({ middleware: [{ name: 'signals', execute: (call, next) => (attemptSignals.push(call.signal), next(call)) }] });
    pool.add({ fetch: (_url, init) => (seen.push({ init, signal: init?.signal }), Promise.resolve(init?.signal)) });
    const http = pool.proxy({ signal: { fetch: 1 } });
    const headers = { headers: { a: '1' } };
    const own = new AbortController().signal;
    const injected = await http.fetch('/x');
    const merged = await http.fetch('/y', headers);
    const followed = await http.fetch('/z', { signal: own });
    expect(followed).toBe(attemptSignals[2]); // the attempt's signal, which aborts with `own` too
    expect(injected).toBeInstanceOf(AbortSignal);
    expect(injected).toBe(attemptSignals[0]);
    expect(merged).toBe(attemptSignals[1]);
    expect(seen[1]?.init).toEqual({ headers: { a: '1' }, signal: merged });
    expect(headers).toEqual({ headers: { a: '1' } }); // the caller's object is left alone
    await expect(pool.proxy().fetch('/w')).resolves.toBeUndefined(); // no signal option: arguments as given
  });

  it('run options apply to every call of the proxy and win over per-method options', async () => {
    const keys: (string | undefined)[] = [];
    const pool = poolOf('a', 'b');
    pool.use({ name: 'keys', execute: (call, next) => (keys.push(`${call.options.key ?? '-'} ${String(call.options.timeout)}`), next(call)) });
    await pool.proxy({ methods: { getSlot: { timeout: 100, key: 'm' } }, run: { key: 'alice' } }).getSlot();
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(pool.proxy({ run: { signal: controller.signal } }).getSlot()).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(keys).toEqual(['alice 100']);
  });
});
