// Calls that can be ended early (timeout, signal, hedge, deadline): the caller's promise is the race's,
// settled by the function's end or the early end, whichever comes first. Each end at each point: counted
// once, the client given back, no timer or tracked attempt left behind.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { CHANNELS, type Limiter, type Outcome } from '../../../src/index.js';
import { useFakeTime } from '../../helpers/fake-time.js';
import { deferred } from '../../helpers/manual-clock.js';
import { advance, counts, hang, jobs, outcome, poolOf } from './helpers.js';

useFakeTime();
vi.setConfig({ testTimeout: 10_000 });

describe('the function and the early end, whichever comes first', () => {
  it('a late success after the timeout: ERR_TIMEOUT, one failure, no success, inFlight 0', async () => {
    const pool = poolOf();
    const answer = deferred<string>();
    const call = outcome(pool.run(() => answer.promise, { timeout: 10 }));
    await advance(10);
    expect(await call).toEqual({ code: 'ERR_TIMEOUT' });
    answer.resolve('late');
    await jobs();
    expect(counts(pool)).toEqual(['c0:s0f1c0r0i0']);
  });

  it('a success then an abort in the same job: the abort was first to be heard, the caller gets ERR_ABORTED, one cancelled', async () => {
    const pool = poolOf();
    const answer = deferred<string>();
    const controller = new AbortController();
    const call = outcome(pool.run(() => answer.promise, { signal: controller.signal }));
    await jobs();
    answer.resolve('v');
    controller.abort('stop');
    expect(await call).toEqual({ code: 'ERR_ABORTED' });
    expect(counts(pool)).toEqual(['c0:s0f0c1r0i0']);
  });

  it('a success heard before an abort two jobs later: the value, one success', async () => {
    const pool = poolOf();
    const answer = deferred<string>();
    const controller = new AbortController();
    const call = outcome(pool.run(() => answer.promise, { signal: controller.signal }));
    await jobs();
    answer.resolve('v');
    await Promise.resolve();
    await Promise.resolve();
    controller.abort('stop');
    expect(await call).toEqual({ value: 'v' });
    expect(counts(pool)).toEqual(['c0:s1f0c0r0i0']);
  });

  it('a function that aborts its own caller\'s signal then returns a value: ERR_ABORTED, one cancelled', async () => {
    const pool = poolOf();
    const controller = new AbortController();
    const call = outcome(pool.run(() => {
      controller.abort('self');
      return 'v';
    }, { signal: controller.signal }));
    expect(await call).toEqual({ code: 'ERR_ABORTED' });
    expect(counts(pool)).toEqual(['c0:s0f0c1r0i0']);
  });

  it('a function that throws at once with a timeout: ERR_CLIENT_CALL, one failure, nothing expires later', async () => {
    const pool = poolOf();
    expect(await outcome(pool.run(() => { throw new Error('boom'); }, { timeout: 10 }))).toEqual({ code: 'ERR_CLIENT_CALL' });
    await advance(20);
    expect(vi.getTimerCount()).toBe(0);
    expect(counts(pool)).toEqual(['c0:s0f1c0r0i0']);
  });

  it('a function that reads call.signal is aborted with the TimeoutError at its timeout; its rejection then changes nothing', async () => {
    const pool = poolOf();
    const reasons: unknown[] = [];
    const call = outcome(pool.run((_c, c) => new Promise((_resolve, reject) => c.signal.addEventListener('abort', () => {
      reasons.push((c.signal.reason as { code?: string }).code);
      reject(new Error('aborted'));
    })), { timeout: 10 }));
    await advance(10);
    expect(await call).toEqual({ code: 'ERR_TIMEOUT' });
    expect(reasons).toEqual(['ERR_TIMEOUT']);
    expect(counts(pool)).toEqual(['c0:s0f1c0r0i0']);
  });

  it('timed and signalled successes leave no timer once their timeouts are past: many calls, counted once each, inFlight 0', async () => {
    const pool = poolOf(2);
    const controller = new AbortController();
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) calls.push(outcome(pool.run((c) => c.id, i % 2 === 0 ? { timeout: 10 + i } : { signal: controller.signal })));
    await Promise.all(calls);
    await advance(50);
    expect(vi.getTimerCount()).toBe(0);
    expect(counts(pool)).toEqual(['c0:s10f0c0r0i0', 'c1:s10f0c0r0i0']);
  });
});

