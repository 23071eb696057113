import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ClientPool, type StateChange } from '../../src/index.js';
import { RedisFleet, type RedisFleetOptions } from '../../src/redis/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { describeWithEachIoredis, useRedisServer, type TestRedis } from './describe-with-redis.js';

// Two pools on one real Redis stand for two processes (the several-process tests are in
// fleet-circuits.slow.test.ts). Real time, so nothing here is bounded by how fast the machine runs:
// each test waits for what it expects (a sync, an opening) and then counts, never times. Where the order
// of two pools' steps decides the outcome (the probe lease), each pool's clock is moved by hand instead.

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
  // The fleet's clock is the process's: its breakers read it too.
  const clock = options.clock === undefined ? {} : { clock: options.clock };
  const pool = new ClientPool<Upstream>({ breaker: { maxFailures: 2, cooldown }, fleet, retryBudget: false, ...clock });
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

/**
 * Wait until Redis's own clock is past the end of `client`'s fleet-wide opening (its `o:` field,
 * src/redis/fleet-scripts.ts): the lease script refuses everyone while the opening cools on that clock.
 */
async function untilOpeningEnds(admin: TestRedis, key: string, client: string): Promise<void> {
  for (;;) {
    const [open, time] = (await Promise.all([admin.call('HGET', key, `o:${client}`), admin.call('TIME')])) as [string | null, [string, string]];
    const serverNow = Number(time[0]) * 1_000 + Math.floor(Number(time[1]) / 1_000);
    if (open !== null && serverNow >= Number(open.split('|')[0])) return;
    await sleep(5);
  }
}

/**
 * Wait until what the fleet has sent is answered and applied: its syncs and reports share one connection,
 * whose replies come in order, so a sync sent after them (the second from now) is answered after them.
 */
async function untilAnswered(fleet: RedisFleet): Promise<void> {
  const synced = fleet.stats.syncs;
  await until(() => fleet.stats.syncs >= synced + 2);
}

/** The breaker's cooldown in the probe test: on the pools' hand-moved clocks, and in real time on Redis's. */
const PROBE_COOLDOWN = 50;

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
    const [a, b, admin] = [await redis.connect(), await redis.connect(), await redis.connect()];
    // Each process's cooldown ends when the test moves that process's clock, and the lease (a minute) cannot
    // run out during the test: which pool asks first, and whether the other asks again, is decided here, not
    // by how fast the machine runs. Each step waits for the round trips it needs.
    const clockA = new ManualClock();
    const clockB = new ManualClock();
    const xA = { name: 'x', calls: 0, isDead: true };
    const xB = { name: 'x', calls: 0, isDead: true };
    const A = processPool(a, key, [xA, { name: 'y', calls: 0, isDead: false }], { probeLease: 60_000, clock: clockA }, PROBE_COOLDOWN);
    const B = processPool(b, key, [xB, { name: 'y', calls: 0, isDead: false }], { probeLease: 60_000, clock: clockB }, PROBE_COOLDOWN);
    const isHalfOpen = (c: StateChange): boolean => c.client === 'x' && c.to.kind === 'half-open';
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      while (stateOf(A.pool, 'x') !== 'open') await A.call().catch(() => undefined);
      await until(() => B.changes.some((c) => c.client === 'x' && c.to.kind === 'open'));
      // A knows the opening is the fleet's (one sync started after it was in Redis), and Redis's clock is past
      // its end: a lease asked for now is granted or refused, not put off for the cooling.
      await untilAnswered(A.fleet);
      await untilOpeningEnds(admin, key, 'x');
      xA.isDead = false;
      xB.isDead = false;

      // A's cooldown ends: its next call asks for the lease, and goes to y while the answer is out.
      clockA.advance(PROBE_COOLDOWN);
      const reportsA = A.fleet.stats.reports;
      expect(await A.call()).toBe('y');
      expect(A.fleet.stats.reports).toBe(reportsA + 1);
      await untilAnswered(A.fleet);
      const [holder] = String(await admin.call('HGET', key, 'l:x')).split('|');
      expect(holder).toBe(A.fleet.id);

      // B's cooldown ends while A holds the lease: B asks, is refused, and sends x nothing.
      clockB.advance(PROBE_COOLDOWN);
      xB.calls = 0;
      const reportsB = B.fleet.stats.reports;
      expect(await B.call()).toBe('y');
      expect(B.fleet.stats.reports).toBe(reportsB + 1);
      await untilAnswered(B.fleet);
      for (let i = 0; i < 10; i++) expect(await B.call()).toBe('y');
      expect(xB.calls).toBe(0);
      expect(B.changes.filter(isHalfOpen)).toEqual([]);

      // A probes x and closes it; the closing reaches B, which never probed.
      xA.calls = 0;
      while (stateOf(A.pool, 'x') !== 'closed') {
        await A.call();
        await sleep(5);
      }
      expect(xA.calls).toBe(1);
      await until(() => stateOf(B.pool, 'x') === 'closed');
      expect(A.changes.filter(isHalfOpen)).toHaveLength(1);
      expect(B.changes.filter(isHalfOpen)).toEqual([]);
      for (let i = 0; i < 10; i++) await B.call();
      expect(xB.calls).toBeGreaterThan(0);
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
