// A fleet's pool closed, destroyed or rebuilt at every point of its work; clients added and removed under it.
import { expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';
import { RedisFleet } from '../../../src/redis/index.js';
import { describeWithRedis, useRedisServer } from '../../redis/describe-with-redis.js';
import { failOnUnhandled, freshKey, processPool, sleep, stateOf, switchable, timers, trip, until, upstream, type Upstream } from './fleet-harness.js';

failOnUnhandled();

describeWithRedis('RedisFleet: pool lifecycle', () => {
  const redis = useRedisServer();

  it.each(['before the first sync', 'during a hung round trip', 'while Redis is down', 'while Redis answers garbage', 'while the client throws synchronously'] as const)(
    'close() %s resolves, and no timer is left once a round trip could have timed out',
    { timeout: 30_000 },
    async (when) => {
      const flaky = switchable(await redis.connect());
      await sleep(50);
      const before = timers();
      const A = processPool(flaky, freshKey(), [upstream('x')], { timeout: 100, recheckInterval: 40 });
      if (when !== 'before the first sync') {
        await until(() => A.fleet.stats.syncs > 0);
        flaky.mode = when === 'during a hung round trip' ? 'hang' : when === 'while Redis is down' ? 'down' : when === 'while Redis answers garbage' ? 'garbage' : 'throw';
        const failed = A.fleet.stats.failures;
        if (when === 'during a hung round trip') await until(() => flaky.hung > 0);
        else await until(() => A.fleet.stats.failures > failed);
        expect(await A.call()).toBe('x');
      }
      await A.pool.close();
      expect(A.fleet.state.mode).toBe('closed');
      await sleep(150);
      expect(timers()).toBeLessThanOrEqual(before);
    },
  );

  it('destroy() while calls run and Redis hangs: the calls settle, the fleet is closed, no timer is left', { timeout: 30_000 }, async () => {
    const flaky = switchable(await redis.connect());
    await sleep(50);
    const before = timers();
    const A = processPool(flaky, freshKey(), [upstream('x'), upstream('y')], { timeout: 100 });
    await until(() => A.fleet.stats.syncs > 0);
    flaky.mode = 'hang';
    const calls = Array.from({ length: 20 }, () => A.pool.run(async (u) => (await sleep(30), u.name)).then(() => 'ok', (e: Error) => e.name));
    await A.pool.destroy(new Error('shutting down'));
    expect(new Set(await Promise.all(calls)).size).toBeGreaterThan(0);
    expect(A.fleet.state.mode).toBe('closed');
    await sleep(150);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('a fleet given to a second pool is refused with InvalidOptionError, and the refused pool leaves no timer behind', { timeout: 30_000 }, async () => {
    const client = await redis.connect();
    const fleet = new RedisFleet({ redis: client, key: freshKey(), syncInterval: 20 });
    const first = new ClientPool<string>({ fleet });
    await sleep(50);
    const before = timers();
    expect(() => new ClientPool<string>({ fleet, healthCheck: { interval: 1_000, check: () => {} } })).toThrow(InvalidOptionError);
    await sleep(20);
    expect(timers()).toBeLessThanOrEqual(before);
    // The first pool still shares.
    const synced = fleet.stats.syncs;
    await until(() => fleet.stats.syncs > synced + 1);
    await first.close();
    expect(() => new ClientPool<string>({ fleet })).toThrow(InvalidOptionError);
  });

  it('a pool closed, then a new pool with a new fleet on the same key: it shares with the others', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A1 = processPool(a, key, [upstream('x'), upstream('y')]);
    const B = processPool(b, key, [upstream('x'), upstream('y')]);
    await until(() => A1.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
    await A1.pool.close();
    const A2 = processPool(a, key, [upstream('x'), upstream('y')]);
    try {
      await until(() => A2.fleet.stats.syncs > 0);
      await trip(A2.pool, 'x');
      await until(() => stateOf(B.pool, 'x') === 'open');
      await trip(B.pool, 'y');
      await until(() => stateOf(A2.pool, 'y') === 'open');
    } finally {
      await Promise.all([A2.pool.close(), B.pool.close()]);
    }
  });

  it('a client added after the fleet opened it takes the opening at the next sync', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [upstream('x'), upstream('y')]);
    const B = processPool(b, key, [upstream('y')]);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await until(() => A.fleet.stats.reports > 0);
      const xB = upstream('x');
      B.pool.add(xB, { name: 'x' });
      await until(() => stateOf(B.pool, 'x') === 'open');
      for (let i = 0; i < 20; i++) await B.call();
      expect(xB.calls).toBe(0);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  /** A and B share x, open fleet-wide with a short cooldown; A starts a slow half-open probe and so holds the lease. */
  async function probingA(a: Parameters<typeof processPool>[0], b: Parameters<typeof processPool>[0]) {
    const key = freshKey();
    const pool = { breaker: { maxFailures: 2, cooldown: 200 } };
    const A = processPool(a, key, [upstream('x', true), upstream('y')], { probeLease: 10_000 }, pool);
    const B = processPool(b, key, [upstream('x', true), upstream('y')], { probeLease: 10_000 }, pool);
    await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
    await trip(A.pool, 'x');
    await until(() => stateOf(B.pool, 'x') === 'open');
    let release = (): void => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let isProbing = false;
    const probe = (async () => {
      while (!isProbing) {
        await A.pool.run(async (u: Upstream) => {
          if (u.name !== 'x') return;
          isProbing = true;
          await held;
          throw new Error('x is dead');
        }).catch(() => undefined);
        await sleep(5);
      }
    })();
    await until(() => isProbing, 5_000, 'A probing x');
    return { A, B, release, probe };
  }

  /** Milliseconds until B sends x a half-open probe, calling it every 5 ms. */
  /** "Soon": well under the 10 s lease the fault waited out, with room for a busy machine. */
  const SOON_MS = 7_000;

  async function untilBProbes(B: ReturnType<typeof processPool>): Promise<number> {
    const started = performance.now();
    const probes = (): number => B.changes.filter((c) => c.client === 'x' && c.to.kind === 'half-open').length;
    const had = probes();
    while (probes() === had && performance.now() - started < 12_000) {
      await B.call().catch(() => undefined);
      await sleep(5);
    }
    return performance.now() - started;
  }

  it('the pool holding the probe lease closes mid-probe: another process probes without waiting the lease out', { timeout: 30_000 }, async () => {
    const [a, b] = [await redis.connect(), await redis.connect()];
    const { A, B, release, probe } = await probingA(a, b);
    try {
      const closing = A.pool.close();
      await sleep(100);
      release();
      await Promise.all([closing, probe]);
      expect(await untilBProbes(B)).toBeLessThan(SOON_MS);
    } finally {
      release();
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('the client holding the probe lease is removed mid-probe: another process probes without waiting the lease out', { timeout: 30_000 }, async () => {
    const [a, b] = [await redis.connect(), await redis.connect()];
    const { A, B, release, probe } = await probingA(a, b);
    try {
      const removing = A.pool.remove('x');
      // Syncs go on while the probe drains.
      await sleep(100);
      release();
      await Promise.all([removing, probe]);
      expect(await untilBProbes(B)).toBeLessThan(SOON_MS);
    } finally {
      release();
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it.each(['removed', 'closed with its pool'] as const)('the client holding the probe lease is %s before it probes (the lease granted, no call yet): another process probes soon', { timeout: 30_000 }, async (how) => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const pool = { breaker: { maxFailures: 2, cooldown: 200 } };
    const A = processPool(a, key, [upstream('x', true), upstream('y')], { probeLease: 10_000 }, pool);
    const B = processPool(b, key, [upstream('x', true), upstream('y')], { probeLease: 10_000 }, pool);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await until(() => stateOf(B.pool, 'x') === 'open');
      // A asks for the lease once the cooldown ends, and gets it.
      await sleep(250);
      await A.call().catch(() => undefined);
      let holder: unknown = null;
      for (let i = 0; i < 400 && holder === null; i++) {
        holder = await a.call('HGET', A.fleet.key, 'l:x');
        await sleep(5);
      }
      expect(String(holder).startsWith(`${A.fleet.id}|`)).toBe(true);
      await (how === 'removed' ? A.pool.remove('x') : A.pool.close());
      expect(await untilBProbes(B)).toBeLessThan(SOON_MS);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('the pool closes while its ask for the probe lease is on the wire: the lease granted after is given back, another process probes soon', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const slow = switchable(await redis.connect());
    const b = await redis.connect();
    const pool = { breaker: { maxFailures: 2, cooldown: 200 } };
    const A = processPool(slow, key, [upstream('x', true), upstream('y')], { probeLease: 10_000, timeout: 2_000 }, pool);
    const B = processPool(b, key, [upstream('x', true), upstream('y')], { probeLease: 10_000 }, pool);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await until(() => stateOf(B.pool, 'x') === 'open');
      await sleep(300);
      slow.delayMs = 300;
      const reports = A.fleet.stats.reports;
      // This call finds x due for a probe: A asks for the lease (slowly), and the call goes to y.
      await A.call();
      expect(A.fleet.stats.reports).toBeGreaterThan(reports);
      await A.pool.close();
      // Given back once the grant's answer is in (each command takes 300 ms here): never held to its end.
      let held: unknown = 'held';
      for (let i = 0; i < 300 && held !== null; i++) {
        held = await b.call('HGET', key, 'l:x');
        await sleep(10);
      }
      expect(held).toBeNull();
      expect(await untilBProbes(B)).toBeLessThan(SOON_MS);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('a client removed while open fleet-wide and added again takes the fleet\'s opening again', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [upstream('x'), upstream('y')]);
    const B = processPool(b, key, [upstream('x'), upstream('y')]);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await until(() => stateOf(B.pool, 'x') === 'open');
      await B.pool.remove('x');
      const synced = B.fleet.stats.syncs;
      await until(() => B.fleet.stats.syncs > synced + 1);
      const xB = upstream('x');
      B.pool.add(xB, { name: 'x' });
      await until(() => stateOf(B.pool, 'x') === 'open');
      for (let i = 0; i < 20; i++) await B.call();
      expect(xB.calls).toBe(0);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });
});
