import { describe, expect, it } from 'vitest';
import { ClientPool, CLOSED, type Admission, type Balancer, type BreakerFactory, type Middleware, type PoolMember } from '../../../src/index.js';
import { durations } from '../../helpers/durations.js';
import { deferred, ManualClock } from '../../helpers/manual-clock.js';

type Client = { name: string };

/** A balancer that takes `ms` of the pool's clock to pick (a slow custom strategy): time spent before any client is held. */
function slowBalancer(clock: ManualClock, ms: number): Balancer<Client> {
  return {
    pick(ready: readonly PoolMember<Client>[]): PoolMember<Client> {
      clock.advance(ms);
      return ready[0]!;
    },
  };
}

describe('a first attempt timed from its call start', () => {
  it('leaves out the time a slow balancer took to pick its client (as without an onCallEnd hook)', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, strategy: slowBalancer(clock, 40), middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.advance(10);
      return Promise.resolve('v');
    }, { method: 'get' });
    // The call lasted 50 ms: 40 picking, 10 on its client. The attempt spent 10 on its client.
    expect(heard.calls).toEqual([50]);
    expect(heard.attempts).toEqual([10]);
    await pool.close();
  });

  it('gives the same attempt duration with and without an onCallEnd hook when the balancer is slow', async () => {
    const measure = async (withCallEnd: boolean): Promise<number[]> => {
      const clock = new ManualClock();
      const attempts: number[] = [];
      const middleware: Middleware<Client>[] = [{ name: 'outcomes', onOutcome: (_c, _o, ms) => void attempts.push(ms) }];
      if (withCallEnd) middleware.push({ name: 'ends', onCallEnd: () => undefined });
      const pool = new ClientPool<Client>({ clock, strategy: slowBalancer(clock, 25), middleware });
      pool.add({ name: 'a' }, { name: 'a' });
      await pool.run(() => {
        clock.advance(5);
        return Promise.resolve('v');
      });
      await pool.close();
      return attempts;
    };
    expect(await measure(true)).toEqual(await measure(false));
  });

  it('members()[i].latencyMs is the client\'s answer time, not the balancer\'s pick time', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Client>({ clock, strategy: slowBalancer(clock, 100), measureLatency: true, middleware: [{ name: 'ends', onCallEnd: () => undefined }] });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.advance(1);
      return Promise.resolve('v');
    });
    const latency = pool.members()[0]!.latencyMs;
    expect(Number.isFinite(latency)).toBe(true);
    // The client answered in 1 ms; 100 ms went on the balancer.
    expect(latency).toBeLessThan(50);
    await pool.close();
  });

  it('lasts as long as the call when nothing waited: no limit, a pool limit with a token at hand', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, limit: { rate: 10, burst: 10 }, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.advance(7);
      return Promise.resolve('v');
    }, { method: 'get' });
    expect(heard.attempts).toEqual([7]);
    expect(heard.calls).toEqual([7]);
    await pool.close();
  });

  it('leaves out the wait for a pool token', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, limit: { rate: 100, burst: 1 }, maxWait: 60_000, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => Promise.resolve('spend'));
    const second = pool.run(() => {
      clock.advance(3);
      return Promise.resolve('v');
    });
    // Let the limiter's wait observe the clock; advance until the token is there.
    for (let i = 0; i < 200 && heard.calls.length < 2; i++) {
      clock.advance(10);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect(second).resolves.toBe('v');
    expect(heard.attempts[1]).toBe(3);
    expect(heard.calls[1]).toBeGreaterThan(3);
    await pool.close();
  });

  it('times a retry from its own start, and the failed first attempt from the call start', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, retry: { attempts: 2, backoff: { initial: 0, max: 0 }, retryOn: () => true }, retryBudget: false, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b' });
    let n = 0;
    await pool.run(() => {
      n++;
      if (n === 1) {
        clock.advance(30);
        return Promise.reject(new Error('first fails'));
      }
      clock.advance(4);
      return Promise.resolve('v');
    });
    expect(heard.attempts).toEqual([30, 4]);
    expect(heard.calls).toEqual([34]);
    await pool.close();
  });

  it('never makes a negative duration when the clock steps back during the attempt', async () => {
    const clock = new ManualClock();
    clock.time = 1_000;
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.time = 200;
      return Promise.resolve('v');
    });
    expect(heard.attempts).toEqual([0]);
    expect(heard.calls).toEqual([0]);
    expect(pool.members()[0]!.latencyMs).not.toBeLessThan(0);
    await pool.close();
  });

  it('leaves out a wait for a client at its maxInFlight cap, with a caller signal and a timeout', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, maxWait: 60_000, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
    const gate = deferred<string>();
    const holding = pool.run(() => gate.promise);
    const controller = new AbortController();
    const waiting = pool.run(() => {
      clock.advance(6);
      return Promise.resolve('second');
    }, { signal: controller.signal, timeout: 10_000 });
    clock.advance(45);
    gate.resolve('first');
    await expect(holding).resolves.toBe('first');
    await expect(waiting).resolves.toBe('second');
    expect(heard.attempts).toEqual([45, 6]);
    expect(heard.calls).toEqual([45, 51]);
    await pool.close();
  });

  it('leaves out the time the around hook took even when it resolves synchronously', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({
      clock,
      middleware: [
        heard,
        {
          name: 'sync around',
          around: (_scope, proceed) => {
            clock.advance(15);
            return proceed();
          },
        },
      ],
    });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.advance(2);
      return Promise.resolve('v');
    });
    expect(heard.attempts).toEqual([2]);
    expect(heard.calls).toEqual([17]);
    await pool.close();
  });

  it('hedged calls time each attempt from its own start', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, strategy: slowBalancer(clock, 9), middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b' });
    await pool.run(() => {
      clock.advance(1);
      return Promise.resolve('v');
    }, { hedge: { delay: 1_000 } });
    expect(heard.attempts).toEqual([1]);
    await pool.close();
  });
});

