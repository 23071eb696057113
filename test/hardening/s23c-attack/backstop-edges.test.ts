import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type MemberSnapshot } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { advance, codeOf, ending, hanging, StillClock } from '../s23b-attack/rig.js';

// The pool's backstop (src/pipeline/pool-token.ts overdueOf): maxWait + 5 s, or what is left of the call's
// deadline when sooner; at the deadline, DeadlineExceededError (docs/call-pipeline.md: "A call's `deadline`
// comes first: a wait still going at it ends then with `DeadlineExceededError`").
useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

const inFlight = (pool: ClientPool<string>): number => pool.members().reduce((s: number, m: MemberSnapshot) => s + m.inFlight, 0);
const never = { take: (): Promise<void> => new Promise<void>(() => {}) };
const moving = { now: (): number => Date.now() };

async function poolLimitWait(deadline: number, clock: { now(): number }): Promise<{ at: number | undefined; code: string | undefined; cause: string | undefined; timers: number }> {
  const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: never });
  pool.add('a', { name: 'a' });
  const e = ending(pool.run(() => 'v', { deadline }));
  await advance(7_000);
  const out = { at: e.at, code: codeOf(e.value), cause: codeOf((e.value as { cause?: unknown } | undefined)?.cause), timers: 0 };
  await pool.destroy();
  out.timers = vi.getTimerCount();
  return out;
}

async function clientWait(deadline: number, clock: { now(): number }): Promise<{ at: number | undefined; code: string | undefined; inFlight: number; timers: number }> {
  const pool = new ClientPool<string>({ clock, maxWait: 1_000 });
  pool.add('a', { name: 'a', maxInFlight: 1 });
  const h = hanging();
  const first = ending(pool.run(h.fn));
  const e = ending(pool.run(() => 'v', { deadline }));
  await advance(7_000);
  h.release();
  await advance(10);
  const out = { at: e.at, code: codeOf(e.value), inFlight: inFlight(pool), timers: 0 };
  expect(first.ok).toBe(true);
  await pool.destroy();
  out.timers = vi.getTimerCount();
  return out;
}

describe('pool limit that never answers, still clock: the backstop against the deadline', () => {
  it.each([
    [999, 999, 'ERR_DEADLINE_EXCEEDED'],
    [1_000, 1_000, 'ERR_DEADLINE_EXCEEDED'],
    [5_999, 5_999, 'ERR_DEADLINE_EXCEEDED'],
    [6_000, 6_000, 'ERR_DEADLINE_EXCEEDED'],
    [6_001, 6_000, 'ERR_RATE_LIMITED'],
  ])('deadline %i: ends at %i with %s, nothing armed', async (deadline, at, code) => {
    const r = await poolLimitWait(deadline, new StillClock());
    expect(r).toMatchObject({ at, code, timers: 0 });
  });
  it('deadline 999 (wait cut): DeadlineExceededError with the refusal as cause', async () => {
    const r = await poolLimitWait(999, new StillClock());
    expect(r.cause).toBe('ERR_RATE_LIMITED');
  });
});

describe('pool limit that never answers, moving clock', () => {
  it.each([
    [1_000, 1_000, 'ERR_DEADLINE_EXCEEDED'],
    [5_999, 5_999, 'ERR_DEADLINE_EXCEEDED'],
    [6_000, 6_000, 'ERR_DEADLINE_EXCEEDED'],
    [6_001, 6_000, 'ERR_RATE_LIMITED'],
  ])('deadline %i: ends at %i with %s', async (deadline, at, code) => {
    const r = await poolLimitWait(deadline, moving);
    expect(r).toMatchObject({ at, code, timers: 0 });
  });
});

