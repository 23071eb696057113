import { describe, expect, it, vi } from 'vitest';
import { ClientPool, hasErrorCode, type Outcome, type PoolOptions, type RunOptions } from '../../src/index.js';
import { dateClock, useFakeTime } from '../helpers/fake-time.js';

const clock = dateClock;
useFakeTime();

/** A client that never answers. */
const blackHole = (): Promise<never> => new Promise<never>(() => {});
const down = (): Promise<never> => Promise.reject(new Error('down'));

/** A pool on fake time with clients `a` and `b`, recording each attempt's verdict and when the call ended. */
function poolWith(options: PoolOptions<object>): { pool: ClientPool<object>; attempts: { kind: Outcome['kind']; code: string | undefined; at: number; ms: number }[] } {
  const pool = new ClientPool<object>({ clock, retryBudget: false, ...options });
  pool.add({}, { name: 'a' });
  pool.add({}, { name: 'b' });
  const attempts: { kind: Outcome['kind']; code: string | undefined; at: number; ms: number }[] = [];
  pool.use({
    name: 'verdicts',
    onOutcome(_call, outcome, ms) {
      attempts.push({ kind: outcome.kind, code: outcome.kind === 'success' ? undefined : outcome.error.code, at: Date.now(), ms });
    },
  });
  return { pool, attempts };
}

/** Settle `call` (just started) on fake time; its error, and how long after its start it rejected, in ms. */
async function failureOf(call: Promise<unknown>, advanceMs = 60_000): Promise<{ error: unknown; at: number }> {
  const start = Date.now();
  const settled = call.then(
    () => ({ error: undefined, at: -1 }),
    (error: unknown) => ({ error, at: Date.now() - start }),
  );
  await vi.advanceTimersByTimeAsync(advanceMs);
  return settled;
}

