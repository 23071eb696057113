// Second attack on RedisFleet: a really slow Redis (CLIENT PAUSE), two processes with one id, `share` partly
// off and different between processes, a pool without breakers, health checks and height polls on some
// processes only. Pools in one process stand for processes, each on its own connection to one redis-server.
import { afterEach, beforeAll, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { ConfigMismatchError } from '../../../src/redis/index.js';
import { describeWithRedis, useRedisServer, type TestRedis } from '../../redis/describe-with-redis.js';
import { failOnUnhandled, freshKey, processPool, sleep, stateOf, trip, until, upstream, type Upstream } from '../fleet/fleet-harness.js';

failOnUnhandled();

/** Names of the clients that `n` calls of a process reach (a paused, down or open client takes none). */
async function reached(call: () => Promise<string>, n = 12): Promise<string[]> {
  const names = new Set<string>();
  for (let i = 0; i < n; i++) names.add(await call().catch(() => 'refused'));
  return [...names].sort();
}

/** Pause `name` for a minute from inside a call on `pool`, as a 429's Retry-After would. */
async function pauseFrom(pool: ClientPool<Upstream>, name: string): Promise<void> {
  await pool.run((u, call) => {
    call.pauseClient(60_000);
    return u.name;
  }, { strategy: { pick: (cs) => cs.find((c) => c.name === name) ?? cs[0]! } });
}

describeWithRedis('RedisFleet: sharing, second attack', () => {
  const fixture = useRedisServer();
  let admin: TestRedis;
  const pools: ClientPool<Upstream>[] = [];
  const conn = async (): Promise<TestRedis> => fixture.connect();
  const proc = async (...args: Parameters<typeof processPool> extends [unknown, ...infer R] ? R : never) => {
    const p = processPool(await conn(), ...args);
    pools.push(p.pool);
    return p;
  };
  beforeAll(async () => {
    admin = await fixture.connect({ lazyConnect: true });
  });
  afterEach(async () => {
    await admin.call('CLIENT', 'UNPAUSE');
    await Promise.allSettled(pools.splice(0).map((p) => p.close({ signal: AbortSignal.timeout(2_000) })));
  });

  it.each(['ALL', 'WRITE'] as const)('CLIENT PAUSE %s (a Redis that stops answering): fallback within the timeout, every call served meanwhile, resync after, and an opening made meanwhile is shared', { timeout: 30_000 }, async (mode) => {
    const key = freshKey();
    const x = upstream('x');
    const y = upstream('y');
    const a = await proc(key, [x, y], { timeout: 100, recheckInterval: 50 });
    const b = await proc(key, [x, y], { timeout: 100, recheckInterval: 50 });
    await until(() => a.fleet.stats.syncs > 0 && b.fleet.stats.syncs > 0, 8_000, 'first syncs');
    const causes: unknown[] = [];
    a.fleet.onFallback(({ cause }) => void causes.push(cause));
    await admin.call('CLIENT', 'PAUSE', 3_000, mode);
    await until(() => a.fleet.state.mode === 'fallback' && b.fleet.state.mode === 'fallback', 2_000, 'fallback');
    expect(causes[0]).toMatchObject({ code: 'ERR_TIMEOUT' });
    const results = await Promise.all(Array.from({ length: 20 }, () => a.call()));
    expect(results.every((r) => r === 'x' || r === 'y')).toBe(true);
    // Still paused: the calls did not wait for Redis.
    expect(a.fleet.state.mode).toBe('fallback');
    await trip(a.pool, 'x');
    await admin.call('CLIENT', 'UNPAUSE');
    await until(() => a.fleet.state.mode === 'redis' && b.fleet.state.mode === 'redis', 8_000, 'recovery');
    await until(() => stateOf(b.pool, 'x') === 'open', 8_000, 'x open on b');
  });

  it('two processes given one id count as one vote: with quorum 2 their openings do not open the client on a third', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const a = await proc(key, [upstream('x'), upstream('y')], { quorum: 2, id: 'same' });
    const b = await proc(key, [upstream('x'), upstream('y')], { quorum: 2, id: 'same' });
    const c = await proc(key, [upstream('x'), upstream('y')], { quorum: 2, id: 'other' });
    await trip(a.pool, 'x');
    await trip(b.pool, 'x');
    await sleep(300);
    expect(stateOf(c.pool, 'x')).toBe('closed');
    // A vote from another id makes two.
    await trip(c.pool, 'x');
    await until(() => stateOf(c.pool, 'x') === 'open');
  });

  it.each([
    ['pauses off here', { circuits: true, pauses: false }, { circuits: true, pauses: true }],
    ['circuits off here', { circuits: false, pauses: true }, { circuits: true, pauses: true }],
    ['circuits on, pauses off here; the reverse there', { circuits: true, pauses: false }, { circuits: false, pauses: true }],
  ] as const)('share differs between processes (%s): the mismatch is reported on both, and each applies only what it shares', { timeout: 30_000 }, async (_, mine, theirs) => {
    const key = freshKey();
    const a = await proc(key, [upstream('x'), upstream('y'), upstream('z')], { share: mine });
    const b = await proc(key, [upstream('x'), upstream('y'), upstream('z')], { share: theirs });
    const seen: ConfigMismatchError[] = [];
    a.fleet.onMismatch((e) => void seen.push(e));
    b.fleet.onMismatch((e) => void seen.push(e));
    await until(() => a.fleet.stats.mismatches > 0 && b.fleet.stats.mismatches > 0, 8_000, 'mismatch on both');
    expect(seen[0]).toBeInstanceOf(ConfigMismatchError);
    // b pauses y and opens x.
    await pauseFrom(b.pool, 'y');
    await trip(b.pool, 'x');
    await sleep(300);
    // What a does with them follows its own share; z takes calls either way.
    const expected = ['z'];
    if (!(mine.circuits && theirs.circuits)) expected.push('x');
    if (!(mine.pauses && theirs.pauses)) expected.push('y');
    expect(await reached(a.call)).toEqual(expected.sort());
  });

  it('share differs and onMismatch is refuse on both: both fall back to their own view, calls go on, and it is shared again once one leaves', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const a = await proc(key, [upstream('x'), upstream('y')], { share: { pauses: false }, onMismatch: 'refuse', recheckInterval: 50 });
    const b = await proc(key, [upstream('x'), upstream('y')], { onMismatch: 'refuse', recheckInterval: 50 });
    await until(() => a.fleet.state.mode === 'fallback' || b.fleet.state.mode === 'fallback', 8_000, 'a refusal');
    expect(['x', 'y']).toContain(await a.call());
    expect(['x', 'y']).toContain(await b.call());
    await a.pool.close();
    // b alone on the key: once its sync finds its own fingerprint it shares again.
    await until(() => b.fleet.state.mode === 'redis', 8_000, 'b shares again');
  });

  it('a pause and an opening of one client at once: both reach the other process, and the pause outlasts a short cooldown', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const a = await proc(key, [upstream('x'), upstream('y')], {}, { breaker: { maxFailures: 1, cooldown: 150 } });
    const b = await proc(key, [upstream('x'), upstream('y')], {}, { breaker: { maxFailures: 1, cooldown: 150 } });
    await until(() => a.fleet.stats.syncs > 0 && b.fleet.stats.syncs > 0, 8_000, 'first syncs');
    // One call pauses x for 1.5 s and fails it, which opens it.
    await b.pool.run((u, call) => {
      if (u.name !== 'x') return u.name;
      call.pauseClient(1_500);
      throw new Error('x 429');
    }, { strategy: { pick: (cs) => cs.find((c) => c.name === 'x') ?? cs[0]! } }).catch(() => undefined);
    await until(() => stateOf(a.pool, 'x') === 'open' || stateOf(a.pool, 'x') === 'half-open', 8_000, 'x open on a');
    // Past the cooldown but within the pause: x takes no call on a.
    await sleep(400);
    expect(await reached(a.call)).toEqual(['y']);
    // Once the pause is over, the fleet's probe (whoever holds the lease, both have traffic) closes x again.
    await sleep(1_200);
    const deadline = performance.now() + 8_000;
    let names: string[] = [];
    while (!names.includes('x') && performance.now() < deadline) {
      await reached(b.call, 2);
      names = await reached(a.call, 4);
      await sleep(20);
    }
    expect(names).toEqual(['x', 'y']);
  });

  it.each([
    { 'o:x': 'inf|1|0' },
    { 'o:x': 'nan|1|0' },
    { 'o:x': '1e999|1e999|1e999' },
    { 'o:x': 'garbage' },
    { 'p:x': 'inf|0' },
    { 'p:x': 'nan|nan' },
    { 'l:x': 'ghost|inf' },
    { 'ht:x': '1e999|0' },
    { 'ht:x': 'nan|0' },
    { 'v:x': 'a=inf,b=nan' },
    { 'h:x': '1|inf' },
    { 'ch:x': 'ghost|inf' },
    { cfg: 'x\u0000y|z' },
  ])('a fleet hash holding garbage %j: the fleet keeps syncing and the client takes calls', { timeout: 30_000 }, async (fields) => {
    const key = freshKey();
    await admin.call('HSET', key, ...Object.entries(fields).flat());
    const a = await proc(key, [upstream('x')], {}, { healthCheck: { interval: 50, check: () => undefined }, freshness: { height: () => 10, interval: 50, maxLag: 5 } });
    await until(() => a.fleet.stats.syncs > 3, 8_000, 'syncs');
    expect(await a.call()).toBe('x');
    expect(a.fleet.state.mode).toBe('redis');
  });

  it('a pool with breaker: false joins a fleet: no throw, openings elsewhere change nothing here, pauses are shared', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const x = upstream('x');
    const a = await proc(key, [x, upstream('y')], {}, { breaker: false });
    const b = await proc(key, [x, upstream('y')]);
    await trip(b.pool, 'x');
    await sleep(200);
    expect(stateOf(a.pool, 'x')).toBe('closed');
    const before = x.calls;
    for (let i = 0; i < 10; i++) await a.call();
    expect(x.calls).toBeGreaterThan(before);
    // A pause made on the pool without breakers reaches the other.
    await pauseFrom(a.pool, 'y');
    await sleep(300);
    expect(await reached(b.call)).toEqual(['refused']);
  });

  it('health checks on some processes only: the one that checks probes for the fleet, the others apply its verdict and never check', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const checks = { a: 0, b: 0 };
    await proc(key, [upstream('x'), upstream('y')], { proberLease: 500 }, { healthCheck: { interval: 20, check: (u) => {
      checks.a++;
      if (u.name === 'x') throw new Error('x is down');
    } } });
    const b = await proc(key, [upstream('x'), upstream('y')], { proberLease: 500 });
    await sleep(400);
    expect(await reached(b.call)).toEqual(['y']);
    expect(checks.a).toBeGreaterThan(0);
    expect(checks.b).toBe(0);
  });

  it('height polls on three processes: after the first syncs, one poller per client across the fleet', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const polls = new Map<string, Set<number>>();
    const heightOf = (index: number) => (u: Upstream): number => {
      const set = polls.get(u.name) ?? new Set<number>();
      set.add(index);
      polls.set(u.name, set);
      return 100;
    };
    const ps: Awaited<ReturnType<typeof proc>>[] = [];
    for (let i = 0; i < 3; i++) ps.push(await proc(key, [upstream('x'), upstream('y')], {}, { freshness: { height: heightOf(i), interval: 20, maxLag: 5 } }));
    await until(() => ps.every((p) => p.fleet.stats.syncs > 2), 8_000, 'syncs');
    await sleep(100);
    polls.clear();
    await sleep(400);
    expect([...polls.values()].map((s) => s.size)).toEqual([1, 1]);
  });
});
