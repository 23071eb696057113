import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, TokenBucket, type TakeOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { advance, codeOf, ending, StillClock } from '../s23b-attack/rig.js';

// Quota.take (src/limit/quota.ts): with tokens of other limits held, a take is given up when its signal
// aborts; what the others granted goes back now, a later grant when it comes (docs/call-pipeline.md: "tokens a
// named limit took for it go back, now or when a late grant comes"). In-memory buckets are taken first
// (`[...#local, ...#shared]`), then the shared limiters in the order given.
useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

const HOUR = 3_600_000;

interface Custom {
  take: (n: number, o?: TakeOptions) => Promise<void>;
  adjust: (n: number) => void;
  adjusts: number[];
  grant: () => void;
  reject: (e: Error) => void;
  takes: number;
}

/** A limiter whose first take never answers on its own (ignores its signal); later takes are granted. */
function custom(): Custom {
  const c: Custom = {
    adjusts: [],
    takes: 0,
    grant: () => {},
    reject: () => {},
    take: () => {
      if (++c.takes > 1) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        c.grant = () => resolve();
        c.reject = reject;
      });
    },
    adjust: (n: number) => c.adjusts.push(n),
  };
  return c;
}

describe('caller aborts while a later limit hangs', () => {
  it('tokens of the in-memory bucket go back at once; a late grant goes back to the custom limit once', async () => {
    const clock = new StillClock();
    const tokens = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const requests = custom();
    // The custom limit named first: the bucket is taken first all the same.
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { requests, tokens } });
    pool.add('a', { name: 'a' });
    const controller = new AbortController();
    const e = ending(pool.run(() => 'v', { cost: { tokens: 6, requests: 1 }, signal: controller.signal }));
    await advance(10);
    expect(tokens.available).toBe(4);
    controller.abort(new Error('mine'));
    await advance(0);
    expect({ code: codeOf(e.value), available: tokens.available, adjusts: requests.adjusts }).toEqual({ code: 'ERR_ABORTED', available: 10, adjusts: [] });
    requests.grant();
    await advance(10);
    expect(requests.adjusts).toEqual([-1]);
    expect(tokens.available).toBe(10);
    await pool.destroy();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a late refusal after the abort is dropped: no unhandled rejection, nothing given back twice', async () => {
    const clock = new StillClock();
    const tokens = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const requests = custom();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { tokens, requests } });
    pool.add('a', { name: 'a' });
    const controller = new AbortController();
    const e = ending(pool.run(() => 'v', { cost: { tokens: 6, requests: 1 }, signal: controller.signal }));
    await advance(10);
    controller.abort();
    await advance(0);
    requests.reject(new Error('late no'));
    await advance(10);
    expect({ code: codeOf(e.value), available: tokens.available, adjusts: requests.adjusts }).toEqual({ code: 'ERR_ABORTED', available: 10, adjusts: [] });
    await pool.destroy();
  });

  it.each(['grant first', 'abort first'] as const)('grant and abort at the same ms (%s): tokens consistent with the outcome', async (order) => {
    const clock = new StillClock();
    const tokens = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const requests = custom();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { tokens, requests } });
    pool.add('a', { name: 'a' });
    const controller = new AbortController();
    const e = ending(pool.run(() => 'v', { cost: { tokens: 6, requests: 1 }, signal: controller.signal }));
    await advance(10);
    const grant = (): void => requests.grant();
    const abort = (): void => controller.abort();
    setTimeout(order === 'grant first' ? grant : abort, 100);
    setTimeout(order === 'grant first' ? abort : grant, 100);
    await advance(200);
    const served = e.ok === true;
    expect(served ? { available: tokens.available, adjusts: requests.adjusts } : { available: tokens.available, adjusts: requests.adjusts, code: codeOf(e.value) }).toEqual(
      served ? { available: 4, adjusts: [] } : { available: 10, adjusts: [-1], code: 'ERR_ABORTED' },
    );
    await pool.destroy();
  });
});

