import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, TokenBucket } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { advance, codeOf, ending, StillClock } from '../s23b-attack/rig.js';

// Were faults (fixed in session 23: Quota.take hands `untilAborted` Promise.resolve(what the limiter returned)).
// S23C-1 (low, regression of eb366ad): Quota.take hands a later limit's take to `untilAborted`, which calls
// `take.then(...)` on what the limiter returned. A take that returns no promise (undefined: a synchronous
// grant) now fails the call with CallbackError "limit.take() failed" (cause: TypeError reading 'then'), but
// only when another limit's tokens are held; alone (the first limit, a plain `await`) it is served.
// S23C-2 (low): `untilAborted` subscribes to the take's `then` directly, not through a Promise, so a thenable
// that calls its fulfil callback twice after the abort has its late grant given back twice (adjust(-1) x2).
// Both: `Limiter.take` is typed Promise<void>, but the pool's own path tolerates any return
// (pool-token.ts takeToken: `Promise.resolve(take(...))`) and Quota.take awaited it before eb366ad.
// Suspected fix: `untilAborted(Promise.resolve(dimension.limiter.take(...)), ...)`.
useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));
const HOUR = 3_600_000;

describe('a named limit whose take returns no promise, with tokens of another limit held', () => {
  it('take returning undefined after a bucket was taken: served as when alone', async () => {
    const clock = new StillClock();
    const a = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const requests = { take: (): Promise<void> => undefined as unknown as Promise<void> };
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { a, requests } });
    pool.add('a', { name: 'a' });
    const e = ending(pool.run(() => 'v', { cost: { a: 3, requests: 1 } }));
    await advance(10);
    expect({ ok: e.ok, value: e.ok === true ? e.value : codeOf(e.value), message: e.ok === true ? undefined : (e.value as Error).message }).toEqual({ ok: true, value: 'v', message: undefined });
    await pool.destroy();
  });
  it('control: the same limit alone (nothing held): served', async () => {
    const clock = new StillClock();
    const requests = { take: (): Promise<void> => undefined as unknown as Promise<void> };
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { requests } });
    pool.add('a', { name: 'a' });
    const e = ending(pool.run(() => 'v', { cost: { requests: 1 } }));
    await advance(10);
    expect(e.value).toBe('v');
    await pool.destroy();
  });
});

describe('a thenable take that fulfils twice after the abort', () => {
  it('control: a real promise granted after the abort is given back once', async () => {
    const clock = new StillClock();
    const a = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const adjusts: number[] = [];
    let fulfil: (() => void) | undefined;
    const requests = {
      take: (): Promise<void> => new Promise<void>((resolve) => (fulfil = resolve)),
      adjust: (n: number) => adjusts.push(n),
    };
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { a, requests } });
    pool.add('a', { name: 'a' });
    const controller = new AbortController();
    const e = ending(pool.run(() => 'v', { cost: { a: 3, requests: 1 }, signal: controller.signal }));
    await advance(10);
    controller.abort();
    await advance(0);
    fulfil?.();
    await advance(10);
    expect({ code: codeOf(e.value), a: a.available, adjusts }).toEqual({ code: 'ERR_ABORTED', a: 10, adjusts: [-1] });
    await pool.destroy();
  });
  it('the late grant is given back once, not twice', async () => {
    const clock = new StillClock();
    const a = new TokenBucket({ rate: 1, per: HOUR, burst: 10, clock });
    const adjusts: number[] = [];
    let fulfil: (() => void) | undefined;
    const requests = {
      take: (): Promise<void> => ({ then: (ok: () => void) => { fulfil = () => { ok(); ok(); }; } }) as unknown as Promise<void>,
      adjust: (n: number) => adjusts.push(n),
    };
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { a, requests } });
    pool.add('a', { name: 'a' });
    const controller = new AbortController();
    const e = ending(pool.run(() => 'v', { cost: { a: 3, requests: 1 }, signal: controller.signal }));
    await advance(10);
    controller.abort();
    await advance(0);
    fulfil?.();
    await advance(10);
    expect({ code: codeOf(e.value), a: a.available, adjusts }).toEqual({ code: 'ERR_ABORTED', a: 10, adjusts: [-1] });
    await pool.destroy();
  });
});
