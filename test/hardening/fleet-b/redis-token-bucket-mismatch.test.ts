// Second attack on RedisTokenBucket's configuration fingerprint (docs/redis.md, "Configuration mismatch"):
// other settings on one key, the same pace written differently, settlements, refusal through a pool,
// values that are not a bucket's, throwing listeners, and the bounds on warnings. A real redis-server.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { ConfigMismatchError, RedisTokenBucket } from '../../../src/redis/index.js';
import { describeWithRedis, useRedisServer, type TestRedis } from '../../redis/describe-with-redis.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let keys = 0;
const freshKey = (): string => `bucket-attack-b:${process.pid}:${++keys}`;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));
afterEach(() => expect(unhandled.splice(0)).toEqual([]));

/** Process warnings with a code, collected while `body` runs. */
async function collectWarnings(body: () => Promise<void>, about = ''): Promise<string[]> {
  const codes: string[] = [];
  const onWarning = (w: Error & { code?: string }): void => {
    if (w.message.includes(about)) codes.push(String(w.code));
  };
  process.on('warning', onWarning);
  try {
    await body();
    await sleep(10);
  } finally {
    process.off('warning', onWarning);
  }
  return codes;
}

describeWithRedis('RedisTokenBucket: configuration mismatch, second attack', () => {
  const fixture = useRedisServer();
  let redis: TestRedis;
  const buckets: RedisTokenBucket[] = [];
  const bucket = (options: Omit<ConstructorParameters<typeof RedisTokenBucket>[0], 'redis'>): RedisTokenBucket => {
    const b = new RedisTokenBucket({ redis, timeout: 2_000, ...options });
    buckets.push(b);
    return b;
  };
  beforeAll(async () => {
    redis = await fixture.connect();
  });
  afterEach(() => {
    for (const b of buckets.splice(0)) b.close();
  });

  it.each([
    [{ rate: 10 }, { rate: 10, per: 1_000, burst: 10 }],
    [{ rate: 10, per: 1_000 }, { rate: 10, burst: 10 }],
    [{ rate: 0.5, per: 2_000 }, { rate: 0.5, per: 2_000, burst: 1 }],
  ])('%j and %j are one configuration: no mismatch either way', async (a, b) => {
    const key = freshKey();
    const first = bucket({ key, ...a });
    const second = bucket({ key, ...b });
    // Each takes once, and once more without waiting: a rate limit is no mismatch.
    for (const b of [first, second, first, second]) await b.take(1, { maxWait: 0 }).catch((e: { code?: string }) => expect(e.code).toBe('ERR_RATE_LIMITED'));
    expect([first.stats.mismatches, second.stats.mismatches]).toEqual([0, 0]);
    expect(first.fingerprint).toBe(second.fingerprint);
  });

  it('the same pace written with another per ({ rate: 10 } and { rate: 0.01, per: 1, burst: 10 }) mismatches, as documented', async () => {
    const key = freshKey();
    const first = bucket({ key, rate: 10 });
    const second = bucket({ key, rate: 0.01, per: 1, burst: 10 });
    await first.take();
    await second.take();
    expect(second.stats.mismatches).toBe(1);
  });

  it("two buckets with other rate, per and burst alternating on a key: both count and see each other's settings", async () => {
    const key = freshKey();
    // Bursts wide enough that neither ever waits for the other's tokens: the test counts reports, and a
    // wait of ~1 s against the default maxWait made it fail on a busy machine (CI).
    const slow = bucket({ key, rate: 1, burst: 50, maxWait: 60_000 });
    const fast = bucket({ key, rate: 1_000, per: 2_000, burst: 5_000, maxWait: 60_000 });
    const seen: ConfigMismatchError[] = [];
    slow.onMismatch((e) => void seen.push(e));
    fast.onMismatch((e) => void seen.push(e));
    for (let i = 0; i < 4; i++) {
      await slow.take();
      await fast.take();
    }
    expect(slow.stats.mismatches).toBeGreaterThanOrEqual(3);
    expect(fast.stats.mismatches).toBeGreaterThanOrEqual(3);
    expect(new Set(seen.map((e) => `${e.ours} / ${e.theirs}`))).toEqual(new Set([`${slow.fingerprint} / ${fast.fingerprint}`, `${fast.fingerprint} / ${slow.fingerprint}`]));
  });

  it("refuse through a pool: the call rejects with the ConfigMismatchError, the client is not called, and calls go on once the other's state expires", async () => {
    const key = freshKey();
    // One token of a 4/s bucket: the other's state lives 250 ms.
    const other = bucket({ key, rate: 4, burst: 4 });
    await other.take();
    const mine = bucket({ key, rate: 10, onMismatch: 'refuse', recheckInterval: 50 });
    const pool = new ClientPool<object>({ limit: mine, retryBudget: false });
    let called = 0;
    pool.add({}, { name: 'a' });
    const callClient = (): void => {
      called++;
    };
    const error = await pool.run(callClient).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigMismatchError);
    await expect(pool.run(callClient)).rejects.toBeInstanceOf(ConfigMismatchError);
    expect(called).toBe(0);
    expect(pool.members()[0]?.state.kind).toBe('closed');
    // The other process stops; its state expires: takes go on.
    await sleep(600);
    expect(mine.mismatch).toBeUndefined();
    await pool.run(callClient);
    expect(called).toBe(1);
    await pool.close();
  });

  it("refuse: the refused round trip leaves the other configuration's state and fingerprint in the key, so the refusal holds while that state does", async () => {
    const key = freshKey();
    // The other took 5 of 10 tokens at 1/s: its state lives ~5 s, and it stays a live user of the key.
    const other = bucket({ key, rate: 1, burst: 10 });
    for (let i = 0; i < 5; i++) await other.take();
    const before = await redis.call('GET', key);
    // Room for a take here (burst 100 at 10/s is 10 s of tokens): the refused round trip takes one and writes.
    const mine = bucket({ key, rate: 10, burst: 100, onMismatch: 'refuse', recheckInterval: 50 });
    await expect(mine.take()).rejects.toBeInstanceOf(ConfigMismatchError);
    const after = String(await redis.call('GET', key));
    // Several rechecks later: is it still refusing?
    await sleep(300);
    // Expected: the refusing take did not write this process's state and fingerprint over the other's, and
    // the refusal holds while the other's state does (it lives ~5 s).
    expect({ after, isRefusing: mine.mismatch !== undefined }).toEqual({ after: String(before), isRefusing: true });
  });

  it('adjust() under a mismatch with refuse: the settlement stands, the mismatch is counted and takes are refused', async () => {
    const key = freshKey();
    const other = bucket({ key, rate: 1, burst: 10 });
    for (let i = 0; i < 3; i++) await other.take();
    const mine = bucket({ key, rate: 10, onMismatch: 'refuse', recheckInterval: 60_000 });
    mine.adjust(5);
    for (let i = 0; i < 100 && mine.stats.mismatches === 0; i++) await sleep(5);
    expect(mine.stats.mismatches).toBe(1);
    expect(mine.stats.chargedTokens).toBe(5);
    expect(mine.stats.adjustFailures).toBe(0);
    await expect(mine.take()).rejects.toBeInstanceOf(ConfigMismatchError);
  });

  it('refusing while Redis is unreachable: takes keep rejecting with the mismatch (not a fallback), and the bucket trusts the key again once Redis is back and the state is gone', async () => {
    const key = freshKey();
    const other = bucket({ key, rate: 4, burst: 4 });
    await other.take();
    const own = await fixture.connect();
    const mine = new RedisTokenBucket({ redis: own, key, rate: 10, onMismatch: 'refuse', recheckInterval: 50, timeout: 500 });
    buckets.push(mine);
    await expect(mine.take()).rejects.toBeInstanceOf(ConfigMismatchError);
    own.disconnect();
    await sleep(150);
    await expect(mine.take()).rejects.toBeInstanceOf(ConfigMismatchError);
    await own.connect();
    await sleep(600);
    expect(mine.mismatch).toBeUndefined();
    await expect(mine.take()).resolves.toBeUndefined();
    expect(mine.state.mode).toBe('redis');
  });

  it('warn: a mismatch written while this bucket was on its fallback is reported at the recovery probe, and takes go on from Redis', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const own = await fixture.connect();
    const mine = new RedisTokenBucket({ redis: own, key, rate: 10, recheckInterval: 50, timeout: 500 });
    buckets.push(mine);
    await mine.take();
    own.disconnect();
    await mine.take();
    expect(mine.state.mode).toBe('fallback');
    const other = bucket({ key, rate: 1, burst: 10 });
    await other.take();
    const recovered: number[] = [];
    mine.onRecover(({ downMs }) => void recovered.push(downMs));
    await sleep(100);
    await own.connect();
    for (let i = 0; i < 200 && mine.state.mode !== 'redis'; i++) await sleep(10);
    expect(mine.state.mode).toBe('redis');
    expect(recovered).toHaveLength(1);
    expect(mine.stats.mismatches).toBeGreaterThanOrEqual(1);
    await expect(mine.take()).resolves.toBeUndefined();
  });

  it('a bare number (the format before fingerprints) is read as state with no fingerprint: no mismatch, and the pace holds', async () => {
    const key = freshKey();
    const nowUs = Number((await redis.call('TIME') as string[])[0]) * 1e6;
    // Empty for 2 s at 1/s: burst 2, so a take must wait about a second.
    await redis.call('SET', key, String(nowUs + 2e6), 'PX', 3_000);
    const mine = bucket({ key, rate: 1, burst: 2, maxWait: 0 });
    await expect(mine.take()).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect(mine.stats.mismatches).toBe(0);
  });

  it.each(['hello', '|', '12|', '-1e999', '0x10', ' 5 '])('a key holding %j: read as no state, the take is served from Redis and the key repaired', async (value) => {
    const key = freshKey();
    await redis.call('SET', key, value);
    const mine = bucket({ key, rate: 10, maxWait: 200 });
    await mine.take();
    expect(mine.state.mode).toBe('redis');
    expect(String(await redis.call('GET', key)).endsWith(`|${mine.fingerprint}`)).toBe(true);
  });

  it.each(['nan', 'nan|x', 'inf', '1e999', '1e999|burst=1;per=1;rate=1', '-nan'])('a key holding %j (garbage Lua reads as NaN or infinity): read as no state, not a permanent fallback or lock', async (value) => {
    const key = freshKey();
    await redis.call('SET', key, value);
    const mine = bucket({ key, rate: 10, maxWait: 200, recheckInterval: 20 });
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push(await mine.take().then(() => 'taken', (e: Error & { code?: string }) => String(e.code)));
      await sleep(30);
    }
    expect({ outcomes, mode: mine.state.mode, fallbacks: mine.stats.fallbacks }).toEqual({ outcomes: ['taken', 'taken', 'taken'], mode: 'redis', fallbacks: 0 });
    expect(String(await redis.call('GET', key)).endsWith(`|${mine.fingerprint}`)).toBe(true);
  });

  it('another valid configuration left state more than 2^63 µs ahead (rate 1 per 2^31-1 ms, burst 1e7, all taken): a take here is refused once with an honest retryAfterMs, not retried in a hot loop', { timeout: 30_000 }, async () => {
    const key = freshKey();
    const huge = bucket({ key, rate: 1, per: 2_147_483_647, burst: 1e7 });
    await huge.take(1e7);
    const mine = bucket({ key, rate: 10, maxWait: 200, timeout: 50 });
    const error = await mine.take().then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    // The other's state frees a token here in ages: the wait said must be long, and one or two round trips tell it.
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(1_000);
    expect(mine.stats.roundTrips).toBeLessThanOrEqual(3);
  });

  it.each(['inf', '1e999'])('a key holding %j: a take makes a bounded number of round trips (no hot loop on the overflowed wait)', { timeout: 30_000 }, async (value) => {
    const key = freshKey();
    await redis.call('SET', key, value);
    const mine = bucket({ key, rate: 10, maxWait: 200, timeout: 50 });
    await mine.take().catch(() => undefined);
    expect(mine.stats.roundTrips).toBeLessThanOrEqual(3);
  });

  it('a stored fingerprint of odd characters (newlines, NUL, 10 000 characters, the escapes): reported as it is, the message clipped, no throw', async () => {
    const key = freshKey();
    const mine = bucket({ key, rate: 10, burst: 100 });
    const seen: ConfigMismatchError[] = [];
    mine.onMismatch((e) => void seen.push(e));
    const odd = ['a\nb\r\n', 'x\u0000y', 'z'.repeat(10_000), 'rate=10%3B;burst=%7C', '\u{1F600}=\u00e9'];
    for (const theirs of odd) {
      await redis.call('SET', key, `1|${theirs}`, 'PX', 5_000);
      await mine.take();
    }
    expect(seen.map((e) => e.theirs)).toEqual(odd);
    for (const e of seen) expect(e.message.length).toBeLessThan(600);
  });

  it('a throwing and an async-rejecting onMismatch listener: warned of, the take is served, later listeners still run', async () => {
    const key = freshKey();
    const other = bucket({ key, rate: 1, burst: 10 });
    await other.take();
    const mine = bucket({ key, rate: 10 });
    let reached = 0;
    mine.onMismatch(() => {
      throw new Error('listener');
    });
    // An async listener is the attack: its rejection must be reported, not left unhandled.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    mine.onMismatch(() => Promise.reject(new Error('async listener')));
    mine.onMismatch(() => {
      reached++;
    });
    const codes = await collectWarnings(async () => {
      await mine.take();
    });
    expect(reached).toBe(mine.stats.mismatches);
    expect(reached).toBeGreaterThanOrEqual(1);
    expect(codes.filter((c) => c === 'CLIENTPOOL_LISTENER_ERROR').length).toBeGreaterThanOrEqual(2);
  });

  it('a listener that closes the bucket under refuse: the waiters reject with PoolClosedError or the mismatch, nothing hangs', async () => {
    const key = freshKey();
    const other = bucket({ key, rate: 1, burst: 10 });
    await other.take();
    const mine = bucket({ key, rate: 10, onMismatch: 'refuse' });
    mine.onMismatch(() => mine.close());
    const got = await Promise.race([Promise.allSettled([mine.take(), mine.take(), mine.take()]), sleep(2_000).then(() => 'hung' as const)]);
    expect(got).not.toBe('hung');
    for (const r of got as PromiseSettledResult<void>[]) expect(r.status).toBe('rejected');
  });

  it('warnings stay bounded: 40 other configurations give at most 16 CLIENTPOOL_CONFIG_MISMATCH warnings, every reply still counted', async () => {
    const key = freshKey();
    const mine = bucket({ key, rate: 5, burst: 100 });
    const codes = await collectWarnings(async () => {
      for (let i = 0; i < 40; i++) {
        await redis.call('SET', key, `1|other-${i}`);
        await mine.take();
      }
    }, JSON.stringify(key));
    expect(codes.filter((c) => c === 'CLIENTPOOL_CONFIG_MISMATCH').length).toBeLessThanOrEqual(16);
    expect(mine.stats.mismatches).toBe(40);
  });
});
