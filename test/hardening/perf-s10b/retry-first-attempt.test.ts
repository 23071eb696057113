import { describe, expect, it, vi } from 'vitest';
import { ClientPool, ConcurrencyLimitedError, type Call, type RunOptions } from '../../../src/index.js';
import { inFlight, makePool, never, settled, type Client, type Shape, captureUnhandled } from './harness.js';

// A call with `retry` (no hedge) runs its first attempt plain. With no stage before the pick (no pool
// `limit`, no `minHeight` so far) the pick stage hands the first attempt's failure to the retries itself
// (PoolCore.fail / rejected); otherwise a then() does. The caller must not be able to tell which.

const unhandled = captureUnhandled({ fakeTimers: true });

const retry = { attempts: 3, backoff: { initial: 100, max: 100, jitter: 'none' as const } };

interface Scenario {
  readonly name: string;
  readonly clients?: readonly string[];
  readonly pool?: Parameters<typeof makePool>[2];
  /** What the caller must see, on either pipeline, where it is plain to say. */
  readonly expected?: { seenByCaller: unknown; tried?: number };
  /** Starts the call(s) and drives time; returns what the caller saw. */
  readonly drive: (ctx: Ctx) => Promise<Held>;
}

interface Ctx {
  pool: ReturnType<typeof makePool>['pool'];
  tried: string[];
  run(fn: (client: Client, call: Call<Client>) => unknown, options?: RunOptions<Client>): Held;
}

/** A call in flight, held in an object: an async drive returning it must not wait for it. */
interface Held {
  readonly settled: Promise<unknown>;
}

interface Run {
  seenByCaller: unknown;
  tried: string[];
  leftInFlight: number;
  outcomes: string[];
  callEnds: (string | undefined)[];
  unhandled: number;
}

async function runScenario(scenario: Scenario, shape: Shape): Promise<Run> {
  const { pool, seen } = makePool(shape, scenario.clients ?? ['a', 'b', 'c'], scenario.pool);
  const tried: string[] = [];
  const ctx: Ctx = {
    pool,
    tried,
    run: (fn, options) => ({
      settled: settled(
        pool.run(
          (client, call) => {
            tried.push(client.name);
            return fn(client, call);
          },
          { retry, ...options },
        ),
      ),
    }),
  };
  const held = await scenario.drive(ctx);
  let isDone = false;
  const seenByCaller = held.settled.finally(() => (isDone = true));
  for (let i = 0; i < 200 && !isDone; i++) await vi.advanceTimersByTimeAsync(50);
  await vi.advanceTimersByTimeAsync(10_000);
  const leftInFlight = inFlight(pool);
  const closing = pool.close();
  await vi.advanceTimersByTimeAsync(10_000);
  await expect(closing).resolves.toBeUndefined();
  return { seenByCaller: await seenByCaller, tried, leftInFlight, outcomes: [...seen.outcomes].sort(), callEnds: seen.callEnds, unhandled: unhandled.length };
}

const fail = (): Promise<never> => Promise.reject(new Error('boom'));

