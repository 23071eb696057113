// Calls that can be ended early (a timeout, a deadline, the caller's signal, a hedge) still are, whoever
// decides that they need a race: from the call's options, its method's defaults or the pool's.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type Balancer, type PoolMember, type PoolOptions, type RunOptions } from '../../../src/index.js';
import { dateClock, describeEnd, settled, type Fake } from './harness.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake' });

const never = (): Promise<never> => new Promise<never>(() => undefined);

function poolOf(options: PoolOptions<Fake>, names: readonly string[] = ['a', 'b'], add: Record<string, unknown> = {}): ClientPool<Fake> {
  const pool = new ClientPool<Fake>({ clock: dateClock, ...options });
  for (const name of names) pool.add({ id: name }, { name, ...add });
  return pool;
}

const counts = (pool: ClientPool<Fake>): string => pool.members().map((m) => `${m.name} inFlight=${m.inFlight} s=${m.successes} f=${m.failures} c=${m.cancelled}`).join('; ');

/** Where the timeout or deadline comes from: the call, its method's defaults, the pool (a call with no options). */
const TIMED: readonly { name: string; pool: PoolOptions<Fake>; options: RunOptions<Fake> | undefined }[] = [
  { name: "the call's timeout", pool: {}, options: { timeout: 100 } },
  { name: "the method's timeout", pool: { methods: { get: { timeout: 100 } } }, options: { method: 'get' } },
  { name: "the pool's timeout, a call with no options", pool: { timeout: 100 }, options: undefined },
  { name: "the pool's timeout, a call with a method", pool: { timeout: 100 }, options: { method: 'other' } },
];

describe('a function that never answers is ended by its timeout', () => {
  for (const { name, pool: poolOptions, options } of TIMED) {
    it(`${name}: TimeoutError at 100 ms, a failure of the client, its signal aborted with the TimeoutError`, async () => {
      const pool = poolOf(poolOptions, ['a']);
      let reason: unknown;
      const result = await settled(
        pool.run((_client, call) => {
          call.signal.addEventListener('abort', () => {
            reason = call.signal.reason;
          });
          return never();
        }, options),
      );
      expect(describeEnd(result)).toBe('error ERR_TIMEOUT');
      expect((reason as { code?: string }).code).toBe('ERR_TIMEOUT');
      expect(counts(pool)).toBe('a inFlight=0 s=0 f=1 c=0');
      await pool.close();
    });

    it(`${name} with retries: each attempt times out, 3 attempts, TimeoutError`, async () => {
      const retry = { attempts: 3, backoff: { initial: 0, max: 0 } };
      const poolWithRetry = options?.method === 'get' ? { ...poolOptions, methods: { get: { timeout: 100, retry } } } : { ...poolOptions, retry };
      const pool = poolOf(poolWithRetry, ['a', 'b', 'c']);
      const tried: string[] = [];
      const result = await settled(
        pool.run((client) => {
          tried.push(client.id);
          return never();
        }, options),
      );
      expect(describeEnd(result)).toBe('error ERR_TIMEOUT');
      expect(tried).toEqual(['a', 'b', 'c']);
      expect(counts(pool)).toBe('a inFlight=0 s=0 f=1 c=0; b inFlight=0 s=0 f=1 c=0; c inFlight=0 s=0 f=1 c=0');
      await pool.close();
    });
  }
});

describe('deadlines', () => {
  const DEADLINED: readonly { name: string; pool: PoolOptions<Fake>; options: RunOptions<Fake> | undefined }[] = [
    { name: "the call's deadline", pool: {}, options: { deadline: 100 } },
    { name: "the method's deadline", pool: { methods: { get: { deadline: 100 } } }, options: { method: 'get' } },
    { name: "the pool's deadline, a call with no options", pool: { deadline: 100 }, options: undefined },
  ];
  for (const { name, pool: poolOptions, options } of DEADLINED) {
    it(`${name}: an attempt that had the whole deadline ends with DeadlineExceededError, a failure of its client`, async () => {
      const pool = poolOf(poolOptions, ['a']);
      const result = await settled(pool.run(never, options));
      expect(describeEnd(result)).toMatch(/^error ERR_DEADLINE_EXCEEDED/);
      expect(counts(pool)).toBe('a inFlight=0 s=0 f=1 c=0');
      await pool.close();
    });

    it(`${name} with retries (backoff 30 ms, attempts failing at 40 ms): the call ends at its deadline, no attempt after it`, async () => {
      const pool = poolOf({ ...poolOptions, retry: { attempts: 10, backoff: { initial: 30, max: 30, jitter: 'none' } }, retryBudget: false }, ['a', 'b', 'c']);
      const startedAt: number[] = [];
      const result = await settled(
        pool.run(() => {
          startedAt.push(Date.now());
          return new Promise((_, reject) => setTimeout(() => reject(new Error('slow fail')), 40));
        }, options),
      );
      expect(describeEnd(result)).toMatch(/^error ERR_DEADLINE_EXCEEDED/);
      expect(startedAt.every((t) => t < 100)).toBe(true);
      expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
      await pool.close();
    });
  }
});

