import { afterEach, describe, expect, it, vi } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AbortedError, ClientCallError, ClientPool, failureRate, hasErrorCode, PoolClosedError, RateLimitedError, RetryBudgetExhaustedError, TimeoutError } from '../../src/index.js';

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

describe('what is retried by default: a client without the method', () => {
  it('a proxy call that picked a client without the method is retried on one that has it', async () => {
    interface Cache { get(key: string): Promise<string> }
    const pool = new ClientPool<Cache>({ retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.add({} as Cache, { name: 'old' });
    pool.add({ get: (key: string) => Promise.resolve(`${key}@new`) }, { name: 'new' });
    const seen: string[] = [];
    pool.use({ name: 'seen', onOutcome: (call, outcome) => void seen.push(`${call.clientName} ${outcome.kind}${'error' in outcome ? ` ${outcome.error.code}` : ''}`) });
    const cache = pool.proxy({ run: { strategy: { pick: (ready) => ready.find((m) => m.name === 'old') ?? ready[0]! } } });
    await expect(cache.get('k')).resolves.toBe('k@new');
    expect(seen).toEqual(['old refused ERR_MISSING_METHOD', 'new success']);
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

describe('what a retry and a hedge report', () => {
  it('a retry attempt says it is a retry', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3, backoff: { initial: 10, jitter: 'none' } } });
    pool.add(a);
    pool.add(b);
    const kinds: string[] = [];
    const call = pool.run((_client, attempt) => {
      kinds.push(attempt.kind);
      return kinds.length < 3 ? Promise.reject(new Error('down')) : 'ok';
    });
    await vi.advanceTimersByTimeAsync(100);
    await expect(call).resolves.toBe('ok');
    expect(kinds).toEqual(['first', 'retry', 'retry']);
    await pool.close();
  });

  it('the first decorrelated backoff is drawn from [initial, 3 x initial]', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const pool = new ClientPool<typeof a>({ random: () => 0.5, retry: { attempts: 2, backoff: { initial: 100, max: 10_000, jitter: 'decorrelated' } } });
    pool.add(a);
    pool.add(b);
    const times: number[] = [];
    const call = pool.run(() => {
      times.push(Date.now());
      return times.length < 2 ? Promise.reject(new Error('down')) : 'ok';
    });
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(call).resolves.toBe('ok');
    // Halfway between 100 and 300.
    expect(times).toEqual([0, 200]);
    await pool.close();
  });

  it('an attempt outrun by a hedge times out after the time it ran, on the pool clock', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000);
    const pool = new ClientPool<typeof a>({ clock: { now: () => Date.now() }, hedge: { delay: 100 }, retryBudget: false });
    pool.add(a, { name: 'slow' });
    pool.add(b, { name: 'fast' });
    const signals = new Map<string, AbortSignal>();
    const call = pool.run((client, attempt) => {
      signals.set(client.id, attempt.signal);
      return sleep(client === a ? 1_000 : 30).then(() => client.id);
    }, { strategy: { pick: (ready) => ready.find((m) => m.name === 'slow') ?? ready[0]! } });
    await vi.advanceTimersByTimeAsync(200);
    await expect(call).resolves.toBe('b');
    const reason = signals.get('a')!.reason as TimeoutError;
    expect(reason).toBeInstanceOf(TimeoutError);
    expect(reason.timeoutMs).toBe(130);
    expect(reason.message).toBe('call timed out after 130 ms on client slow');
    await pool.close();
  });
});