const scenarios: Scenario[] = [
  { name: 'the function rejects on every client', expected: { seenByCaller: { code: 'ERR_CLIENT_CALL' }, tried: 3 }, drive: async (c) => c.run(fail) },
  {
    name: 'the function throws synchronously on every client',
    drive: async (c) =>
      c.run(() => {
        throw new Error('sync boom');
      }),
  },
  { name: 'the function rejects once, then succeeds', expected: { seenByCaller: { value: 'ok' }, tried: 2 }, drive: async (c) => c.run((client) => (client.name === 'a' ? fail() : Promise.resolve('ok'))) },
  {
    name: 'the function rejects with a non-Error',
    drive: async (c) =>
      c.run(() => Promise.reject(Object.assign(Object.create(null) as object, { message: 'not an Error' }))),
  },
  {
    name: 'every attempt times out',
    expected: { seenByCaller: { code: 'ERR_TIMEOUT' }, tried: 3 },
    drive: async (c) => {
      const call = c.run(never, { timeout: 50 });
      await vi.advanceTimersByTimeAsync(1_000);
      return call;
    },
  },
  {
    name: 'the caller aborted before the call',
    drive: async (c) => c.run(fail, { signal: AbortSignal.abort('gone') }),
  },
  {
    name: 'the caller aborts during the first attempt',
    expected: { seenByCaller: { code: 'ERR_ABORTED', cause: 'left' }, tried: 1 },
    drive: async (c) => {
      const controller = new AbortController();
      const call = c.run(never, { signal: controller.signal });
      await vi.advanceTimersByTimeAsync(10);
      controller.abort('left');
      return call;
    },
  },
  {
    name: 'the caller aborts during the backoff after the first attempt',
    expected: { seenByCaller: { code: 'ERR_ABORTED', cause: 'left' }, tried: 1 },
    drive: async (c) => {
      const controller = new AbortController();
      const call = c.run(fail, { signal: controller.signal });
      await vi.advanceTimersByTimeAsync(10);
      controller.abort('left');
      return call;
    },
  },
  {
    name: 'the caller aborts after the first attempt settled and its function ignores the signal',
    drive: async (c) => {
      const controller = new AbortController();
      let rejectFirst!: (e: Error) => void;
      const call = c.run(() => new Promise((_, reject) => (rejectFirst = reject)), { signal: controller.signal });
      await vi.advanceTimersByTimeAsync(10);
      controller.abort('left');
      rejectFirst(new Error('late'));
      return call;
    },
  },
  {
    name: 'the deadline passes during the first attempt',
    drive: async (c) => {
      const call = c.run(never, { deadline: 50 });
      await vi.advanceTimersByTimeAsync(1_000);
      return call;
    },
  },
  {
    name: 'the deadline leaves no room for the backoff',
    drive: async (c) => {
      const call = c.run(() => new Promise((_, reject) => setTimeout(() => reject(new Error('slow boom')), 40)), { deadline: 100 });
      await vi.advanceTimersByTimeAsync(1_000);
      return call;
    },
  },
  { name: 'there are no clients', clients: [], expected: { seenByCaller: { code: 'ERR_NO_CLIENTS' }, tried: 0 }, drive: async (c) => c.run(fail) },
  {
    name: 'every circuit is open',
    pool: { breaker: { maxFailures: 1, cooldown: 60_000 } },
    drive: async (c) => {
      // Open every circuit first (no retries), then call with retries.
      for (let i = 0; i < 3; i++) await settled(c.pool.run(fail, { retry: false }));
      return c.run(fail);
    },
  },
  {
    name: 'every client is at its maxInFlight and maxWait is 0',
    clients: ['a'],
    pool: { maxWait: 0 },
    drive: async (c) => {
      await c.pool.remove('a');
      c.pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
      let release!: () => void;
      const hog = settled(c.pool.run(() => new Promise<void>((resolve) => (release = resolve))));
      const call = c.run(fail);
      await call.settled;
      release();
      await hog;
      return call;
    },
  },
  {
    name: 'the first attempt waits for a client and is served after the caller left',
    clients: ['a'],
    drive: async (c) => {
      await c.pool.remove('a');
      c.pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
      let release!: () => void;
      const hog = settled(c.pool.run(() => new Promise<void>((resolve) => (release = resolve))));
      const controller = new AbortController();
      const call = c.run(fail, { signal: controller.signal, maxWait: 5_000 });
      await vi.advanceTimersByTimeAsync(10);
      // The wait is served and the caller aborts in the same turn.
      release();
      controller.abort('left');
      await hog;
      return call;
    },
  },
  {
    name: 'the first attempt waits for a client until maxWait',
    clients: ['a', 'b'],
    drive: async (c) => {
      for (const name of ['a', 'b']) {
        await c.pool.remove(name);
        c.pool.add({ name }, { name, maxInFlight: 1 });
      }
      const hogs = [settled(c.pool.run(never, { timeout: 3_000 })), settled(c.pool.run(never, { timeout: 3_000 }))];
      const call = c.run(fail, { maxWait: 100 });
      await vi.advanceTimersByTimeAsync(5_000);
      await Promise.all(hogs);
      return call;
    },
  },
  {
    name: 'retryOn throws',
    drive: async (c) =>
      c.run(fail, {
        retry: {
          ...retry,
          retryOn: () => {
            throw new Error('retryOn broke');
          },
        },
      }),
  },
  {
    name: 'retryOn reads the error and says no to it',
    drive: async (c) => c.run(fail, { retry: { ...retry, retryOn: (error) => error.message !== 'boom' } }),
  },
  {
    name: 'retryOn reads the classified error and its cause',
    drive: async (c) =>
      c.run((client) => Promise.reject(new Error(`boom on ${client.name}`)), {
        retry: {
          ...retry,
          retryOn: (error, attempt) => {
            const e = error as Error & { code?: string; cause?: Error };
            c.tried.push(`retryOn(${e.code ?? 'no code'}, ${e.cause?.message ?? 'no cause'}, ${attempt})`);
            return true;
          },
        },
      }),
  },
  {
    name: 'retryOn reads a timeout',
    drive: async (c) =>
      c.run(never, {
        timeout: 30,
        retry: {
          ...retry,
          retryOn: (error, attempt) => {
            c.tried.push(`retryOn(${(error as Error & { code?: string }).code ?? 'no code'}, ${attempt})`);
            return attempt < 2;
          },
        },
      }),
  },
  {
    name: 'retryAfter throws',
    drive: async (c) =>
      c.run(fail, {
        retry: {
          ...retry,
          retryAfter: () => {
            throw new Error('retryAfter broke');
          },
        },
      }),
  },
  {
    name: 'the retry budget is exhausted',
    expected: { seenByCaller: { code: 'ERR_RETRY_BUDGET' }, tried: 1 },
    pool: { retryBudget: { ratio: 0, reserve: 0 } },
    drive: async (c) => c.run(fail),
  },
  {
    name: 'close() during the first attempt',
    drive: async (c) => {
      let rejectFirst!: (e: Error) => void;
      const call = c.run(() => new Promise((_, reject) => (rejectFirst = reject)));
      await vi.advanceTimersByTimeAsync(10);
      const closing = c.pool.close();
      rejectFirst(new Error('during close'));
      await closing;
      return call;
    },
  },
  {
    name: 'close() while the first attempt waits for a client',
    clients: ['a'],
    drive: async (c) => {
      await c.pool.remove('a');
      c.pool.add({ name: 'a' }, { name: 'a', maxInFlight: 1 });
      let release!: () => void;
      const hog = settled(c.pool.run(() => new Promise<void>((resolve) => (release = resolve))));
      const call = c.run(fail, { maxWait: 5_000 });
      await vi.advanceTimersByTimeAsync(10);
      const closing = c.pool.close();
      release();
      await hog;
      await closing;
      return call;
    },
  },
  { name: 'a retry policy of one attempt', expected: { seenByCaller: { code: 'ERR_CLIENT_CALL' }, tried: 1 }, drive: async (c) => c.run(fail, { retry: { attempts: 1 } }) },
  {
    name: 'retryAfter asks for more than the backoff max',
    expected: { seenByCaller: { code: 'ERR_CLIENT_CALL' }, tried: 1 },
    drive: async (c) => c.run(fail, { retry: { ...retry, retryAfter: () => 1_000_000 } }),
  },
  {
    name: 'the function rejects after the caller aborted, on a pool closing',
    drive: async (c) => {
      const controller = new AbortController();
      let rejectFirst!: (e: Error) => void;
      const call = c.run(() => new Promise((_, reject) => (rejectFirst = reject)), { signal: controller.signal });
      await vi.advanceTimersByTimeAsync(1);
      const closing = c.pool.close();
      controller.abort('left');
      rejectFirst(new Error('late'));
      await closing;
      return call;
    },
  },
  {
    name: 'close() during the backoff',
    drive: async (c) => {
      const call = c.run(fail);
      await vi.advanceTimersByTimeAsync(10);
      await c.pool.close();
      return call;
    },
  },
  {
    name: 'destroy() during the first attempt (the function hears its signal)',
    drive: async (c) => {
      const call = c.run((_client, call) => new Promise((_, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason))));
      await vi.advanceTimersByTimeAsync(10);
      await c.pool.destroy(new Error('shutdown'));
      return call;
    },
  },
  {
    name: 'destroy() during the first attempt of a timed call',
    drive: async (c) => {
      const call = c.run(never, { timeout: 5_000 });
      await vi.advanceTimersByTimeAsync(10);
      await c.pool.destroy(new Error('shutdown'));
      return call;
    },
  },
  {
    name: 'destroy() during the backoff',
    expected: { seenByCaller: { code: 'ERR_CLIENT_CALL' }, tried: 1 },
    drive: async (c) => {
      const call = c.run(fail);
      await vi.advanceTimersByTimeAsync(10);
      await c.pool.destroy(new Error('shutdown'));
      return call;
    },
  },
  {
    name: 'a middleware throws',
    drive: async (c) => {
      c.pool.use(() => {
        throw new Error('mw boom');
      });
      return c.run(() => Promise.resolve('never reached'));
    },
  },
  {
    name: 'a middleware returns nothing',
    drive: async (c) => {
      const returnsNothing = (call: Call<Client>, next: (c: Call<Client>) => Promise<unknown>): undefined => {
        void next(call);
      };
      c.pool.use(returnsNothing);
      return c.run(fail);
    },
  },
  {
    name: 'a middleware calls next twice',
    drive: async (c) => {
      c.pool.use(async (call, next) => {
        await next(call).catch(() => undefined);
        return next(call);
      });
      return c.run((client) => (client.name === 'a' ? fail() : Promise.resolve('ok')));
    },
  },
  {
    name: 'a middleware refuses the first client only (a ConcurrencyLimitedError of its own)',
    drive: async (c) => {
      c.pool.use((call, next) => (call.clientName === 'a' ? Promise.reject(new ConcurrencyLimitedError()) : next(call)));
      return c.run(() => Promise.resolve('ok'));
    },
  },
];

