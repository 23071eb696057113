import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortedError,
  AllCircuitsOpenError,
  ClientCallError,
  ClientPanicError,
  ClientPool,
  hasErrorCode,
  isClientPoolError,
  NoClientsError,
  PoolClosedError,
  TimeoutError,
  UnknownClientError,
  type StateChange,
} from '../src/index.js';
import { deferred, ManualClock } from './helpers/manual-clock.js';

interface Fake {
  readonly id: string;
}
const a: Fake = { id: 'a' };
const b: Fake = { id: 'b' };
const c: Fake = { id: 'c' };

afterEach(() => {
  vi.useRealTimers();
});

describe('ClientPool basics', () => {
  it('runs the function with a client and resolves its result', async () => {
    const pool = new ClientPool<Fake>();
    pool.add(a, { name: 'a' });
    await expect(pool.run((client) => client.id)).resolves.toBe('a');
    await expect(pool.run(async (client) => `${client.id}!`)).resolves.toBe('a!');
  });

  it('passes the call object with the client name, method label, attempt and signal', async () => {
    const pool = new ClientPool<Fake>();
    pool.add(a, { name: 'alpha' });
    const seen = await pool.run((_client, call) => ({ name: call.clientName, method: call.method, attempt: call.attempt, aborted: call.signal.aborted }), {
      method: 'get_slot',
    });
    expect(seen).toEqual({ name: 'alpha', method: 'get_slot', attempt: 1, aborted: false });
    await expect(pool.run((_client, call) => call.method)).resolves.toBe('unknown');
  });

  it('derives unique names and rejects duplicates', () => {
    const pool = new ClientPool<Fake>();
    expect(pool.add(a, { name: 'client-2' })).toBe('client-2');
    expect(pool.add(b)).toBe('client-1');
    expect(pool.add(c)).toBe('client-3');
    expect(() => pool.add({ id: 'd' }, { name: 'client-1' })).toThrow(/name must be unique in the pool, got "client-1"/);
    expect(() => pool.add(a)).toThrow(/client must be not already in the pool \(it is "client-2"\)/);
    expect(pool.size).toBe(3);
  });

  it('fails with NoClientsError on an empty pool', async () => {
    const pool = new ClientPool<Fake>();
    const error = await pool.run(() => 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoClientsError);
    expect(hasErrorCode(error, 'ERR_NO_CLIENTS')).toBe(true);
  });

  it('reports members with counts and latency', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, measureLatency: true });
    pool.add(a, { name: 'a', weight: 3 });
    await pool.run(() => {
      clock.advance(40);
      return 1;
    });
    await pool.run(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(pool.members()).toEqual([
      // 40 ms measured, then a failure doubles the estimate (failing fast must not look fast).
      { name: 'a', weight: 3, state: { kind: 'closed' }, inFlight: 0, successes: 1, failures: 1, cancelled: 0, refused: 0, latencyMs: 80, tokens: undefined, maxInFlight: undefined, tier: 0, height: undefined, lag: undefined, freshness: 'unknown', disagreements: 0 },
    ]);
  });
});

describe('time on the hot path', () => {
  it('reads no clock for a call to a closed client unless latency is measured', async () => {
    let reads = 0;
    const clock = { now: () => ++reads };
    const pool = new ClientPool<Fake>({ clock });
    pool.add(a);
    for (let i = 0; i < 100; i++) await pool.run(() => 1);
    expect(reads).toBe(0);
    const timed = new ClientPool<Fake>({ clock, measureLatency: true });
    timed.add(a);
    await timed.run(() => 1);
    expect(reads).toBe(2);
  });

  it('p2c-ewma turns latency measurement on, also when chosen per call', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock });
    pool.add(a);
    await pool.run(() => clock.advance(5));
    expect(pool.members()[0]!.latencyMs).toBe(0);
    await pool.run(() => clock.advance(5), { strategy: 'p2c-ewma' });
    expect(pool.members()[0]!.latencyMs).toBe(5);
  });
});

