import { Counter, Histogram, Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, ClientCallError, ClientPool, hasErrorCode, RateLimitedError, TimeoutError, type Call, type Outcome } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';
import { find, histogram, parseExposition, scrape, serveMetrics, value } from './exposition.js';

/** A fake upstream: answers after `latencyMs` of fake time, or fails while down. */
class Upstream {
  readonly name: string;
  latencyMs: number;
  isDown = false;
  constructor(name: string, latencyMs: number) {
    this.name = name;
    this.latencyMs = latencyMs;
  }
}

describe('prometheusMetrics over a real pool and a real /metrics endpoint', () => {
  let clock: ManualClock;
  let registry: Registry;
  let endpoint: Awaited<ReturnType<typeof serveMetrics>>;
  const a = new Upstream('a', 3);
  const b = new Upstream('b', 30);

  beforeEach(async () => {
    clock = new ManualClock();
    registry = new Registry();
    endpoint = await serveMetrics(registry);
    a.isDown = false;
    b.isDown = false;
  });
  afterEach(() => endpoint.close());

  /** One call that takes the client's latency on the fake clock, then fails if it is down. */
  const callWith = (pool: ClientPool<Upstream>, method: string): Promise<string> =>
    pool.run(
      (client) => {
        clock.advance(client.latencyMs);
        if (client.isDown) throw new Error(`${client.name} is down`);
        return client.name;
      },
      { method },
    );

  function newPool(options: { breaker?: false | { maxFailures: number; cooldown: number } } = {}): ClientPool<Upstream> {
    const pool = new ClientPool<Upstream>({ clock, breaker: options.breaker ?? false });
    pool.use(prometheusMetrics({ registry }));
    pool.add(a, { name: 'a' });
    pool.add(b, { name: 'b' });
    return pool;
  }

  it('counts calls and errors per client and method, and times them into buckets', async () => {
    const pool = newPool();
    b.isDown = true;
    let failed = 0;
    // One at a time, so that each call's duration on the fake clock is its own latency.
    for (const method of ['get', 'get', 'get', 'get', 'put', 'put']) await callWith(pool, method).catch(() => failed++);
    expect(failed).toBe(3);

    const s = await scrape(endpoint.url);
    expect(s.contentType).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
    expect(s.types.get('middleware_requests_total')).toBe('counter');
    expect(s.types.get('middleware_request_duration_seconds')).toBe('histogram');
    for (const [client, method, calls, errors] of [
      ['a', 'get', 2, 0],
      ['b', 'get', 2, 2],
      ['a', 'put', 1, 0],
      ['b', 'put', 1, 1],
    ] as const) {
      expect(value(s, 'middleware_requests_total', { client, method })).toBe(calls);
      expect(value(s, 'middleware_request_errors_total', { client, method })).toBe(errors);
      const duration = histogram(s, 'middleware_request_duration_seconds', { client, method });
      expect(duration.count).toBe(calls);
      expect(duration.buckets.get('+Inf')).toBe(calls);
      const seconds = (client === 'a' ? a : b).latencyMs / 1000;
      expect(duration.sum).toBe(calls === 2 ? seconds + seconds : seconds);
      // 3 ms lands in le=0.005, 30 ms in le=0.05; buckets are cumulative.
      expect(duration.buckets.get('0.005')).toBe(client === 'a' ? calls : 0);
      expect(duration.buckets.get('0.025')).toBe(client === 'a' ? calls : 0);
      expect(duration.buckets.get('0.05')).toBe(calls);
      const counts = [...duration.buckets.values()];
      expect(counts).toEqual([...counts].sort((x, y) => x - y));
    }
    expect(find(s, 'middleware_requests_total')).toHaveLength(4);
    await pool.close();
  });

  it('reports an opened circuit as circuit_state 2 and counts each transition', async () => {
    const pool = newPool({ breaker: { maxFailures: 2, cooldown: 1_000 } });
    b.isDown = true;
    for (let i = 0; i < 4; i++) await callWith(pool, 'get').catch(() => undefined);

    let s = await scrape(endpoint.url);
    expect(value(s, 'middleware_circuit_state', { client: 'b' })).toBe(2);
    expect(value(s, 'middleware_circuit_state', { client: 'a' })).toBe(0);
    expect(value(s, 'middleware_circuit_transitions_total', { client: 'b', from: 'closed', to: 'open' })).toBe(1);
    // a never opened: its only series is the opening from closed, at 0.
    expect(find(s, 'middleware_circuit_transitions_total', { client: 'a' }).map((sample) => [sample.labels['from'], sample.labels['to'], sample.value])).toEqual([['closed', 'open', 0]]);
    expect(find(s, 'middleware_circuit_transitions_total', { client: 'b' })).toHaveLength(1);
    // With b open every call goes to a; none is refused, so none is an error.
    for (let i = 0; i < 3; i++) await callWith(pool, 'get');
    s = await scrape(endpoint.url);
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'get' })).toBe(5);

    b.isDown = false;
    clock.advance(1_000);
    for (let i = 0; i < 2; i++) await callWith(pool, 'get');
    s = await scrape(endpoint.url);
    expect(value(s, 'middleware_circuit_state', { client: 'b' })).toBe(0);
    expect(value(s, 'middleware_circuit_transitions_total', { client: 'b', from: 'open', to: 'half-open' })).toBe(1);
    expect(value(s, 'middleware_circuit_transitions_total', { client: 'b', from: 'half-open', to: 'closed' })).toBe(1);
    await pool.close();
  });

  it('reads in-flight calls at scrape time and counts an attempt when it ends, not when it starts', async () => {
    const pool = newPool();
    const gates = [deferred(), deferred(), deferred()];
    const running = gates.map((gate) => pool.run(() => gate.promise, { method: 'slow' }));

    let s = await scrape(endpoint.url);
    const inFlight = value(s, 'middleware_in_flight', { client: 'a' });
    expect(inFlight + value(s, 'middleware_in_flight', { client: 'b' })).toBe(3);
    expect([1, 2]).toContain(inFlight);
    // Nothing has ended: no series yet, only the gauge.
    expect(find(s, 'middleware_requests_total')).toEqual([]);
    expect(find(s, 'middleware_request_duration_seconds_count')).toEqual([]);

    for (const gate of gates) gate.resolve();
    await Promise.all(running);
    s = await scrape(endpoint.url);
    expect(value(s, 'middleware_in_flight', { client: 'a' })).toBe(0);
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'slow' })).toBe(inFlight);
    expect(histogram(s, 'middleware_request_duration_seconds', { client: 'a', method: 'slow' }).count).toBe(inFlight);
    await pool.close();
  });

  it('records methods past maxMethods as "other"', async () => {
    const pool = new ClientPool<Upstream>({ clock });
    pool.use(prometheusMetrics({ registry, maxMethods: 2 }));
    pool.add(a, { name: 'a' });
    for (const method of ['m1', 'm2', 'm3', 'm1', 'm4', 'm3', 'other']) await callWith(pool, method);

    const s = await scrape(endpoint.url);
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'm1' })).toBe(2);
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'm2' })).toBe(1);
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'other' })).toBe(4);
    expect(find(s, 'middleware_requests_total').map((sample) => sample.labels['method'])).toEqual(['m1', 'm2', 'other']);
    expect(histogram(s, 'middleware_request_duration_seconds', { client: 'a', method: 'other' }).count).toBe(4);
    await pool.close();
  });

  it('counts a call the caller aborted as cancelled, not as an error, even if the function later succeeds', async () => {
    const pool = newPool();
    const gate = deferred();
    const controller = new AbortController();
    const aborted = pool.run(() => gate.promise.then(() => 'late'), { method: 'get', signal: controller.signal });
    controller.abort(new Error('user left'));
    await expect(aborted).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_ABORTED'));
    // The late success settles in microtasks, long before the scrape's network round trip ends.
    gate.resolve();

    const s = await scrape(endpoint.url);
    const total = (name: string): number => find(s, name, { method: 'get' }).reduce((sum, sample) => sum + sample.value, 0);
    expect([total('middleware_requests_total'), total('middleware_request_errors_total'), total('middleware_request_cancelled_total')]).toEqual([1, 0, 1]);
    await pool.close();
  });

  it('counts a timed-out call as an error, even if the function later succeeds', async () => {
    const pool = new ClientPool<Upstream>({ clock, breaker: false, timeout: 1 });
    pool.use(prometheusMetrics({ registry }));
    pool.add(a, { name: 'a' });
    const gate = deferred();
    // The pool's deadlines read performance.now(): fake it with the timers.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const timedOut = pool.run(() => gate.promise, { method: 'get' });
      vi.advanceTimersByTime(1);
      await expect(timedOut).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_TIMEOUT'));
    } finally {
      vi.useRealTimers();
    }
    gate.resolve();

    const s = await scrape(endpoint.url);
    expect(value(s, 'middleware_request_errors_total', { client: 'a', method: 'get' })).toBe(1);
    expect(value(s, 'middleware_request_cancelled_total', { client: 'a', method: 'get' })).toBe(0);
    await pool.close();
  });

  it('counts an attempt whose function never settles as an error once its timeout ends it', async () => {
    vi.useFakeTimers();
    try {
      // On the pool's default clock, performance.now(), which the fake timers move.
      const pool = new ClientPool<Upstream>({ breaker: false, timeout: 20 });
      pool.use(prometheusMetrics({ registry }));
      pool.add(a, { name: 'a' });
      const never = Array.from({ length: 5 }, () => pool.run(() => new Promise<never>(() => {}), { method: 'get' }));
      const settled = Promise.allSettled(never);
      await vi.advanceTimersByTimeAsync(20);
      const results = await settled;
      expect(results.map((r) => r.status === 'rejected' && hasErrorCode(r.reason, 'ERR_TIMEOUT'))).toEqual([true, true, true, true, true]);

      const s = parseExposition(await registry.metrics());
      const labels = { client: 'a', method: 'get' };
      expect(value(s, 'middleware_request_errors_total', labels)).toBe(5);
      expect(value(s, 'middleware_requests_total', labels)).toBe(5);
      expect(value(s, 'middleware_request_cancelled_total', labels)).toBe(0);
      // Each lasted its 20 ms timeout on the pool's clock, observed in seconds.
      const duration = histogram(s, 'middleware_request_duration_seconds', labels);
      expect([duration.count, duration.buckets.get('0.01'), duration.buckets.get('0.025')]).toEqual([5, 0, 5]);
      expect(duration.sum).toBeCloseTo(0.1, 10);
      await pool.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts an attempt refused by a middleware registered before it, and an error answer, as errors', async () => {
    const pool = new ClientPool<Upstream>({ clock, breaker: false, isFailure: (error) => !(error instanceof Error && error.message === 'not found') });
    // Outermost: its refusal never reaches an execute() of the metrics, yet the attempt held a client.
    pool.use({ name: 'quota', execute: (call, next) => (call.method === 'refused' ? Promise.reject(new RateLimitedError(1_000, 'quota')) : next(call)) });
    pool.use(prometheusMetrics({ registry }));
    pool.add(a, { name: 'a' });
    await expect(pool.run(() => 'ok', { method: 'refused' })).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_RATE_LIMITED'));
    await expect(pool.run(() => Promise.reject(new Error('not found')), { method: 'answered' })).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_CLIENT_CALL'));

    const s = await scrape(endpoint.url);
    for (const method of ['refused', 'answered']) {
      expect([value(s, 'middleware_requests_total', { client: 'a', method }), value(s, 'middleware_request_errors_total', { client: 'a', method })]).toEqual([1, 1]);
    }
    await pool.close();
  });

  it.each<[Outcome['kind'], Outcome, number, number]>([
    ['success', { kind: 'success' }, 0, 0],
    ['failure', { kind: 'failure', error: new TimeoutError(20, 'a') }, 1, 0],
    ['answered', { kind: 'answered', error: new ClientCallError(new Error('not found'), 'a', 'get') }, 1, 0],
    ['refused', { kind: 'refused', error: new RateLimitedError(5) }, 1, 0],
    ['cancelled', { kind: 'cancelled', error: new AbortedError('user left') }, 0, 1],
  ])('reads the verdict %s into requests, errors and cancelled, and its duration in seconds', async (_, outcome, errors, cancelled) => {
    const metrics = prometheusMetrics({ registry });
    // Only what the adapter reads of a call: which client, which method, which kind of attempt.
    const call = { clientName: 'a', method: 'get', kind: 'first' } as Call<unknown>;
    metrics.onOutcome(call, outcome, 250);
    const s = parseExposition(await registry.metrics());
    const labels = { client: 'a', method: 'get' };
    expect([
      value(s, 'middleware_requests_total', labels),
      value(s, 'middleware_request_errors_total', labels),
      value(s, 'middleware_request_cancelled_total', labels),
    ]).toEqual([1, errors, cancelled]);
    expect(histogram(s, 'middleware_request_duration_seconds', labels).sum).toBe(0.25);
    metrics.unregister();
  });

  it('counts each attempt of a retried call on its own client, and the retry', async () => {
    const pool = new ClientPool<Upstream>({ clock, breaker: false, retryBudget: false, retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    pool.use(prometheusMetrics({ registry }));
    pool.add(a, { name: 'a' });
    pool.add(b, { name: 'b' });
    const ran: string[] = [];
    const result = await pool.run((client, call) => {
      ran.push(client.name);
      return call.attempt === 1 ? Promise.reject(new Error('first attempt fails')) : client.name;
    }, { method: 'get' });
    expect(ran).toHaveLength(2);
    const [first, second] = ran as [string, string];
    expect(result).toBe(second);
    expect(second).not.toBe(first);

    const s = await scrape(endpoint.url);
    const of = (name: string, client: string): number => value(s, name, { client, method: 'get' });
    expect([first, second].map((client) => [of('middleware_requests_total', client), of('middleware_request_errors_total', client), of('middleware_retries_total', client)])).toEqual([
      [1, 1, 0],
      [1, 0, 1],
    ]);
    await pool.close();
  });

  it('counts a hedge as an extra attempt, and the attempt it outran as an error (a timeout)', async () => {
    const pool = new ClientPool<Upstream>({ clock, breaker: false, retryBudget: false, hedge: { delay: 0 } });
    pool.use(prometheusMetrics({ registry }));
    pool.add(a, { name: 'a' });
    pool.add(b, { name: 'b' });
    const slow = deferred<string>();
    const ran: string[] = [];
    const result = await pool.run((client, call) => {
      ran.push(client.name);
      return call.attempt === 1 ? slow.promise : `hedged on ${client.name}`;
    }, { method: 'get' });
    const [first, second] = ran as [string, string];
    expect(result).toBe(`hedged on ${second}`);
    slow.resolve('too late');

    const s = await scrape(endpoint.url);
    const of = (name: string, client: string): number => value(s, name, { client, method: 'get' });
    expect(of('middleware_request_cancelled_total', first)).toBe(0);
    expect(of('middleware_request_errors_total', first)).toBe(1);
    expect(of('middleware_hedges_total', second)).toBe(1);
    expect(of('middleware_retries_total', second)).toBe(0);
    expect(of('middleware_request_errors_total', second)).toBe(0);
    await pool.close();
  });

  it('counts calls refused by the rate limit, from the pool\'s events', async () => {
    const pool = new ClientPool<Upstream>({ clock, breaker: false, limit: { rate: 1, burst: 1 }, maxWait: 0 });
    pool.use(prometheusMetrics({ registry }));
    pool.add(a, { name: 'a' });
    await callWith(pool, 'get');
    await expect(callWith(pool, 'get')).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_RATE_LIMITED'));

    const s = await scrape(endpoint.url);
    expect(value(s, 'middleware_rate_limited_total', { scope: 'pool', client: '' })).toBe(1);
    // The refused call never reached a client.
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'get' })).toBe(1);
    await pool.close();
  });

  it('counts a synchronous throw of inner middleware as an error', async () => {
    const pool = newPool();
    pool.use(() => {
      throw new Error('inner middleware broke');
    });
    await expect(callWith(pool, 'get')).rejects.toThrow('inner middleware broke');

    const s = await scrape(endpoint.url);
    const [errors] = find(s, 'middleware_request_errors_total', { method: 'get' }).filter((sample) => sample.value > 0);
    expect(errors?.value).toBe(1);
    expect(histogram(s, 'middleware_request_duration_seconds', { client: errors!.labels['client']!, method: 'get' }).count).toBe(1);
    await pool.close();
  });

  it('writes exactly the text prom-client writes for the same data', async () => {
    const pool = newPool();
    b.isDown = true;
    const latencies = [3, 30, 700, 4, 12_000, 6, 0.25];
    const observed: { client: string; seconds: number; failed: boolean }[] = [];
    for (const latency of latencies) {
      const picked = await pool.run((client) => {
        const start = clock.now();
        clock.advance(latency);
        observed.push({ client: client.name, seconds: (clock.now() - start) / 1000, failed: client.isDown });
        return client.isDown ? Promise.reject(new Error('down')) : client.name;
      }, { method: 'get' }).catch(() => 'failed');
      expect(picked).toBeTypeOf('string');
    }

    // The same observations through prom-client's own metrics, with our HELP texts.
    const ours = await scrape(endpoint.url);
    const reference = new Registry();
    const labelNames = ['client', 'method'];
    const help = (name: string): string => ours.help.get(name)!;
    const requests = new Counter({ name: 'middleware_requests_total', help: help('middleware_requests_total'), labelNames, registers: [reference] });
    const duration = new Histogram({ name: 'middleware_request_duration_seconds', help: help('middleware_request_duration_seconds'), labelNames, registers: [reference] });
    const errors = new Counter({ name: 'middleware_request_errors_total', help: help('middleware_request_errors_total'), labelNames, registers: [reference] });
    for (const { client, seconds, failed } of observed) {
      requests.labels(client, 'get').inc();
      errors.labels(client, 'get').inc(failed ? 1 : 0);
      duration.labels(client, 'get').observe(seconds);
    }
    for (const name of ['middleware_requests_total', 'middleware_request_duration_seconds', 'middleware_request_errors_total']) {
      expect(await registry.getSingleMetricAsString(name)).toBe(await reference.getSingleMetricAsString(name));
    }
    expect(await registry.getSingleMetricAsString('middleware_request_duration_seconds')).toContain('_bucket{le="+Inf",client="a",method="get"}');
    await pool.close();
  });
});