describe('a call with retries: the first attempt fails the same with or without a stage before the pick', () => {
  for (const scenario of scenarios) {
    it(`${scenario.name}: same caller error, attempts, outcomes and call ends; nothing left in flight or unhandled`, async () => {
      const pickFirst = await runScenario(scenario, 'pick-first');
      const limitFirst = await runScenario(scenario, 'limit-first');
      expect(pickFirst).toEqual(limitFirst);
      expect(pickFirst.leftInFlight).toBe(0);
      expect(pickFirst.unhandled).toBe(0);
      expect(pickFirst.callEnds.length).toBeGreaterThan(0);
      if (scenario.expected !== undefined) {
        expect(pickFirst.seenByCaller).toMatchObject(scenario.expected.seenByCaller as object);
        if (scenario.expected.tried !== undefined) expect(pickFirst.tried.filter((t) => !t.startsWith('retryOn'))).toHaveLength(scenario.expected.tried);
      }
    });
  }
});


describe('a call with retries whose first attempt is not tracked (no observer, no signal, no timeout)', () => {
  for (const shape of ['pick-first', 'limit-first'] as const) {
    it(`destroy() during the first attempt, the function then rejecting: the caller gets ERR_POOL_CLOSED and no retry starts (${shape})`, async () => {
      const pool = new ClientPool<Client>({ retryBudget: false, ...(shape === 'limit-first' ? { limit: { rate: 1_000_000, burst: 1_000_000 } } : {}) });
      for (const name of ['a', 'b']) pool.add({ name }, { name });
      const tried: string[] = [];
      let rejectFirst!: (error: Error) => void;
      const call = settled(
        pool.run(
          (client) => {
            tried.push(client.name);
            return new Promise((_, reject) => (rejectFirst = reject));
          },
          { retry },
        ),
      );
      await vi.advanceTimersByTimeAsync(1);
      const destroying = pool.destroy(new Error('shutdown'));
      rejectFirst(new Error('late boom'));
      await vi.advanceTimersByTimeAsync(1_000);
      await destroying;
      expect(await call).toMatchObject({ code: 'ERR_POOL_CLOSED' });
      expect(tried).toHaveLength(1);
      expect(inFlight(pool)).toBe(0);
      expect(unhandled).toEqual([]);
    });
  }
});
