import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClientPool, ClientPoolError, InvalidOptionError, RateLimitedError } from '../../src/index.js';
import { configFingerprint, ConfigMismatchError } from '../../src/redis/config-fingerprint.js';
import { RedisTokenBucket, type RedisTokenBucketOptions } from '../../src/redis/index.js';
import { runAdjustScript, runTokenBucketScript } from '../../src/redis/script.js';
import { recordWarnings } from '../helpers/warnings.js';
import { describeWithEachIoredis, useRedisServer, type TestRedis } from './describe-with-redis.js';

// Two configurations on one Redis key: each write stores the writer's fingerprint with the state, and a
// reply that finds another one reports it. Real servers, real time: nothing here depends on how fast the
// machine is (progress is waited for, never timed); the exact arithmetic is script.test.ts's.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Poll until `condition` holds; gives up (failing the test with `what`) after 20 s, far past any wait here. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await sleep(5);
  }
}

/** A round-trip timeout and wait long enough that a busy machine causes no fallback and no refusal for time. */
const PATIENT = { timeout: 10_000, maxWait: 60_000 } as const;
const TEN = 'burst=10;per=1000;rate=10';
const THOUSAND = 'burst=1000;per=1000;rate=1000';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('configFingerprint', () => {
  it('writes name=value pairs sorted by name, whatever the order given', () => {
    expect(configFingerprint({ rate: 10, per: 1_000, burst: 10 })).toBe(TEN);
    expect(configFingerprint({ burst: 10, rate: 10, per: 1_000 })).toBe(TEN);
    expect(configFingerprint({ b: true, a: 'x' })).toBe('a=x;b=true');
  });

  it('writes numbers exactly as String() does: 0.1 stays 0.1, 1/3 keeps every digit', () => {
    expect(configFingerprint({ rate: 0.1 })).toBe('rate=0.1');
    expect(configFingerprint({ rate: 1 / 3 })).toBe(`rate=${String(1 / 3)}`);
    expect(Number(configFingerprint({ rate: 1 / 3 }).slice('rate='.length))).toBe(1 / 3);
    expect(configFingerprint({ rate: 1e21 })).toBe('rate=1e+21');
  });

  it('never contains "|", and escapes the characters of its own syntax so that the text reads one way', () => {
    const text = configFingerprint({ 'a|b': 'x|y', c: 'd;e=f', pct: '%7C' });
    expect(text).not.toContain('|');
    expect(text).toBe('a%7Cb=x%7Cy;c=d%3Be%3Df;pct=%257C');
    // Without escaping, these two would both read "a=1;b=2".
    expect(configFingerprint({ a: '1;b=2' })).not.toBe(configFingerprint({ a: 1, b: 2 }));
  });

  it('is equal for two settings objects exactly when they hold the same names with the same values as text (property)', () => {
    const value = fc.oneof(fc.integer(), fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0)), fc.string(), fc.boolean());
    const settings = fc.dictionary(fc.string(), value, { minKeys: 1, maxKeys: 4 });
    const asText = (s: Record<string, unknown>): Record<string, string> => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, String(v)]));
    fc.assert(
      fc.property(settings, settings, (a, b) => {
        const [fa, fb] = [configFingerprint(a), configFingerprint(b)];
        expect(fa).not.toContain('|');
        expect(fa === fb).toBe(JSON.stringify(Object.entries(asText(a)).sort()) === JSON.stringify(Object.entries(asText(b)).sort()));
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['an empty object (an empty text reads as no fingerprint)', {}, 'settings'],
    ['null', null, 'settings'],
    ['an array', [1], 'settings'],
    ['an object value', { rate: { n: 1 } }, 'settings.rate'],
    ['undefined', { rate: undefined }, 'settings.rate'],
  ])('refuses %s with InvalidOptionError naming the setting', (_what, settings, option) => {
    expect(() => configFingerprint(settings as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option }) as Error);
  });
});

describe('ConfigMismatchError', () => {
  it('is a clientpool error with code ERR_CONFIG_MISMATCH, and its message names the key and both settings', () => {
    const error = new ConfigMismatchError('provider-a', 'burst=1000;per=1000;rate=1000', TEN);
    expect(error).toBeInstanceOf(ClientPoolError);
    expect(error).toMatchObject({ name: 'ConfigMismatchError', code: 'ERR_CONFIG_MISMATCH', key: 'provider-a', ours: THOUSAND, theirs: TEN });
    expect(ConfigMismatchError.code).toBe('ERR_CONFIG_MISMATCH');
    expect(error.message).toBe(`Redis key "provider-a" is used with ${THOUSAND} here and with ${TEN} by another process`);
  });

  it('keeps a long fingerprint from another process out of the message, but whole in `theirs`', () => {
    const theirs = `x=${'9'.repeat(10_000)}`;
    const error = new ConfigMismatchError('k', 'x=1', theirs);
    expect(error.message.length).toBeLessThan(600);
    expect(error.theirs).toBe(theirs);
  });
});

