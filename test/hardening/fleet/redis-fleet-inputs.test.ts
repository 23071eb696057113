// Odd inputs given to a RedisFleet: client names, options, and durations the Lua scripts must store.
import { expect, it, vi } from 'vitest';
import { recordWarnings } from '../../helpers/warnings.js';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';
import { RedisFleet, type RedisFleetOptions } from '../../../src/redis/index.js';
import { describeWithRedis, useRedisServer } from '../../redis/describe-with-redis.js';
import { failOnUnhandled, freshKey, processPool, stateOf, trip, until, upstream, sleep } from './fleet-harness.js';

failOnUnhandled();

const redisLike = { evalsha: () => Promise.resolve(null), eval: () => Promise.resolve(null) };

it.each([
  ['quorum', Number.NaN],
  ['quorum', -1],
  ['quorum', 0],
  ['quorum', 1.5],
  ['quorum', '2'],
  ['syncInterval', Number.NaN],
  ['syncInterval', -5],
  ['syncInterval', 0],
  ['syncInterval', 2 ** 31],
  ['syncInterval', Number.POSITIVE_INFINITY],
  ['timeout', 2 ** 31],
  ['recheckInterval', -1],
  ['probeLease', 2 ** 31],
  ['proberLease', Number.NaN],
  ['id', ''],
  ['id', 'a|b'],
  ['id', 'a,b'],
  ['id', 'a=b'],
  ['id', 'x'.repeat(129)],
  ['id', 'é'],
  ['onMismatch', 'ignore'],
  ['key', ''],
  ['key', 42],
  ['clock', { now: 1 }],
  ['share', null],
  ['share', []],
  ['share', true],
])('a bad %s (%s) is refused with an InvalidOptionError naming it', (option, value) => {
  const options: Record<string, unknown> = { redis: redisLike, key: 'k', [option]: value };
  const build = () => new RedisFleet(options as unknown as RedisFleetOptions);
  expect(build).toThrow(InvalidOptionError);
  expect(build).toThrow(option);
});

it.each([1, 'yes', null, 0, {}])('share.circuits given %s (not a boolean) is refused naming share.circuits', (value) => {
  expect(() => new RedisFleet({ redis: redisLike, key: 'k', share: { circuits: value } } as never)).toThrow('share.circuits');
});

it('an unknown share key and an unknown option are refused', () => {
  expect(() => new RedisFleet({ redis: redisLike, key: 'k', share: { breakers: true } } as never)).toThrow(InvalidOptionError);
  expect(() => new RedisFleet({ redis: redisLike, key: 'k', quorom: 2 } as never)).toThrow(InvalidOptionError);
});

it.each([
  ['no eval', { evalsha: () => Promise.resolve(null) }],
  ['no evalsha', { eval: () => Promise.resolve(null) }],
  ['a string', 'redis://localhost'],
  ['null', null],
])('a Redis client with %s is refused naming redis', (_, redis) => {
  expect(() => new RedisFleet({ redis, key: 'k' } as never)).toThrow(/redis/);
});

it('quorum past 2^31-1 is accepted and the fleet is usable (nothing ever reaches it)', () => {
  const fleet = new RedisFleet({ redis: redisLike, key: 'k', quorum: 2 ** 40 });
  expect(fleet.quorum).toBe(2 ** 40);
});

