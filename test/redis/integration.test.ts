import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClientPool, RateLimitedError, TimeoutError } from '../../src/index.js';
import { RedisTokenBucket, type FallbackEvent, type RecoverEvent } from '../../src/redis/index.js';
import { describeWithRedis, useRedisServer } from './describe-with-redis.js';

// Real server, real time. Windows are short (about a second) and tolerances a few tokens: what is checked
// is the rate, which a broken bucket misses by far more.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let keys = 0;
const freshKey = (): string => `integration:${process.pid}:${++keys}`;

/** Every rejection no one handled while the suite runs (vitest would fail the run too; this names the test). */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));

/** Take tokens in a loop until `stop()`, recording when each was granted. */
function drive(bucket: RedisTokenBucket, loops = 2): { readonly grants: number[]; readonly rejected: number; stop(): Promise<void> } {
  const grants: number[] = [];
  let rejected = 0;
  let isRunning = true;
  const loop = async (): Promise<void> => {
    while (isRunning) {
      try {
        await bucket.take(1, { maxWait: 200 });
        if (isRunning) grants.push(performance.now());
      } catch (error) {
        if (!(error instanceof RateLimitedError)) throw error;
        rejected++;
      }
    }
  };
  const running = Promise.all(Array.from({ length: loops }, loop));
  return {
    grants,
    get rejected() {
      return rejected;
    },
    async stop() {
      isRunning = false;
      await running;
    },
  };
}

const within = (grants: readonly number[], from: number, to: number): number => grants.filter((t) => t >= from && t < to).length;

/** Resolve with the first event, or reject after `ms`. */
function next<E>(subscribe: (listener: (event: E) => void) => { dispose(): void }, ms: number): Promise<E> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`no event within ${ms} ms`));
    }, ms);
    const subscription = subscribe((event) => {
      clearTimeout(timer);
      subscription.dispose();
      resolve(event);
    });
  });
}

