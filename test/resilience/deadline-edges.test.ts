import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, hasErrorCode, type Limiter, type Outcome, type PoolOptions } from '../../src/index.js';
import { deferred } from '../helpers/manual-clock.js';

/** The pool clock on fake time, with an offset a test may step (a clock corrected mid-call). */
let offset = 0;
const clock = { now: (): number => Date.now() + offset };

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
  offset = 0;
});

afterEach(() => {
  vi.useRealTimers();
});

const blackHole = (): Promise<never> => new Promise<never>(() => {});

interface Verdict {
  readonly kind: Outcome['kind'];
  readonly code: string | undefined;
  readonly isInvoked: boolean;
  readonly at: number;
}

/** A pool on fake time recording each attempt's verdict, whether its function ran, and when. */
function poolWith(options: PoolOptions<object>, clients: Record<string, { maxInFlight?: number }> = { a: {}, b: {} }): { pool: ClientPool<object>; verdicts: Verdict[]; invoked: string[] } {
  const pool = new ClientPool<object>({ clock, retryBudget: false, ...options });
  for (const [name, add] of Object.entries(clients)) pool.add({ name }, { name, ...add });
  const verdicts: Verdict[] = [];
  const invoked: string[] = [];
  const reached = new WeakSet<object>();
  pool.use({
    name: 'verdicts',
    // Right before the function: an attempt that passes here reaches its client.
    execute: (call, next) => {
      invoked.push(call.clientName);
      reached.add(call);
      return next(call);
    },
    onOutcome(call, outcome) {
      verdicts.push({ kind: outcome.kind, code: outcome.kind === 'success' ? undefined : outcome.error.code, isInvoked: reached.has(call), at: Date.now() });
    },
  });
  return { pool, verdicts, invoked };
}

/** Settle `call` on fake time: its error (or value) and when (fake ms) it settled. */
function settleOf(call: Promise<unknown>): Promise<{ value?: unknown; error?: unknown; at: number }> {
  return call.then(
    (value) => ({ value, at: Date.now() }),
    (error: unknown) => ({ error, at: Date.now() }),
  );
}