describe('a hedged call', () => {
  it('ends at destroy() with PoolClosedError even when its functions ignore their signal', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>({ hedge: { delay: 10 }, retryBudget: false });
    pool.add(a);
    pool.add(b);
    let starts = 0;
    const call = pool.run(() => {
      starts++;
      return new Promise(() => undefined);
    }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(20);
    expect(starts).toBe(2);
    void pool.destroy();
    await vi.advanceTimersByTimeAsync(1);
    expect(await call).toBeInstanceOf(PoolClosedError);
  });

  it('starts no hedge once the pool is closing, and spends no retry budget on one', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>({ hedge: { delay: 100 }, retryBudget: { ratio: 0, reserve: 3 } });
    pool.add(a);
    pool.add(b);
    let starts = 0;
    const call = pool.run(() => {
      starts++;
      return sleep(500).then(() => 'done');
    });
    await vi.advanceTimersByTimeAsync(50);
    const closed = pool.close();
    await vi.advanceTimersByTimeAsync(600);
    await expect(call).resolves.toBe('done');
    await closed;
    expect(starts).toBe(1);
    expect(pool.retryBudget).toEqual({ balance: 3, refused: 0 });
  });

  it('with retries, makes no more attempts once a hedge won on another client', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>({ hedge: { delay: 10 }, retry: { attempts: 3, backoff: { initial: 5, jitter: 'none' } }, retryBudget: false });
    pool.add(a, { name: 'slow' });
    pool.add(b, { name: 'fast' });
    const starts: string[] = [];
    const call = pool.run((client) => {
      starts.push(client.id);
      return sleep(client === a ? 1_000 : 5).then(() => client.id);
    }, { strategy: { pick: (ready) => ready.find((m) => m.name === 'slow') ?? ready[0]! } });
    await vi.advanceTimersByTimeAsync(20);
    await expect(call).resolves.toBe('b');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(starts).toEqual(['a', 'b']);
    await pool.close();
  });

  it('whose hedge is refused a pool token is left to the attempt in flight', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>({ limit: { rate: 1, burst: 1 }, maxWait: 0, hedge: { delay: 10 }, retryBudget: false });
    pool.add(a);
    pool.add(b);
    let starts = 0;
    const call = pool.run((client) => {
      starts++;
      return sleep(50).then(() => client.id);
    });
    await vi.advanceTimersByTimeAsync(100);
    await expect(call).resolves.toBe('a');
    expect(starts).toBe(1);
    await pool.close();
  });
});

describe('the retry-after of a failure', () => {
  const twoClients = (retryAfter: () => number | undefined): ClientPool<typeof a> => {
    const pool = new ClientPool<typeof a>({ retry: { attempts: 2, backoff: { initial: 100, max: 10_000, jitter: 'none' }, retryAfter } });
    pool.add(a);
    pool.add(b);
    return pool;
  };
  const retryTimes = async (pool: ClientPool<typeof a>): Promise<number[]> => {
    const times: number[] = [];
    const call = pool.run(() => {
      times.push(Date.now());
      return times.length < 2 ? Promise.reject(new Error('busy')) : 'ok';
    });
    await vi.advanceTimersByTimeAsync(5_000);
    await expect(call).resolves.toBe('ok');
    return times;
  };

  it('is ignored when it is not a number (a header string), and the backoff applies', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const pool = twoClients(() => '700' as unknown as number);
    expect(await retryTimes(pool)).toEqual([0, 100]);
    await pool.close();
  });

  it('is ignored when it is NaN (an unparsable header), and the backoff applies', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const pool = twoClients(() => Number.NaN);
    expect(await retryTimes(pool)).toEqual([0, 100]);
    await pool.close();
  });

  it('is used when it is longer than the backoff', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const pool = twoClients(() => 700);
    expect(await retryTimes(pool)).toEqual([0, 700]);
    await pool.close();
  });
});

describe('what is retried by default: refusals', () => {
  it('an attempt refused by a middleware that throws a non-Error (a panic) is retried on another client', async () => {
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3, backoff: { initial: 0, max: 0 } } });
    pool.use((call, next) => (call.clientName === 'a' ? Promise.reject('no auth token for a') : next(call)));
    pool.add(a, { name: 'a' });
    pool.add(b, { name: 'b' });
    await expect(pool.run((client) => client.id, { strategy: { pick: (ready) => ready.find((m) => m.name === 'a') ?? ready[0]! } })).resolves.toBe('b');
    expect(pool.members().find((m) => m.name === 'a')).toMatchObject({ refused: 1, failures: 0 });
    await pool.close();
  });
});

