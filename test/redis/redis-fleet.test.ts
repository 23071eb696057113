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
      await A.pool.run((_, call) => call.pauseClient(3_000));
      await until(() => B.fleet.stats.applied > 0);
      const pausedAt = performance.now();
      xB.calls = 0;
      let sent = 0;
      // Calls started while the pause surely holds: its 3 s are counted from A's report, before this, and
      // the 500 ms looked at leave 2.5 s for B's sync to bring it (a busy machine).
      while (performance.now() - pausedAt < 500) {
        await B.call();
        sent++;
        await sleep(2);
      }
      expect(sent).toBeGreaterThan(0);
      expect(xB.calls).toBe(0);
      await until(() => B.pool.members().find((m) => m.name === 'x')!.state.kind === 'closed' && performance.now() - pausedAt > 3_100);
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

  it('quorum 2: one process tripping a client opens it nowhere else; a second one agreeing opens it for the third', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b, c] = [await redis.connect(), await redis.connect(), await redis.connect()];
    const up = (name: string, isDead = false): Upstream => ({ name, calls: 0, isDead });
    const A = processPool(a, key, [up('x', true), up('y')], { quorum: 2 });
    const B = processPool(b, key, [up('x', true), up('y')], { quorum: 2 });
    const xC = up('x');
    const C = processPool(c, key, [xC, up('y')], { quorum: 2 });
    try {
      await until(() => [A, B, C].every((p) => p.fleet.stats.syncs > 0));
      while (stateOf(A.pool, 'x') !== 'open') await A.call().catch(() => undefined);
      // A's vote is in (its report went out) and C has synced since: x is still closed on C.
      await until(() => A.fleet.stats.reports > 0);
      const synced = C.fleet.stats.syncs;
      await until(() => C.fleet.stats.syncs >= synced + 2);
      expect(stateOf(C.pool, 'x')).toBe('closed');
      expect(stateOf(B.pool, 'x')).toBe('closed');
      while (stateOf(B.pool, 'x') !== 'open') await B.call().catch(() => undefined);
      await until(() => stateOf(C.pool, 'x') === 'open');
      xC.calls = 0;
      for (let i = 0; i < 20; i++) await C.call();
      expect(xC.calls).toBe(0);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close(), C.pool.close()]);
    }
  });

  it('health: one process checks each client for the fleet, and its verdict applies to the others', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    let isXUp = true;
    const checks = { A: 0, B: 0 };
    const make = (redisClient: TestRedis, who: 'A' | 'B') => {
      const fleet = new RedisFleet({ redis: redisClient, key, syncInterval: 20, timeout: 5_000 });
      const pool = new ClientPool<string>({ fleet, healthCheck: { interval: 60_000, unhealthyThreshold: 1, healthyThreshold: 1, check: (client) => {
        if (client !== 'x') return;
        checks[who]++;
        if (!isXUp) throw new Error('x is down');
      } } });
      pool.add('x', { name: 'x' });
      pool.add('y', { name: 'y' });
      const down = new Set<string>();
      pool.onHealthChange(({ client, isDown }) => {
        if (isDown) down.add(client);
        else down.delete(client);
      });
      return { fleet, pool, down };
    };
    const A = make(a, 'A');
    const B = make(b, 'B');
    try {
      // Both have claimed a prober for x once their second sync is done.
      await until(() => A.fleet.stats.syncs >= 2 && B.fleet.stats.syncs >= 2);
      checks.A = checks.B = 0;
      isXUp = false;
      await Promise.all([A.pool.checkHealth(), B.pool.checkHealth()]);
      expect(checks.A + checks.B).toBe(1);
      const [prober, other] = checks.A === 1 ? [A, B] : [B, A];
      expect(prober.down.has('x')).toBe(true);
      await until(() => other.down.has('x'));
      const calls: string[] = [];
      for (let i = 0; i < 10; i++) calls.push(await other.pool.run((client) => client));
      expect(calls.every((c) => c === 'y')).toBe(true);
      isXUp = true;
      await prober.pool.checkHealth();
      await until(() => !other.down.has('x'));
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('heights: a height reported in A is raised in B', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [{ name: 'x', calls: 0, isDead: false }]);
    const B = processPool(b, key, [{ name: 'x', calls: 0, isDead: false }]);
    try {
      await A.pool.run((_, call) => call.reportHeight(1_234));
      await until(() => B.pool.members()[0]!.height === 1_234);
      await B.pool.run((_, call) => call.reportHeight(99));
      const synced = A.fleet.stats.syncs;
      await until(() => A.fleet.stats.syncs >= synced + 2);
      expect(A.pool.members()[0]!.height).toBe(1_234);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('Redis too slow (CLIENT PAUSE): the fleet falls back to the local view at once, calls never wait on it, and it recovers after', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, admin] = [await redis.connect(), await redis.connect()];
    const xA = { name: 'x', calls: 0, isDead: false };
    const A = processPool(a, key, [xA, { name: 'y', calls: 0, isDead: false }], { timeout: 100, recheckInterval: 50 });
    const events: string[] = [];
    A.fleet.onFallback(({ cause }) => events.push(`fallback ${(cause as { code?: string }).code}`));
    A.fleet.onRecover(() => events.push('recover'));
    try {
      await until(() => A.fleet.stats.syncs > 0);
      await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
      await until(() => A.fleet.state.mode === 'fallback');
      // The local view: x trips here and is probed here, with no lease to ask for.
      xA.isDead = true;
      while (stateOf(A.pool, 'x') !== 'open') await A.call().catch(() => undefined);
      for (let i = 0; i < 20; i++) await A.call();
      await until(() => A.fleet.state.mode === 'redis');
      // A busy machine may time out another round trip (100 ms here): what counts is how it began and that it recovered.
      expect(events[0]).toBe('fallback ERR_TIMEOUT');
      expect(events).toContain('recover');
      // Its opening was re-published on recovery.
      await until(() => A.fleet.stats.reports > 0);
    } finally {
      await A.pool.close();
    }
  });

  it('two processes with other settings on one key both report the mismatch; refuse falls back to the local view', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [{ name: 'x', calls: 0, isDead: false }], { quorum: 1 });
    const B = processPool(b, key, [{ name: 'x', calls: 0, isDead: false }], { quorum: 2, onMismatch: 'refuse' });
    const seen: { ours: string; theirs: string }[] = [];
    A.fleet.onMismatch((error) => seen.push({ ours: error.ours, theirs: error.theirs }));
    try {
      await until(() => seen.length > 0 && B.fleet.state.mode === 'fallback');
      expect(seen[0]!.ours).toContain('quorum=1');
      expect(seen[0]!.theirs).toContain('quorum=2');
      expect((B.fleet.state as { cause: Error }).cause).toMatchObject({ code: 'ERR_CONFIG_MISMATCH' });
      expect(await B.call()).toBe('x');
      expect(B.fleet.stats.mismatches).toBeGreaterThan(0);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });
});
