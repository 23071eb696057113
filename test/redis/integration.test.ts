import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClientPool, RateLimitedError, TimeoutError } from '../../src/index.js';
import { RedisTokenBucket } from '../../src/redis/index.js';
import { describeWithEachIoredis, useRedisServer } from './describe-with-redis.js';

// Real servers, real time, on a machine that may be busy. So no bound here depends on how fast this process
// runs: a limit is checked from above, over an interval measured around the run (a slow machine only
// widens it), and progress is waited for ("until each bucket got 3 tokens"), never timed. The exact
// arithmetic (burst + rate·t, to the token) is checked on fake time in script.test.ts and
// redis-token-bucket.test.ts. Each suite runs against ioredis 5 and 6.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let keys = 0;
const freshKey = (): string => `integration:${process.pid}:${++keys}`;
/** Longer than any wait these rates give, so that a busy machine cannot make a take give up. */
const MAX_WAIT = 60_000;
/**
 * A round-trip timeout for the suites about the shared limit: a busy machine can make a round trip take
 * far more than the default 50 ms, and the fallback it would cause is not what they test.
 */
const PATIENT = { maxWait: MAX_WAIT, timeout: 10_000 } as const;

/** Every rejection no one handled while the suite runs (vitest would fail the run too; this names the test). */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));

/** Take tokens in a loop until `stop()`. */
function drive(bucket: RedisTokenBucket, loops = 2): { readonly taken: () => number; readonly rejected: () => number; stop(): Promise<void> } {
  let taken = 0;
  let rejected = 0;
  let isRunning = true;
  const loop = async (): Promise<void> => {
    while (isRunning) {
      try {
        await bucket.take(1, { maxWait: MAX_WAIT });
        taken++;
      } catch (error) {
        if (!(error instanceof RateLimitedError)) throw error;
        rejected++;
      }
    }
  };
  const running = Promise.all(Array.from({ length: loops }, loop));
  return {
    taken: () => taken,
    rejected: () => rejected,
    async stop() {
      isRunning = false;
      await running;
    },
  };
}

/** Poll until `condition` holds; a broken bucket that never gets there fails on the test's timeout. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

/** The first event of `subscribe`. */
function next<E>(subscribe: (listener: (event: E) => void) => { dispose(): void }): Promise<E> {
  return new Promise((resolve) => {
    const subscription = subscribe((event) => {
      subscription.dispose();
      resolve(event);
    });
  });
}

const seconds = (from: number, to: number): number => (to - from) / 1_000;