describe('a retry callback that throws', () => {
  const warningsOf = (): string[] => {
    const warnings: string[] = [];
    vi.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error) => void warnings.push(String(warning)));
    return warnings;
  };

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('retryOn: the attempt is not retried, and the warning names retry.retryOn', async () => {
    const warnings = warningsOf();
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3, backoff: { initial: 0, max: 0 }, retryOn: () => { throw new Error('no rule'); } } });
    pool.add(a);
    pool.add(b);
    let calls = 0;
    await expect(pool.run(() => Promise.reject(new Error(`down ${++calls}`)))).rejects.toBeInstanceOf(ClientCallError);
    expect(calls).toBe(1);
    expect(warnings).toEqual([expect.stringContaining('clientpool: retry.retryOn failed') as string]);
    await pool.close();
  });

  it('retryAfter: the backoff applies, and the warning names retry.retryAfter', async () => {
    const warnings = warningsOf();
    const pool = new ClientPool<typeof a>({ retry: { attempts: 2, backoff: { initial: 0, max: 0 }, retryAfter: () => { throw new Error('no header'); } } });
    pool.add(a);
    pool.add(b);
    let calls = 0;
    await expect(pool.run(() => (++calls === 1 ? Promise.reject(new Error('down')) : 'ok'))).resolves.toBe('ok');
    expect(warnings).toEqual([expect.stringContaining('clientpool: retry.retryAfter failed') as string]);
    await pool.close();
  });
});

describe('a retried call and destroy()', () => {
  it('a retry of a call with no timeout and no signal runs plain: destroy() leaves its caller to the function, as a plain call', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<typeof a>({ retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.add(a);
    pool.add(b);
    let calls = 0;
    const call = pool.run(() => (++calls === 1 ? Promise.reject(new Error('down')) : sleep(100).then(() => 'late')));
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toBe(2);
    void pool.destroy();
    await vi.advanceTimersByTimeAsync(100);
    await expect(call).resolves.toBe('late');
  });
});

describe('a call the caller left during its retry backoff', () => {
  it('is not kept by the pool', async () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3, backoff: { initial: 60_000, max: 60_000, jitter: 'none' } } });
    pool.add(a);
    pool.add(b);
    const controller = new AbortController();
    const [call, fn] = ((): [Promise<unknown>, WeakRef<object>] => {
      // An error's stack trace holds the functions and receivers of its frames: the failure is made outside
      // the function, and only how the call ended is kept.
      const failure = new Error('down');
      const down = (): Promise<never> => Promise.reject(failure);
      const ended = pool.run(down, { signal: controller.signal }).then(() => 'resolved', (e: unknown) => (e instanceof AbortedError ? 'aborted' : 'failed'));
      return [ended, new WeakRef(down)];
    })();
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort('left');
    expect(await call).toBe('aborted');
    // A WeakRef's target lives to the end of the turn that read it, and the pool's signal watches let go
    // of a watch on the next turn: a few turns and collections.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    // The call's function is held by nothing but the call: gone once the pool lets go of the call.
    expect(fn.deref()).toBeUndefined();
    await pool.close();
  });
});

describe('what is not retried by default: answers and the pool\'s own refusals', () => {
  it('an error isFailure says the client answered is not retried', async () => {
    const pool = new ClientPool<typeof a>({ isFailure: () => false, retry: { attempts: 3, backoff: { initial: 0, max: 0 } } });
    pool.add(a);
    pool.add(b);
    let calls = 0;
    const error = await pool.run(() => Promise.reject(new Error(`404 ${++calls}`))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientCallError);
    expect(calls).toBe(1);
    await pool.close();
  });

  it('a middleware refusal with a clientpool error of its own (a closed pool it used) is not retried', async () => {
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3, backoff: { initial: 0, max: 0 } } });
    let refusals = 0;
    pool.use(() => {
      refusals++;
      return Promise.reject(new PoolClosedError());
    });
    pool.add(a);
    pool.add(b);
    await expect(pool.run((client) => client.id)).rejects.toBeInstanceOf(PoolClosedError);
    expect(refusals).toBe(1);
    await pool.close();
  });
});

