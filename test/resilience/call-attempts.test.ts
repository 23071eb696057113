import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, ClientCallError, ClientPool, failureRate, hasErrorCode, RateLimitedError, RetryBudgetExhaustedError } from '../../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

const a = { id: 'a' };
const b = { id: 'b' };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('retries and hedges blame an attempt only on its own client', () => {
  it('hedges on the one client that all win: the client stays closed with no failure', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>({
      breaker: failureRate({ threshold: 0.5, window: { kind: 'count', size: 10 }, minimumThroughput: 5 }),
      hedge: { delay: 10 },
      retryBudget: false,
    });
    pool.add(a);
    const results = Array.from({ length: 12 }, () => pool.run(async (_client, call) => {
      await sleep(call.kind === 'first' ? 50 : 5);
      return call.kind;
    }));
    await vi.advanceTimersByTimeAsync(100);
    expect(await Promise.all(results)).toEqual(Array(12).fill('hedge'));
    expect(pool.members()[0]).toMatchObject({ state: { kind: 'closed' }, failures: 0, inFlight: 0 });
  });

  it('an attempt outrun by a hedge on another client is a timeout of its own client', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>({ breaker: { maxFailures: 1 }, hedge: { delay: 10 }, retryBudget: false });
    pool.add(a, { name: 'slow' });
    pool.add(b, { name: 'fast' });
    const result = pool.run(async (client) => {
      await sleep(client === a ? 1_000 : 5);
      return client.id;
    });
    await vi.advanceTimersByTimeAsync(20);
    expect(await result).toBe('b');
    const byName = Object.fromEntries(pool.members().map((m) => [m.name, m]));
    expect(byName['slow']).toMatchObject({ failures: 1, state: { kind: 'open' } });
    expect(byName['fast']).toMatchObject({ successes: 1, failures: 0 });
  });

  it('a retry refused by the retry budget says so in the error the caller gets', async () => {
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3, backoff: { initial: 0, max: 0 } }, retryBudget: { ratio: 0, reserve: 0 } });
    pool.add(a);
    pool.add(b);
    const error = await pool.run(() => Promise.reject(new Error('down'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryBudgetExhaustedError);
    expect(hasErrorCode(error, 'ERR_RETRY_BUDGET')).toBe(true);
    expect(hasErrorCode((error as Error).cause, 'ERR_CLIENT_CALL')).toBe(true);
    expect((error as Error).message).toMatch(/retry budget/);
  });

  it('a retried call whose first attempt succeeds makes one attempt', async () => {
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3 } });
    pool.add(a);
    pool.add(b);
    let attempts = 0;
    await expect(pool.run(() => ++attempts)).resolves.toBe(1);
    expect(attempts).toBe(1);
  });

  it('a retry goes to a client not tried yet', async () => {
    const pool = new ClientPool<typeof a>({ retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.add(a);
    pool.add(b);
    const seen: string[] = [];
    const value = await pool.run((client) => {
      seen.push(client.id);
      return seen.length === 1 ? Promise.reject(new Error('first')) : client.id;
    });
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
    expect(value).toBe(seen[1]);
  });
});

describe('retries read the pool\'s verdict', () => {
  it('a nested pool whose clients are all open counts against its outer client, and the call fails over', async () => {
    const dead = new ClientPool<{ id: string }>({ breaker: { maxFailures: 1 } });
    dead.add({ id: 'dead' });
    await dead.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
    const alive = new ClientPool<{ id: string }>();
    alive.add({ id: 'alive' });
    // retryAfter: the dead region's "back in 10 s" speaks for that region only; the other can serve now.
    const outer = new ClientPool<ClientPool<{ id: string }>>({ retry: { attempts: 2, backoff: { initial: 0, max: 0 }, retryAfter: () => undefined }, breaker: { maxFailures: 1 } });
    outer.add(dead, { name: 'eu' });
    outer.add(alive, { name: 'us' });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await outer.run((region) => region.run((c) => c.id)));
    expect(results).toEqual(['alive', 'alive', 'alive', 'alive']);
    expect(outer.members().find((m) => m.name === 'eu')!.state.kind).toBe('open');
    await Promise.all([outer.close(), dead.close(), alive.close()]);
  });

  it('a backoff whose growth overflows (0 x Infinity) still retries', async () => {
    const pool = new ClientPool<typeof a>({ retry: { attempts: 4, backoff: { initial: 0, multiplier: 1e200, jitter: 'none' } } });
    pool.add(a);
    pool.add(b);
    let calls = 0;
    await expect(pool.run(() => (++calls < 3 ? Promise.reject(new Error('again')) : 'done'))).resolves.toBe('done');
    await pool.close();
  });
});