describeWithEachIoredis('RedisTokenBucket on a real server', (ioredis) => {
  const fixture = useRedisServer(ioredis);

  it('never lets more than burst + rate·t through, t measured around the run; callers were made to wait', async () => {
    const redis = await fixture.connect();
    const bucket = new RedisTokenBucket({ redis, key: freshKey(), rate: 10, burst: 5, ...PATIENT });
    const start = performance.now();
    // One caller, so that a round trip takes at most one token.
    const run = drive(bucket, 1);
    await until(() => bucket.stats.redisTokens >= 15);
    await run.stop();
    const end = performance.now();
    const { redisTokens, roundTrips } = bucket.stats;
    bucket.close();
    expect(redisTokens).toBeLessThanOrEqual(5 + 10 * seconds(start, end));
    // The limit was reached: some round trip was told to wait (each other one took at least a token).
    expect(roundTrips).toBeGreaterThan(redisTokens);
    expect(run.taken()).toBe(redisTokens);
    expect(run.rejected()).toBe(0);
    expect(bucket.stats).toMatchObject({ fallbacks: 0, localTokens: 0 });
  });

  it('two buckets on one key share the limit (two processes in one): together they stay under burst + rate·t, and both are served', async () => {
    const key = freshKey();
    const buckets = [await fixture.connect(), await fixture.connect()].map((redis) => new RedisTokenBucket({ redis, key, rate: 10, burst: 5, ...PATIENT }));
    const start = performance.now();
    const runs = buckets.map((b) => drive(b, 1));
    await until(() => buckets.every((b) => b.stats.redisTokens >= 5));
    await Promise.all(runs.map((r) => r.stop()));
    const end = performance.now();
    const stats = buckets.map((b) => b.stats);
    for (const b of buckets) b.close();
    const together = stats.reduce((sum, s) => sum + s.redisTokens, 0);
    // Not shared, each would let burst + rate·t through on its own: twice this.
    expect(together).toBeLessThanOrEqual(5 + 10 * seconds(start, end));
    expect(stats.reduce((sum, s) => sum + s.roundTrips, 0)).toBeGreaterThan(together);
    expect(runs.map((r) => r.rejected())).toEqual([0, 0]);
    expect(stats.map((s) => [s.fallbacks, s.localTokens])).toEqual([[0, 0], [0, 0]]);
  });

  it('leases cut round trips when the bucket has plenty: 1 000 calls at lease 20 take about 50 round trips', async () => {
    const redis = await fixture.connect();
    // A lease that cannot expire during the test, so that the count does not depend on how fast calls come.
    const bucket = new RedisTokenBucket({ redis, key: freshKey(), rate: 1e6, lease: 20, leaseTtl: 60_000, ...PATIENT });
    const pool = new ClientPool<string>({ limit: bucket });
    pool.add('c');
    for (let i = 0; i < 1_000; i++) await pool.run((c) => c);
    await pool.close();
    expect(bucket.stats.roundTrips).toBeLessThanOrEqual(51);
    expect(bucket.stats.redisTokens).toBeGreaterThanOrEqual(1_000);
    expect(bucket.stats).toMatchObject({ fallbacks: 0, expiredTokens: 0 });
  });

  it('SIGKILL: calls keep flowing from the local share, fallback fires; after a restart on the same port the shared limit resumes', async () => {
    const server = fixture.server;
    const key = freshKey();
    // From before the buckets exist: no token can be granted before this reading.
    const t0 = performance.now();
    // Two "processes" of a fleet sized for 4: while Redis is down each one's share is 20/4 = 5/s, burst 5/4 -> 1.25.
    // A kill closes the connection, so the fallback does not wait for `timeout`: a long one keeps a busy
    // machine's slow round trips from counting as failures.
    const buckets = [await fixture.connect(), await fixture.connect()].map(
      (redis) => new RedisTokenBucket({ redis, key, rate: 20, burst: 5, processes: 4, timeout: 2_000, recheckInterval: 100, maxWait: MAX_WAIT }),
    );
    const runs = buckets.map((b) => drive(b));
    const redisTokens = (): number => buckets.reduce((sum, b) => sum + b.stats.redisTokens, 0);
    const localTokens = (): number => buckets.reduce((sum, b) => sum + b.stats.localTokens, 0);

    // Redis up: shared.
    await until(() => buckets.every((b) => b.stats.redisTokens >= 3));
    const fellBack = Promise.all(buckets.map((b) => next(b.onFallback)));
    const tKill = performance.now();
    await server.kill();
    const tKilled = performance.now();
    const fallbacks = await fellBack;
    const beforeKill = buckets.map((b) => b.stats.redisTokens);
    // Shared: unshared, the two would take twice this. One token of slack: the bucket refills on Redis's clock
    // (`TIME`, the wall clock), this bound reads the monotonic one, and a run once granted its 7th token
    // right at the edge of a 6.9989 bound (t0 was then read after the calls started).
    expect(redisTokens()).toBeLessThanOrEqual(1 + 5 + 20 * seconds(t0, tKilled));

    // Redis down: calls flow from each process's insurance bucket, and no faster than its share.
    await until(() => buckets.every((b) => b.stats.localTokens >= 3));
    expect(buckets.map((b) => b.stats.redisTokens)).toEqual(beforeKill);
    const recovered = Promise.all(buckets.map((b) => next(b.onRecover)));
    const tRestart = performance.now();
    await server.restart();
    const recoveries = await recovered;
    const local = localTokens();

    // Back: shared again, on the restarted (empty, so full) bucket.
    await until(() => buckets.every((b, i) => b.stats.redisTokens - beforeKill[i]! >= 3));
    await Promise.all(runs.map((r) => r.stop()));
    const tStopped = performance.now();
    const sinceRestart = redisTokens() - beforeKill.reduce((a, b) => a + b, 0);
    expect(sinceRestart).toBeLessThanOrEqual(5 + 20 * seconds(tRestart, tStopped));
    // Each process's own share from the kill on; a take handed to the insurance bucket before the recovery
    // may still be served from it after (one per caller at most).
    expect(localTokens()).toBeLessThanOrEqual(2 * (1.25 + 5 * seconds(tKill, tStopped)));
    expect(localTokens() - local).toBeLessThanOrEqual(4);

    expect(fallbacks.map((e) => e.key)).toEqual([key, key]);
    expect(recoveries.map((e) => e.key)).toEqual([key, key]);
    for (const b of buckets) expect(b.stats).toMatchObject({ mode: 'redis', fallbacks: 1 });
    for (const b of buckets) b.close();
    expect(runs.map((r) => r.rejected())).toEqual([0, 0]);
    expect(runs.reduce((sum, r) => sum + r.taken(), 0)).toBe(redisTokens() + localTokens());
    expect(unhandled).toEqual([]);
  });

  it('a stalled event loop is not taken for a slow Redis: an answer that arrived during the stall wins over the timeout', async () => {
    const redis = await fixture.connect();
    const bucket = new RedisTokenBucket({ redis, key: freshKey(), rate: 1_000, timeout: 20, maxWait: MAX_WAIT });
    await bucket.take(1); // loads the script
    const take = bucket.take(1); // its EVALSHA is on the wire now; the stall below may outlast any short maxWait
    const stalledAt = performance.now();
    // The stall: a synchronous PING from another process on another connection. Redis answers commands in
    // the order they arrive, so once the PING is answered our answer is in the socket buffer, whatever
    // the machine's load.
    const ping = spawnSync(process.execPath, ['-e', PING, String(fixture.server.port)], { encoding: 'utf8' });
    expect(ping.stdout).toBe('+PONG\r\n');
    while (performance.now() - stalledAt < 40); // and past the timeout, for sure
    await take;
    expect(bucket.stats).toMatchObject({ mode: 'redis', fallbacks: 0, failures: 0, roundTrips: 2 });
    bucket.close();
  });

  it('a server that stops answering (CLIENT PAUSE): fallback after the timeout, no hang, back after the pause', async () => {
    const redis = await fixture.connect();
    const admin = await fixture.connect({});
    const bucket = new RedisTokenBucket({ redis, key: freshKey(), rate: 1_000, timeout: 50, recheckInterval: 100 });
    await bucket.take(1); // loads the script
    const fallback = next(bucket.onFallback);
    await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
    const start = performance.now();
    await bucket.take(1);
    // Timers never fire early: the take waited for the whole timeout (a busy machine may make it longer).
    expect(performance.now() - start).toBeGreaterThanOrEqual(49);
    expect((await fallback).cause).toBeInstanceOf(TimeoutError);
    // While paused, the local bucket serves without a round trip.
    const { roundTrips, localTokens } = bucket.stats;
    await bucket.take(1);
    expect(bucket.stats).toMatchObject({ roundTrips, localTokens: localTokens + 1, mode: 'fallback' });
    const back = await next(bucket.onRecover);
    // Fallback came at least 50 ms into the pause, recovery after its end.
    expect(back.downMs).toBeGreaterThanOrEqual(900);
    expect(bucket.state.mode).toBe('redis');
    bucket.close();
    expect(unhandled).toEqual([]);
  });

  it('a server that accepts but never answers, with ioredis defaults (offline queue on): every take still ends, from the local bucket', async () => {
    const sockets: Socket[] = [];
    const blackHole = createServer((socket) => sockets.push(socket)).listen(0, '127.0.0.1');
    await once(blackHole, 'listening');
    const port = (blackHole.address() as { port: number }).port;
    const redis = ioredis.create(port, '127.0.0.1'); // ready check never completes; commands queue forever
    redis.on('error', () => {});
    const bucket = new RedisTokenBucket({ redis, key: freshKey(), rate: 100, timeout: 30 });
    await Promise.all([bucket.take(1), bucket.take(1), bucket.take(1)]);
    expect(bucket.stats).toMatchObject({ mode: 'fallback', localTokens: 3, redisTokens: 0 });
    bucket.close();
    redis.disconnect(); // rejects the queued commands: absorbed
    for (const socket of sockets) socket.destroy();
    blackHole.close();
    await sleep(20);
    expect(unhandled).toEqual([]);
  });
});

