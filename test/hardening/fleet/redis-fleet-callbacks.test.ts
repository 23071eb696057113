// User callbacks around a RedisFleet that throw, reject, or call back into the pool while the fleet applies
// what another process saw.
import { afterEach, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { RedisFleet } from '../../../src/redis/index.js';
import { recordWarnings } from '../../helpers/warnings.js';
import { describeWithRedis, useRedisServer } from '../../redis/describe-with-redis.js';
import { failOnUnhandled, freshKey, processPool, sleep, stateOf, switchable, trip, until, upstream } from './fleet-harness.js';

failOnUnhandled();
afterEach(() => void vi.restoreAllMocks());

describeWithRedis('RedisFleet: listeners that throw or reenter', () => {
  const redis = useRedisServer();

  it('throwing and async-rejecting listeners on every fleet event are warned of; the fleet goes on sharing', { timeout: 30_000 }, async () => {
    const warnings = recordWarnings();
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const flaky = switchable(b);
    const A = processPool(a, key, [upstream('x'), upstream('y')]);
    const B = processPool(flaky, key, [upstream('x'), upstream('y')], { recheckInterval: 30, timeout: 200 });
    for (const event of [B.fleet.onApply, B.fleet.onFallback, B.fleet.onRecover, B.fleet.onMismatch] as const) {
      (event as (l: () => void) => unknown)(() => {
        throw new Error('listener threw');
      });
      (event as (l: () => Promise<void>) => unknown)(() => Promise.reject(new Error('listener rejected')));
    }
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      flaky.mode = 'down';
      await until(() => B.fleet.state.mode === 'fallback');
      flaky.mode = 'ok';
      await until(() => B.fleet.state.mode === 'redis');
      await trip(A.pool, 'x');
      await until(() => stateOf(B.pool, 'x') === 'open');
      const listenerWarnings = warnings.filter((w) => w.code === 'CLIENTPOOL_LISTENER_ERROR');
      // apply, fallback, recover: each a throw and a rejection.
      expect(listenerWarnings.length).toBeGreaterThanOrEqual(6);
      const synced = B.fleet.stats.syncs;
      await until(() => B.fleet.stats.syncs > synced + 2);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('an onApply listener that closes its pool: the fleet stops cleanly, no unhandled rejection, no timer kept', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [upstream('x'), upstream('y'), upstream('z')]);
    const B = processPool(b, key, [upstream('x'), upstream('y'), upstream('z')]);
    let closing: Promise<void> | undefined;
    B.fleet.onApply(() => void (closing ??= B.pool.close()));
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await trip(A.pool, 'y');
      await until(() => closing !== undefined);
      await closing;
      expect(B.fleet.state.mode).toBe('closed');
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('an onStateChange listener that removes the client the fleet just opened: the fleet keeps syncing, the others are still shared', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [upstream('x'), upstream('y'), upstream('z')]);
    const B = processPool(b, key, [upstream('x'), upstream('y'), upstream('z')]);
    const removals: Promise<void>[] = [];
    B.pool.onStateChange(({ client, to }) => {
      if (client === 'x' && to.kind === 'open') removals.push(B.pool.remove('x'));
    });
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await until(() => removals.length > 0);
      await Promise.all(removals);
      expect(B.pool.members().map((m) => m.name)).toEqual(['y', 'z']);
      await trip(A.pool, 'y');
      await until(() => stateOf(B.pool, 'y') === 'open');
      expect(B.fleet.state.mode).toBe('redis');
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('an onStateChange listener that throws, or runs a call on the pool, while the fleet applies an opening', { timeout: 30_000 }, async () => {
    const warnings = recordWarnings();
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [upstream('x'), upstream('y')]);
    const B = processPool(b, key, [upstream('x'), upstream('y')]);
    const answers: Promise<string>[] = [];
    B.pool.onStateChange(() => {
      answers.push(B.pool.run((u) => u.name));
      throw new Error('state listener threw');
    });
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await until(() => stateOf(B.pool, 'x') === 'open');
      expect(await Promise.all(answers)).toEqual(answers.map(() => 'y'));
      expect(warnings.some((w) => w.code === 'CLIENTPOOL_LISTENER_ERROR')).toBe(true);
      const synced = B.fleet.stats.syncs;
      await until(() => B.fleet.stats.syncs > synced + 2);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('an onHealthChange listener that closes its pool while the fleet applies the prober verdict', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    let isUp = true;
    const make = (client: typeof a) => {
      const fleet = new RedisFleet({ redis: client, key, syncInterval: 20, timeout: 2_000 });
      const pool = new ClientPool<string>({ fleet, healthCheck: { interval: 60_000, unhealthyThreshold: 1, healthyThreshold: 1, check: () => {
        if (!isUp) throw new Error('down');
      } } });
      pool.add('x', { name: 'x' });
      pool.add('y', { name: 'y' });
      return { fleet, pool };
    };
    const A = make(a);
    const B = make(b);
    const closings: Promise<void>[] = [];
    for (const p of [A, B]) p.pool.onHealthChange(() => void closings.push(p.pool.close()));
    try {
      await until(() => A.fleet.stats.syncs >= 2 && B.fleet.stats.syncs >= 2);
      isUp = false;
      await Promise.all([A.pool.checkHealth(), B.pool.checkHealth()]);
      await until(() => closings.length >= 2, 5_000, 'both pools closed by their health listeners');
      await Promise.all(closings);
      expect([A.fleet.state.mode, B.fleet.state.mode]).toEqual(['closed', 'closed']);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it.each(['onMismatch', 'onFallback', 'onRecover', 'onStateChange'] as const)('a listener on %s that closes the pool mid-sync: the close completes, the fleet is closed, nothing is left running', { timeout: 30_000 }, async (event) => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const flaky = switchable(b);
    const A = processPool(a, key, [upstream('x'), upstream('y')], { quorum: event === 'onMismatch' ? 2 : 1 });
    const B = processPool(flaky, key, [upstream('x'), upstream('y')], { recheckInterval: 20, timeout: 200 });
    let closing: Promise<void> | undefined;
    const close = (): void => void (closing ??= B.pool.close());
    if (event === 'onStateChange') B.pool.onStateChange(close);
    else B.fleet[event](close);
    try {
      await until(() => B.fleet.stats.syncs + B.fleet.stats.failures > 0);
      if (event === 'onFallback' || event === 'onRecover') {
        flaky.mode = 'down';
        await until(() => B.fleet.state.mode !== 'redis');
        flaky.mode = 'ok';
      }
      if (event === 'onStateChange') await trip(A.pool, 'x');
      await until(() => closing !== undefined, 5_000, `${event} to close the pool`);
      await closing;
      expect(B.fleet.state.mode).toBe('closed');
      const [syncs, failures] = [B.fleet.stats.syncs, B.fleet.stats.failures];
      await sleep(200);
      expect([B.fleet.stats.syncs, B.fleet.stats.failures]).toEqual([syncs, failures]);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });
});
