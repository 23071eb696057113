import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, ClientPoolError, hasErrorCode, type CallEnd } from '../../src/index.js';
import { ZERO_CODES } from '../../src/prometheus/call-outcomes.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';
import { find, histogram, parseExposition, value, type Sample, type Scrape } from './exposition.js';

/** A call of method `get` that ended with `error` (the adapter must label anything, even what the pool never sends). */
function endedWith(error: unknown): CallEnd<unknown> {
  return { method: 'get', options: undefined, error: error as ClientPoolError, durationMs: 1, source: 'upstream' };
}

interface Fake {
  readonly name: string;
}

const a: Fake = { name: 'a' };
const b: Fake = { name: 'b' };
const CALLS = 'middleware_calls_total';
const DURATION = 'middleware_call_duration_seconds';

/** The `calls_total` series that calls made: all but the pool's own error codes exported at 0 for every method. */
const callSeries = (s: Scrape): Sample[] => find(s, CALLS).filter((sample) => !(ZERO_CODES.includes(sample.labels['code']!) && sample.value === 0));

describe('call-level metrics: calls as their callers saw them', () => {
  let clock: ManualClock;
  let registry: Registry;

  beforeEach(() => {
    clock = new ManualClock();
    registry = new Registry();
  });

  /** The adapter and the pool on one fake clock, so that call and attempt durations are exact. */
  function poolWith(options: ConstructorParameters<typeof ClientPool<Fake>>[0] = {}, clients: readonly Fake[] = [a, b]): ClientPool<Fake> {
    const pool = new ClientPool<Fake>({ clock, breaker: false, ...options });
    pool.use(prometheusMetrics({ registry, clock }));
    for (const client of clients) pool.add(client, { name: client.name });
    return pool;
  }

  const scrapeNow = async (): Promise<Scrape> => parseExposition(await registry.metrics());
  const calls = (s: Scrape, method: string, code: string): number => value(s, CALLS, { method, code });

  it('counts a call that resolved as code OK and times it, in seconds on the pool clock', async () => {
    const pool = poolWith();
    await pool.run(() => clock.advance(30), { method: 'get' });
    await pool.run(() => clock.advance(3), { method: 'get' });

    const s = await scrapeNow();
    expect(s.types.get(CALLS)).toBe('counter');
    expect(s.types.get(DURATION)).toBe('histogram');
    expect(calls(s, 'get', 'OK')).toBe(2);
    const duration = histogram(s, DURATION, { method: 'get', code: 'OK' });
    expect(duration.count).toBe(2);
    expect(duration.sum).toBeCloseTo(0.033, 12);
    expect([duration.buckets.get('0.005'), duration.buckets.get('0.025'), duration.buckets.get('0.05'), duration.buckets.get('+Inf')]).toEqual([1, 1, 2, 2]);
    expect(callSeries(s)).toHaveLength(1);
    await pool.close();
  });

  it('labels a failed call with the code of the error its caller got (ERR_CLIENT_CALL), and keeps an OK series at 0', async () => {
    const pool = poolWith();
    await expect(pool.run(() => Promise.reject(new Error('boom')), { method: 'put' })).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_CLIENT_CALL'));
    const s = await scrapeNow();
    expect(calls(s, 'put', 'ERR_CLIENT_CALL')).toBe(1);
    expect(calls(s, 'put', 'OK')).toBe(0);
    await pool.close();
  });

  it('counts a call refused before any client: ERR_NO_CLIENTS', async () => {
    const pool = poolWith({}, []);
    await expect(pool.run(() => 'never', { method: 'get' })).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_NO_CLIENTS'));
    const s = await scrapeNow();
    expect(calls(s, 'get', 'ERR_NO_CLIENTS')).toBe(1);
    // No client ran anything: no attempt-level series.
    expect(find(s, 'middleware_requests_total')).toHaveLength(0);
    await pool.close();
  });

  it('counts a call refused because every circuit is open: ERR_ALL_CIRCUITS_OPEN', async () => {
    const pool = poolWith({ breaker: { maxFailures: 1, cooldown: 1_000 } }, [a]);
    await pool.run(() => Promise.reject(new Error('down')), { method: 'get' }).catch(() => undefined);
    await expect(pool.run(() => 'never', { method: 'get' })).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_ALL_CIRCUITS_OPEN'));
    const s = await scrapeNow();
    expect(calls(s, 'get', 'ERR_CLIENT_CALL')).toBe(1);
    expect(calls(s, 'get', 'ERR_ALL_CIRCUITS_OPEN')).toBe(1);
    expect(value(s, 'middleware_requests_total', { client: 'a', method: 'get' })).toBe(1);
    await pool.close();
  });

  it('counts a call refused a pool-wide rate-limit token: ERR_RATE_LIMITED', async () => {
    const pool = poolWith({ limit: { rate: 1, burst: 1 }, maxWait: 0 });
    await pool.run(() => 'first', { method: 'get' });
    await expect(pool.run(() => 'second', { method: 'get' })).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_RATE_LIMITED'));
    const s = await scrapeNow();
    expect([calls(s, 'get', 'OK'), calls(s, 'get', 'ERR_RATE_LIMITED')]).toEqual([1, 1]);
    await pool.close();
  });

  it('counts a call aborted before it started (ERR_ABORTED) and one run after close (ERR_POOL_CLOSED)', async () => {
    const pool = poolWith();
    await expect(pool.run(() => 'never', { method: 'get', signal: AbortSignal.abort('left') })).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_ABORTED'));
    await pool.close();
    await expect(pool.run(() => 'never', { method: 'get' })).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_POOL_CLOSED'));
    const s = await scrapeNow();
    expect([calls(s, 'get', 'ERR_ABORTED'), calls(s, 'get', 'ERR_POOL_CLOSED')]).toEqual([1, 1]);
  });

  it('counts a call failed by a later middleware\'s around hook as the code the caller got (ERR_CALLBACK)', async () => {
    const pool = poolWith();
    pool.use({ name: 'broken', around: () => { throw new Error('bug'); } });
    await expect(pool.run(() => 'never', { method: 'get' })).rejects.toSatisfy((e) => hasErrorCode(e, 'ERR_CALLBACK'));
    expect(calls(await scrapeNow(), 'get', 'ERR_CALLBACK')).toBe(1);
    await pool.close();
  });

  it('counts a call that timed out as ERR_TIMEOUT, lasting its timeout on the default clocks', async () => {
    vi.useFakeTimers();
    try {
      // Both on performance.now(), which the fake timers move.
      const pool = new ClientPool<Fake>({ breaker: false, timeout: 20 });
      pool.use(prometheusMetrics({ registry }));
      pool.add(a, { name: 'a' });
      const call = pool.run(() => new Promise<never>(() => {}), { method: 'get' });
      const settled = call.catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(20);
      expect(hasErrorCode(await settled, 'ERR_TIMEOUT')).toBe(true);
      const s = await scrapeNow();
      expect(calls(s, 'get', 'ERR_TIMEOUT')).toBe(1);
      expect(histogram(s, DURATION, { method: 'get', code: 'ERR_TIMEOUT' }).sum).toBeCloseTo(0.02, 9);
      await pool.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('labels a rejection without a clientpool code ERR_UNKNOWN, and caps distinct codes', async () => {
    const metrics = prometheusMetrics({ registry, clock });
    metrics.onCallEnd(endedWith(new Error('plain')));
    class CustomError extends ClientPoolError {
      readonly code: string;
      constructor(code: string) {
        super(code);
        this.code = code;
      }
    }
    // 64 codes are kept; the 65th and later are recorded as ERR_UNKNOWN, so data in a code cannot grow Prometheus.
    for (let i = 0; i < 70; i++) metrics.onCallEnd(endedWith(new CustomError(`ERR_CUSTOM_${i}`)));
    const s = await scrapeNow();
    expect(calls(s, 'get', 'ERR_CUSTOM_0')).toBe(1);
    expect(calls(s, 'get', 'ERR_CUSTOM_63')).toBe(1);
    expect(find(s, CALLS, { code: 'ERR_CUSTOM_64' })).toHaveLength(0);
    expect(calls(s, 'get', 'ERR_UNKNOWN')).toBe(1 + 6);
    metrics.unregister();
  });

  it.each([
    ['100 000 characters long', 'E'.repeat(100_000)],
    ['a URL', 'https://upstream.example/v1/slot?x=1'],
    ['65 characters long', `E${'R'.repeat(64)}`],
    ['empty', ''],
  ])('labels a code %s ERR_UNKNOWN: data in a code cannot lengthen /metrics', async (_what, code) => {
    const metrics = prometheusMetrics({ registry, clock });
    class CustomError extends ClientPoolError {
      readonly code: string;
      constructor(given: string) {
        super('custom');
        this.code = given;
      }
    }
    metrics.onCallEnd(endedWith(new CustomError(code)));
    metrics.onCallEnd(endedWith(new CustomError('ERR_UPSTREAM_429')));
    const s = await scrapeNow();
    expect(calls(s, 'get', 'ERR_UNKNOWN')).toBe(1);
    expect(calls(s, 'get', 'ERR_UPSTREAM_429')).toBe(1);
    expect(Math.max(...(await registry.metrics()).split('\n').map((line) => line.length))).toBeLessThan(300);
    metrics.unregister();
  });

  it('counts a retried call once, for the whole of its attempts and backoffs, while each attempt counts on its own', async () => {
    const pool = poolWith({ retryBudget: false, retry: { attempts: 3, backoff: { initial: 0, max: 0 } } });
    const result = await pool.run((client, call) => {
      clock.advance(10);
      if (call.attempt < 3) throw new Error(`attempt ${call.attempt} fails`);
      return client.name;
    }, { method: 'get' });
    expect(['a', 'b']).toContain(result);

    const s = await scrapeNow();
    expect(calls(s, 'get', 'OK')).toBe(1);
    expect(callSeries(s)).toHaveLength(1);
    // Three attempts of 10 ms each: one call of 30 ms.
    expect(histogram(s, DURATION, { method: 'get', code: 'OK' }).sum).toBeCloseTo(0.03, 12);
    const attempts = find(s, 'middleware_requests_total', { method: 'get' }).reduce((sum, sample) => sum + sample.value, 0);
    expect(attempts).toBe(3);
    await pool.close();
  });

  it('counts a hedged call once', async () => {
    const pool = poolWith({ retryBudget: false, hedge: { delay: 0 } });
    const slow = deferred<string>();
    const result = await pool.run((client, call) => (call.attempt === 1 ? slow.promise : `hedged on ${client.name}`), { method: 'get' });
    expect(result).toMatch(/^hedged on /);
    slow.resolve('too late');

    const s = await scrapeNow();
    expect(calls(s, 'get', 'OK')).toBe(1);
    expect(callSeries(s)).toHaveLength(1);
    expect(find(s, 'middleware_hedges_total').reduce((sum, sample) => sum + sample.value, 0)).toBe(1);
    await pool.close();
  });

  it('does not count a call still running; counts it once it settles', async () => {
    const pool = poolWith();
    const gate = deferred<string>();
    const running = pool.run(() => gate.promise, { method: 'slow' });
    // A method's series are made when its first call settles: none while that call runs.
    expect(callSeries(await scrapeNow())).toEqual([]);
    gate.resolve('done');
    await running;
    expect(calls(await scrapeNow(), 'slow', 'OK')).toBe(1);
    await pool.close();
  });

  it('counts each pool\'s calls once when one adapter serves two pools, a call of one pool made inside the other\'s included', async () => {
    const metrics = prometheusMetrics({ registry, clock });
    const outer = new ClientPool<Fake>({ clock, breaker: false }).use(metrics);
    const inner = new ClientPool<Fake>({ clock, breaker: false }).use(metrics);
    outer.add(a, { name: 'a' });
    inner.add(b, { name: 'b' });
    for (let i = 0; i < 3; i++) await outer.run(() => 'x', { method: 'outer' });
    await inner.run(() => 'y', { method: 'inner' });
    // A call of the outer pool that makes a call of the inner one: two pool.run(), each counted once.
    await outer.run(() => inner.run(() => 'z', { method: 'inner' }), { method: 'outer' });

    const s = await scrapeNow();
    expect([calls(s, 'outer', 'OK'), calls(s, 'inner', 'OK')]).toEqual([4, 2]);
    await Promise.all([outer.close(), inner.close()]);
  });

  it('cannot be registered twice on one pool (it would count every call and attempt twice)', async () => {
    const metrics = prometheusMetrics({ registry, clock });
    const pool = new ClientPool<Fake>({ clock, breaker: false }).use(metrics);
    expect(() => pool.use(metrics)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'middleware' }));
    pool.add(a, { name: 'a' });
    await pool.run(() => clock.advance(5), { method: 'get' });
    const s = await scrapeNow();
    expect(calls(s, 'get', 'OK')).toBe(1);
    await pool.close();
  });

  it('keeps two adapters\' calls apart on a shared registry by their constant labels', async () => {
    const rpc = new ClientPool<Fake>({ clock, breaker: false }).use(prometheusMetrics({ registry, clock, labels: { pool: 'rpc' } }));
    const indexer = new ClientPool<Fake>({ clock, breaker: false }).use(prometheusMetrics({ registry, clock, labels: { pool: 'indexer' } }));
    rpc.add(a, { name: 'a' });
    await rpc.run(() => 'x', { method: 'get' });
    await indexer.run(() => 'x', { method: 'get' }).catch(() => undefined);
    const s = await scrapeNow();
    expect(value(s, CALLS, { method: 'get', code: 'OK', pool: 'rpc' })).toBe(1);
    expect(value(s, CALLS, { method: 'get', code: 'ERR_NO_CLIENTS', pool: 'indexer' })).toBe(1);
    expect(value(s, CALLS, { method: 'get', code: 'OK', pool: 'indexer' })).toBe(0);
    await Promise.all([rpc.close(), indexer.close()]);
  });

  it('records methods past maxMethods as other, sharing the attempt metrics\' cap', async () => {
    const pool = new ClientPool<Fake>({ clock, breaker: false });
    pool.use(prometheusMetrics({ registry, clock, maxMethods: 1 }));
    pool.add(a, { name: 'a' });
    for (const method of ['get', 'put', 'del', 'get']) await pool.run(() => 'x', { method });
    const s = await scrapeNow();
    expect([calls(s, 'get', 'OK'), calls(s, 'other', 'OK')]).toEqual([2, 2]);
    expect(callSeries(s)).toHaveLength(2);
    await pool.close();
  });

  it('records every method as other with maxMethods 0, keeping one entry however many methods come', async () => {
    const pool = new ClientPool<Fake>({ clock, breaker: false });
    pool.use(prometheusMetrics({ registry, clock, maxMethods: 0 }));
    pool.add(a, { name: 'a' });
    for (let i = 0; i < 50; i++) await pool.run(() => 'x', { method: `m${i}` });
    const s = await scrapeNow();
    expect(callSeries(s).map((sample) => [sample.labels['method'], sample.labels['code'], sample.value])).toEqual([['other', 'OK', 50]]);
    await pool.close();
  });

  it('labels methods and clients named after Object.prototype members as themselves', async () => {
    const pool = poolWith({}, [{ name: '__proto__' }]);
    const names = ['__proto__', 'constructor', 'hasOwnProperty'];
    for (const method of names) await pool.run(() => 'x', { method });
    const s = await scrapeNow();
    expect(names.map((method) => [calls(s, method, 'OK'), value(s, 'middleware_requests_total', { client: '__proto__', method })])).toEqual(names.map(() => [1, 1]));
    await pool.close();
  });

  it('counts a call rejected with a Proxy whose every trap throws once, under the code its caller got', async () => {
    const hostile = new Proxy({}, {
      get: () => { throw new Error('get'); },
      getPrototypeOf: () => { throw new Error('proto'); },
      has: () => { throw new Error('has'); },
    });
    const pool = poolWith();
    pool.use({ name: 'fail', around: () => Promise.reject(hostile) });
    const seen = await pool.run(() => 'x', { method: 'get' }).then(() => undefined, (error: unknown) => error);
    const s = await scrapeNow();
    // The pool turns a rejection that is no clientpool error into a CallbackError: that is what the caller saw.
    expect(hasErrorCode(seen, 'ERR_CALLBACK')).toBe(true);
    expect(callSeries(s).filter((sample) => sample.labels['method'] === 'get').map((sample) => [sample.labels['code'], sample.value])).toEqual([['OK', 0], ['ERR_CALLBACK', 1]]);
    await pool.close();
  });

  it('uses the buckets option for call durations and adds the constant labels after method and code', async () => {
    const pool = new ClientPool<Fake>({ clock, breaker: false });
    pool.use(prometheusMetrics({ registry, clock, buckets: [0.1, 1], labels: { pool: 'rpc' } }));
    pool.add(a, { name: 'a' });
    await pool.run(() => clock.advance(500), { method: 'get' });
    const text = await registry.metrics();
    expect(text).toContain('middleware_calls_total{method="get",code="OK",pool="rpc"} 1');
    const duration = histogram(parseExposition(text), DURATION, { method: 'get', code: 'OK', pool: 'rpc' });
    expect(duration.buckets).toEqual(new Map([['0.1', 0], ['1', 1], ['+Inf', 1]]));
    await pool.close();
  });

  it('zeroes call counts on registry.resetMetrics()', async () => {
    const pool = poolWith();
    await pool.run(() => 'x', { method: 'get' });
    registry.resetMetrics();
    const s = await scrapeNow();
    expect(calls(s, 'get', 'OK')).toBe(0);
    expect(histogram(s, DURATION, { method: 'get', code: 'OK' }).sum).toBe(0);
    await pool.close();
  });

  it('survives a clock that throws (read for removed-client retention): calls and scrapes go on, the failure warned of once', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const pool = new ClientPool<Fake>({ clock, breaker: false });
      pool.use(prometheusMetrics({ registry, clock: { now: () => { throw new Error('clock broke'); } } }));
      pool.add(a, { name: 'a' });
      await expect(pool.run(() => 'x', { method: 'get' })).resolves.toBe('x');
      await pool.run(() => 'y', { method: 'get' });
      expect(calls(await scrapeNow(), 'get', 'OK')).toBe(2);
      expect(calls(await scrapeNow(), 'get', 'OK')).toBe(2);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => /clock broke/.test(w.message))).toHaveLength(1);
      await pool.close();
    } finally {
      process.off('warning', onWarning);
    }
  });
});

afterEach(() => {
  vi.useRealTimers();
});