describe('a first attempt whose breaker takes time to admit it', () => {
  it('leaves the admission out of its duration', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const slowBreaker: BreakerFactory = () => ({
      state: CLOSED,
      acquire(): Admission {
        clock.advance(20);
        return 'call';
      },
      canAcquire: () => true,
      success: () => undefined,
      failure: () => undefined,
      release: () => undefined,
    });
    const pool = new ClientPool<Client>({ clock, breaker: slowBreaker, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.advance(5);
      return Promise.resolve('v');
    });
    expect(heard.calls).toEqual([25]);
    expect(heard.attempts).toEqual([5]);
    await pool.close();
  });
});

describe('a duration-reading breaker and a clock that moves during the pick', () => {
  it('a breaker that reads durations hears the time on the client, not its own admission time', async () => {
    const clock = new ManualClock();
    const heard: number[] = [];
    const slowBreaker: BreakerFactory = () => ({
      state: CLOSED,
      usesDuration: true,
      acquire(): Admission {
        clock.advance(20);
        return 'call';
      },
      canAcquire: () => true,
      success: (_admission, ms) => void heard.push(ms),
      failure: (_admission, ms) => void heard.push(ms),
      release: () => undefined,
    });
    const pool = new ClientPool<Client>({ clock, breaker: slowBreaker, middleware: [{ name: 'ends', onCallEnd: () => undefined }] });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.advance(5);
      return Promise.resolve('v');
    });
    expect(heard).toEqual([5]);
    await pool.close();
  });

  it('a clock stepped back during the pick does not hide the time the client took', async () => {
    const clock = new ManualClock();
    clock.time = 1_000;
    const heard = durations<Client>();
    const backwards: Balancer<Client> = {
      pick(ready: readonly PoolMember<Client>[]): PoolMember<Client> {
        clock.time -= 500;
        return ready[0]!;
      },
    };
    const pool = new ClientPool<Client>({ clock, strategy: backwards, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.advance(5);
      return Promise.resolve('v');
    });
    expect(heard.calls).toEqual([0]);
    // 5 ms on the client (as without an onCallEnd hook), not 0 from a start read before the step.
    expect(heard.attempts).toEqual([5]);
    await pool.close();
  });
});
