import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, rateLimit, RateLimitedError, TokenBucket, type RateLimitEvent } from '../../src/index.js';

interface Fake {
  readonly id: string;
}
const clock = { now: () => Date.now() };

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('per-client limits', () => {
  it('routes around a client whose bucket is empty while another has tokens', async () => {
    const pool = new ClientPool<Fake>({ clock });
    pool.add({ id: 'small' }, { name: 'small', limit: { rate: 1, burst: 2 } });
    pool.add({ id: 'large' }, { name: 'large', limit: { rate: 1, burst: 10 } });
    const served: string[] = [];
    for (let i = 0; i < 12; i++) served.push(await pool.run((client) => client.id));
    expect(served.filter((s) => s === 'small')).toHaveLength(2);
    expect(served.filter((s) => s === 'large')).toHaveLength(10);
    expect(pool.members().map((m) => Math.floor(m.tokens ?? -1))).toEqual([0, 0]);
  });

  it('callers wait only when every client is exhausted, FIFO, then proceed on the first client back', async () => {
    const pool = new ClientPool<Fake>({ clock, maxWait: 5_000 });
    pool.add({ id: 'a' }, { name: 'a', limit: { rate: 2, burst: 1 } }); // a token every 500 ms
    pool.add({ id: 'b' }, { name: 'b', limit: { rate: 1, burst: 1 } }); // every 1000 ms
    await pool.run(() => 0);
    await pool.run(() => 0);
    const events: RateLimitEvent[] = [];
    pool.onRateLimit((event) => events.push(event));
    const order: string[] = [];
    const waiting = [1, 2, 3].map((i) => pool.run((client) => order.push(`${i}:${client.id}@${Date.now()}`), { method: 'm' }));
    await vi.advanceTimersByTimeAsync(499);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(501);
    await Promise.all(waiting);
    expect(order).toEqual(['1:a@500', '2:a@1000', '3:b@1000']);
    expect(events.map((e) => `${e.scope}:${e.client}:${e.waitedMs}:${e.rejected}`)).toEqual(['client:a:500:false', 'client:a:1000:false', 'client:b:1000:false']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails with RateLimitedError at once when no client is back within maxWait', async () => {
    const pool = new ClientPool<Fake>({ clock, maxWait: 100 });
    pool.add({ id: 'a' }, { limit: { rate: 1, burst: 1 } });
    await pool.run(() => 0);
    const error = await pool.run(() => 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(1_000);
    const allowed = pool.run(() => 'waited', { maxWait: 2_000 });
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(allowed).resolves.toBe('waited');
  });

  it('a waiting call can be aborted and does not hold up the next', async () => {
    const pool = new ClientPool<Fake>({ clock });
    pool.add({ id: 'a' }, { limit: { rate: 1, burst: 1 } });
    await pool.run(() => 0);
    const controller = new AbortController();
    const first = pool.run(() => 'first', { signal: controller.signal }).catch((e: unknown) => (e as Error).name);
    const second = pool.run(() => 'second');
    controller.abort();
    await expect(first).resolves.toBe('AbortedError');
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(second).resolves.toBe('second');
  });

  it('pauseClient drains the client and keeps it out for the pause (a 429 with Retry-After)', async () => {
    const pool = new ClientPool<Fake>({ clock });
    pool.add({ id: 'a' }, { name: 'a', limit: { rate: 100, burst: 100 } });
    pool.add({ id: 'b' }, { name: 'b' });
    await pool.run((client, call) => {
      if (client.id === 'a') call.pauseClient(2_000);
    });
    const served = new Set<string>();
    for (let i = 0; i < 10; i++) served.add(await pool.run((client) => client.id));
    expect([...served]).toEqual(['b']);
    await vi.advanceTimersByTimeAsync(2_010);
    for (let i = 0; i < 4; i++) served.add(await pool.run((client) => client.id));
    expect([...served].sort()).toEqual(['a', 'b']);
  });

  it('pauseClient works for a client without a bucket', async () => {
    const pool = new ClientPool<Fake>({ clock });
    pool.add({ id: 'a' }, { name: 'a' });
    await pool.run((_client, call) => call.pauseClient(300));
    const waited = pool.run((client) => `${client.id}@${Date.now()}`);
    await vi.advanceTimersByTimeAsync(300);
    await expect(waited).resolves.toBe('a@300');
  });

  it('a shared TokenBucket instance can be given as a client limit', async () => {
    const bucket = new TokenBucket({ rate: 1, burst: 3, clock });
    const pool = new ClientPool<Fake>({ clock, maxWait: 0 });
    pool.add({ id: 'a' }, { limit: bucket });
    for (let i = 0; i < 3; i++) await pool.run(() => 0);
    await expect(pool.run(() => 0)).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('close() rejects waiting calls and leaves no timer', async () => {
    const pool = new ClientPool<Fake>({ clock });
    pool.add({ id: 'a' }, { limit: { rate: 1, burst: 1 } });
    await pool.run(() => 0);
    const waiting = pool.run(() => 0).catch((e: unknown) => (e as Error).name);
    await pool.close();
    await expect(waiting).resolves.toBe('PoolClosedError');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('pool-wide limit', () => {
  it('takes a token before choosing a client, waits FIFO, reports waits and refusals', async () => {
    const pool = new ClientPool<Fake>({ clock, limit: { rate: 10, burst: 2 }, maxWait: 150 });
    pool.add({ id: 'a' });
    const events: RateLimitEvent[] = [];
    pool.onRateLimit((event) => events.push(event));
    await pool.run(() => 0);
    await pool.run(() => 0);
    const third = pool.run(() => Date.now());
    const fourth = pool.run(() => Date.now()).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    await expect(third).resolves.toBe(100);
    // The fourth needs 200 ms > maxWait 150: refused at once.
    expect(await fourth).toBeInstanceOf(RateLimitedError);
    expect(events.map((e) => `${e.scope}:${e.rejected}`).sort()).toEqual(['pool:false', 'pool:true']);
    expect(pool.members()[0]!.failures).toBe(0);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('exactness through the pool: 20 + 100 calls in 10 s at rate 10 burst 20', async () => {
    const pool = new ClientPool<Fake>({ clock, limit: { rate: 10, burst: 20 }, maxWait: 0 });
    pool.add({ id: 'a' });
    let passed = 0;
    for (let t = 0; t <= 10_000; t += 10) {
      vi.setSystemTime(t);
      for (let k = 0; k < 5; k++) if (await pool.run(() => true).catch(() => false)) passed++;
    }
    expect(passed).toBe(120);
  });
});

describe('rateLimit middleware (the original form)', () => {
  it('limits calls, honours maxWait, and closes with the pool', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' });
    pool.use(rateLimit({ rate: 10, burst: 1, maxWait: 50, clock }));
    await pool.run(() => 0);
    const error = await pool.run(() => 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    // A limit refusal says nothing about the client's health.
    expect(pool.members()[0]).toMatchObject({ state: { kind: 'closed' } });
    await vi.advanceTimersByTimeAsync(100);
    await expect(pool.run(() => 'ok')).resolves.toBe('ok');
    await pool.close();
  });
});

describe('a shared (asynchronous) per-client limit', () => {
  it('is waited on after the client is chosen; a refusal gives the client back untouched', async () => {
    const taken: string[] = [];
    let refuse = false;
    const shared = {
      take: async (n: number): Promise<void> => {
        await Promise.resolve();
        if (refuse) throw new RateLimitedError(500, 'redis');
        taken.push(`take ${n}`);
      },
    };
    const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1 } });
    pool.add({ id: 'a' }, { name: 'a', limit: shared });
    await expect(pool.run((client) => client.id)).resolves.toBe('a');
    expect(taken).toEqual(['take 1']);
    refuse = true;
    const events: RateLimitEvent[] = [];
    pool.onRateLimit((event) => events.push(event));
    await expect(pool.run((client) => client.id)).rejects.toBeInstanceOf(RateLimitedError);
    expect(pool.members()[0]).toMatchObject({ state: { kind: 'closed' }, inFlight: 0, failures: 0, cancelled: 0, refused: 1 });
    expect(events.map((e) => `${e.scope}:${e.client}:${e.rejected}`)).toEqual(['client:a:true']);
  });
});
