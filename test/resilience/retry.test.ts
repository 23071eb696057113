import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, ClientCallError, ClientPool, RateLimitedError, seededRandom, TimeoutError, type Call } from '../../src/index.js';
import { RetryBudget } from '../../src/resilience/retry-budget.js';

interface Fake {
  readonly id: string;
}
const clock = { now: () => Date.now() };

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

function pool(options: ConstructorParameters<typeof ClientPool<Fake>>[0] = {}, ids = ['a', 'b', 'c']): ClientPool<Fake> {
  const p = new ClientPool<Fake>({ clock, random: seededRandom(1), ...options });
  for (const id of ids) p.add({ id }, { name: id });
  return p;
}

describe('retry', () => {
  it('retries a failure on a client not yet tried and succeeds', async () => {
    const p = pool({ retry: { attempts: 3, backoff: { initial: 10, jitter: 'none' } } });
    const tried: string[] = [];
    const result = p.run((client, call) => {
      tried.push(`${client.id}#${call.attempt}`);
      if (client.id !== 'c') throw new Error(`${client.id} down`);
      return 'ok';
    });
    await vi.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe('ok');
    expect(tried).toEqual(['a#1', 'b#2', 'c#3']);
  });

  it('waits the backoff between attempts (exponential, no jitter)', async () => {
    const p = pool({ retry: { attempts: 4, backoff: { initial: 100, multiplier: 2, jitter: 'none' } } });
    const times: number[] = [];
    const result = p.run(() => {
      times.push(Date.now());
      throw new Error('down');
    }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(times).toEqual([0, 100, 300, 700]);
    expect(await result).toBeInstanceOf(ClientCallError);
  });

  it('full and decorrelated jitter stay within their bounds', async () => {
    for (const jitter of ['full', 'decorrelated'] as const) {
      const p = pool({ random: seededRandom(5), retry: { attempts: 6, backoff: { initial: 100, max: 1_000, jitter } } });
      const times: number[] = [];
      const result = p.run(() => {
        times.push(Date.now());
        throw new Error('down');
      }).catch(() => undefined);
      await vi.advanceTimersByTimeAsync(10_000);
      await result;
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(gaps).toHaveLength(5);
      for (const gap of gaps) expect(gap).toBeLessThanOrEqual(1_000);
      if (jitter === 'decorrelated') for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(100);
    }
  });

  it('does not retry what retryOn rejects, the caller abort, or a local rate limit', async () => {
    const p = pool({ retry: { attempts: 5, retryOn: (error) => !(error.cause instanceof RangeError) } });
    let calls = 0;
    await expect(p.run(() => {
      calls++;
      throw new RangeError('bad request');
    })).rejects.toBeInstanceOf(ClientCallError);
    expect(calls).toBe(1);

    const controller = new AbortController();
    const aborted = p.run(() => new Promise(() => undefined), { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort('bye');
    expect(await aborted).toBeInstanceOf(AbortedError);
  });

  it('a timeout counts as a failure and is retried on another client', async () => {
    const p = pool({ timeout: 50, retry: { attempts: 2, backoff: { initial: 0, jitter: 'none' } } });
    const result = p.run((client) => (client.id === 'a' ? new Promise(() => undefined) : 'b answered'));
    await vi.advanceTimersByTimeAsync(60);
    await expect(result).resolves.toBe('b answered');
    expect(p.members().find((m) => m.name === 'a')).toMatchObject({ failures: 1 });
  });

  it('respects Retry-After carried by the error, and gives up when it exceeds backoff.max', async () => {
    class TooMany extends Error {
      readonly retryAfterMs: number;
      constructor(ms: number) {
        super('429');
        this.retryAfterMs = ms;
      }
    }
    const p = pool({ retry: { attempts: 2, backoff: { initial: 1, max: 1_000, jitter: 'none' } } });
    const times: number[] = [];
    const ok = p.run(() => {
      times.push(Date.now());
      if (times.length === 1) throw new TooMany(400);
      return 'ok';
    });
    await vi.advanceTimersByTimeAsync(500);
    await expect(ok).resolves.toBe('ok');
    expect(times).toEqual([0, 400]);

    let calls = 0;
    await expect(p.run(() => {
      calls++;
      throw new TooMany(5_000);
    })).rejects.toBeInstanceOf(ClientCallError);
    expect(calls).toBe(1);
  });

  it('is set per method and overridden per call', async () => {
    const p = pool({ methods: { flaky: { retry: { attempts: 3, backoff: { initial: 0 } } } } });
    let calls = 0;
    const fail = (): never => {
      calls++;
      throw new Error('x');
    };
    await expect(p.run(fail)).rejects.toThrow();
    expect(calls).toBe(1);
    calls = 0;
    const flaky = p.run(fail, { method: 'flaky' }).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(10);
    await flaky;
    expect(calls).toBe(3);
    calls = 0;
    await expect(p.run(fail, { method: 'flaky', retry: false })).rejects.toThrow();
    expect(calls).toBe(1);
  });
});

describe('retry when no client can be chosen', () => {
  it('reports the last attempt\'s failure, not AllCircuitsOpenError', async () => {
    const p = pool({ breaker: { maxFailures: 1 }, retry: { attempts: 3, backoff: { initial: 0 } } }, ['a']);
    const result = p.run(() => Promise.reject(new Error('a down'))).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    const error = await result;
    expect(error).toBeInstanceOf(ClientCallError);
    expect((error as Error).message).toMatch(/a down/);
  });

  it('retries take pool-wide tokens too', async () => {
    const p = pool({ limit: { rate: 1, burst: 2 }, maxWait: 0, breaker: false, retry: { attempts: 5, backoff: { initial: 0 } } }, ['a', 'b']);
    let attempts = 0;
    const result = p.run(() => {
      attempts++;
      throw new Error('down');
    }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    expect(await result).toBeInstanceOf(ClientCallError);
    expect(attempts).toBe(2);
  });
});

describe('retry budget', () => {
  it('stops retries once the budget is spent, so an outage is not multiplied', async () => {
    const p = pool({ breaker: false, retry: { attempts: 3, backoff: { initial: 0 } }, retryBudget: { ratio: 0.1, reserve: 2 } }, ['a']);
    let attempts = 0;
    const calls = 100;
    for (let i = 0; i < calls; i++) {
      const result = p.run(() => {
        attempts++;
        throw new Error('outage');
      }).catch(() => undefined);
      await vi.advanceTimersByTimeAsync(1);
      await result;
    }
    // At most reserve + ratio x calls extra attempts.
    expect(attempts - calls).toBeLessThanOrEqual(2 + 0.1 * calls);
    expect(attempts - calls).toBeGreaterThanOrEqual(10);
    expect(p.retryBudget!.refused).toBeGreaterThan(0);
  });

  it('never grants more than reserve + ratio x calls (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 20 }), fc.array(fc.boolean(), { maxLength: 500, size: 'max' }), (ratio, reserve, ops) => {
        const budget = new RetryBudget({ ratio, reserve });
        let calls = 0;
        let granted = 0;
        for (const isCall of ops) {
          if (isCall) {
            budget.deposit();
            calls++;
          } else if (budget.tryWithdraw()) granted++;
          expect(granted).toBeLessThanOrEqual(reserve + ratio * calls + 1e-9);
        }
      }),
    );
  });

  it('validates its options', () => {
    expect(() => new ClientPool({ retryBudget: { ratio: -1 } })).toThrow(/retryBudget.ratio must be a finite number >= 0, got -1/);
    expect(() => new ClientPool({ retry: { attempts: 0 } })).toThrow(/retry.attempts must be an integer >= 1, got 0/);
    expect(() => new ClientPool({ retry: { backoff: { jitter: 'some' as 'full' } } })).toThrow(/retry.backoff.jitter must be one of/);
    expect(() => new ClientPool({ methods: { m: { retry: { attempts: Number.NaN } } } })).toThrow(/methods.m.retry.attempts must be an integer >= 1, got NaN/);
  });
});