describe('what is retried by default', () => {
  it('an attempt refused by a middleware\'s own error is retried on another client; a rate-limit refusal is not', async () => {
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3, backoff: { initial: 0, max: 0 } } });
    let refuse: (name: string) => Error | undefined = (name) => (name === 'a' ? new Error('no auth token for a') : undefined);
    pool.use((call, next) => {
      const error = refuse(call.clientName);
      return error === undefined ? next(call) : Promise.reject(error);
    });
    pool.add(a, { name: 'a' });
    pool.add(b, { name: 'b' });
    await expect(pool.run((client) => client.id)).resolves.toBe('b');
    refuse = (name) => (name === 'a' ? new RateLimitedError(1_000, 'a middleware') : undefined);
    const results = await Promise.all([pool.run((client) => client.id).catch((e: unknown) => (e as { code: string }).code), pool.run((client) => client.id).catch((e: unknown) => (e as { code: string }).code)]);
    expect(results.sort()).toEqual(['ERR_RATE_LIMITED', 'b']);
    await pool.close();
  });
});

describe('what is not retried by default', () => {
  it("a refusal by the chosen client's shared limit is not retried on another client", async () => {
    const refusing = { take: () => Promise.reject(new RateLimitedError(500, 'redis')) };
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3, backoff: { initial: 0, max: 0 } } });
    pool.add(a, { name: 'limited', limit: refusing });
    pool.add(b, { name: 'plain' });
    const called: string[] = [];
    const error = await pool.run((client) => called.push(client.id), { strategy: { pick: (ready) => ready.find((m) => m.name === 'limited') ?? ready[0]! } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(called).toEqual([]);
    await pool.close();
  });
});

describe('a hedge loser that never reached its client', () => {
  it('is cancelled, not blamed, when it was still waiting for its client\'s shared limit', async () => {
    const slowLimit = { take: (_n: number, options?: { signal?: AbortSignal }) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 200);
      options?.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    }) };
    const pool = new ClientPool<typeof a>({ hedge: { delay: 10 }, retryBudget: false, breaker: { maxFailures: 1 } });
    pool.add(a, { name: 'limited', limit: slowLimit });
    pool.add(b, { name: 'plain' });
    const seen: { client: string; kind: string; code: string | undefined }[] = [];
    pool.use({ name: 'seen', onOutcome: (call, outcome) => void seen.push({ client: call.clientName, kind: outcome.kind, code: 'error' in outcome ? outcome.error.code : undefined }) });
    await expect(pool.run((client) => client.id, { strategy: { pick: (ready) => ready.find((m) => m.name === 'limited') ?? ready[0]! } })).resolves.toBe('b');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toContainEqual({ client: 'limited', kind: 'cancelled', code: 'ERR_ABORTED' });
    expect(pool.members().find((m) => m.name === 'limited')).toMatchObject({ failures: 0, state: { kind: 'closed' } });
    await pool.close();
  });
});

describe('a call in its retry backoff', () => {
  const backingOff = (): ClientPool<typeof a> => {
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3, backoff: { initial: 5_000, max: 5_000, jitter: 'none' } } });
    pool.add(a);
    pool.add(b);
    return pool;
  };

  it('ends when the pool closes, with its last attempt\'s error, and makes no more attempts', async () => {
    vi.useFakeTimers();
    const pool = backingOff();
    let attempts = 0;
    const cause = new Error('down');
    const call = pool.run(() => {
      attempts++;
      return Promise.reject(cause);
    }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1);
    await pool.close();
    const error = await call;
    expect(error).toBeInstanceOf(ClientCallError);
    expect((error as Error).cause).toBe(cause);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(attempts).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends when the caller aborts, with the reason, and makes no more attempts', async () => {
    vi.useFakeTimers();
    const pool = backingOff();
    const controller = new AbortController();
    let attempts = 0;
    const call = pool.run(() => {
      attempts++;
      return Promise.reject(new Error('down'));
    }, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    controller.abort('user left');
    const error = await call;
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).cause).toBe('user left');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(attempts).toBe(1);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('retries once the backoff is over', async () => {
    vi.useFakeTimers();
    const pool = backingOff();
    const times: number[] = [];
    const call = pool.run(() => {
      times.push(Date.now());
      return times.length < 2 ? Promise.reject(new Error('down')) : 'ok';
    });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(times).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(call).resolves.toBe('ok');
    expect(times[1]! - times[0]!).toBe(5_000);
    await pool.close();
  });
});