describe("the caller's signal", () => {
  it('already aborted: AbortedError with its reason as cause, the function never called', async () => {
    const pool = poolOf({ retry: { attempts: 3 } });
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    let called = 0;
    const result = await settled(pool.run(() => ++called, { signal: controller.signal }));
    expect(describeEnd(result)).toBe('error ERR_ABORTED cause gone');
    expect(called).toBe(0);
    expect(counts(pool)).toBe('a inFlight=0 s=0 f=0 c=0; b inFlight=0 s=0 f=0 c=0');
    await pool.close();
  });

  for (const retry of [undefined, { attempts: 3, backoff: { initial: 0, max: 0 } }]) {
    const label = retry === undefined ? 'no retry' : 'retries';
    it(`${label}: aborted during the function that ignores it: AbortedError at once, cancelled (not a failure), not retried`, async () => {
      const pool = poolOf(retry === undefined ? {} : { retry });
      const controller = new AbortController();
      const tried: string[] = [];
      const call = pool.run(
        (client) => {
          tried.push(client.id);
          return never();
        },
        { signal: controller.signal },
      );
      await vi.advanceTimersByTimeAsync(10);
      controller.abort(new Error('user left'));
      const result = await settled(call);
      expect(describeEnd(result)).toBe('error ERR_ABORTED cause user left');
      expect(tried).toEqual(['a']);
      expect(counts(pool)).toBe('a inFlight=0 s=0 f=0 c=1; b inFlight=0 s=0 f=0 c=0');
      await pool.close();
    });

    it(`${label}: aborted while waiting for a client (maxInFlight): AbortedError, the wait leaves, the client serves the next call`, async () => {
      const pool = poolOf({ ...(retry === undefined ? {} : { retry }), maxWait: 10_000 }, ['a'], { maxInFlight: 1 });
      let release!: () => void;
      const busy = pool.run(() => new Promise<string>((resolve) => (release = () => resolve('done'))), { retry: false });
      const controller = new AbortController();
      let called = 0;
      const call = pool.run(() => ++called, { signal: controller.signal });
      await vi.advanceTimersByTimeAsync(10);
      controller.abort(new Error('user left'));
      const result = await settled(call);
      expect(describeEnd(result)).toBe('error ERR_ABORTED cause user left');
      release();
      expect(await busy).toBe('done');
      expect(called).toBe(0);
      expect(await pool.run(() => 'next')).toBe('next');
      expect(pool.members()[0]!.inFlight).toBe(0);
      await pool.close();
    });

    it(`${label}: aborted in the balancer's pick: AbortedError with the reason, in-flight back to 0`, async () => {
      const controller = new AbortController();
      const balancer: Balancer<Fake> = {
        pick: (ready: readonly PoolMember<Fake>[]) => {
          controller.abort(new Error('during pick'));
          return ready[0]!;
        },
      };
      const pool = poolOf({ ...(retry === undefined ? {} : { retry }), strategy: balancer });
      const result = await settled(pool.run(() => never(), { signal: controller.signal }));
      expect(describeEnd(result)).toBe('error ERR_ABORTED cause during pick');
      expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
      expect(pool.members().every((m) => m.failures === 0)).toBe(true);
      await pool.close();
    });
  }

  it('aborted during a retry backoff: AbortedError with the reason, no further attempt', async () => {
    const pool = poolOf({ retry: { attempts: 3, backoff: { initial: 1_000, max: 1_000, jitter: 'none' } } });
    const controller = new AbortController();
    const tried: string[] = [];
    const call = pool.run(
      (client) => {
        tried.push(client.id);
        return Promise.reject(new Error('down'));
      },
      { signal: controller.signal },
    );
    const observed = settled(call, 5_000);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort(new Error('user left'));
    const result = await observed;
    expect(describeEnd(result)).toBe('error ERR_ABORTED cause user left');
    expect(tried).toEqual(['a']);
    await pool.close();
  });
});

describe('hedges', () => {
  for (const where of ['pool', 'method', 'call'] as const) {
    it(`a hedge from the ${where}: a slow first attempt is outrun by the hedge on the other client, which is counted a failure of the first`, async () => {
      const hedge = { delay: 20 };
      const poolOptions: PoolOptions<Fake> = where === 'pool' ? { hedge, retryBudget: false } : where === 'method' ? { methods: { get: { hedge } }, retryBudget: false } : { retryBudget: false };
      const options: RunOptions<Fake> = where === 'pool' ? {} : where === 'method' ? { method: 'get' } : { hedge };
      const pool = poolOf(poolOptions);
      const result = await settled(pool.run((client) => (client.id === 'a' ? never() : Promise.resolve(client.id)), options));
      expect(describeEnd(result)).toBe('value b');
      expect(counts(pool)).toBe('a inFlight=0 s=0 f=1 c=0; b inFlight=0 s=1 f=0 c=0');
      await pool.close();
    });
  }

  // retry.attempts bounds the first attempt and its retries; the hedge is an attempt on top (CallAttempts' #retriesLeft).
  it('a hedged call whose attempts all fail makes the first, one hedge and two retries, and gives the last error', async () => {
    const pool = poolOf({ hedge: { delay: 20 }, retry: { attempts: 3, backoff: { initial: 0, max: 0 } }, retryBudget: false }, ['a', 'b', 'c']);
    const tried: string[] = [];
    const result = await settled(
      pool.run((client) => {
        tried.push(client.id);
        return new Promise((_, reject) => setTimeout(() => reject(new Error(`down ${client.id}`)), 30));
      }),
    );
    expect(describeEnd(result)).toMatch(/^error ERR_CLIENT_CALL cause down /);
    expect(tried).toEqual(['a', 'b', 'c', 'a']);
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
    await pool.close();
  });
});