describe('the backstop gives the take up (no caller signal)', () => {
  it('maxWait 1 000: refused at 6 000 with RateLimitedError, the bucket whole again, the late grant given back', async () => {
    const clock = new StillClock();
    const tokens = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const requests = custom();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { tokens, requests } });
    pool.add('a', { name: 'a' });
    const e = ending(pool.run(() => 'v', { cost: { tokens: 6, requests: 1 } }));
    await advance(6_000);
    expect({ at: e.at, code: codeOf(e.value), available: tokens.available }).toEqual({ at: 6_000, code: 'ERR_RATE_LIMITED', available: 10 });
    requests.grant();
    await advance(10);
    expect(requests.adjusts).toEqual([-1]);
    // A next call of the same cost is served.
    expect(await pool.run(() => 'v2', { cost: { tokens: 6, requests: 1 } })).toBe('v2');
    await pool.destroy();
    expect(vi.getTimerCount()).toBe(0);
  });
  it('with a deadline of 2 000: DeadlineExceededError at 2 000, bucket whole', async () => {
    const clock = new StillClock();
    const tokens = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const requests = custom();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { tokens, requests } });
    pool.add('a', { name: 'a' });
    const e = ending(pool.run(() => 'v', { cost: { tokens: 6, requests: 1 }, deadline: 2_000 }));
    await advance(6_000);
    expect({ at: e.at, code: codeOf(e.value), available: tokens.available }).toEqual({ at: 2_000, code: 'ERR_DEADLINE_EXCEEDED', available: 10 });
    await pool.destroy();
  });
});

describe('cost on several limits', () => {
  it('two buckets and two custom limits: the first custom granted, the second hangs; abort gives all back, once each', async () => {
    const clock = new StillClock();
    const a = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const b = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const c1 = custom();
    c1.takes = 1; // grants at once
    const c2 = custom();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { c1, a, c2, b } });
    pool.add('a', { name: 'a' });
    const controller = new AbortController();
    const e = ending(pool.run(() => 'v', { cost: { a: 3, b: 4, c1: 2, c2: 5 }, signal: controller.signal }));
    await advance(10);
    expect({ a: a.available, b: b.available, c2takes: c2.takes }).toEqual({ a: 7, b: 6, c2takes: 1 });
    controller.abort();
    await advance(0);
    expect({ code: codeOf(e.value), a: a.available, b: b.available, c1: c1.adjusts, c2: c2.adjusts }).toEqual({ code: 'ERR_ABORTED', a: 10, b: 10, c1: [-2], c2: [] });
    c2.grant();
    await advance(10);
    expect({ c1: c1.adjusts, c2: c2.adjusts }).toEqual({ c1: [-2], c2: [-5] });
    await pool.destroy();
  });
  it('the second custom throws synchronously: the error surfaces, the held tokens go back', async () => {
    const clock = new StillClock();
    const a = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const c2 = {
      take: (): Promise<void> => {
        throw new Error('sync boom');
      },
    };
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { a, c2 } });
    pool.add('a', { name: 'a' });
    const e = ending(pool.run(() => 'v', { cost: { a: 3, c2: 1 } }));
    await advance(10);
    expect({ ok: e.ok, a: a.available }).toEqual({ ok: false, a: 10 });
    expect((e.value as Error).message + String(((e.value as Error).cause as Error | undefined)?.message)).toContain('sync boom');
    await pool.destroy();
  });
});

describe('a late grant after close() / destroy()', () => {
  it.each(['close', 'destroy'] as const)('%s while the take hangs, then the grant: given back, a warning at most, nothing thrown', async (how) => {
    const clock = new StillClock();
    const a = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const requests = custom();
    let closed = false;
    requests.adjust = (n: number) => {
      if (closed) throw new Error('adjust after close');
      requests.adjusts.push(n);
    };
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { a, requests } });
    pool.add('a', { name: 'a' });
    const e = ending(pool.run(() => 'v', { cost: { a: 3, requests: 1 } }));
    await advance(10);
    const done = how === 'close' ? pool.close() : pool.destroy(new Error('gone'));
    await advance(10);
    closed = true;
    requests.grant();
    await advance(10);
    await done;
    expect(e.ok).toBe(false);
    expect(a.available).toBe(10);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('a limiter whose take does not return a promise', () => {
  // Limiter.take is typed Promise<void>; the pool's own path tolerates a plain return
  // (pool-token.ts takeToken: Promise.resolve(take(...))). Quota.take awaited it before the fix.
  it('control: alone (nothing held), a take returning undefined is taken as granted', async () => {
    const clock = new StillClock();
    const requests = { take: (): Promise<void> => undefined as unknown as Promise<void> };
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { requests } });
    pool.add('a', { name: 'a' });
    const e = ending(pool.run(() => 'v', { cost: { requests: 1 } }));
    await advance(10);
    expect({ ok: e.ok, value: e.value }).toEqual({ ok: true, value: 'v' });
    await pool.destroy();
  });
});
