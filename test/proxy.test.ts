import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { ClientPool, InvalidOptionError, TimeoutError, type Middleware } from '../src/index.js';

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
  const pool = new ClientPool<RpcClient>();
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
    vi.useFakeTimers();
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
});