describe('RedisTokenBucket onMismatch option', () => {
  const redis = { evalsha: () => Promise.resolve([1, 0]), eval: () => Promise.resolve([1, 0]) };

  it.each(['ignore', 'WARN', true, null])('refuses %j with InvalidOptionError naming onMismatch', (value) => {
    expect(() => new RedisTokenBucket({ redis, key: 'k', rate: 1, onMismatch: value as never })).toThrow(InvalidOptionError);
    expect(() => new RedisTokenBucket({ redis, key: 'k', rate: 1, onMismatch: value as never })).toThrow(/^onMismatch must be 'warn' or 'refuse', got/);
  });

  it("takes 'warn' and 'refuse', and fingerprints rate, per and burst (the defaults filled in)", () => {
    expect(new RedisTokenBucket({ redis, key: 'k', rate: 10, onMismatch: 'warn' }).fingerprint).toBe(TEN);
    expect(new RedisTokenBucket({ redis, key: 'k', rate: 600, per: 60_000, burst: 5, onMismatch: 'refuse' }).fingerprint).toBe('burst=5;per=60000;rate=600');
  });
});

describeWithEachIoredis('configuration mismatch on a shared key (real Redis)', (ioredis) => {
  const fixture = useRedisServer(ioredis);
  let admin: TestRedis;
  let keys = 0;
  const freshKey = (): string => `fingerprint:${process.pid}:${++keys}`;
  /** A bucket on a connection of its own, as another process would have. */
  const bucket = async (options: Omit<RedisTokenBucketOptions, 'redis'>): Promise<RedisTokenBucket> => new RedisTokenBucket({ redis: await fixture.connect(), ...PATIENT, ...options });
  beforeAll(async () => {
    admin = await fixture.connect();
  });

  describe('the stored value', () => {
    const EPOCH_US = 1_750_000_000_000_000;

    it('is "<tat>|<fingerprint>"; the reply names the other fingerprint found, and the writer always stores its own', async () => {
      const key = freshKey();
      const take = (fingerprint: string) => runTokenBucketScript(admin, key, { interval: 100_000, burst: 10, need: 1, demand: 1, extra: 0, keep: 0, fingerprint, nowUs: EPOCH_US });
      expect((await take(TEN)).theirs).toBeUndefined();
      expect(await admin.call('GET', key)).toBe(`${EPOCH_US + 100_000}|${TEN}`);
      expect(await take(THOUSAND)).toEqual({ granted: 1, waitUs: 0, theirs: TEN });
      expect(await admin.call('GET', key)).toBe(`${EPOCH_US + 200_000}|${THOUSAND}`);
      expect((await take(THOUSAND)).theirs).toBeUndefined();
    });

    it('reads a bare "<tat>" (written before fingerprints) as the TAT, with no fingerprint', async () => {
      const key = freshKey();
      await admin.call('SET', key, String(EPOCH_US + 1_000_000));
      // A full bucket of 10 at rate 10 is 1 s; a TAT 1 s ahead leaves none: the wait is the 100 ms of one token.
      expect(await runTokenBucketScript(admin, key, { interval: 100_000, burst: 10, need: 1, demand: 1, extra: 0, keep: 0, fingerprint: TEN, nowUs: EPOCH_US })).toEqual({ granted: 0, waitUs: 100_000, theirs: undefined });
    });

    it('is kept by the adjust script the same way', async () => {
      const key = freshKey();
      const adjust = (n: number, fingerprint: string) => runAdjustScript(admin, key, { interval: 100_000, burst: 10, n, maxDebtUs: 1e9, fingerprint, nowUs: EPOCH_US });
      expect((await adjust(2, TEN)).theirs).toBeUndefined();
      expect(await admin.call('GET', key)).toBe(`${EPOCH_US + 200_000}|${TEN}`);
      expect(await adjust(1, THOUSAND)).toEqual({ movedUs: 100_000, fullInUs: 300_000, theirs: TEN });
      expect(await admin.call('GET', key)).toBe(`${EPOCH_US + 300_000}|${THOUSAND}`);
    });
  });

  it('two buckets at rate 10 and 1000 on one key: each reports the other (ours/theirs), counts every such reply, warns once, and calls pass', async () => {
    const warnings = recordWarnings();
    const key = freshKey();
    const slow = await bucket({ key, rate: 10 });
    const fast = await bucket({ key, rate: 1_000 });
    const seen: { slow: ConfigMismatchError[]; fast: ConfigMismatchError[] } = { slow: [], fast: [] };
    const subscriptions = [slow.onMismatch((error) => seen.slow.push(error)), fast.onMismatch((error) => seen.fast.push(error))];
    await slow.take();
    expect(seen.slow).toEqual([]);
    for (let i = 0; i < 3; i++) {
      await fast.take();
      await slow.take();
    }
    expect(seen.fast).toHaveLength(3);
    expect(seen.slow).toHaveLength(3);
    expect(seen.fast[0]).toBeInstanceOf(ConfigMismatchError);
    expect(seen.fast[0]).toMatchObject({ code: 'ERR_CONFIG_MISMATCH', key, ours: THOUSAND, theirs: TEN });
    expect(seen.slow[0]).toMatchObject({ key, ours: TEN, theirs: THOUSAND });
    expect(fast.stats.mismatches).toBe(3);
    expect(slow.stats.mismatches).toBe(3);
    expect(fast.stats.redisTokens + slow.stats.redisTokens).toBe(7);
    const mismatchWarnings = warnings.filter((w) => w.code === 'CLIENTPOOL_CONFIG_MISMATCH');
    expect(mismatchWarnings).toHaveLength(2);
    expect(mismatchWarnings.map((w) => w.text).sort()).toEqual([
      `clientpool: Redis key "${key}" is used with ${THOUSAND} here and with ${TEN} by another process`,
      `clientpool: Redis key "${key}" is used with ${TEN} here and with ${THOUSAND} by another process`,
    ]);
    // With nobody listening, mismatches still count, and the warning is not repeated.
    for (const subscription of subscriptions) subscription.dispose();
    await fast.take();
    await slow.take();
    expect([fast.stats.mismatches, slow.stats.mismatches]).toEqual([4, 4]);
    expect([seen.fast.length, seen.slow.length]).toEqual([3, 3]);
    expect(warnings.filter((w) => w.code === 'CLIENTPOOL_CONFIG_MISMATCH')).toHaveLength(2);
    slow.close();
    fast.close();
  });

  it('the same settings on one key report nothing', async () => {
    const warnings = recordWarnings();
    const key = freshKey();
    const a = await bucket({ key, rate: 10 });
    const b = await bucket({ key, rate: 10, per: 1_000, burst: 10 });
    let events = 0;
    a.onMismatch(() => events++);
    b.onMismatch(() => events++);
    for (let i = 0; i < 3; i++) {
      await a.take();
      await b.take();
    }
    b.adjust(1);
    await until(() => b.stats.roundTrips === 4, 'the adjustment');
    await sleep(20);
    expect(events).toBe(0);
    expect([a.stats.mismatches, b.stats.mismatches]).toEqual([0, 0]);
    expect(warnings.filter((w) => w.code === 'CLIENTPOOL_CONFIG_MISMATCH')).toEqual([]);
    a.close();
    b.close();
  });

  it("reports a mismatch found by an adjustment too; under 'refuse' the adjustment leaves the other configuration's state alone", async () => {
    recordWarnings();
    const key = freshKey();
    const slow = await bucket({ key, rate: 10 });
    const refusing = await bucket({ key, rate: 1_000, onMismatch: 'refuse' });
    await slow.take();
    refusing.adjust(800);
    await until(() => refusing.stats.mismatches === 1, 'the adjustment to report');
    expect(refusing.mismatch).toMatchObject({ ours: THOUSAND, theirs: TEN });
    const [left, theirs] = String(await admin.call('GET', key)).split('|');
    expect(theirs).toBe(TEN);
    const [s0, m0] = (await admin.call('TIME')) as [string, string];
    // Only slow's one token (100 ms) moved the TAT.
    expect(Number(left) - (Number(s0) * 1e6 + Number(m0))).toBeLessThan(150_000);
    refusing.close();
    slow.close();
  });

  it('reports a mismatch found by an adjustment too, and the adjustment still stands under warn', async () => {
    recordWarnings();
    const key = freshKey();
    const slow = await bucket({ key, rate: 10 });
    const fast = await bucket({ key, rate: 1_000 });
    await slow.take();
    fast.adjust(800);
    await until(() => fast.stats.mismatches === 1, 'the adjustment to report');
    const [tatUs] = String(await admin.call('GET', key)).split('|');
    // Slow's one token (100 ms) and fast's 800 (1 ms each) both moved the TAT: ~900 ms ahead.
    const [seconds, micros] = (await admin.call('TIME')) as [string, string];
    expect(Number(tatUs) - (Number(seconds) * 1e6 + Number(micros))).toBeGreaterThan(500_000);
    slow.close();
    fast.close();
  });

  it("under 'refuse', a take that finds another configuration rejects with ConfigMismatchError, later ones at once, until the key is free of it", async () => {
    recordWarnings();
    const key = freshKey();
    const slow = await bucket({ key, rate: 10 });
    const fast = await bucket({ key, rate: 1_000, onMismatch: 'refuse', recheckInterval: 200 });
    // A whole burst: the key then lives ~1 s, past the checks below.
    await slow.take(10);
    const refusal = await fast.take().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(ConfigMismatchError);
    expect(refusal).toMatchObject({ code: 'ERR_CONFIG_MISMATCH', key, ours: THOUSAND, theirs: TEN });
    expect(fast.mismatch).toBe(refusal);
    // Refused although the answer was only "wait 1 ms" (the burst was taken): it is not waited out.
    expect(fast.stats).toMatchObject({ mismatches: 1, redisTokens: 0, reserve: 0 });
    // Refused at once: no round trip, and tryTake has nothing.
    const trips = fast.stats.roundTrips;
    await expect(fast.take()).rejects.toBe(refusal);
    expect(fast.tryTake()).toBe(false);
    expect(fast.stats.roundTrips).toBe(trips);
    // The other process goes on writing its settings: the checks keep finding them, the refusal holds.
    await slow.take();
    await until(() => fast.stats.mismatches >= 2, 'a check to find the other settings');
    expect(fast.mismatch).toMatchObject({ theirs: TEN });
    await expect(fast.take()).rejects.toBeInstanceOf(ConfigMismatchError);
    // Gone (as if the key had expired): the next check trusts the key again.
    await admin.call('DEL', key);
    await until(() => fast.mismatch === undefined, 'a check to trust the key again');
    await expect(fast.take()).resolves.toBeUndefined();
    slow.close();
    fast.close();
  });

  it("under 'refuse', a pool call rejects with the ConfigMismatchError itself, and the client is not called", async () => {
    recordWarnings();
    const key = freshKey();
    const slow = await bucket({ key, rate: 10 });
    const fast = await bucket({ key, rate: 1_000, onMismatch: 'refuse' });
    const pool = new ClientPool<string>({ limit: fast });
    pool.add('c');
    await slow.take();
    let calls = 0;
    const failure = await pool
      .run(() => {
        calls++;
        return Promise.resolve('ok');
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(ConfigMismatchError);
    expect(failure).toMatchObject({ ours: THOUSAND, theirs: TEN });
    expect(calls).toBe(0);
    // The refusing round trip took nothing: the key is left to the other configuration.
    expect(fast.stats).toMatchObject({ mismatches: 1, redisTokens: 0, expiredTokens: 0, reserve: 0 });
    expect(String(await admin.call('GET', key)).split('|')[1]).toBe(TEN);
    await pool.close();
    slow.close();
  });

  it('reads a key written by the old format (SET key "<number>") as a TAT, with no mismatch, and then stores its fingerprint', async () => {
    const warnings = recordWarnings();
    const key = freshKey();
    const b = await bucket({ key, rate: 10 });
    await admin.call('SET', key, '1');
    await b.take();
    expect(b.stats.mismatches).toBe(0);
    expect(String(await admin.call('GET', key))).toMatch(/^\d+\|burst=10;per=1000;rate=10$/);
    // A bare TAT 10 s ahead of the server's clock: an empty bucket for ~9 s (the state was read, not ignored).
    const [seconds, micros] = (await admin.call('TIME')) as [string, string];
    await admin.call('SET', key, String(Number(seconds) * 1e6 + Number(micros) + 10_000_000));
    const refusal = await b.take(1, { maxWait: 0 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(RateLimitedError);
    expect((refusal as RateLimitedError).retryAfterMs).toBeGreaterThan(5_000);
    expect(b.stats.mismatches).toBe(0);
    expect(warnings.filter((w) => w.code === 'CLIENTPOOL_CONFIG_MISMATCH')).toEqual([]);
    b.close();
  });

  it('a throwing onMismatch listener breaks nothing: calls pass, other listeners hear, the throw is a warning', async () => {
    const warnings = recordWarnings();
    const key = freshKey();
    const slow = await bucket({ key, rate: 10 });
    const fast = await bucket({ key, rate: 1_000 });
    fast.onMismatch(() => {
      throw new Error('listener boom');
    });
    const heard: string[] = [];
    fast.onMismatch((error) => heard.push(error.theirs));
    await slow.take();
    await expect(fast.take()).resolves.toBeUndefined();
    await expect(fast.take()).resolves.toBeUndefined();
    expect(heard).toEqual([TEN]);
    expect(fast.stats.mismatches).toBe(1);
    expect(warnings.filter((w) => w.code === 'CLIENTPOOL_LISTENER_ERROR').map((w) => w.text)).toEqual([expect.stringContaining('listener boom')]);
    slow.close();
    fast.close();
  });
});