describeWithRedis('RedisFleet: odd client names and durations on a real Redis', () => {
  const redis = useRedisServer();

  const odd = ['a|b', 'a,b', 'a=b', 'a:b', '100%', 'line\nbreak', 'ключ-🚀', 'o:x', 'cfg', 'h:x', 'v:x=1,y=2', '|', 'x'.repeat(10_000), ' '];

  it('clients whose names hold the hash separators, newlines, unicode or other fields open in the other process', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, odd.map((n) => upstream(n)));
    const B = processPool(b, key, odd.map((n) => upstream(n)));
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      for (const name of odd) await trip(A.pool, name);
      await until(() => odd.every((n) => stateOf(B.pool, n) === 'open'), 8_000, 'every odd name open in B');
      // A field named like another kind is not read as one: nothing else opened or paused.
      expect(B.pool.members().every((m) => m.state.kind === 'open')).toBe(true);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  // Redis keeps names as UTF-8: a lone surrogate would come back as U+FFFD, another client's name. Such a
  // client is not shared (a warning says so), and the client really named with U+FFFD is not touched.
  it('a client whose name holds a lone surrogate is not shared (one warning), and never taken for the name Redis would turn it into', { timeout: 30_000 }, async () => {
    const warnings = recordWarnings();
    const key = freshKey();
    const name = 'node-\uD800';
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [upstream(name), upstream('ok')]);
    const B = processPool(b, key, [upstream(name), upstream('node-\uFFFD'), upstream('ok')]);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, name);
      const synced = B.fleet.stats.syncs;
      await until(() => B.fleet.stats.syncs >= synced + 3);
      expect(stateOf(B.pool, name)).toBe('closed');
      expect(stateOf(B.pool, 'node-\uFFFD')).toBe('closed');
      expect(warnings.filter((w) => w.code === 'CLIENTPOOL_FLEET_NAME')).toHaveLength(1);
    } finally {
      vi.restoreAllMocks();
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it.each([10_000, 10_000.5])('probeLease %s ms bounds the half-open probes in flight fleet-wide to one (a fractional lease too)', { timeout: 30_000 }, async (probeLease) => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const pool = { breaker: { maxFailures: 2, cooldown: 300 } };
    const A = processPool(a, key, [upstream('x', true), upstream('y')], { probeLease }, pool);
    const B = processPool(b, key, [upstream('x', true), upstream('y')], { probeLease }, pool);
    try {
      await until(() => A.fleet.stats.syncs > 0 && B.fleet.stats.syncs > 0);
      await trip(A.pool, 'x');
      await until(() => stateOf(B.pool, 'x') === 'open');
      // x stays dead and each probe takes 300 ms: count the probes in flight at once across both processes.
      let inFlight = 0;
      let most = 0;
      const call = (p: typeof A.pool) =>
        p.run(async (u) => {
          if (u.name !== 'x') return u.name;
          inFlight++;
          most = Math.max(most, inFlight);
          await sleep(300);
          inFlight--;
          throw new Error('x is dead');
        }).catch(() => undefined);
      const deadline = performance.now() + 3_000;
      while (performance.now() < deadline) {
        await Promise.all([call(A.pool), call(B.pool), call(A.pool), call(B.pool)]);
        await sleep(5);
      }
      expect(most).toBe(1);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it.each([5_000, 5_000.5])('proberLease %s ms leaves one health prober per client (a fractional lease too)', { timeout: 30_000 }, async (proberLease) => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const checks = { A: 0, B: 0 };
    const make = (client: typeof a, who: 'A' | 'B') => {
      const fleet = new RedisFleet({ redis: client, key, syncInterval: 20, timeout: 2_000, proberLease });
      const pool = new ClientPool<string>({ fleet, healthCheck: { interval: 60_000, check: (c) => {
        if (c === 'x') checks[who]++;
      } } });
      pool.add('x', { name: 'x' });
      return { fleet, pool };
    };
    const A = make(a, 'A');
    const B = make(b, 'B');
    try {
      await until(() => A.fleet.stats.syncs >= 3 && B.fleet.stats.syncs >= 3);
      checks.A = checks.B = 0;
      await Promise.all([A.pool.checkHealth(), B.pool.checkHealth()]);
      expect(checks.A + checks.B).toBe(1);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });

  it('a key holding a RedisTokenBucket-style string (WRONGTYPE): the fleet falls back, calls go on, no unhandled rejection', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const a = await redis.connect();
    await a.call('SET', key, 'a bucket lives here');
    const A = processPool(a, key, [upstream('x')], { recheckInterval: 50 });
    const causes: string[] = [];
    A.fleet.onFallback(({ cause }) => causes.push(cause.message));
    try {
      await until(() => A.fleet.state.mode === 'fallback');
      expect(causes[0]).toMatch(/WRONGTYPE/);
      expect(await A.call()).toBe('x');
      expect(await a.call('GET', key)).toBe('a bucket lives here');
    } finally {
      await A.pool.close();
    }
  });

  it('the largest safe height (2^53-1) crosses exactly, and a lower one never lowers it', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const [a, b] = [await redis.connect(), await redis.connect()];
    const A = processPool(a, key, [upstream('x')]);
    const B = processPool(b, key, [upstream('x')]);
    try {
      await A.pool.run((_, call) => call.reportHeight(Number.MAX_SAFE_INTEGER - 2));
      await until(() => B.pool.members()[0]!.height === Number.MAX_SAFE_INTEGER - 2);
      await B.pool.run((_, call) => call.reportHeight(Number.MAX_SAFE_INTEGER));
      await until(() => A.pool.members()[0]!.height === Number.MAX_SAFE_INTEGER);
      await A.pool.run((_, call) => call.reportHeight(5));
      const synced = B.fleet.stats.syncs;
      await until(() => B.fleet.stats.syncs > synced + 2);
      expect([A.pool.members()[0]!.height, B.pool.members()[0]!.height]).toEqual([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
    } finally {
      await Promise.all([A.pool.close(), B.pool.close()]);
    }
  });
});