describe('deadline: the whole call, every attempt, backoff, hedge and wait, ends by then', () => {
  it('attempts 3, timeout 1 000, deadline 1 500: the second attempt gets 500 ms and no third starts', async () => {
    const { pool, attempts } = poolWith({ retry: { attempts: 3, backoff: { initial: 0, max: 0, jitter: 'none' } }, timeout: 1_000 });
    const { error, at } = await failureOf(pool.run(blackHole, { deadline: 1_500 }));
    expect(hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect(error).toMatchObject({ deadlineMs: 1_500 });
    expect(at).toBe(1_500);
    // The first is its client's timeout; the second, cut short of its own timeout, is no fault of its client.
    expect(attempts).toEqual([
      { kind: 'failure', code: 'ERR_TIMEOUT', at: 1_000, ms: 1_000 },
      // Retried after a 0 ms backoff, which is a timer turn (1 ms) on fake time.
      { kind: 'cancelled', code: 'ERR_DEADLINE_EXCEEDED', at: 1_500, ms: 499 },
    ]);
    expect(pool.members().map((m) => m.failures)).toEqual([1, 0]);
    await pool.close();
  });

  it('an attempt given the whole deadline (no timeout of its own) fails against its client when the deadline ends it: a black hole reaches its breaker', async () => {
    const { pool, attempts } = poolWith({ breaker: { maxFailures: 1 } });
    // Not past the 10 s cooldown, after which members() reads the circuit half-open.
    const { error, at } = await failureOf(pool.run(blackHole, { deadline: 300 }), 1_000);
    expect(hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect(at).toBe(300);
    expect(attempts).toEqual([{ kind: 'failure', code: 'ERR_DEADLINE_EXCEEDED', at: 300, ms: 300 }]);
    expect(pool.members().find((m) => m.failures === 1)?.state.kind).toBe('open');
    await pool.close();
  });

  it('an own timeout shorter than what is left still ends the attempt as a timeout', async () => {
    const { pool, attempts } = poolWith({ timeout: 100 });
    const { error, at } = await failureOf(pool.run(blackHole, { deadline: 10_000 }));
    expect(hasErrorCode(error, 'ERR_TIMEOUT')).toBe(true);
    expect(at).toBe(100);
    expect(attempts.map((a) => a.code)).toEqual(['ERR_TIMEOUT']);
    await pool.close();
  });

  it('a backoff that cannot end before the deadline is not started: the call ends at once, the last failure as cause', async () => {
    const { pool, attempts } = poolWith({ retry: { attempts: 5, backoff: { initial: 1_000, max: 10_000, multiplier: 2, jitter: 'none' } } });
    const { error, at } = await failureOf(pool.run(down, { deadline: 1_500 }));
    expect(hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect((error as Error).cause).toMatchObject({ code: 'ERR_CLIENT_CALL' });
    // First at 0, retry after 1 000; the next backoff (2 000) would end past 1 500: the call ends at 1 000.
    expect(attempts.map((a) => a.at)).toEqual([0, 1_000]);
    expect(at).toBe(1_000);
    await pool.close();
  });

  it('the retry budget is not spent on a retry the deadline forbids', async () => {
    const pool = new ClientPool<object>({ clock, retry: { attempts: 3, backoff: { initial: 1_000, max: 1_000, jitter: 'none' } }, retryBudget: { ratio: 0.1, reserve: 5 } });
    pool.add({});
    const before = pool.retryBudget!.balance;
    await failureOf(pool.run(down, { deadline: 500 }));
    expect(pool.retryBudget!.balance).toBeGreaterThanOrEqual(before);
    await pool.close();
  });

  it('a wait for a rate-limit token is bounded by the deadline: one that cannot end in time fails at once, the refusal as cause', async () => {
    const { pool } = poolWith({ limit: { rate: 1, burst: 1 }, maxWait: 10_000 });
    await pool.run(() => 'first');
    // The next token is 1 000 ms away, past the deadline: the bucket knows it now (it fails fast past maxWait).
    const { error, at } = await failureOf(pool.run(() => 'second', { deadline: 300 }));
    expect(hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect((error as Error).cause).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect(at).toBe(0);
    // A token that comes before the deadline is waited for.
    const waited = pool.run(() => 'third', { deadline: 2_500 });
    await vi.advanceTimersByTimeAsync(2_000);
    await expect(waited).resolves.toBe('third');
    await pool.close();
  });

  it('a wait for a client (every client out of tokens) is bounded by the deadline too', async () => {
    const pool = new ClientPool<object>({ clock, maxWait: 10_000 });
    pool.add({}, { limit: { rate: 1, burst: 1 } });
    await pool.run(() => 'first');
    const { error, at } = await failureOf(pool.run(() => 'second', { deadline: 250 }));
    expect(hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect(at).toBeLessThanOrEqual(250);
    await pool.close();
  });

  it('a custom limiter that ignores maxWait is given up at the deadline, not 5 s after it', async () => {
    const pool = new ClientPool<object>({ clock, limit: { take: () => new Promise<void>(() => {}) }, maxWait: 10_000 });
    pool.add({});
    const { error, at } = await failureOf(pool.run(() => 'v', { deadline: 400 }));
    expect(hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect(at).toBe(400);
    await pool.close();
  });

  it('a wait shorter than the deadline ends as before: RateLimitedError', async () => {
    const { pool } = poolWith({ limit: { rate: 1, burst: 1 }, maxWait: 100 });
    await pool.run(() => 'first');
    const { error } = await failureOf(pool.run(() => 'second', { deadline: 5_000 }));
    expect(hasErrorCode(error, 'ERR_RATE_LIMITED')).toBe(true);
    await pool.close();
  });

  it('no hedge starts past the deadline', async () => {
    const { pool, attempts } = poolWith({ hedge: { delay: 1_000 } });
    const { error, at } = await failureOf(pool.run(blackHole, { deadline: 500 }));
    expect(hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect(at).toBe(500);
    expect(attempts).toHaveLength(1);
    await pool.close();
  });

  it('a success before the deadline is a success, and leaves no timer behind', async () => {
    const { pool } = poolWith({ retry: { attempts: 3 } });
    const call = pool.run(() => new Promise((resolve) => setTimeout(() => resolve('v'), 100)), { deadline: 1_000 });
    await vi.advanceTimersByTimeAsync(100);
    await expect(call).resolves.toBe('v');
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the pool\'s and the method\'s deadline apply to calls that give none; the call\'s own wins', async () => {
    const { pool } = poolWith({ deadline: 200, methods: { slow: { deadline: 700 } } });
    const plain = await failureOf(pool.run(blackHole));
    expect(plain.at).toBe(200);
    const method = await failureOf(pool.run(blackHole, { method: 'slow' }));
    expect(method.at).toBe(700);
    const own = await failureOf(pool.run(blackHole, { method: 'slow', deadline: 50 }));
    expect(own.at).toBe(50);
    await pool.close();
  });
});

describe('deadline validation: bad values refused by name', () => {
  it.each([Number.NaN, 0, -1, 2 ** 31, Infinity, '1000'])('run({ deadline: %s }) rejects with InvalidOptionError naming deadline', async (value) => {
    const pool = new ClientPool<object>();
    pool.add({});
    await expect(pool.run(() => 'v', { deadline: value } as unknown as RunOptions<object>)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'deadline' });
    await pool.close();
  });

  it.each([Number.NaN, 0, -5, 2 ** 31])('new ClientPool({ deadline: %s }) and methods.m.deadline throw InvalidOptionError naming them', (value) => {
    expect(() => new ClientPool({ deadline: value })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'deadline' }) as Error);
    expect(() => new ClientPool({ methods: { m: { deadline: value } } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'methods.m.deadline' }) as Error);
  });
});
