// Redis slow, down, flapping, killed and restarted empty under a fleet; names churned; thousands of clients.
import { expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { RedisFleet } from '../../../src/redis/index.js';
import { describeWithRedis, useRedisServer } from '../../redis/describe-with-redis.js';
import { failOnUnhandled, freshKey, processPool, sleep, stateOf, switchable, trip, until, upstream } from './fleet-harness.js';

failOnUnhandled();

describeWithRedis('RedisFleet: Redis slow, down or flapping', () => {
  const redis = useRedisServer();

  it.each(['down', 'hang', 'garbage', 'throw'] as const)('Redis %s: no call fails or waits, the fleet falls back once, and recovers when Redis answers', { timeout: 30_000 }, async (mode) => {
    const flaky = switchable(await redis.connect());
    const A = processPool(flaky, freshKey(), [upstream('x'), upstream('y')], { timeout: 100, recheckInterval: 30 });
    const fallbacks: Error[] = [];
    A.fleet.onFallback(({ cause }) => fallbacks.push(cause));
    try {
      await until(() => A.fleet.stats.syncs > 0);
      flaky.mode = mode;
      const started = performance.now();
      for (let i = 0; i < 50; i++) await A.call();
      // 50 calls never wait for a 100 ms round trip each (5 s if they did; room left for a busy machine).
      expect(performance.now() - started).toBeLessThan(4_000);
      await until(() => A.fleet.state.mode === 'fallback');
      await sleep(200);
      expect(fallbacks).toHaveLength(1);
      flaky.mode = 'ok';
      await until(() => A.fleet.state.mode === 'redis');
      expect(A.fleet.stats.fallbacks).toBe(1);
    } finally {
      await A.pool.close();
    }
  });

  it('flapping Redis (down and up every 25 ms for 2 s) under traffic: no call fails, an opening in the middle ends up shared', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const flaky = switchable(await redis.connect());
    const b = await redis.connect();
    const A = processPool(flaky, key, [upstream('x'), upstream('y')], { timeout: 100, recheckInterval: 20 });
    const B = processPool(b, key, [upstream('x'), upstream('y')]);
    const flap = setInterval(() => (flaky.mode = flaky.mode === 'ok' ? 'down' : 'ok'), 25);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      const deadline = performance.now() + 2_000;
      let tripped = false;
      while (performance.now() < deadline) {
        if (!tripped && performance.now() > deadline - 1_000) {
          await trip(A.pool, 'x');
          tripped = true;
        }
        expect(await A.call()).toMatch(tripped ? /^y$/ : /^[xy]$/);
      }
      clearInterval(flap);
      flaky.mode = 'ok';
      await until(() => stateOf(B.pool, 'x') === 'open');
    } finally {
      clearInterval(flap);
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('a process that never gets Redis back serves on its own view while the others share among themselves', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const dead = switchable(await redis.connect());
    dead.mode = 'down';
    const [b, c] = [await redis.connect(), await redis.connect()];
    const A = processPool(dead, key, [upstream('x'), upstream('y')], { recheckInterval: 20 });
    const B = processPool(b, key, [upstream('x'), upstream('y')]);
    const C = processPool(c, key, [upstream('x'), upstream('y')]);
    try {
      await until(() => A.fleet.state.mode === 'fallback' && B.fleet.stats.syncs > 0 && C.fleet.stats.syncs > 0);
      await trip(B.pool, 'x');
      await until(() => stateOf(C.pool, 'x') === 'open');
      expect(stateOf(A.pool, 'x')).toBe('closed');
      for (let i = 0; i < 10; i++) expect(await A.call()).toMatch(/^[xy]$/);
      expect(A.fleet.stats.syncs).toBe(0);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close(), C.pool.close()]);
    }
  });

  it('SIGKILL and a restart empty: both keep serving meanwhile, and an opening held through it is shared after', { timeout: 40_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [upstream('x'), upstream('y')], { timeout: 200, recheckInterval: 50 });
    const B = processPool(b, key, [upstream('x'), upstream('y')], { timeout: 200, recheckInterval: 50 });
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await redis.server.kill();
      await until(() => A.fleet.state.mode === 'fallback' && B.fleet.state.mode === 'fallback');
      await trip(A.pool, 'x');
      for (let i = 0; i < 10; i++) expect(await B.call()).toMatch(/^[xy]$/);
      await redis.server.restart();
      await until(() => A.fleet.state.mode === 'redis' && B.fleet.state.mode === 'redis', 15_000, 'both back on Redis');
      await until(() => stateOf(B.pool, 'x') === 'open', 5_000, 'x open on B after the restart');
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });
});

describeWithRedis('RedisFleet: memory and the hash stay bounded as clients come and go', () => {
  const redis = useRedisServer();

  it('names churned while Redis is down are not kept: the recovery re-publishes only clients the pool still has', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const flaky = switchable(await redis.connect());
    const A = processPool(flaky, key, [upstream('y')], { recheckInterval: 20, timeout: 100 });
    try {
      await until(() => A.fleet.stats.syncs > 0);
      flaky.mode = 'down';
      await until(() => A.fleet.state.mode === 'fallback');
      for (let i = 0; i < 300; i++) {
        const name = `churn-${i}`;
        A.pool.add(upstream(name), { name });
        await trip(A.pool, name);
        await A.pool.remove(name);
      }
      const reports = A.fleet.stats.reports;
      flaky.mode = 'ok';
      await until(() => A.fleet.state.mode === 'redis');
      await sleep(200);
      expect(A.fleet.stats.reports - reports).toBeLessThan(10);
      const fields = (await (await redis.connect()).call('HKEYS', key)) as string[];
      expect(fields.filter((f) => f.startsWith('o:churn-') || f.startsWith('v:churn-'))).toEqual([]);
    } finally {
      await A.pool.close();
    }
  });

  it('thousands of clients: syncs stay within the timeout; once they are removed the hash forgets their leases and verdicts', { timeout: 60_000 }, async () => {
    const key = freshKey();
    const [a, admin] = [await redis.connect(), await redis.connect()];
    const fleet = new RedisFleet({ redis: a, key, syncInterval: 50, timeout: 1_000, proberLease: 300 });
    const pool = new ClientPool<string>({ fleet, healthCheck: { interval: 60_000, unhealthyThreshold: 1, check: () => {} } });
    const names = Array.from({ length: 3_000 }, (_, i) => `client-${i}-${'n'.repeat(40)}`);
    for (const name of names) pool.add(name, { name });
    try {
      await until(() => fleet.stats.syncs >= 3, 20_000, 'three syncs with 3000 clients');
      expect(fleet.state.mode).toBe('redis');
      expect(Number(await admin.call('HLEN', key))).toBeGreaterThan(3_000);
      for (const name of names) await pool.remove(name);
      await sleep(600);
      const synced = fleet.stats.syncs;
      await until(() => fleet.stats.syncs > synced + 1);
      expect(Number(await admin.call('HLEN', key))).toBeLessThan(10);
    } finally {
      await pool.close();
    }
  });
});