describe('a caller abort', () => {
  it('while the attempt waits for its client\'s shared limit ends the call at once, without asking retryOn', async () => {
    vi.useFakeTimers();
    const slowLimit = { take: (_n: number, options?: { signal?: AbortSignal }) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 1_000);
      options?.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    }) };
    const retryOn = vi.fn(() => true);
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3, backoff: { initial: 500, max: 500, jitter: 'none' }, retryOn }, retryBudget: { ratio: 0, reserve: 5 } });
    pool.add(a, { name: 'limited', limit: slowLimit });
    pool.add(b, { name: 'plain' });
    const controller = new AbortController();
    let calls = 0;
    const call = pool.run(() => ++calls, { signal: controller.signal, strategy: { pick: (ready) => ready.find((m) => m.name === 'limited') ?? ready[0]! } }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort('left');
    const error = await call;
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).cause).toBe('left');
    expect(retryOn).not.toHaveBeenCalled();
    expect(calls).toBe(0);
    expect(pool.retryBudget).toEqual({ balance: 5, refused: 0 });
    await pool.close();
  });

  it('while its attempt runs ends the call at once, without asking retryOn or backing off', async () => {
    vi.useFakeTimers();
    const retryOn = vi.fn(() => true);
    const pool = new ClientPool<typeof a>({ retry: { attempts: 3, backoff: { initial: 500, max: 500, jitter: 'none' }, retryOn } });
    pool.add(a);
    pool.add(b);
    const controller = new AbortController();
    let calls = 0;
    const call = pool.run(() => {
      calls++;
      return new Promise(() => undefined);
    }, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort('left');
    await vi.advanceTimersByTimeAsync(1);
    const error = await call;
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).cause).toBe('left');
    expect(retryOn).not.toHaveBeenCalled();
    expect(calls).toBe(1);
    await pool.close();
  });
});

describe('an AbortedError from a limiter is not the caller leaving', () => {
  it('a hedge whose pool token wait a limiter rejects with its own AbortedError leaves the call to the attempt in flight', async () => {
    vi.useFakeTimers();
    let taken = 0;
    const limit = {
      tryTake: (): boolean => taken++ === 0,
      take: (): Promise<void> => Promise.reject(new AbortedError('the limiter gave up')),
    };
    const pool = new ClientPool<typeof a>({ limit, hedge: { delay: 10 }, retryBudget: false });
    pool.add(a, { name: 'a' });
    pool.add(b, { name: 'b' });
    const result = pool.run(async (client) => {
      await sleep(50);
      return client.id;
    });
    const settled = result.then((value) => ({ value }), (error: unknown) => ({ error }));
    await vi.advanceTimersByTimeAsync(100);
    expect(await settled).toEqual({ value: 'a' });
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });
});

describe('close() and a hedged call', () => {
  it("a hedge waiting for its client's shared limit is cancelled, and the call is left to the attempt in flight", async () => {
    vi.useFakeTimers();
    const slowLimit = { take: (_n: number, options?: { signal?: AbortSignal }) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 1_000);
      options?.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    }) };
    const pool = new ClientPool<typeof a>({ hedge: { delay: 10 }, retryBudget: false });
    pool.add(a, { name: 'plain' });
    pool.add(b, { name: 'limited', limit: slowLimit });
    const seen: string[] = [];
    pool.use({ name: 'seen', onOutcome: (call, outcome) => void seen.push(`${call.clientName} ${outcome.kind}${'error' in outcome ? ` ${outcome.error.code}` : ''}`) });
    const result = pool.run(async (client) => {
      await sleep(100);
      return client.id;
    }, { strategy: { pick: (ready) => ready.find((m) => m.name === 'plain') ?? ready[0]! } });
    const settled = result.then((value) => ({ value }), (error: unknown) => ({ error }));
    await vi.advanceTimersByTimeAsync(20);
    const closed = pool.close();
    await vi.advanceTimersByTimeAsync(200);
    expect(await settled).toEqual({ value: 'a' });
    expect(seen).toEqual(['limited cancelled ERR_POOL_CLOSED', 'plain success']);
    await closed;
  });
});

describe('a caller abort as a hedge is refused a token', () => {
  it('the hedge that never held a client leaves the call to end with the caller\'s reason', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    let asked = 0;
    const limit = {
      // The second ask is the hedge's: the caller leaves just then, and the limiter breaks.
      tryTake: (): boolean => {
        if (asked++ === 0) return true;
        controller.abort('left');
        throw new Error('limiter down');
      },
      take: (): Promise<void> => Promise.resolve(),
    };
    const pool = new ClientPool<typeof a>({ limit, hedge: { delay: 10 }, retryBudget: false });
    pool.add(a);
    pool.add(b);
    const call = pool.run(() => new Promise(() => undefined), { signal: controller.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(20);
    const error = await call;
    expect(asked).toBe(2);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).cause).toBe('left');
    await pool.close();
  });
});