describe('recovery', () => {
  const throwers: [string, () => unknown, (error: unknown) => void][] = [
    ['an Error (rejected)', () => Promise.reject(new Error('boom')), (e) => expect(e).toBeInstanceOf(ClientCallError)],
    ['an Error (sync throw)', () => { throw new TypeError('sync'); }, (e) => expect(e).toBeInstanceOf(ClientCallError)],
    ['a string', () => { throw 'str'; }, (e) => expect(e).toBeInstanceOf(ClientPanicError)],
    ['undefined', () => Promise.reject(undefined), (e) => expect(e).toBeInstanceOf(ClientPanicError)],
    ['an object', () => { throw { status: 500 }; }, (e) => expect(e).toBeInstanceOf(ClientPanicError)],
    ['null (sync)', () => { throw null; }, (e) => expect(e).toBeInstanceOf(ClientPanicError)],
  ];

  it.each(throwers)('turns %s into a typed error with the original as cause, counted by the breaker', async (_label, fn, check) => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const pool = new ClientPool<Fake>({ breaker: { maxFailures: 2 } });
      pool.add(a, { name: 'a' });
      const errors: unknown[] = [];
      for (let i = 0; i < 2; i++) errors.push(await pool.run(fn).catch((e: unknown) => e));
      for (const error of errors) {
        check(error);
        expect(isClientPoolError(error)).toBe(true);
        expect((error as Error).cause === undefined || (error as Error).cause !== error).toBe(true);
      }
      const original = await Promise.resolve().then(fn).catch((e: unknown) => e);
      expect((errors[0] as Error).cause).toEqual(original);
      expect(pool.members()[0]!.state.kind).toBe('open');
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a middleware that throws a non-Error is recovered too', async () => {
    const pool = new ClientPool<Fake>();
    pool.add(a, { name: 'a' });
    pool.use(() => {
      throw 42;
    });
    const error = await pool.run(() => 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientPanicError);
    expect((error as Error).cause).toBe(42);
  });
});

describe('circuit breaking', () => {
  it('opens after maxFailures consecutive failures and skips the open client', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 3, cooldown: 1_000 } });
    pool.add(a, { name: 'a' });
    pool.add(b, { name: 'b' });
    const failA = (client: Fake): string => {
      if (client.id === 'a') throw new Error('a down');
      return client.id;
    };
    const results: string[] = [];
    for (let i = 0; i < 10; i++) results.push(await pool.run(failA).catch(() => 'error'));
    // a fails on its 1st, 2nd and 3rd turn, then is skipped.
    expect(results).toEqual(['error', 'b', 'error', 'b', 'error', 'b', 'b', 'b', 'b', 'b']);
    expect(pool.members().map((m) => m.state.kind)).toEqual(['open', 'closed']);
  });

  it('a success resets the consecutive count', async () => {
    const pool = new ClientPool<Fake>({ breaker: { maxFailures: 2 } });
    pool.add(a);
    const outcomes = [false, true, false, true, false];
    for (const ok of outcomes) await pool.run(() => (ok ? 1 : Promise.reject(new Error('x')))).catch(() => 0);
    expect(pool.members()[0]!.state.kind).toBe('closed');
  });

  it('fails fast when every circuit is open, naming the clients and when the next is due', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.add(a, { name: 'a' });
    pool.add(b, { name: 'b' });
    await pool.run(() => Promise.reject(new Error('x'))).catch(() => 0);
    clock.advance(300);
    await pool.run(() => Promise.reject(new Error('x'))).catch(() => 0);
    clock.advance(100);
    const called = vi.fn();
    const error = await pool.run(called).catch((e: unknown) => e);
    expect(called).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(AllCircuitsOpenError);
    const open = error as AllCircuitsOpenError;
    expect(open.code).toBe('ERR_ALL_CIRCUITS_OPEN');
    expect(open.retryAfterMs).toBe(600);
    expect(open.clients).toEqual([
      { name: 'a', state: 'open', retryAfterMs: 600 },
      { name: 'b', state: 'open', retryAfterMs: 900 },
    ]);
    expect(open.message).toMatch(/a \(open, back in 600 ms\), b \(open, back in 900 ms\)/);
  });

  it('half-open admits at most halfOpenProbes trials in all; it closes when all of them succeed', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 1_000, halfOpenProbes: 2 } });
    pool.add(a, { name: 'a' });
    await pool.run(() => Promise.reject(new Error('x'))).catch(() => 0);
    clock.advance(1_000);
    const probes = [deferred<string>(), deferred<string>()];
    const first = pool.run(() => probes[0]!.promise);
    const second = pool.run(() => probes[1]!.promise);
    const third = await pool.run(() => 'no').catch((e: unknown) => e);
    expect(third).toBeInstanceOf(AllCircuitsOpenError);
    expect((third as AllCircuitsOpenError).clients).toEqual([{ name: 'a', state: 'half-open', retryAfterMs: 0 }]);
    probes[0]!.resolve('ok');
    await expect(first).resolves.toBe('ok');
    expect(pool.members()[0]!.state.kind).toBe('half-open');
    // A probe that succeeded does not hand its permit on: the other one must succeed too.
    await expect(pool.run(() => 'no')).rejects.toBeInstanceOf(AllCircuitsOpenError);
    probes[1]!.resolve('ok2');
    await expect(second).resolves.toBe('ok2');
    expect(pool.members()[0]!.state.kind).toBe('closed');
    await expect(pool.run(() => 'flowing')).resolves.toBe('flowing');
  });

  it('a failed trial reopens with a grown cooldown, capped', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 100, cooldownMultiplier: 2, maxCooldown: 300 } });
    pool.add(a, { name: 'a' });
    const fail = (): Promise<never> => Promise.reject(new Error('x'));
    await pool.run(fail).catch(() => 0);
    const untils: number[] = [];
    for (let i = 0; i < 4; i++) {
      const state = pool.members()[0]!.state;
      if (state.kind !== 'open') throw new Error('expected open');
      untils.push(state.until - clock.time);
      clock.time = state.until;
      await pool.run(fail).catch(() => 0);
    }
    expect(untils).toEqual([100, 200, 300, 300]);
  });

  it('emits typed state changes and stops after dispose', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 10 } });
    pool.add(a, { name: 'a' });
    const seen: StateChange[] = [];
    const subscription = pool.onStateChange((change) => seen.push(change));
    await pool.run(() => Promise.reject(new Error('x'))).catch(() => 0);
    clock.advance(10);
    await pool.run(() => 1);
    expect(seen.map((s) => `${s.client}:${s.from.kind}->${s.to.kind}@${s.at}`)).toEqual(['a:closed->open@0', 'a:open->half-open@10', 'a:half-open->closed@10']);
    subscription.dispose();
    await pool.run(() => Promise.reject(new Error('x'))).catch(() => 0);
    expect(seen).toHaveLength(3);
  });

  it('isFailure decides what counts; a non-counted error is still returned', async () => {
    const pool = new ClientPool<Fake>({ breaker: { maxFailures: 1 }, isFailure: (e) => !(e instanceof RangeError) });
    pool.add(a);
    const error = await pool.run(() => Promise.reject(new RangeError('404'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientCallError);
    expect(pool.members()[0]!.state.kind).toBe('closed');
    await pool.run(() => Promise.reject(new Error('500'))).catch(() => 0);
    expect(pool.members()[0]!.state.kind).toBe('open');
  });

  it('breaker: false never opens', async () => {
    const pool = new ClientPool<Fake>({ breaker: false });
    pool.add(a);
    for (let i = 0; i < 20; i++) await pool.run(() => Promise.reject(new Error('x'))).catch(() => 0);
    await expect(pool.run((client) => client.id)).resolves.toBe('a');
  });
});