describe('wait for a client (maxInFlight 1 held), still clock', () => {
  it.each([
    [1_000, 1_000, 'ERR_DEADLINE_EXCEEDED'],
    [5_999, 5_999, 'ERR_DEADLINE_EXCEEDED'],
    [6_000, 6_000, 'ERR_DEADLINE_EXCEEDED'],
    [6_001, 6_000, 'ERR_CONCURRENCY_LIMITED'],
  ])('deadline %i: ends at %i with %s; inFlight 0 after', async (deadline, at, code) => {
    const r = await clientWait(deadline, new StillClock());
    expect(r).toMatchObject({ at, code, inFlight: 0, timers: 0 });
  });
});

describe('wait for a client, moving clock', () => {
  it.each([
    [1_000, 1_000, 'ERR_DEADLINE_EXCEEDED'],
    [6_001, 1_000, 'ERR_CONCURRENCY_LIMITED'],
  ])('deadline %i: ends at %i with %s', async (deadline, at, code) => {
    const r = await clientWait(deadline, moving);
    expect(r).toMatchObject({ at, code, inFlight: 0, timers: 0 });
  });
});

describe('a retry\'s wait with the deadline nearly spent', () => {
  it('first attempt fails at 2 500, the retry waits on a limiter that never answers: DeadlineExceededError at 3 000', async () => {
    let takes = 0;
    const limit = { take: (): Promise<void> => (++takes === 1 ? Promise.resolve() : new Promise<void>(() => {})) };
    const pool = new ClientPool<string>({ clock: moving, maxWait: 1_000, limit, retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    const fail = (): Promise<string> => new Promise((_r, reject) => setTimeout(() => reject(Object.assign(new Error('boom'), { code: 'ECONNRESET' })), 2_500));
    const e = ending(pool.run(fail, { deadline: 3_000 }));
    await advance(7_000);
    expect({ at: e.at, code: codeOf(e.value), takes }).toEqual({ at: 3_000, code: 'ERR_DEADLINE_EXCEEDED', takes: 2 });
    await pool.destroy();
    expect(vi.getTimerCount()).toBe(0);
  });
  it('same on a still clock: the retry waits for what the still clock says is left (3 000): ends by 5 501 (the 0-ms backoff is a 1-ms timer), DeadlineExceededError', async () => {
    let takes = 0;
    const limit = { take: (): Promise<void> => (++takes === 1 ? Promise.resolve() : new Promise<void>(() => {})) };
    const pool = new ClientPool<string>({ clock: new StillClock(), maxWait: 1_000, limit, retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    const fail = (): Promise<string> => new Promise((_r, reject) => setTimeout(() => reject(Object.assign(new Error('boom'), { code: 'ECONNRESET' })), 2_500));
    const e = ending(pool.run(fail, { deadline: 3_000 }));
    await advance(9_000);
    expect({ code: codeOf(e.value), takes }).toEqual({ code: 'ERR_DEADLINE_EXCEEDED', takes: 2 });
    expect(e.at).toBeLessThanOrEqual(5_501);
    await pool.destroy();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('at the same ms as the backstop', () => {
  it.each(['abort', 'close', 'destroy'] as const)('%s at 6 000 (maxWait 1 000, no deadline): the call ends, nothing armed', async (what) => {
    const pool = new ClientPool<string>({ clock: new StillClock(), maxWait: 1_000, limit: never });
    pool.add('a', { name: 'a' });
    const controller = new AbortController();
    const e = ending(pool.run(() => 'v', { signal: controller.signal }));
    let closed: Promise<void> | undefined;
    setTimeout(() => {
      if (what === 'abort') controller.abort(new Error('mine'));
      else if (what === 'close') closed = pool.close();
      else closed = pool.destroy(new Error('gone'));
    }, 6_000);
    await advance(6_000);
    await advance(10);
    expect(e.ok).toBe(false);
    expect(e.at).toBe(6_000);
    expect(['ERR_RATE_LIMITED', 'ERR_ABORTED', 'ERR_POOL_CLOSED', 'ERR_POOL_DESTROYED']).toContain(codeOf(e.value));
    await closed;
    await pool.destroy();
    expect(vi.getTimerCount()).toBe(0);
  });
});
