import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ClientPool, type StateChange } from '../../src/index.js';
import { RedisFleet, type RedisFleetOptions } from '../../src/redis/index.js';
import { describeWithEachIoredis, useRedisServer, type TestRedis } from './describe-with-redis.js';

// Two pools on one real Redis stand for two processes (the several-process tests are in
// fleet-circuits.slow.test.ts). Real time, so nothing here is bounded by how fast the machine runs:
// each test waits for what it expects (a sync, an opening) and then counts, never times.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let keys = 0;
const freshKey = (): string => `fleet-test:${process.pid}:${++keys}`;

/** Poll until `condition` holds; a broken fleet that never gets there fails on the test's timeout. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));
afterEach(() => expect(unhandled.splice(0)).toEqual([]));

interface Upstream {
  readonly name: string;
  calls: number;
  isDead: boolean;
}

/** A pool of two upstreams, `x` and `y`, as one process of the fleet would hold them. */
function processPool(redis: TestRedis, key: string, upstreams: readonly Upstream[], options: Partial<RedisFleetOptions> = {}, cooldown = 60_000) {
  const fleet = new RedisFleet({ redis, key, syncInterval: 20, timeout: 5_000, ...options });
  const pool = new ClientPool<Upstream>({ breaker: { maxFailures: 2, cooldown }, fleet, retryBudget: false });
  for (const upstream of upstreams) pool.add(upstream, { name: upstream.name });
  const changes: StateChange[] = [];
  pool.onStateChange((change) => changes.push(change));
  const call = (): Promise<string> =>
    pool.run((u) => {
      u.calls++;
      if (u.isDead) throw new Error(`${u.name} is dead`);
      return u.name;
    });
  return { fleet, pool, changes, call };
}

const stateOf = (pool: ClientPool<Upstream>, name: string): string => pool.members().find((m) => m.name === name)!.state.kind;

describeWithEachIoredis('RedisFleet: circuits shared by two pools', (ioredis) => {
  const redis = useRedisServer(ioredis);

  it('a client tripped in process A is open in process B after one sync: B sends it no call', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const xA = { name: 'x', calls: 0, isDead: true };
    const yA = { name: 'y', calls: 0, isDead: false };
    const xB = { name: 'x', calls: 0, isDead: false };
    const yB = { name: 'y', calls: 0, isDead: false };
    const A = processPool(a, key, [xA, yA]);
    const B = processPool(b, key, [xB, yB]);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      // A's calls fail on x until its breaker opens.
      while (stateOf(A.pool, 'x') !== 'open') await A.call().catch(() => undefined);
      await until(() => stateOf(B.pool, 'x') === 'open');
      const opened = B.changes.find((c) => c.client === 'x');
      expect(opened?.to.kind).toBe('open');
      xB.calls = 0;
      for (let i = 0; i < 50; i++) await B.call();
      expect(xB.calls).toBe(0);
      expect(yB.calls).toBe(50);
      expect(B.fleet.stats.applied).toBeGreaterThanOrEqual(1);
      expect(B.fleet.stats.lastLagMs).toBeGreaterThanOrEqual(0);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('a pause asked of A (Retry-After) holds on B for its length, then B calls the client again', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [{ name: 'x', calls: 0, isDead: false }]);
    const xB = { name: 'x', calls: 0, isDead: false };
    const yB = { name: 'y', calls: 0, isDead: false };
    const B = processPool(b, key, [xB, yB]);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await A.pool.run((_, call) => call.pauseClient(1_500));
      await until(() => B.fleet.stats.applied > 0);
      const pausedAt = performance.now();
      xB.calls = 0;
      let sent = 0;
      // Calls started while the pause surely holds (its 1.5 s are counted from A's report, before this).
      while (performance.now() - pausedAt < 500) {
        await B.call();
        sent++;
        await sleep(2);
      }
      expect(sent).toBeGreaterThan(0);
      expect(xB.calls).toBe(0);
      await until(() => B.pool.members().find((m) => m.name === 'x')!.state.kind === 'closed' && performance.now() - pausedAt > 1_600);
      for (let i = 0; i < 20; i++) await B.call();
      expect(xB.calls).toBeGreaterThan(0);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('half-open probes: only the process holding the lease probes; its success closes the client everywhere', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const xA = { name: 'x', calls: 0, isDead: true };
    const xB = { name: 'x', calls: 0, isDead: true };
    const A = processPool(a, key, [xA, { name: 'y', calls: 0, isDead: false }], {}, 300);
    const B = processPool(b, key, [xB, { name: 'y', calls: 0, isDead: false }], {}, 300);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      while (stateOf(A.pool, 'x') !== 'open') await A.call().catch(() => undefined);
      await until(() => stateOf(B.pool, 'x') === 'open');
      xA.isDead = false;
      xB.isDead = false;
      xA.calls = 0;
      xB.calls = 0;
      // Both keep calling; once the cooldown is over one of them probes x and closes it for both.
      while (stateOf(A.pool, 'x') !== 'closed' || stateOf(B.pool, 'x') !== 'closed') {
        await Promise.all([A.call(), B.call()]);
        await sleep(5);
      }
      const probes = [...A.changes, ...B.changes].filter((c) => c.client === 'x' && c.to.kind === 'half-open');
      expect(probes).toHaveLength(1);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });
});
