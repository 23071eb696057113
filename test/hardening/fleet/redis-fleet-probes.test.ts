// Half-open probes bounded fleet-wide under other breaker settings and kinds; pauses, quorums and clocks.
import { expect, it } from 'vitest';
import { failureRate, type Breaker, type BreakerFactory, type CircuitState, type PoolOptions } from '../../../src/index.js';
import { recordWarnings } from '../../helpers/warnings.js';
import { describeWithRedis, useRedisServer } from '../../redis/describe-with-redis.js';
import { failOnUnhandled, freshKey, processPool, sleep, stateOf, trip, until, upstream, type Upstream } from './fleet-harness.js';

failOnUnhandled();

type Proc = ReturnType<typeof processPool>;

/** Call every process for `ms` with x dead and slow (each probe 200 ms): the most probes of x in flight at once, fleet-wide. */
async function mostProbesInFlight(procs: readonly Proc[], ms: number): Promise<number> {
  let inFlight = 0;
  let most = 0;
  const call = (p: Proc) =>
    p.pool.run(async (u: Upstream) => {
      if (u.name !== 'x') return u.name;
      inFlight++;
      most = Math.max(most, inFlight);
      await sleep(200);
      inFlight--;
      throw new Error('x is dead');
    }).catch(() => undefined);
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    await Promise.all(procs.flatMap((p) => [call(p), call(p), call(p), call(p)]));
    await sleep(5);
  }
  return most;
}