describe('destroy() and close() with raced calls in flight', () => {
  it('destroy() ends timed and signalled calls with ERR_POOL_CLOSED and resolves, nothing left to expire', async () => {
    const pool = poolOf(2);
    const controller = new AbortController();
    const calls = [outcome(pool.run(hang, { timeout: 100 })), outcome(pool.run(hang, { signal: controller.signal })), outcome(pool.run(hang, { timeout: 50, signal: controller.signal }))];
    await jobs();
    await pool.destroy(new Error('bye'));
    expect(await Promise.all(calls)).toEqual([{ code: 'ERR_POOL_CLOSED' }, { code: 'ERR_POOL_CLOSED' }, { code: 'ERR_POOL_CLOSED' }]);
    controller.abort();
    await advance(200);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('destroy() then a late answer: still ERR_POOL_CLOSED', async () => {
    const pool = poolOf();
    const answer = deferred<string>();
    const call = outcome(pool.run(() => answer.promise, { timeout: 100 }));
    await jobs();
    const destroyed = pool.destroy(new Error('bye'));
    answer.resolve('late');
    await destroyed;
    expect(await call).toEqual({ code: 'ERR_POOL_CLOSED' });
  });

  it('close() waits for a raced call that then times out: ERR_TIMEOUT first, then close() resolves', async () => {
    const pool = poolOf();
    const log: string[] = [];
    void pool.run(hang, { timeout: 10 }).catch((e: { code: string }) => log.push(e.code));
    await jobs();
    const closed = pool.close().then(() => log.push('closed'));
    await advance(10);
    await closed;
    expect(log).toEqual(['ERR_TIMEOUT', 'closed']);
  });

  it('close() bounded by a signal that aborts turns into destroy(): the raced call fails ERR_POOL_CLOSED', async () => {
    const pool = poolOf();
    const controller = new AbortController();
    const call = outcome(pool.run(hang, { timeout: 100 }));
    await jobs();
    setTimeout(() => controller.abort(new Error('bound')), 20);
    const closed = pool.close({ signal: controller.signal });
    await advance(20);
    await closed;
    expect(await call).toEqual({ code: 'ERR_POOL_CLOSED' });
  });

  it('an onOutcome hook that destroys the pool on a raced success: the value, and the other raced call fails ERR_POOL_CLOSED', async () => {
    const heard: string[] = [];
    const pool = poolOf(2, {
      middleware: [{
        name: 'destroyer',
        onOutcome: (_call, o: Outcome) => {
          heard.push(o.kind);
          void pool.destroy(new Error('from a hook'));
        },
      }],
    });
    const ok = outcome(pool.run((c) => c.id, { timeout: 10 }));
    const hung = outcome(pool.run(hang, { timeout: 10 }));
    expect(await ok).toEqual({ value: 'c0' });
    expect(await hung).toEqual({ code: 'ERR_POOL_CLOSED' });
    expect(heard).toEqual(['success', 'cancelled']);
  });

  it('an isFailure that destroys the pool while a raced failure is classified: ERR_CLIENT_CALL, counted once', async () => {
    const pool = poolOf(1, {
      isFailure: () => {
        void pool.destroy(new Error('d'));
        return true;
      },
    });
    expect(await outcome(pool.run(() => Promise.reject(new Error('x')), { timeout: 10 }))).toEqual({ code: 'ERR_CLIENT_CALL' });
    await jobs();
    expect(pool.members()).toEqual([]);
  });
});

describe('observers of raced attempts', () => {
  it('onOutcome and clientpool:attempt:start/end hear each raced attempt once: a success and a timeout', async () => {
    const heard: string[] = [];
    const onStart = (): number => heard.push('start');
    const onEnd = (m: unknown): number => heard.push(`end ${(m as { outcome: Outcome }).outcome.kind}`);
    subscribe(CHANNELS.attemptStart, onStart);
    subscribe(CHANNELS.attemptEnd, onEnd);
    try {
      const pool = poolOf(1, { middleware: [{ name: 'o', onOutcome: (_c, o: Outcome) => void heard.push(`outcome ${o.kind}`) }] });
      expect(await outcome(pool.run((c) => c.id, { timeout: 10 }))).toEqual({ value: 'c0' });
      const timed = outcome(pool.run(hang, { timeout: 10 }));
      await advance(10);
      expect(await timed).toEqual({ code: 'ERR_TIMEOUT' });
      expect(heard).toEqual(['start', 'outcome success', 'end success', 'start', 'outcome failure', 'end failure']);
      expect(counts(pool)).toEqual(['c0:s1f1c0r0i0']);
    } finally {
      unsubscribe(CHANNELS.attemptStart, onStart);
      unsubscribe(CHANNELS.attemptEnd, onEnd);
    }
  });

  it('a clientpool:attempt:start subscriber that destroys the pool: the raced call fails ERR_POOL_CLOSED, its function never runs, no timer left', async () => {
    let started = false;
    const pool = poolOf();
    const onStart = (): void => void pool.destroy(new Error('from start'));
    subscribe(CHANNELS.attemptStart, onStart);
    try {
      const call = outcome(pool.run(() => ((started = true), 'v'), { timeout: 10 }));
      expect(await call).toEqual({ code: 'ERR_POOL_CLOSED' });
      expect(started).toBe(false);
    } finally {
      unsubscribe(CHANNELS.attemptStart, onStart);
    }
  });

  it('a clientpool:attempt:start subscriber that aborts the caller\'s signal: ERR_ABORTED, the function never runs, one cancelled', async () => {
    let started = false;
    const pool = poolOf();
    const controller = new AbortController();
    const onStart = (): void => controller.abort('from start');
    subscribe(CHANNELS.attemptStart, onStart);
    try {
      expect(await outcome(pool.run(() => ((started = true), 'v'), { signal: controller.signal }))).toEqual({ code: 'ERR_ABORTED' });
    } finally {
      unsubscribe(CHANNELS.attemptStart, onStart);
    }
    expect(started).toBe(false);
    expect(counts(pool)).toEqual(['c0:s0f0c1r0i0']);
  });

  it('an adaptive maxInFlight hears raced successes and timeouts: counted once, inFlight 0', async () => {
    const pool = poolOf(1, {}, { maxInFlight: { adaptive: 'aimd', initial: 4, min: 1, max: 10 } });
    const ok = outcome(pool.run((c) => c.id, { timeout: 10 }));
    const timed = outcome(pool.run(hang, { timeout: 10 }));
    await advance(10);
    expect([await ok, await timed]).toEqual([{ value: 'c0' }, { code: 'ERR_TIMEOUT' }]);
    expect(counts(pool)).toEqual(['c0:s1f1c0r0i0']);
  });

  it('a breaker whose every method throws: raced success and timeout still settle, counted once', async () => {
    const broken = (): never => { throw new Error('breaker'); };
    const pool = poolOf(1, { breaker: () => ({ state: { kind: 'closed' }, acquire: () => 'call', success: broken, failure: broken, release: broken }) as never });
    const ok = outcome(pool.run((c) => c.id, { timeout: 10 }));
    const timed = outcome(pool.run(hang, { timeout: 10 }));
    await advance(10);
    expect([await ok, await timed]).toEqual([{ value: 'c0' }, { code: 'ERR_TIMEOUT' }]);
    expect(counts(pool)).toEqual(['c0:s1f1c0r0i0']);
  });
});

describe('middleware below the race', () => {
  it('a middleware still running at the timeout: ERR_TIMEOUT at the timeout, its late next() never calls the client', async () => {
    let called = false;
    const late: string[] = [];
    const pool = poolOf(1, {
      middleware: [{
        name: 'slow',
        execute: async (call, next) => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          return next(call).catch((e: { code: string }) => {
            late.push(e.code);
            throw e;
          });
        },
      }],
    });
    const call = outcome(pool.run(() => ((called = true), 'v'), { timeout: 10 }));
    await advance(10);
    expect(await call).toEqual({ code: 'ERR_TIMEOUT' });
    await advance(50);
    expect(called).toBe(false);
    expect(late).toEqual(['ERR_TIMEOUT']);
    expect(counts(pool)).toEqual(['c0:s0f1c0r0i0']);
  });

  it.each([
    ['throws', (): never => { throw new Error('mw'); }, 'ERR_CLIENT_CALL', 'c0:s0f0c0r1i0'],
    ['returns a non-promise', (): unknown => 5, 'ERR_CALLBACK', 'c0:s0f0c0r1i0'],
    ['calls next() twice', (call: never, next: (c: never) => Promise<unknown>): Promise<unknown> => {
      void next(call);
      return next(call);
    }, 'ERR_CALLBACK', 'c0:s0f1c0r0i0'],
  ] as const)('a middleware that %s, in a timed call: %s, counted once, inFlight 0', async (_name, execute, code, count) => {
    const pool = poolOf(1, { middleware: [{ name: 'm', execute: execute as never }] });
    expect(await outcome(pool.run(() => 1, { timeout: 10 }))).toEqual({ code });
    expect(counts(pool)).toEqual([count]);
  });

  it('a middleware that answers without next(), in a timed call: its answer, a refusal (no verdict on the client), nothing expires later', async () => {
    const pool = poolOf(1, { middleware: [{ name: 'cache', execute: () => Promise.resolve('cached') }] });
    expect(await outcome(pool.run(() => 1, { timeout: 10 }))).toEqual({ value: 'cached' });
    await advance(20);
    expect(vi.getTimerCount()).toBe(0);
    expect(counts(pool)).toEqual(['c0:s0f0c0r1i0']);
  });
});

describe('a client with a shared limit (the client-token wait, before the race is armed)', () => {
  function sharedPool(take: Limiter['take']) {
    const pool = poolOf(0, { maxWait: 5_000 });
    pool.add({ id: 'a' }, { name: 'a', limit: { take } });
    return pool;
  }

  it('the timeout starts once the token is taken: a wait longer than the timeout does not end the call', async () => {
    const token = deferred();
    const pool = sharedPool(() => token.promise);
    const call = outcome(pool.run(() => 'v', { timeout: 10 }));
    await advance(50);
    token.resolve();
    expect(await call).toEqual({ value: 'v' });
    expect(counts(pool)).toEqual(['a:s1f0c0r0i0']);
  });

  it('a function that hangs after the wait times out from the end of the wait', async () => {
    const token = deferred();
    const pool = sharedPool(() => token.promise);
    const call = outcome(pool.run(hang, { timeout: 10 }));
    await advance(20);
    token.resolve();
    await jobs();
    await advance(9);
    expect(counts(pool)).toEqual(['a:s0f0c0r0i1']);
    await advance(1);
    expect(await call).toEqual({ code: 'ERR_TIMEOUT' });
    expect(counts(pool)).toEqual(['a:s0f1c0r0i0']);
  });

  it('an abort during the wait: ERR_ABORTED at once, one cancelled, the function never runs', async () => {
    let called = false;
    const token = deferred();
    const pool = sharedPool(() => token.promise);
    const controller = new AbortController();
    const call = outcome(pool.run(() => ((called = true), 'v'), { signal: controller.signal, timeout: 100 }));
    await advance(5);
    controller.abort('x');
    expect(await call).toEqual({ code: 'ERR_ABORTED' });
    token.resolve();
    await advance(200);
    expect(called).toBe(false);
    expect(counts(pool)).toEqual(['a:s0f0c1r0i0']);
  });

  it('destroy() during the wait: ERR_POOL_CLOSED, destroy() resolves, the function never runs', async () => {
    let called = false;
    const token = deferred();
    const pool = sharedPool(() => token.promise);
    const call = outcome(pool.run(() => ((called = true), 'v'), { timeout: 100 }));
    await advance(5);
    await pool.destroy(new Error('bye'));
    expect(await call).toEqual({ code: 'ERR_POOL_CLOSED' });
    token.resolve();
    await advance(200);
    expect(called).toBe(false);
  });

  it('a hedge that wins while the first attempt waits for its token: the winner\'s value, the waiting one cancelled', async () => {
    const token = deferred();
    const pool = sharedPool(() => token.promise);
    pool.add({ id: 'b' }, { name: 'b' });
    const call = outcome(pool.run((c) => c.id, { hedge: { delay: 10 }, timeout: 100 }));
    await advance(10);
    expect(await call).toEqual({ value: 'b' });
    token.resolve();
    await jobs();
    expect(counts(pool)).toEqual(['a:s0f0c1r0i0', 'b:s1f0c0r0i0']);
  });
});

describe('retries, hedges, quorums and coalesced calls with timeouts', () => {
  it.each([
    ['no pool limit (failures go straight to the retries)', {}],
    ['a pool limit (the first attempt\'s promise chained to the retries)', { limit: { rate: 1_000, burst: 100 } }],
  ])('a first attempt that times out is retried on another client: %s', async (_name, options) => {
    let n = 0;
    const pool = poolOf(2, options);
    const call = outcome(pool.run((c) => (++n === 1 ? hang() : c.id), { retry: { attempts: 3, backoff: { initial: 0, max: 0 } }, timeout: 10 }));
    await advance(10);
    await advance(1);
    expect(await call).toEqual({ value: 'c1' });
    expect(counts(pool)).toEqual(['c0:s0f1c0r0i0', 'c1:s1f0c0r0i0']);
  });

  it('an abort during a retry\'s attempt: ERR_ABORTED, the attempt cancelled, no more retries', async () => {
    const pool = poolOf(2);
    const controller = new AbortController();
    let n = 0;
    const call = outcome(pool.run(() => (++n === 1 ? Promise.reject(new Error('first')) : hang()), { retry: { attempts: 3, backoff: { initial: 0, max: 0 } }, signal: controller.signal }));
    await advance(1);
    controller.abort('stop');
    expect(await call).toEqual({ code: 'ERR_ABORTED' });
    await advance(100);
    expect(n).toBe(2);
    expect(counts(pool)).toEqual(['c0:s0f1c0r0i0', 'c1:s0f0c1r0i0']);
  });

  const hedgeRaces = [
    ['a hedge that wins: the first attempt, launched before it on another client, is its client\'s timeout; its late answer changes nothing', 1, ['c0:s0f1c0r0i0', 'c1:s1f0c0r0i0']],
    ['a first attempt that wins: the hedge is cancelled, no verdict on its client', 0, ['c0:s1f0c0r0i0', 'c1:s0f0c1r0i0']],
  ] as const;
  for (const [name, winner, expected] of hedgeRaces) {
    it(name, async () => {
      const pool = poolOf(2);
      const answers: ReturnType<typeof deferred<string>>[] = [];
      const call = outcome(pool.run(() => {
        const answer = deferred<string>();
        answers.push(answer);
        return answer.promise;
      }, { hedge: { delay: 10 }, timeout: 100 }));
      await advance(10);
      const names = ['first', 'second'];
      answers[winner]!.resolve(names[winner]!);
      expect(await call).toEqual({ value: names[winner] });
      answers[1 - winner]!.resolve(names[1 - winner]!);
      await jobs();
      expect(counts(pool)).toEqual(expected);
    });
  }

  it('a quorum with a timeout: one client hangs, the two others agree; the hung one is cancelled', async () => {
    const pool = poolOf(3);
    const call = outcome(pool.quorum((c) => (c.id === 'c0' ? hang() : 'v'), { of: 3, agree: 2, timeout: 10 }));
    expect(await call).toEqual({ value: 'v' });
    await advance(20);
    expect(counts(pool)).toEqual(['c0:s0f0c1r0i0', 'c1:s1f0c0r0i0', 'c2:s1f0c0r0i0']);
  });

  it('a quorum whose every client times out: ERR_QUORUM, three failures', async () => {
    const pool = poolOf(3);
    const call = outcome(pool.quorum(hang, { of: 3, agree: 2, timeout: 10 }));
    await advance(10);
    expect(await call).toEqual({ code: 'ERR_QUORUM' });
    expect(counts(pool)).toEqual(['c0:s0f1c0r0i0', 'c1:s0f1c0r0i0', 'c2:s0f1c0r0i0']);
  });

  it('two coalesced calls with a timeout share one attempt and its timeout; the late answer changes nothing', async () => {
    const pool = poolOf();
    const answer = deferred<string>();
    const a = outcome(pool.run(() => answer.promise, { coalesce: 'k', timeout: 10 }));
    const b = outcome(pool.run(() => answer.promise, { coalesce: 'k', timeout: 10 }));
    await advance(10);
    expect([await a, await b]).toEqual([{ code: 'ERR_TIMEOUT' }, { code: 'ERR_TIMEOUT' }]);
    answer.resolve('late');
    await jobs();
    expect(counts(pool)).toEqual(['c0:s0f1c0r0i0']);
  });

  it('a deadline with a timeout: each attempt ends at its timeout until the deadline ends the call', async () => {
    const pool = poolOf(2);
    const call = outcome(pool.run(hang, { retry: { attempts: 5, backoff: { initial: 0, max: 0 } }, timeout: 10, deadline: 25 }));
    for (let i = 0; i < 4; i++) await advance(10);
    expect(await call).toEqual({ code: 'ERR_DEADLINE_EXCEEDED' });
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    expect(pool.members().reduce((n, m) => n + m.failures + m.cancelled, 0)).toBe(3);
  });
});

describe('unhandled rejections', () => {
  it('none from raced calls ended every way, whether the caller awaits or not', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown): number => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const pool = poolOf(2);
      const controller = new AbortController();
      const calls: Promise<unknown>[] = [
        pool.run(hang, { timeout: 5 }),
        pool.run(hang, { signal: controller.signal }),
        pool.run(() => Promise.reject(new Error('x')), { timeout: 5 }),
        pool.run(() => { throw new Error('y'); }, { signal: controller.signal }),
        pool.run(hang, { hedge: { delay: 2 }, timeout: 5 }),
      ];
      for (const call of calls) call.catch(() => undefined);
      await advance(2);
      controller.abort('stop');
      await advance(10);
      await pool.close();
      await advance(1);
    } finally {
      process.off('unhandledRejection', listener);
    }
    expect(unhandled).toEqual([]);
  });
});