describeWithRedis('RedisTokenBucket on a real server', () => {
  const fixture = useRedisServer();

  it('lets burst + rate * t through in real time: 10 + 50 in one second', async () => {
    const redis = await fixture.connect();
    const bucket = new RedisTokenBucket({ redis, key: freshKey(), rate: 50, burst: 10 });
    const start = performance.now();
    const run = drive(bucket);
    await sleep(1_000);
    await run.stop();
    bucket.close();
    expect(Math.abs(within(run.grants, start, start + 1_000) - 60)).toBeLessThanOrEqual(2);
    expect(run.rejected).toBe(0);
  });

  it('two buckets on one key share the limit (two processes in one)', async () => {
    const key = freshKey();
    const buckets = [await fixture.connect(), await fixture.connect()].map((redis) => new RedisTokenBucket({ redis, key, rate: 50, burst: 10 }));
    const start = performance.now();
    const runs = buckets.map((b) => drive(b));
    await sleep(1_000);
    await Promise.all(runs.map((r) => r.stop()));
    for (const b of buckets) b.close();
    const passed = runs.reduce((sum, r) => sum + within(r.grants, start, start + 1_000), 0);
    expect(Math.abs(passed - 60)).toBeLessThanOrEqual(2);
    // Both got a fair part, not one starving the other.
    for (const r of runs) expect(r.grants.length).toBeGreaterThan(15);
  });

  it('leases cut round trips when the bucket has plenty', async () => {
    const redis = await fixture.connect();
    const bucket = new RedisTokenBucket({ redis, key: freshKey(), rate: 1e6, lease: 20 });
    const pool = new ClientPool<string>({ limit: bucket });
    pool.add('c');
    for (let i = 0; i < 1_000; i++) await pool.run((c) => c);
    await pool.close();
    expect(bucket.stats.roundTrips).toBeLessThanOrEqual(55);
    expect(bucket.stats.redisTokens).toBeGreaterThanOrEqual(1_000);
  });

  it('SIGKILL: calls keep flowing at the local share, fallback fires; after a restart on the same port the shared limit resumes', async () => {
    const server = fixture.server;
    const key = freshKey();
    // Two "processes" of a fleet sized for 4: each one's share while Redis is down is 100/4 = 25/s.
    const buckets = [await fixture.connect(), await fixture.connect()].map(
      (redis) => new RedisTokenBucket({ redis, key, rate: 100, burst: 10, processes: 4, timeout: 50, recheckInterval: 100 }),
    );
    const fallbacks: FallbackEvent[] = [];
    const recoveries: RecoverEvent[] = [];
    for (const b of buckets) {
      b.onFallback((e) => fallbacks.push(e));
      b.onRecover((e) => recoveries.push(e));
    }
    const t0 = performance.now();
    const runs = buckets.map((b) => drive(b));
    const total = (from: number, to: number): number => runs.reduce((sum, r) => sum + within(r.grants, from, to), 0);

    await sleep(1_000);
    const fellBack = Promise.all(buckets.map((b) => next(b.onFallback, 1_000)));
    await server.kill();
    const tKill = performance.now();
    await fellBack;
    const tFallback = performance.now();
    await sleep(1_000);
    const recovered = Promise.all(buckets.map((b) => next(b.onRecover, 3_000)));
    await server.restart();
    const tRestart = performance.now();
    await recovered;
    const tRecovered = performance.now();
    await sleep(1_000);
    await Promise.all(runs.map((r) => r.stop()));
    for (const b of buckets) b.close();

    // Redis up: shared, 10 + 100/s. (Lower bounds leave room for a loaded machine; upper bounds are the limit's.)
    expect(total(t0, t0 + 1_000)).toBeGreaterThanOrEqual(100);
    expect(total(t0, t0 + 1_000)).toBeLessThanOrEqual(112);
    // Redis down: noticed at once, and calls flow at 2 × 25/s plus the local bursts (2 × 2.5).
    expect(tFallback - tKill).toBeLessThan(200);
    const down = (tRestart - tFallback) / 1_000;
    expect(total(tFallback, tRestart)).toBeGreaterThanOrEqual(Math.floor(0.9 * 2 * 25 * down));
    expect(total(tKill, tRestart)).toBeLessThanOrEqual(Math.ceil(2 * (2.5 + 25 * ((tRestart - tKill) / 1_000))) + 2);
    expect(fallbacks.map((e) => e.key)).toEqual([key, key]);
    // Back: within a probe interval of the restart, shared again (the new server starts with a full bucket).
    expect(tRecovered - tRestart).toBeLessThan(500);
    expect(recoveries).toHaveLength(2);
    expect(total(tRecovered, tRecovered + 1_000)).toBeGreaterThanOrEqual(100);
    expect(total(tRecovered, tRecovered + 1_000)).toBeLessThanOrEqual(112);
    for (const b of buckets) expect(b.stats).toMatchObject({ mode: 'closed', fallbacks: 1 });
    // Across processes there is no queue: a waiter whose token is due retries and may lose the race to
    // another process, so on a loaded machine an odd one can run out of maxWait. Calls did not fail in bulk.
    expect(runs.reduce((sum, r) => sum + r.rejected, 0)).toBeLessThanOrEqual(3);
    expect(unhandled).toEqual([]);
  });

  it('a stalled event loop is not taken for a slow Redis: an answer that arrived during the stall wins over the timeout', async () => {
    const redis = await fixture.connect();
    const bucket = new RedisTokenBucket({ redis, key: freshKey(), rate: 1_000, timeout: 20 });
    await bucket.take(1); // loads the script
    const take = bucket.take(1);
    const until = performance.now() + 100;
    while (performance.now() < until); // a 100 ms stall (GC, CPU-bound work) while the answer comes in
    await take;
    expect(bucket.stats).toMatchObject({ mode: 'redis', fallbacks: 0, failures: 0, roundTrips: 2 });
    bucket.close();
  });

  it('a server that stops answering (CLIENT PAUSE): fallback within the timeout, no hang, back after the pause', async () => {
    const redis = await fixture.connect();
    const admin = await fixture.connect({});
    const bucket = new RedisTokenBucket({ redis, key: freshKey(), rate: 1_000, timeout: 50, recheckInterval: 100 });
    await bucket.take(1); // loads the script
    const fallback = next(bucket.onFallback, 1_000);
    await admin.call('CLIENT', 'PAUSE', '600', 'ALL');
    const start = performance.now();
    await bucket.take(1);
    const took = performance.now() - start;
    expect(took).toBeGreaterThanOrEqual(45);
    expect(took).toBeLessThan(150);
    expect((await fallback).cause).toBeInstanceOf(TimeoutError);
    // While paused, the local bucket serves at once.
    const quick = performance.now();
    await bucket.take(1);
    expect(performance.now() - quick).toBeLessThan(20);
    const back = await next(bucket.onRecover, 2_000);
    expect(back.downMs).toBeGreaterThanOrEqual(500);
    expect(bucket.state.mode).toBe('redis');
    bucket.close();
    expect(unhandled).toEqual([]);
  });

  it('a server that accepts but never answers, with ioredis defaults (offline queue on): every take still ends', async () => {
    const sockets: Socket[] = [];
    const blackHole = createServer((socket) => sockets.push(socket)).listen(0, '127.0.0.1');
    await once(blackHole, 'listening');
    const port = (blackHole.address() as { port: number }).port;
    const redis = new Redis(port, '127.0.0.1'); // ready check never completes; commands queue forever
    redis.on('error', () => {});
    const bucket = new RedisTokenBucket({ redis, key: freshKey(), rate: 100, timeout: 30 });
    const start = performance.now();
    await Promise.all([bucket.take(1), bucket.take(1), bucket.take(1)]);
    expect(performance.now() - start).toBeLessThan(100);
    expect(bucket.state.mode).toBe('fallback');
    bucket.close();
    redis.disconnect(); // rejects the queued commands: absorbed
    for (const socket of sockets) socket.destroy();
    blackHole.close();
    await sleep(20);
    expect(unhandled).toEqual([]);
  });
});
