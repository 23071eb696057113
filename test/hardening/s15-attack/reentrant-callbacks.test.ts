// Callbacks of the pick (a balancer's pick and hooks) that close or destroy the pool, add middleware or
// throw, while a retried call's first attempt is in the lane or in the full pick: every way ends the same.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { CHANNELS, ClientPool, type Balancer, type PoolMember, type PoolOptions, type RunOptions } from '../../../src/index.js';
import { dateClock, describeEnd, settled, type Fake } from './harness.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake', quietWarnings: true });

const RETRY = { attempts: 3, backoff: { initial: 10, max: 10, jitter: 'none' as const } };

/** How the pool is set up around the pick: the lane, middleware after it, an onOutcome hook, options. */
const AROUND: readonly { name: string; options: RunOptions<Fake> | undefined; setup?: (pool: ClientPool<Fake>) => void }[] = [
  { name: 'the lane (no options)', options: undefined },
  { name: 'the first lane (a method)', options: { method: 'get' } },
  { name: 'an execute middleware', options: undefined, setup: (pool) => pool.use({ name: 'pass', execute: (call, next) => next(call) }) },
  { name: 'an onOutcome hook', options: undefined, setup: (pool) => pool.use({ name: 'verdicts', onOutcome: () => undefined }) },
  { name: 'a timeout (raced)', options: { timeout: 100_000 } },
];

type Ending = { end: string; calls: string[]; inFlight: number[]; closed: string };

async function scenario(balancer: (pool: () => ClientPool<Fake>) => Balancer<Fake>, around: (typeof AROUND)[number], fn: (client: Fake, calls: string[]) => unknown, extra: PoolOptions<Fake> = {}): Promise<Ending> {
  // Read by the balancer's callbacks, which are made before it.
  const holder: { pool?: ClientPool<Fake> } = {};
  const pool = new ClientPool<Fake>({ clock: dateClock, retry: RETRY, strategy: balancer(() => holder.pool!), ...extra });
  holder.pool = pool;
  for (const name of ['a', 'b', 'c']) pool.add({ id: name }, { name });
  around.setup?.(pool);
  const calls: string[] = [];
  const result = await settled(pool.run((client) => fn(client, calls), around.options), 5_000);
  // Before close() removes them (a pool closed by a callback may have none left).
  const inFlight = pool.members().map((m) => m.inFlight);
  const closing = await settled(pool.close(), 5_000);
  return { end: describeEnd(result), calls, inFlight, closed: describeEnd(closing) };
}

const roundRobin = (hooks: Partial<Balancer<Fake>> = {}): Balancer<Fake> => {
  let i = 0;
  return { pick: (ready: readonly PoolMember<Fake>[]) => ready[i++ % ready.length]!, ...hooks };
};

