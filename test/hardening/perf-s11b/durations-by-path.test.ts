import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type Balancer, type PoolMember } from '../../../src/index.js';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { METRIC_ATTEMPT_DURATION, METRIC_CALL_DURATION, otelMetrics } from '../../../src/otel/index.js';
import { prometheusMetrics } from '../../../src/prometheus/index.js';
import { durations } from '../../helpers/durations.js';
import { deferred, ManualClock } from '../../helpers/manual-clock.js';
import { collect, points, testMeterProvider } from '../../otel/metric-reader.js';
import { histogram, parseExposition } from '../../prometheus/exposition.js';

type Client = { name: string };

vi.setConfig({ testTimeout: 5_000 });

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('attempt durations against call durations, path by path', () => {
  it('Prometheus request_duration_seconds leaves out the time a slow balancer took to pick', async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const slow: Balancer<Client> = {
      pick(ready: readonly PoolMember<Client>[]): PoolMember<Client> {
        clock.advance(2_000);
        return ready[0]!;
      },
    };
    const pool = new ClientPool<Client>({ clock, strategy: slow, breaker: false });
    pool.use(prometheusMetrics({ registry, clock }));
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.advance(1_000);
      return 'x';
    }, { method: 'get' });
    const s = parseExposition(await registry.metrics());
    const call = histogram(s, 'middleware_call_duration_seconds', { method: 'get', code: 'OK' });
    const attempt = histogram(s, 'middleware_request_duration_seconds', { client: 'a', method: 'get' });
    expect(call.sum).toBe(3);
    // The client held the call for 1 s; the other 2 s went on the pick.
    expect(attempt.sum).toBe(1);
    await pool.close();
  });

  it('a coalesced call: the leader attempt lasts as long as its function, every call as long as it waited', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    const gate = deferred<string>();
    const one = pool.run(() => gate.promise, { coalesce: 'k' });
    clock.advance(5);
    const two = pool.run(() => Promise.resolve('never'), { coalesce: 'k' });
    clock.advance(10);
    gate.resolve('v');
    await expect(one).resolves.toBe('v');
    await expect(two).resolves.toBe('v');
    expect(heard.attempts).toEqual([15]);
    expect([...heard.calls].sort((x, y) => x - y)).toEqual([10, 15]);
    await pool.close();
  });

  it('a cache hit has a call duration of its own and no timed attempt', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.advance(8);
      return Promise.resolve('v');
    }, { coalesce: 'k', cache: { ttl: 60_000 } });
    clock.advance(1);
    await pool.run(() => Promise.resolve('other'), { coalesce: 'k', cache: { ttl: 60_000 } });
    expect(heard.attempts).toEqual([8]);
    expect(heard.calls).toEqual([8, 0]);
    await pool.close();
  });

  it('quorum attempts are timed from their own start; none is negative or NaN', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b' });
    await pool.quorum((client) => {
      clock.advance(client.name === 'a' ? 3 : 4);
      return Promise.resolve('v');
    }, { of: 2, agree: 2 });
    expect(heard.attempts).toHaveLength(2);
    for (const ms of heard.attempts) {
      expect(Number.isFinite(ms)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(7);
    }
    await pool.close();
  });

  it('a client-side limit: an attempt that waited for its client token leaves the wait out', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, maxWait: 60_000, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a', limit: { rate: 100, burst: 1 } });
    await pool.run(() => Promise.resolve('spend'));
    const second = pool.run(() => {
      clock.advance(2);
      return Promise.resolve('v');
    });
    for (let i = 0; i < 300 && heard.calls.length < 2; i++) {
      clock.advance(10);
      await tick();
    }
    await expect(second).resolves.toBe('v');
    expect(heard.attempts[1]).toBe(2);
    expect(heard.calls[1]!).toBeGreaterThan(2);
    await pool.close();
  });

  it('a minHeight wait is left out of the attempt, kept in the call', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, maxWait: 60_000, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run((_client, call) => {
      call.reportHeight(10);
      return Promise.resolve('seed');
    });
    const waiting = pool.run(() => {
      clock.advance(3);
      return Promise.resolve('v');
    }, { minHeight: 20 });
    await tick();
    clock.advance(25);
    await pool.run((_client, call) => {
      call.reportHeight(30);
      return Promise.resolve('bump');
    });
    await expect(waiting).resolves.toBe('v');
    // seed 0, bump 0, the waiting call: 3 on its client after 25 waiting.
    expect([...heard.attempts].sort((x, y) => x - y)).toEqual([0, 0, 3]);
    expect(heard.calls).toContain(28);
    await pool.close();
  });

  it('destroy() ends a first attempt timed from its call start with a finite duration', async () => {
    const clock = new ManualClock();
    const heard = durations<Client>();
    const pool = new ClientPool<Client>({ clock, middleware: [heard] });
    pool.add({ name: 'a' }, { name: 'a' });
    // A timeout makes the attempt raced, so destroy() ends it (a plain one ignoring its signal would hang).
    const hanging = pool.run(() => new Promise<string>(() => undefined), { timeout: 60_000 });
    clock.advance(12);
    const outcome = hanging.then(
      () => 'resolved',
      () => 'rejected',
    );
    await pool.destroy(new Error('gone'));
    await expect(outcome).resolves.toBe('rejected');
    for (const ms of [...heard.attempts, ...heard.calls]) {
      expect(Number.isFinite(ms)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(0);
    }
    expect(heard.calls).toEqual([12]);
  });
});

describe('OpenTelemetry attempt durations under a slow pick', () => {
  it('clientpool.attempt.duration leaves out the time a slow balancer took to pick', async () => {
    const clock = new ManualClock();
    const { provider, reader } = testMeterProvider();
    const slow: Balancer<Client> = {
      pick(ready: readonly PoolMember<Client>[]): PoolMember<Client> {
        clock.advance(2_000);
        return ready[0]!;
      },
    };
    const pool = new ClientPool<Client>({ clock, strategy: slow, breaker: false }).use(otelMetrics({ meterProvider: provider }));
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => {
      clock.advance(1_000);
      return 'x';
    }, { method: 'get' });
    const collected = await collect(reader);
    const sumOf = (name: string): number => points(collected, name).reduce((total, point) => total + (point.value as Histogram).sum!, 0);
    expect(sumOf(METRIC_CALL_DURATION)).toBe(3);
    // The client held the call for 1 s; the other 2 s went on the pick.
    expect(sumOf(METRIC_ATTEMPT_DURATION)).toBe(1);
    await pool.close();
  });
});
