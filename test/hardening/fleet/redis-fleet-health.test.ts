// Health verdicts shared by one prober per client, when the prober goes away.
import { expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { RedisFleet } from '../../../src/redis/index.js';
import { describeWithRedis, useRedisServer, type TestRedis } from '../../redis/describe-with-redis.js';
import { failOnUnhandled, freshKey, sleep, until } from './fleet-harness.js';

failOnUnhandled();

describeWithRedis('RedisFleet: a health prober that goes away', () => {
  const redis = useRedisServer();

  function make(client: TestRedis, key: string, check: ((client: string) => void) | undefined) {
    const fleet = new RedisFleet({ redis: client, key, syncInterval: 20, timeout: 1_000, proberLease: 300 });
    const pool = new ClientPool<string>({ fleet, ...(check === undefined ? {} : { healthCheck: { interval: 60_000, unhealthyThreshold: 1, healthyThreshold: 1, check } }) });
    pool.add('x', { name: 'x' });
    pool.add('y', { name: 'y' });
    const down = new Set<string>();
    pool.onHealthChange(({ client, isDown }) => {
      if (isDown) down.add(client);
      else down.delete(client);
    });
    return { fleet, pool, down };
  }

  it('a process without health checks that applied the prober\'s "down" does not keep the client down forever once the prober is gone', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    let isUp = false;
    const A = make(a, key, (c: string) => {
      if (c === 'x' && !isUp) throw new Error('down');
    });
    const B = make(b, key, undefined);
    try {
      await until(() => A.fleet.stats.syncs >= 2 && B.fleet.stats.syncs >= 2);
      await A.pool.checkHealth();
      await until(() => B.down.has('x'), 5_000, 'x down on B');
      // The upstreams come back, and the only prober goes away before it sees it.
      isUp = true;
      await A.pool.close();
      // Its lease (300 ms) lapses and the verdicts are forgotten in Redis; B has no checks of its own.
      await sleep(1_500);
      expect([...B.down]).toEqual([]);
      const reached = new Set<string>();
      for (let i = 0; i < 20; i++) reached.add(await B.pool.run((c) => c));
      expect(reached.has('x')).toBe(true);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('a process with health checks takes over from a prober that went away and brings the client back up', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    let isUp = false;
    const check = (c: string) => {
      if (c === 'x' && !isUp) throw new Error('down');
    };
    const A = make(a, key, check);
    await until(() => A.fleet.stats.syncs >= 2);
    const B = make(b, key, check);
    try {
      await until(() => B.fleet.stats.syncs >= 2);
      await Promise.all([A.pool.checkHealth(), B.pool.checkHealth()]);
      await until(() => B.down.has('x'), 5_000, 'x down on B');
      isUp = true;
      await A.pool.close();
      await sleep(600);
      await B.pool.checkHealth();
      expect([...B.down]).toEqual([]);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });
});