describeWithRedis('RedisFleet: half-open probes bounded fleet-wide', () => {
  const redis = useRedisServer();

  const settings: [string, Partial<PoolOptions<Upstream>>, number][] = [
    ['halfOpenProbes 3 on 3 processes', { breaker: { maxFailures: 2, cooldown: 200, halfOpenProbes: 3 } }, 3],
    ['a failure-rate breaker', { breaker: failureRate({ threshold: 0.5, minimumThroughput: 2, window: { kind: 'count', size: 4 }, cooldown: 200 }) }, 1],
  ];

  it.each(settings)('%s: at most halfOpenProbes probes in flight across the fleet', { timeout: 30_000 }, async (_, pool, bound) => {
    const key = freshKey();
    const procs = await Promise.all([0, 1, 2].map(async () => processPool(await redis.connect(), key, [upstream('x', true), upstream('y')], {}, pool)));
    try {
      await until(() => procs.every((p) => p.fleet.stats.syncs > 0));
      await trip(procs[0]!.pool, 'x');
      await until(() => procs.every((p) => stateOf(p.pool, 'x') === 'open'));
      const most = await mostProbesInFlight(procs, 2_500);
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(bound);
    } finally {
      await Promise.all(procs.map((p) => p.pool.close()));
    }
  });

  it('different breaker settings per process (halfOpenProbes 1 and 2): no more than the larger in flight', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [upstream('x', true), upstream('y')], {}, { breaker: { maxFailures: 2, cooldown: 200, halfOpenProbes: 1 } });
    const B = processPool(b, key, [upstream('x', true), upstream('y')], {}, { breaker: { maxFailures: 3, cooldown: 400, halfOpenProbes: 2 } });
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await until(() => stateOf(B.pool, 'x') === 'open');
      expect(await mostProbesInFlight([A, B], 2_500)).toBeLessThanOrEqual(2);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  /** A breaker of one's own: opens after 2 failures for 60 s; `trip`/`reset` as given. */
  const ownBreaker = (extra: Partial<Breaker>): BreakerFactory => () => {
    let state: CircuitState = { kind: 'closed' };
    let failures = 0;
    return {
      get state() {
        return state;
      },
      acquire: () => (state.kind === 'closed' ? 'normal' : false),
      canAcquire: () => state.kind === 'closed',
      success: () => void (failures = 0),
      failure: () => {
        if (++failures >= 2) state = { kind: 'open', until: performance.now() + 60_000, trips: 1 };
      },
      release: () => {},
      ...extra,
    } as Breaker;
  };

  it.each([
    ['without trip() and reset()', {}],
    ['whose trip() and reset() throw', { trip: () => { throw new Error('trip threw'); }, reset: () => { throw new Error('reset threw'); } }],
  ])('a breaker of your own %s: the fleet goes on syncing and the process serves', { timeout: 30_000 }, async (_, extra) => {
    const warnings = recordWarnings();
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [upstream('x'), upstream('y')]);
    const B = processPool(b, key, [upstream('x'), upstream('y')], {}, { breaker: ownBreaker(extra) });
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await until(() => B.fleet.stats.applied > 0 || B.fleet.stats.syncs > 10);
      const synced = B.fleet.stats.syncs;
      await until(() => B.fleet.stats.syncs > synced + 2);
      for (let i = 0; i < 10; i++) expect(await B.call()).toMatch(/^[xy]$/);
      // B's own openings still reach A.
      await trip(B.pool, 'y');
      await until(() => stateOf(A.pool, 'y') === 'open');
      expect(warnings.filter((w) => !/trip|reset|listener|callback/i.test(w.text) && w.code !== 'CLIENTPOOL_CALLBACK_ERROR')).toEqual([]);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('a pause longer than the cooldown holds on the other process for its whole length', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const pool = { breaker: { maxFailures: 2, cooldown: 100 } };
    const A = processPool(a, key, [upstream('x')], {}, pool);
    const xB = upstream('x');
    const B = processPool(b, key, [xB, upstream('y')], {}, pool);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await A.pool.run((_, call) => call.pauseClient(1_500));
      await until(() => B.fleet.stats.applied > 0);
      const at = performance.now();
      xB.calls = 0;
      while (performance.now() - at < 800) {
        await B.call();
        await sleep(3);
      }
      expect(xB.calls).toBe(0);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('a quorum larger than the fleet: every process opens its own circuit, none is opened by the others', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b, c] = [await redis.connect(), await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [upstream('x'), upstream('y')], { quorum: 5 });
    const B = processPool(b, key, [upstream('x'), upstream('y')], { quorum: 5 });
    const C = processPool(c, key, [upstream('x'), upstream('y')], { quorum: 5 });
    try {
      await until(() => [A, B, C].every((p) => p.fleet.stats.syncs > 0));
      await trip(A.pool, 'x');
      await trip(B.pool, 'x');
      const synced = C.fleet.stats.syncs;
      await until(() => C.fleet.stats.syncs > synced + 3);
      expect(stateOf(C.pool, 'x')).toBe('closed');
      expect(C.fleet.stats.applied).toBe(0);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close(), C.pool.close()]);
    }
  });

  it('a fleet clock that steps back an hour: sync age is never negative', { timeout: 30_000 }, async () => {
    let offset = 0;
    const B = processPool(await redis.connect(), freshKey(), [upstream('x')], { clock: { now: () => performance.now() + offset } });
    try {
      await until(() => B.fleet.stats.syncs > 0);
      offset = -3_600_000;
      expect(B.fleet.stats.syncAgeMs).toBeGreaterThanOrEqual(0);
    } finally {
      await B.pool.close();
    }
  });

  it('a fleet clock that steps back an hour: a client opened fleet-wide is still probed and closed within seconds', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    let offset = 0;
    const clock = { now: () => performance.now() + offset };
    const pool = { breaker: { maxFailures: 2, cooldown: 300 } };
    const xA = upstream('x', true);
    const A = processPool(a, key, [xA, upstream('y')], {}, pool);
    const B = processPool(b, key, [upstream('x'), upstream('y')], { clock }, pool);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await until(() => stateOf(B.pool, 'x') === 'open');
      offset = -3_600_000;
      // x comes back; B's calls must get it probed (by either process) and closed, not wait an hour.
      xA.isDead = false;
      await sleep(400);
      const deadline = performance.now() + 5_000;
      while (stateOf(B.pool, 'x') !== 'closed' && performance.now() < deadline) {
        await B.call().catch(() => undefined);
        await sleep(10);
      }
      expect(stateOf(B.pool, 'x')).toBe('closed');
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('a pool whose only client is open fleet-wide (every call refused) still gets it probed and closed once it recovers', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const pool = { breaker: { maxFailures: 2, cooldown: 300 } };
    const xA = upstream('x', true);
    const xB = upstream('x', true);
    const A = processPool(a, key, [xA], {}, pool);
    const B = processPool(b, key, [xB], {}, pool);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await until(() => stateOf(B.pool, 'x') === 'open');
      xA.isDead = xB.isDead = false;
      const deadline = performance.now() + 5_000;
      while ((stateOf(A.pool, 'x') !== 'closed' || stateOf(B.pool, 'x') !== 'closed') && performance.now() < deadline) {
        await Promise.all([A.call().catch(() => undefined), B.call().catch(() => undefined)]);
        await sleep(10);
      }
      expect([stateOf(A.pool, 'x'), stateOf(B.pool, 'x')]).toEqual(['closed', 'closed']);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });
});