describe('an attempt that gets its client only at the deadline is no failure of that client', () => {
  it('a wait for a capped client served at the very deadline tick: the client is not charged a failure, nor called', async () => {
    const pool = new ClientPool<object>({ clock, maxWait: 10_000, breaker: { maxFailures: 1, cooldown: 60_000 } });
    pool.add({}, { name: 'a', maxInFlight: 1 });
    const called: string[] = [];
    // Holds the one slot until 300.
    const busy = pool.run(() => new Promise((resolve) => setTimeout(() => resolve('busy'), 300)));
    const late = settleOf(
      pool.run(
        () => {
          called.push('late');
          return 'late';
        },
        { deadline: 300 },
      ),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(busy).resolves.toBe('busy');
    const { error } = await late;
    expect(hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    // Its function never ran: the client has no verdict, and its circuit stays closed.
    expect(called).toEqual([]);
    expect(pool.members()[0]).toMatchObject({ failures: 0, inFlight: 0, state: { kind: 'closed' } });
    await pool.close();
  });

  it('a pool limiter that grants its token at the deadline: the client picked then is not charged a failure', async () => {
    // A limiter that answers at the end of the wait it is given (a shared bucket whose token came just in time).
    const limit: Limiter = { take: (_n, options) => new Promise<void>((resolve) => setTimeout(resolve, options?.maxWait ?? 0)) };
    const { pool, verdicts } = poolWith({ limit, maxWait: 10_000, breaker: { maxFailures: 1, cooldown: 60_000 } }, { a: {} });
    const call = settleOf(pool.run(() => 'v', { deadline: 250 }));
    await vi.advanceTimersByTimeAsync(1_000);
    const { error, at } = await call;
    expect(hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect(at).toBe(250);
    // Never invoked, so no failure: a refusal or a cancellation, and the circuit stays closed.
    expect(verdicts.filter((v) => v.kind === 'failure')).toEqual([]);
    expect(pool.members()[0]).toMatchObject({ failures: 0, state: { kind: 'closed' } });
    await pool.close();
  });
});

describe('the deadline is elapsed time, whatever the clock does', () => {
  it('a clock stepped back 10 s mid-call stretches the deadline by at most the time since the pool last read it, not by the step', async () => {
    const { pool } = poolWith({ retry: { attempts: 3, backoff: { initial: 0, max: 0, jitter: 'none' } }, timeout: 1_000 });
    const start = Date.now();
    const call = settleOf(pool.run(blackHole, { deadline: 1_500 }));
    await vi.advanceTimersByTimeAsync(500);
    // An injected clock corrected back by 10 s: the pool's own timers keep the time they had left.
    offset = -10_000;
    await vi.advanceTimersByTimeAsync(10_000);
    const { error, at } = await call;
    // The step is seen at the pool's next clock reading (the first attempt's timeout, at 1 000): the time
    // between the last reading and the step (500 ms before it, 1 000 ms in all) cannot be told from the
    // step, so at most that stretches the deadline; the 10 s step does not.
    expect((error as { code?: string }).code).toBe('ERR_DEADLINE_EXCEEDED');
    expect(at - start).toBeGreaterThanOrEqual(1_500);
    expect(at - start).toBeLessThanOrEqual(2_500);
    await pool.close();
  });

  it('a clock jumping forward mid-call ends the call at once, without starting another attempt', async () => {
    const { pool, invoked } = poolWith({ retry: { attempts: 3, backoff: { initial: 0, max: 0, jitter: 'none' } }, timeout: 1_000 });
    const call = settleOf(pool.run(blackHole, { deadline: 1_500 }));
    await vi.advanceTimersByTimeAsync(100);
    offset = 60_000;
    await vi.advanceTimersByTimeAsync(5_000);
    const { error } = await call;
    expect(hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect(invoked).toHaveLength(1);
    await pool.close();
  });
});

describe('a black hole behind a deadline shorter than its timeout', () => {
  it('a client that answers no call within the deadline reaches its breaker even with a longer timeout', async () => {
    // timeout 5 000 (for slow batch calls), deadline 300 on every interactive call: the black hole gets
    // the whole deadline, every time, and never answers.
    const { pool } = poolWith({ timeout: 5_000, breaker: { maxFailures: 3, cooldown: 60_000 } }, { hole: {} });
    for (let i = 0; i < 10; i++) {
      const call = settleOf(pool.run(blackHole, { deadline: 300 }));
      await vi.advanceTimersByTimeAsync(300);
      const { error } = await call;
      if (!hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')) break;
    }
    expect(pool.members()[0]!.state.kind).toBe('open');
    await pool.close();
  });
});

describe('a healthy client given only the tail of a deadline is not blamed for it', () => {
  it('a hedge started 20 ms before the deadline on a healthy 50 ms client: cut short, it is no failure of that client', async () => {
    const { pool, verdicts } = poolWith(
      {
        // a first when it can take the call: the black hole, then the hedge on b.
        strategy: { pick: (ready) => ready.find((m) => m.name === 'a') ?? ready[0]! },
        hedge: { delay: 80 },
        breaker: { maxFailures: 3, cooldown: 60_000 },
      },
      { a: {}, b: {} },
    );
    for (let i = 0; i < 5; i++) {
      const call = settleOf(pool.run((client) => ((client as { name: string }).name === 'a' ? blackHole() : new Promise((resolve) => setTimeout(() => resolve('v'), 50))), { deadline: 100 }));
      await vi.advanceTimersByTimeAsync(200);
      await call;
    }
    // b answers every call in 50 ms: it only ever had 20 ms of each call's deadline.
    expect(pool.members().find((m) => m.name === 'b')).toMatchObject({ failures: 0, state: { kind: 'closed' } });
    expect(verdicts.filter((v) => v.kind === 'failure').length).toBeGreaterThan(0);
    await pool.close();
  });
});

describe('deadline with hedges, retries, signals, close() and edge values (expected to hold)', () => {
  it('hedges and retries together: every attempt ends at the deadline, no retry or hedge starts past it', async () => {
    const { pool, verdicts, invoked } = poolWith(
      { hedge: { delay: 100, maxHedges: 5 }, retry: { attempts: 5, backoff: { initial: 0, max: 0, jitter: 'none' } } },
      { a: {}, b: {}, c: {} },
    );
    const call = settleOf(pool.run(blackHole, { deadline: 250 }));
    await vi.advanceTimersByTimeAsync(5_000);
    const { error, at } = await call;
    expect(hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect(at).toBe(250);
    // First at 0, hedges at 100 and 200; all end at 250.
    expect(invoked).toHaveLength(3);
    expect(verdicts.map((v) => v.at)).toEqual([250, 250, 250]);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0, 0]);
    await pool.close();
  });

  it('the caller aborting at the deadline tick: the call ends once, with one of the two errors, and nothing is left in flight', async () => {
    const { pool } = poolWith({ retry: { attempts: 3 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('left')), 300);
    const call = settleOf(pool.run(blackHole, { deadline: 300, signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(1_000);
    const { error, at } = await call;
    expect(at).toBe(300);
    expect(['ERR_ABORTED', 'ERR_DEADLINE_EXCEEDED']).toContain((error as { code: string }).code);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });

  it('close() while a call waits on its deadline: the call ends by its deadline and close() resolves, no timer left', async () => {
    const { pool } = poolWith({ retry: { attempts: 3, backoff: { initial: 100, max: 100, jitter: 'none' } } });
    const inFlight = settleOf(pool.run(blackHole, { deadline: 400 }));
    const backingOff = settleOf(pool.run(() => Promise.reject(new Error('down')), { deadline: 10_000 }));
    await vi.advanceTimersByTimeAsync(50);
    const closed = pool.close();
    await vi.advanceTimersByTimeAsync(1_000);
    await closed;
    expect(hasErrorCode((await inFlight).error, 'ERR_DEADLINE_EXCEEDED')).toBe(true);
    expect((await inFlight).at).toBe(400);
    expect((await backingOff).error).toMatchObject({ code: 'ERR_CLIENT_CALL' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('deadline 1 and 2^31-1: the first ends after 1 ms, the second lets a call succeed and leaves no timer', async () => {
    const { pool } = poolWith({});
    const short = settleOf(pool.run(blackHole, { deadline: 1 }));
    await vi.advanceTimersByTimeAsync(1);
    expect(await short).toMatchObject({ at: 1, error: { code: 'ERR_DEADLINE_EXCEEDED', deadlineMs: 1 } });
    const long = pool.run(() => new Promise((resolve) => setTimeout(() => resolve('v'), 10)), { deadline: 2 ** 31 - 1 });
    await vi.advanceTimersByTimeAsync(10);
    await expect(long).resolves.toBe('v');
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('deadline equal to the timeout: the attempt times out (its client\'s failure), the call ends then', async () => {
    const { pool, verdicts } = poolWith({ timeout: 300, retry: { attempts: 3, backoff: { initial: 0, max: 0, jitter: 'none' } } });
    const call = settleOf(pool.run(blackHole, { deadline: 300 }));
    await vi.advanceTimersByTimeAsync(1_000);
    const { error, at } = await call;
    expect(at).toBe(300);
    expect(['ERR_TIMEOUT', 'ERR_DEADLINE_EXCEEDED']).toContain((error as { code: string }).code);
    expect(verdicts.map((v) => v.kind)).toEqual(['failure']);
    await pool.close();
  });

  it('proxy() methods take their own deadline from methods', async () => {
    const pool = new ClientPool<{ slow(): Promise<string>; fast(): Promise<string> }>({ clock, methods: { slow: { deadline: 700 } }, deadline: 200 });
    pool.add({ slow: blackHole, fast: blackHole });
    const proxy = pool.proxy();
    const slow = settleOf(proxy.slow());
    const fast = settleOf(proxy.fast());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await fast).toMatchObject({ at: 200, error: { code: 'ERR_DEADLINE_EXCEEDED' } });
    expect(await slow).toMatchObject({ at: 700, error: { code: 'ERR_DEADLINE_EXCEEDED' } });
    await pool.close();
  });

  it('a custom pool limiter that rejects late (after the deadline) cannot hold the call past it', async () => {
    const limit: Limiter = {
      take: () => new Promise<void>((_resolve, reject) => setTimeout(() => reject(new Error('too late')), 5_000)),
    };
    const pool = new ClientPool<object>({ clock, limit, maxWait: 10_000 });
    pool.add({});
    const call = settleOf(pool.run(() => 'v', { deadline: 400 }));
    await vi.advanceTimersByTimeAsync(6_000);
    expect(await call).toMatchObject({ at: 400, error: { code: 'ERR_DEADLINE_EXCEEDED' } });
    await pool.close();
  });

  it('destroy() while attempts run under a deadline: they end now with PoolClosedError and inFlight returns to 0', async () => {
    const { pool } = poolWith({});
    const call = settleOf(pool.run(blackHole, { deadline: 10_000 }));
    await vi.advanceTimersByTimeAsync(10);
    const destroyed = pool.destroy();
    await vi.advanceTimersByTimeAsync(10);
    expect(await call).toMatchObject({ at: 10, error: { code: 'ERR_POOL_CLOSED' } });
    await destroyed;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a deadline-cut wait for a slot (every client capped) fails at the deadline; the slot later frees with inFlight back to 0', async () => {
    const { pool } = poolWith({ maxWait: 10_000 }, { a: { maxInFlight: 1 } });
    const gate = deferred();
    const busy = pool.run(() => gate.promise.then(() => 'busy'));
    const waiting = settleOf(pool.run(() => 'never', { deadline: 200, retry: { attempts: 3 } }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await waiting).toMatchObject({ at: 200, error: { code: 'ERR_DEADLINE_EXCEEDED' } });
    gate.resolve();
    await busy;
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });
});