describe('callbacks of the pick that change the pool under a retried call', () => {
  for (const around of AROUND) {
    it(`${around.name}: a pick that closes the pool refuses the call with PoolClosedError, no attempt, close() resolves`, async () => {
      const got = await scenario(
        (pool) => ({
          pick: (ready) => {
            void pool().close();
            return ready[0]!;
          },
        }),
        around,
        (client, calls) => calls.push(client.id),
      );
      expect(got).toEqual({ end: 'error ERR_POOL_CLOSED', calls: [], inFlight: [], closed: 'value undefined' });
    });

    it(`${around.name}: an onInFlight hook that closes the pool on the first pick: the call ends, nothing hangs`, async () => {
      let done = false;
      const got = await scenario(
        (pool) =>
          roundRobin({
            onInFlight: (member) => {
              if (!done && member.inFlight === 1) {
                done = true;
                void pool().close();
              }
            },
          }),
        around,
        (client, calls) => {
          calls.push(client.id);
          return Promise.reject(new Error('down'));
        },
      );
      // The first attempt either ran and failed (not retried on a closing pool) or was refused.
      expect(['error ERR_CLIENT_CALL cause down', 'error ERR_POOL_CLOSED']).toContain(got.end);
      expect(got.calls.length).toBeLessThanOrEqual(1);
      expect(got.closed).toBe('value undefined');
    });

    // CallAttempts#afterFailure: a retry that could not pick a client reports the last attempt's failure.
    it(`${around.name}: a pick that throws on the retry ends the call with the first attempt's error, in-flight back to 0`, async () => {
      let picks = 0;
      const got = await scenario(
        () => ({
          pick: (ready) => {
            if (++picks > 1) throw new Error('pick broke');
            return ready[0]!;
          },
        }),
        around,
        (client, calls) => {
          calls.push(client.id);
          return Promise.reject(new Error('down'));
        },
      );
      expect(got.calls).toEqual(['a']);
      expect(got.end).toBe('error ERR_CLIENT_CALL cause down');
      expect(got.inFlight).toEqual([0, 0, 0]);
      expect(got.closed).toBe('value undefined');
    });

    it(`${around.name}: destroy() while a function that ignores its signal is running: the caller gets PoolClosedError or the function's own answer, no retry`, async () => {
      const pool = new ClientPool<Fake>({ clock: dateClock, retry: RETRY });
      for (const name of ['a', 'b']) pool.add({ id: name }, { name });
      around.setup?.(pool);
      const calls: string[] = [];
      const call = pool.run(
        (client) => {
          calls.push(client.id);
          return new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 100));
        },
        around.options,
      );
      const observed = settled(call, 1_000);
      await vi.advanceTimersByTimeAsync(10);
      const destroyed = settled(pool.destroy(new Error('shutdown')), 1_000);
      const result = await observed;
      expect(calls).toEqual(['a']);
      expect(describeEnd(result)).toMatch(/^error (ERR_POOL_CLOSED cause shutdown|ERR_CLIENT_CALL cause late)$/);
      expect(describeEnd(await destroyed)).toBe('value undefined');
    });

    it(`${around.name}: use() of an execute middleware during the first attempt: the retry goes through it, once`, async () => {
      const pool = new ClientPool<Fake>({ clock: dateClock, retry: RETRY });
      for (const name of ['a', 'b']) pool.add({ id: name }, { name });
      around.setup?.(pool);
      const seen: string[] = [];
      const calls: string[] = [];
      const call = pool.run((client) => {
        calls.push(client.id);
        if (calls.length === 1) {
          pool.use({ name: 'late', execute: (c, next) => (seen.push(`${c.attempt}:${c.clientName}`), next(c)) });
          return Promise.reject(new Error('down'));
        }
        return client.id;
      }, around.options);
      const result = await settled(call);
      expect(describeEnd(result)).toBe('value b');
      expect(calls).toEqual(['a', 'b']);
      expect(seen).toEqual(['2:b']);
      expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
      await pool.close();
    });
  }
});