describe('hedging', () => {
  it('starts a hedge on another client after the delay; the first success wins and the attempt it outran times out', async () => {
    const p = pool({ hedge: { delay: 100 } });
    const signals = new Map<string, AbortSignal>();
    const result = p.run((client, call: Call<Fake>) => {
      signals.set(client.id, call.signal);
      const ms = client.id === 'a' ? 1_000 : 30;
      return new Promise<string>((resolve) => setTimeout(() => resolve(client.id), ms));
    });
    await vi.advanceTimersByTimeAsync(99);
    expect([...signals.keys()]).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(31);
    await expect(result).resolves.toBe('b');
    expect(signals.get('a')!.aborted).toBe(true);
    expect(signals.get('a')!.reason).toBeInstanceOf(TimeoutError);
    expect(signals.get('b')!.aborted).toBe(false);
    // Outrun by a hedge that started later: slower than a peer, a timeout of its client (so that a black
    // hole reaches its breaker even when hedges always save the call).
    expect(p.members().find((m) => m.name === 'a')).toMatchObject({ cancelled: 0, failures: 1, inFlight: 0 });
  });

  it('a hedge that loses to the attempt it hedged is cancelled, not a failure of its client', async () => {
    const p = pool({ hedge: { delay: 10 } });
    const result = p.run((client) => new Promise((resolve) => setTimeout(() => resolve(client.id), client.id === 'a' ? 20 : 100)));
    await vi.advanceTimersByTimeAsync(30);
    await expect(result).resolves.toBe('a');
    expect(p.members().find((m) => m.name === 'b')).toMatchObject({ cancelled: 1, failures: 0, inFlight: 0 });
  });

  it('a black hole opens its breaker even though hedges save every call', async () => {
    const p = pool({ breaker: { maxFailures: 3, cooldown: 60_000 }, hedge: { delay: 20 }, retryBudget: false }, ['hole', 'ok']);
    for (let i = 0; i < 10; i++) {
      const call = p.run((client) => (client.id === 'hole' ? new Promise(() => undefined) : new Promise((resolve) => setTimeout(() => resolve('ok'), 5))));
      await vi.advanceTimersByTimeAsync(30);
      await expect(call).resolves.toBe('ok');
    }
    expect(p.members().find((m) => m.name === 'hole')!.state.kind).toBe('open');
  });

  it('does not hedge a call that answers before the delay', async () => {
    const p = pool({ hedge: { delay: 100, maxHedges: 2 } });
    let starts = 0;
    const result = p.run(() => {
      starts++;
      return new Promise((resolve) => setTimeout(() => resolve('fast'), 50));
    });
    await vi.advanceTimersByTimeAsync(500);
    await expect(result).resolves.toBe('fast');
    expect(starts).toBe(1);
  });

  it('sends at most maxHedges extra attempts, each after the delay', async () => {
    const p = pool({ hedge: { delay: 100, maxHedges: 2 } }, ['a', 'b', 'c', 'd']);
    const starts: string[] = [];
    const result = p.run((client) => {
      starts.push(`${client.id}@${Date.now()}`);
      return new Promise((resolve) => setTimeout(() => resolve(client.id), 1_000));
    });
    await vi.advanceTimersByTimeAsync(1_200);
    await expect(result).resolves.toBe('a');
    expect(starts).toEqual(['a@0', 'b@100', 'c@200']);
  });

  it('uses a live latency quantile of the method as its delay', async () => {
    const p = pool({ hedge: { delay: { quantile: 0.9, min: 1, max: 500 } }, retryBudget: false }, ['a', 'b']);
    for (let i = 0; i < 40; i++) {
      const call = p.run(() => new Promise((resolve) => setTimeout(resolve, i % 10 === 9 ? 40 : 20)), { method: 'm', hedge: false });
      await vi.advanceTimersByTimeAsync(50);
      await call;
    }
    const starts: number[] = [];
    const result = p.run(() => {
      starts.push(Date.now());
      return new Promise((resolve) => setTimeout(resolve, 1_000));
    }, { method: 'm' });
    const t0 = Date.now();
    await vi.advanceTimersByTimeAsync(1_100);
    await result;
    const delay = starts[1]! - t0;
    // p90 of {20 ms x 90 %, 40 ms x 10 %} is about 20 ms (bucket bounds grow by 10 %).
    expect(delay).toBeGreaterThanOrEqual(20);
    expect(delay).toBeLessThanOrEqual(25);
  });

  it('a failed attempt while a hedge runs waits for the hedge', async () => {
    const p = pool({ hedge: { delay: 10 } });
    const result = p.run((client) =>
      client.id === 'a'
        ? new Promise((_resolve, reject) => setTimeout(() => reject(new Error('a failed late')), 50))
        : new Promise((resolve) => setTimeout(() => resolve('b'), 100)),
    );
    await vi.advanceTimersByTimeAsync(200);
    await expect(result).resolves.toBe('b');
  });

  it('hedges count against the retry budget', async () => {
    const p = pool({ hedge: { delay: 10 }, retryBudget: { ratio: 0, reserve: 1 } });
    let starts = 0;
    const slow = (): Promise<string> => {
      starts++;
      return new Promise((resolve) => setTimeout(() => resolve('x'), 100));
    };
    const first = p.run(slow);
    const second = p.run(slow);
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([first, second]);
    expect(starts).toBe(3);
  });

  it('with retry: when every attempt fails, retries after backoff', async () => {
    const p = pool({ hedge: { delay: 10 }, retry: { attempts: 2, backoff: { initial: 5, jitter: 'none' } } });
    const seen: string[] = [];
    const result = p.run((client) => {
      seen.push(client.id);
      if (client.id === 'c') return 'c ok';
      return new Promise((_resolve, reject) => setTimeout(() => reject(new Error('no')), 20));
    });
    await vi.advanceTimersByTimeAsync(200);
    await expect(result).resolves.toBe('c ok');
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('rejects bad options', () => {
    expect(() => new ClientPool({ hedge: { delay: -1 } })).toThrow(/hedge.delay must be a duration in ms >= 0 and <= 2147483647, got -1/);
    expect(() => new ClientPool({ hedge: { delay: { quantile: 2 } } })).toThrow(/hedge.delay.quantile must be a number from 0 to 1, got 2/);
    expect(() => new ClientPool({ hedge: { delay: 5, maxHedges: 0 } })).toThrow(/hedge.maxHedges must be an integer >= 1, got 0/);
  });
});

describe('retry and limits together', () => {
  it('a rate-limit refusal is not retried by default', async () => {
    const p = pool({ limit: { rate: 1, burst: 1 }, maxWait: 0, retry: { attempts: 3 } }, ['a']);
    await p.run(() => 0);
    await expect(p.run(() => 0)).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('no timer or listener is left after retries and hedges', async () => {
    const p = pool({ timeout: 500, hedge: { delay: 10 }, retry: { attempts: 3, backoff: { initial: 1 } } });
    const controller = new AbortController();
    const result = p.run((client) => (client.id === 'a' ? Promise.reject(new Error('x')) : 'ok'), { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(100);
    await expect(result).resolves.toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
    expect(p.members().every((m) => m.inFlight === 0)).toBe(true);
    const timeout = p.run(() => new Promise(() => undefined), { retry: false, hedge: false }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500);
    expect(await timeout).toBeInstanceOf(TimeoutError);
  });
});