describe('cancellation and timeouts', () => {
  it('rejects at once with AbortedError keeping the reason, without counting a failure', async () => {
    const pool = new ClientPool<Fake>({ breaker: { maxFailures: 1 } });
    pool.add(a);
    const controller = new AbortController();
    let seenSignal: AbortSignal | undefined;
    const pending = pool.run((_client, call) => {
      seenSignal = call.signal;
      return new Promise(() => undefined);
    }, { signal: controller.signal });
    const reason = new Error('user left');
    controller.abort(reason);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).cause).toBe(reason);
    expect(seenSignal?.aborted).toBe(true);
    expect(pool.members()[0]).toMatchObject({ state: { kind: 'closed' }, cancelled: 1, failures: 0, inFlight: 0 });
  });

  it('an already aborted signal never reaches the client', async () => {
    const pool = new ClientPool<Fake>();
    pool.add(a);
    const fn = vi.fn();
    const error = await pool.run(fn, { signal: AbortSignal.abort('gone') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).cause).toBe('gone');
    expect(fn).not.toHaveBeenCalled();
  });

  it('times out with TimeoutError, aborts the call signal and counts a failure (fake timers)', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<Fake>({ breaker: { maxFailures: 1 }, clock: { now: () => Date.now() } });
    pool.add(a, { name: 'a' });
    let seen: AbortSignal | undefined;
    const pending = pool.run((_client, call) => {
      seen = call.signal;
      return new Promise(() => undefined);
    }, { timeout: 500 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(499);
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await pending;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(500);
    expect(seen?.reason).toBe(error);
    expect(pool.members()[0]!.state.kind).toBe('open');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the pool timeout applies by default and a call may override it', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<Fake>({ timeout: 100, clock: { now: () => Date.now() } });
    pool.add(a);
    const slow = (): Promise<string> => new Promise((resolve) => setTimeout(() => resolve('done'), 150));
    const short = pool.run(slow).catch((e: unknown) => e);
    const long = pool.run(slow, { timeout: 200 });
    await vi.advanceTimersByTimeAsync(150);
    expect(await short).toBeInstanceOf(TimeoutError);
    await expect(long).resolves.toBe('done');
  });

  it('never aborts the signal after success and leaves no listener behind, nor a timer past the deadline', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<Fake>({ clock: { now: () => Date.now() } });
    pool.add(a);
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    await pool.run((_client, call) => {
      seen = call.signal;
      return 'ok';
    }, { signal: controller.signal, timeout: 1_000 });
    // The pool's one deadline timer is kept for the next timed call (unref'd), and gone after its due time;
    // the listener on the caller's signal stays until the loop turns, for the next call to share.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(add.mock.calls.length).toBe(remove.mock.calls.length);
    expect(vi.getTimerCount()).toBe(0);
    expect(seen?.aborted).toBe(false);
  });
});