describe('retry edge policies', () => {
  it('attempts: 1 makes one attempt and gives the plain error, taking nothing of the budget', async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock, retry: { attempts: 1 }, retryBudget: { ratio: 0, reserve: 2 } });
    for (const name of ['a', 'b']) pool.add({ id: name }, { name });
    const before = pool.retryBudget!.balance;
    const result = await settled(pool.run(() => Promise.reject(new Error('down'))));
    expect(describeEnd(result)).toBe('error ERR_CLIENT_CALL cause down');
    expect(pool.retryBudget).toEqual({ balance: before, refused: 0 });
    await pool.close();
  });

  it("a call's retry: false overrides its method's retry", async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock, methods: { get: { retry: RETRY } } });
    for (const name of ['a', 'b']) pool.add({ id: name }, { name });
    const calls: string[] = [];
    const result = await settled(pool.run((client) => (calls.push(client.id), Promise.reject(new Error('down'))), { method: 'get', retry: false }));
    expect(describeEnd(result)).toBe('error ERR_CLIENT_CALL cause down');
    expect(calls).toEqual(['a']);
    await pool.close();
  });

  it('a reserve of one: the first failing call retries, the second is refused by the budget and says so, refused counted once', async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock, retry: { attempts: 2, backoff: { initial: 0, max: 0 } }, retryBudget: { ratio: 0, reserve: 1 } });
    for (const name of ['a', 'b']) pool.add({ id: name }, { name });
    const first = await settled(pool.run(() => Promise.reject(new Error('down'))));
    const second = await settled(pool.run(() => Promise.reject(new Error('down'))));
    expect(describeEnd(first)).toBe('error ERR_CLIENT_CALL cause down');
    expect(describeEnd(second)).toBe('error ERR_RETRY_BUDGET cause ERR_CLIENT_CALL');
    expect(pool.retryBudget!.refused).toBe(1);
    await pool.close();
  });

  it('coalesced callers of a retried call share one journey: one retry, both get the value, an abort of one leaves the other', async () => {
    const pool = new ClientPool<Fake>({ clock: dateClock, retry: RETRY });
    for (const name of ['a', 'b']) pool.add({ id: name }, { name });
    const calls: string[] = [];
    const fn = (client: Fake): Promise<string> => {
      calls.push(client.id);
      return calls.length === 1 ? new Promise((_, reject) => setTimeout(() => reject(new Error('down')), 20)) : Promise.resolve(client.id);
    };
    const controller = new AbortController();
    const one = pool.run(fn, { coalesce: 'k', signal: controller.signal });
    const two = pool.run(fn, { coalesce: 'k' });
    const oneEnd = settled(one);
    await vi.advanceTimersByTimeAsync(5);
    controller.abort(new Error('left'));
    expect(describeEnd(await oneEnd)).toBe('error ERR_ABORTED cause left');
    expect(describeEnd(await settled(two))).toBe('value b');
    expect(calls).toEqual(['a', 'b']);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    await pool.close();
  });
  for (const where of ['pool', 'client'] as const) {
    it(`a first attempt refused by the ${where}'s rate limit (maxWait 0) is a RateLimitedError, not retried, the function not called`, async () => {
      const limit = { rate: 1, per: 60_000, burst: 1 };
      const pool = new ClientPool<Fake>({ clock: dateClock, retry: RETRY, maxWait: 0, ...(where === 'pool' ? { limit } : {}) });
      pool.add({ id: 'a' }, { name: 'a', ...(where === 'client' ? { limit } : {}) });
      expect(await pool.run(() => 'spends the token')).toBe('spends the token');
      let called = 0;
      const result = await settled(pool.run(() => ++called));
      expect(describeEnd(result)).toMatch(/^error ERR_RATE_LIMITED/);
      expect(called).toBe(0);
      expect(pool.retryBudget!.refused).toBe(0);
      expect(pool.members()[0]!.inFlight).toBe(0);
      await pool.close();
    });
  }
});

describe('attempt-start and attempt-end subscribers that join in the first pick of a retried call', () => {
  for (const around of AROUND) {
    it(`${around.name}: every start published has exactly one end, the retry included`, async () => {
      const starts: string[] = [];
      const ends: string[] = [];
      const onStart = (message: unknown): void => {
        const { call } = message as { call: { attempt: number; clientName: string } };
        starts.push(`${call.attempt}:${call.clientName}`);
      };
      const onEnd = (message: unknown): void => {
        const { call } = message as { call: { attempt: number; clientName: string } };
        ends.push(`${call.attempt}:${call.clientName}`);
      };
      let joined = false;
      try {
        const got = await scenario(
          () =>
            roundRobin({
              pick: (() => {
                let i = 0;
                return (ready: readonly PoolMember<Fake>[]) => {
                  if (!joined) {
                    joined = true;
                    subscribe(CHANNELS.attemptStart, onStart);
                    subscribe(CHANNELS.attemptEnd, onEnd);
                  }
                  return ready[i++ % ready.length]!;
                };
              })(),
            }),
          around,
          (client, calls) => {
            calls.push(client.id);
            return calls.length === 1 ? Promise.reject(new Error('down')) : client.id;
          },
        );
        expect(got.end).toBe('value b');
        expect(got.inFlight).toEqual([0, 0, 0]);
        expect(ends.sort()).toEqual([...starts].sort());
        expect(starts).toContain('2:b');
      } finally {
        unsubscribe(CHANNELS.attemptStart, onStart);
        unsubscribe(CHANNELS.attemptEnd, onEnd);
      }
    });
  }
});