/** A raw PING to the port in argv, printing the reply: run in a child process with spawnSync. */
const PING = `
const socket = require('node:net').createConnection({ host: '127.0.0.1', port: Number(process.argv[1]) });
let reply = '';
socket.on('connect', () => socket.write('PING\\r\\n'));
socket.on('data', (chunk) => { reply += chunk; if (reply.endsWith('\\r\\n')) { process.stdout.write(reply); socket.destroy(); } });
`;

describeWithEachIoredis('RedisTokenBucket.adjust on a real server', (ioredis) => {
  const fixture = useRedisServer(ioredis);
  // One token per 10 s: no test here lasts long enough for the bucket to refill a token on its own, so
  // every token that passes was given back by an adjustment, and every refusal was caused by one.
  const SLOW = { rate: 1, per: 10_000, burst: 5, ...PATIENT } as const;

  /** Wait until the key's stored state is no longer `before` (an adjustment reached Redis). */
  async function changed(admin: { call(command: string, ...args: string[]): Promise<unknown> }, key: string, before: unknown): Promise<void> {
    while ((await admin.call('GET', key)) === before) await sleep(5);
  }

  it('two buckets on one key see the adjustments of each other: a refund by one lets the other through, a charge by one makes the other wait', async () => {
    const key = freshKey();
    const admin = await fixture.connect({});
    const [a, b] = [await fixture.connect(), await fixture.connect()].map((redis) => new RedisTokenBucket({ redis, key, ...SLOW }));
    await b!.take(5);
    await expect(b!.take(1, { maxWait: 0 })).rejects.toBeInstanceOf(RateLimitedError);
    let before = await admin.call('GET', key);
    a!.adjust(-3);
    await changed(admin, key, before);
    await b!.take(3, { maxWait: 0 });
    const empty = await b!.take(1, { maxWait: 0 }).catch((error: unknown) => error);
    expect(empty).toBeInstanceOf(RateLimitedError);
    // Empty: the next token is at most 10 s away. Charged 2 more by the other bucket: 30 s at least... less what has passed.
    before = await admin.call('GET', key);
    b!.adjust(2);
    await changed(admin, key, before);
    const owed = await a!.take(1, { maxWait: 0 }).catch((error: unknown) => error);
    expect(owed).toBeInstanceOf(RateLimitedError);
    expect((owed as RateLimitedError).retryAfterMs).toBeGreaterThan(10_000 + (empty as RateLimitedError).retryAfterMs);
    expect(a!.stats).toMatchObject({ refundedTokens: 3, adjustFailures: 0, fallbacks: 0 });
    expect(b!.stats).toMatchObject({ chargedTokens: 2, adjustFailures: 0, fallbacks: 0 });
    a!.close();
    b!.close();
  });

  it('through the pool: a call that declares 1 200 tokens and settles 950 gives 250 back to the fleet', async () => {
    const key = freshKey();
    const admin = await fixture.connect({});
    // 2 000 tokens a day: 43.2 s a token, so nothing refills during the test.
    const day = { rate: 2_000, per: 86_400_000, ...PATIENT } as const;
    const tokens = new RedisTokenBucket({ redis: await fixture.connect(), key, ...day });
    const other = new RedisTokenBucket({ redis: await fixture.connect(), key, ...day });
    const pool = new ClientPool<string>({ limit: { tokens } });
    pool.add('llm');
    await pool.run(
      (client, call) => {
        call.settle({ tokens: 950 });
        return client;
      },
      { cost: { tokens: 1_200 } },
    );
    // 1 200 taken: full again in 1 200 · 43.2 s; after the refund, in 950 · 43.2 s.
    while (Number(await admin.call('PTTL', key)) > 45_000_000) await sleep(5);
    await other.take(1_050, { maxWait: 0 });
    await expect(other.take(1, { maxWait: 0 })).rejects.toBeInstanceOf(RateLimitedError);
    expect(tokens.stats).toMatchObject({ redisTokens: 1_200, refundedTokens: 250, adjustFailures: 0 });
    await pool.close();
    other.close();
  });

  it('Redis down (SIGKILL): adjust goes to the insurance bucket, nothing throws, and it is not replayed to Redis after the restart', async () => {
    const key = freshKey();
    const admin = await fixture.connect({});
    const redis = await fixture.connect();
    const bucket = new RedisTokenBucket({ redis, key, ...SLOW, timeout: 2_000, recheckInterval: 50, insurance: { rate: 1, burst: 2 } });
    await bucket.take(1);
    const fellBack = next(bucket.onFallback);
    await fixture.server.kill();
    expect(() => bucket.adjust(1)).not.toThrow(); // its round trip fails: fallback, and the charge goes to the local bucket
    expect((await fellBack).key).toBe(key);
    expect(bucket.stats).toMatchObject({ mode: 'fallback', adjustFailures: 1, chargedTokens: 1 });
    // The insurance bucket (2 tokens, one per 10 s) was charged 1.
    expect([bucket.tryTake(), bucket.tryTake()]).toEqual([true, false]);
    bucket.adjust(-5); // in fallback: no round trip; never past the insurance burst
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
    const recovered = next(bucket.onRecover);
    await fixture.server.restart();
    await recovered;
    await sleep(20);
    // The restarted server is empty, and no adjustment made while it was down was replayed to it.
    expect(await admin.call('EXISTS', key)).toBe(0);
    expect(bucket.stats).toMatchObject({ mode: 'redis', adjustFailures: 1, refundedTokens: 5 });
    bucket.close();
    expect(unhandled).toEqual([]);
  });
});