describe('remove and close', () => {
  it('drains: no new calls to a removed client, in-flight ones finish, then close hook runs', async () => {
    const pool = new ClientPool<Fake>();
    const closed: string[] = [];
    pool.add(a, { name: 'a', close: (client) => void closed.push(client.id) });
    pool.add(b, { name: 'b' });
    const inFlight = deferred<string>();
    const call = pool.run(() => inFlight.promise);
    let removed = false;
    const removal = pool.remove('a').then(() => (removed = true));
    expect(pool.size).toBe(1);
    for (let i = 0; i < 5; i++) await expect(pool.run((client) => client.id)).resolves.toBe('b');
    await Promise.resolve();
    expect(removed).toBe(false);
    expect(closed).toEqual([]);
    inFlight.resolve('finished');
    await expect(call).resolves.toBe('finished');
    await removal;
    expect(closed).toEqual(['a']);
  });

  it('removes by reference, and rejects an unknown client', async () => {
    const pool = new ClientPool<Fake>();
    pool.add(a);
    await pool.remove(a);
    expect(pool.size).toBe(0);
    await expect(pool.remove(a)).rejects.toBeInstanceOf(UnknownClientError);
    await expect(pool.remove('nope')).rejects.toThrow(/holds no client "nope"/);
  });

  it('a removed name can be reused and a slot is recycled without confusing balancers', async () => {
    const pool = new ClientPool<Fake>({ strategy: 'weighted-random', random: () => 0.99 });
    pool.add(a, { name: 'a' });
    pool.add(b, { name: 'b', weight: 3 });
    await pool.remove('b');
    pool.add(c, { name: 'b' });
    await expect(pool.run((client) => client.id)).resolves.toBe('c');
  });

  it('close() drains every client, runs close hooks and middleware close, then refuses calls', async () => {
    const pool = new ClientPool<Fake>();
    const log: string[] = [];
    pool.add(a, { close: () => void log.push('a') });
    pool.add(b, { close: async () => void log.push('b') });
    pool.use({ name: 'm', execute: (call, next) => next(call), close: () => void log.push('middleware') });
    const pending = deferred<number>();
    const call = pool.run(() => pending.promise);
    const closing = pool.close();
    expect(pool.close()).toBe(closing);
    await expect(pool.run(() => 1)).rejects.toBeInstanceOf(PoolClosedError);
    expect(() => pool.add(c)).toThrow(PoolClosedError);
    pending.resolve(7);
    await expect(call).resolves.toBe(7);
    await closing;
    expect(log.sort()).toEqual(['a', 'b', 'middleware']);
  });

  it('supports await using', async () => {
    const closed: string[] = [];
    {
      await using pool = new ClientPool<Fake>();
      pool.add(a, { close: () => void closed.push('a') });
      await pool.run(() => 1);
    }
    expect(closed).toEqual(['a']);
  });

  it('close rejects with an AggregateError when a close hook fails, after closing the rest', async () => {
    const pool = new ClientPool<Fake>();
    const closed: string[] = [];
    pool.add(a, { close: () => { throw new Error('cannot close a'); } });
    pool.add(b, { close: () => void closed.push('b') });
    const error = await pool.close().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['cannot close a']);
    expect(closed).toEqual(['b']);
  });
});
