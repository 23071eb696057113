import { createNoopMeter, metrics } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, ClientPoolError, hasErrorCode, type Middleware } from '../../src/index.js';
import {
  ATTR_ATTEMPT_KIND,
  ATTR_CIRCUIT_FROM,
  ATTR_CIRCUIT_TO,
  ATTR_CLIENT,
  ATTR_ERROR_TYPE,
  ATTR_METHOD,
  ATTR_OUTCOME,
  ATTR_RATE_LIMIT_SCOPE,
  METER_NAME,
  METRIC_ATTEMPT_DURATION,
  METRIC_ATTEMPTS_ACTIVE,
  METRIC_CALL_DURATION,
  METRIC_CIRCUIT_STATE,
  METRIC_CIRCUIT_TRANSITIONS,
  METRIC_RATE_LIMIT_WAIT,
  otelMetrics,
} from '../../src/otel/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';
import { collect, countWhere, histogramAt, kindOf, points, testMeterProvider, valueAt, type TestMetricReader } from './metric-reader.js';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import { snapshot, StandInPool } from '../prometheus/stand-in-pool.js';

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

const DEFAULT_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

describe('otelMetrics over a real pool and the OpenTelemetry SDK', () => {
  let clock: ManualClock;
  let provider: MeterProvider;
  let reader: TestMetricReader;
  let a: Upstream;
  let b: Upstream;

  beforeEach(() => {
    clock = new ManualClock();
    ({ provider, reader } = testMeterProvider());
    a = new Upstream('a', 3);
    b = new Upstream('b', 30);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await provider.shutdown();
  });

  /** A call that takes its client's latency on the fake clock, then fails if the client is down. */
  const callWith = (pool: ClientPool<Upstream>, method: string): Promise<string> =>
    pool.run(
      (client) => {
        clock.advance(client.latencyMs);
        if (client.isDown) throw new Error(`${client.name} is down`);
        return client.name;
      },
      { method },
    );

  function newPool(options: ConstructorParameters<typeof ClientPool<Upstream>>[0] = {}, clients: readonly Upstream[] = [a, b]): ClientPool<Upstream> {
    const pool = new ClientPool<Upstream>({ clock, breaker: false, ...options });
    pool.use(otelMetrics({ meterProvider: provider }));
    for (const client of clients) pool.add(client, { name: client.name });
    return pool;
  }

  it('records a successful call and its attempt as histograms in seconds, under the clientpool scope', async () => {
    const pool = newPool({}, [a]);
    await expect(callWith(pool, 'get_slot')).resolves.toBe('a');

    const c = await collect(reader);
    for (const name of [METRIC_CALL_DURATION, METRIC_ATTEMPT_DURATION]) {
      const metric = c.metrics.get(name)!;
      expect([kindOf(metric), metric.descriptor.unit, c.scopes.get(name)]).toEqual(['histogram', 's', METER_NAME]);
    }
    const call = histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot' });
    expect([call.count, call.sum, call.buckets.boundaries]).toEqual([1, 0.003, DEFAULT_BOUNDARIES]);
    const attempt = histogramAt(c, METRIC_ATTEMPT_DURATION, { [ATTR_CLIENT]: 'a', [ATTR_METHOD]: 'get_slot', [ATTR_ATTEMPT_KIND]: 'first', [ATTR_OUTCOME]: 'success' });
    expect([attempt.count, attempt.sum]).toEqual([1, 0.003]);
    // 3 ms lands in the first bucket, (0, 0.005].
    expect(attempt.buckets.counts[0]).toBe(1);
    await pool.close();
  });

  it('records a failed call under error.type, the code of the error its caller got', async () => {
    const pool = newPool({}, [b]);
    b.isDown = true;
    await expect(callWith(pool, 'get_slot')).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_CLIENT_CALL'));

    const c = await collect(reader);
    expect(histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot', [ATTR_ERROR_TYPE]: 'ERR_CLIENT_CALL' }).sum).toBe(0.03);
    const attributes = { [ATTR_CLIENT]: 'b', [ATTR_METHOD]: 'get_slot', [ATTR_ATTEMPT_KIND]: 'first', [ATTR_OUTCOME]: 'failure', [ATTR_ERROR_TYPE]: 'ERR_CLIENT_CALL' };
    expect(histogramAt(c, METRIC_ATTEMPT_DURATION, attributes).count).toBe(1);
    expect(points(c, METRIC_CALL_DURATION)).toHaveLength(1);
    await pool.close();
  });

  it('records a call that reached no client: its duration and code, and no attempt', async () => {
    const pool = newPool({}, []);
    await expect(callWith(pool, 'get_slot')).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_NO_CLIENTS'));

    const c = await collect(reader);
    expect(histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot', [ATTR_ERROR_TYPE]: 'ERR_NO_CLIENTS' }).count).toBe(1);
    expect(points(c, METRIC_ATTEMPT_DURATION)).toEqual([]);
    await pool.close();
  });

  it('records an attempt ended by its timeout as a failure ERR_TIMEOUT lasting the timeout', async () => {
    vi.useFakeTimers();
    // On the pool's default clock, performance.now(), which the fake timers move; the adapter reads the same.
    const pool = new ClientPool<Upstream>({ breaker: false, timeout: 20 });
    pool.use(otelMetrics({ meterProvider: provider }));
    pool.add(a, { name: 'a' });
    const never = pool.run(() => new Promise<never>(() => {}), { method: 'get_slot' });
    const settled = never.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(20);
    expect(hasErrorCode(await settled, 'ERR_TIMEOUT')).toBe(true);

    const c = await collect(reader);
    const attempt = histogramAt(c, METRIC_ATTEMPT_DURATION, { [ATTR_CLIENT]: 'a', [ATTR_METHOD]: 'get_slot', [ATTR_ATTEMPT_KIND]: 'first', [ATTR_OUTCOME]: 'failure', [ATTR_ERROR_TYPE]: 'ERR_TIMEOUT' });
    expect([attempt.count, attempt.sum]).toEqual([1, 0.02]);
    const call = histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot', [ATTR_ERROR_TYPE]: 'ERR_TIMEOUT' });
    expect([call.count, call.sum]).toEqual([1, 0.02]);
    await pool.close();
  });

  it('records each attempt of a retried call on its own client, the second as kind retry, and one call', async () => {
    const pool = newPool({ retryBudget: false, retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    const ran: string[] = [];
    await pool.run((client, call) => {
      ran.push(client.name);
      clock.advance(client.latencyMs);
      return call.attempt === 1 ? Promise.reject(new Error('first attempt fails')) : client.name;
    }, { method: 'get_slot' });
    const [first, second] = ran as [string, string];
    expect(second).not.toBe(first);

    const c = await collect(reader);
    const attempt = { [ATTR_METHOD]: 'get_slot' };
    expect(histogramAt(c, METRIC_ATTEMPT_DURATION, { ...attempt, [ATTR_CLIENT]: first, [ATTR_ATTEMPT_KIND]: 'first', [ATTR_OUTCOME]: 'failure', [ATTR_ERROR_TYPE]: 'ERR_CLIENT_CALL' }).count).toBe(1);
    expect(histogramAt(c, METRIC_ATTEMPT_DURATION, { ...attempt, [ATTR_CLIENT]: second, [ATTR_ATTEMPT_KIND]: 'retry', [ATTR_OUTCOME]: 'success' }).count).toBe(1);
    expect(points(c, METRIC_ATTEMPT_DURATION)).toHaveLength(2);
    // The call: both attempts, 3 + 30 ms, one success.
    const call = histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot' });
    expect([call.count, call.sum]).toEqual([1, 0.033]);
    await pool.close();
  });

  it('records a hedge as kind hedge, and the attempt it outran as a failure ERR_TIMEOUT', async () => {
    const pool = newPool({ retryBudget: false, hedge: { delay: 0 } });
    const slow = deferred<string>();
    const ran: string[] = [];
    await pool.run((client, call) => {
      ran.push(client.name);
      return call.attempt === 1 ? slow.promise : `hedged on ${client.name}`;
    }, { method: 'get_slot' });
    slow.resolve('too late');
    const [first, second] = ran as [string, string];

    const c = await collect(reader);
    const attempt = { [ATTR_METHOD]: 'get_slot' };
    expect(histogramAt(c, METRIC_ATTEMPT_DURATION, { ...attempt, [ATTR_CLIENT]: first, [ATTR_ATTEMPT_KIND]: 'first', [ATTR_OUTCOME]: 'failure', [ATTR_ERROR_TYPE]: 'ERR_TIMEOUT' }).count).toBe(1);
    expect(histogramAt(c, METRIC_ATTEMPT_DURATION, { ...attempt, [ATTR_CLIENT]: second, [ATTR_ATTEMPT_KIND]: 'hedge', [ATTR_OUTCOME]: 'success' }).count).toBe(1);
    expect(histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot' }).count).toBe(1);
    await pool.close();
  });

  it('records an attempt the caller cancelled as outcome cancelled, without error.type', async () => {
    const pool = newPool({}, [a]);
    const controller = new AbortController();
    const gate = deferred();
    const running = pool.run(() => gate.promise, { method: 'get_slot', signal: controller.signal });
    controller.abort(new Error('caller left'));
    await expect(running).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_ABORTED'));
    gate.resolve();

    const c = await collect(reader);
    expect(histogramAt(c, METRIC_ATTEMPT_DURATION, { [ATTR_CLIENT]: 'a', [ATTR_METHOD]: 'get_slot', [ATTR_ATTEMPT_KIND]: 'first', [ATTR_OUTCOME]: 'cancelled' }).count).toBe(1);
    expect(histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot', [ATTR_ERROR_TYPE]: 'ERR_ABORTED' }).count).toBe(1);
    await pool.close();
  });

  it('reports an opened circuit as circuit.state 2, counts the transition, and then calls refused by all circuits open', async () => {
    const pool = newPool({ breaker: { maxFailures: 2, cooldown: 1_000 } }, [b]);
    b.isDown = true;
    for (let i = 0; i < 2; i++) await callWith(pool, 'get_slot').catch(() => undefined);
    await expect(callWith(pool, 'get_slot')).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_ALL_CIRCUITS_OPEN'));

    let c = await collect(reader);
    const state = c.metrics.get(METRIC_CIRCUIT_STATE)!;
    expect([kindOf(state), state.descriptor.unit]).toEqual(['gauge', '{state}']);
    expect(valueAt(c, METRIC_CIRCUIT_STATE, { [ATTR_CLIENT]: 'b' })).toBe(2);
    const transitions = c.metrics.get(METRIC_CIRCUIT_TRANSITIONS)!;
    expect([kindOf(transitions), transitions.descriptor.unit]).toEqual(['counter', '{transition}']);
    expect(valueAt(c, METRIC_CIRCUIT_TRANSITIONS, { [ATTR_CLIENT]: 'b', [ATTR_CIRCUIT_FROM]: 'closed', [ATTR_CIRCUIT_TO]: 'open' })).toBe(1);
    expect(points(c, METRIC_CIRCUIT_TRANSITIONS)).toHaveLength(1);
    expect(histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot', [ATTR_ERROR_TYPE]: 'ERR_ALL_CIRCUITS_OPEN' }).count).toBe(1);
    expect(countWhere(c, METRIC_ATTEMPT_DURATION, {})).toBe(2);

    b.isDown = false;
    clock.advance(1_000);
    await callWith(pool, 'get_slot');
    c = await collect(reader);
    expect(valueAt(c, METRIC_CIRCUIT_STATE, { [ATTR_CLIENT]: 'b' })).toBe(0);
    expect(valueAt(c, METRIC_CIRCUIT_TRANSITIONS, { [ATTR_CLIENT]: 'b', [ATTR_CIRCUIT_FROM]: 'open', [ATTR_CIRCUIT_TO]: 'half-open' })).toBe(1);
    expect(valueAt(c, METRIC_CIRCUIT_TRANSITIONS, { [ATTR_CLIENT]: 'b', [ATTR_CIRCUIT_FROM]: 'half-open', [ATTR_CIRCUIT_TO]: 'closed' })).toBe(1);
    await pool.close();
  });

  it('reads attempts in flight per client at collection time', async () => {
    const pool = newPool({ strategy: 'round-robin' });
    const gates = [deferred(), deferred(), deferred()];
    const running = gates.map((gate) => pool.run(() => gate.promise, { method: 'slow' }));

    let c = await collect(reader);
    const active = c.metrics.get(METRIC_ATTEMPTS_ACTIVE)!;
    expect([kindOf(active), active.descriptor.unit]).toEqual(['up-down-counter', '{attempt}']);
    const inFlight = [valueAt(c, METRIC_ATTEMPTS_ACTIVE, { [ATTR_CLIENT]: 'a' }), valueAt(c, METRIC_ATTEMPTS_ACTIVE, { [ATTR_CLIENT]: 'b' })];
    expect(inFlight[0]! + inFlight[1]!).toBe(3);
    expect(points(c, METRIC_ATTEMPT_DURATION)).toEqual([]);

    for (const gate of gates) gate.resolve();
    await Promise.all(running);
    c = await collect(reader);
    expect([valueAt(c, METRIC_ATTEMPTS_ACTIVE, { [ATTR_CLIENT]: 'a' }), valueAt(c, METRIC_ATTEMPTS_ACTIVE, { [ATTR_CLIENT]: 'b' })]).toEqual([0, 0]);
    expect(countWhere(c, METRIC_ATTEMPT_DURATION, { [ATTR_CLIENT]: 'a' })).toBe(inFlight[0]);
    await pool.close();
  });

  it('times a wait for a rate-limit token, and records a refused call under error.type ERR_RATE_LIMITED', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const dateClock = { now: () => Date.now() };
    const pool = new ClientPool<Upstream>({ clock: dateClock, breaker: false, limit: { rate: 1, burst: 1 }, maxWait: 2_000 });
    pool.use(otelMetrics({ meterProvider: provider, waitBuckets: [0.5, 1, 2] }));
    pool.add(a, { name: 'a' });
    await pool.run(() => 'first', { method: 'get_slot' });
    const waiting = pool.run(() => 'waited', { method: 'get_slot' });
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(waiting).resolves.toBe('waited');
    await expect(pool.run(() => 'refused', { method: 'get_slot', maxWait: 0 })).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_RATE_LIMITED'));

    const c = await collect(reader);
    const metric = c.metrics.get(METRIC_RATE_LIMIT_WAIT)!;
    expect([kindOf(metric), metric.descriptor.unit]).toEqual(['histogram', 's']);
    const waited = histogramAt(c, METRIC_RATE_LIMIT_WAIT, { [ATTR_RATE_LIMIT_SCOPE]: 'pool', [ATTR_METHOD]: 'get_slot' });
    expect([waited.count, waited.sum, waited.buckets.boundaries, waited.buckets.counts]).toEqual([1, 1, [0.5, 1, 2], [0, 1, 0, 0]]);
    const refused = histogramAt(c, METRIC_RATE_LIMIT_WAIT, { [ATTR_RATE_LIMIT_SCOPE]: 'pool', [ATTR_METHOD]: 'get_slot', [ATTR_ERROR_TYPE]: 'ERR_RATE_LIMITED' });
    expect(refused.count).toBe(1);
    // The waiting call took its 1 s wait; the refused one never reached a client.
    expect(histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot' }).sum).toBe(1);
    expect(histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot', [ATTR_ERROR_TYPE]: 'ERR_RATE_LIMITED' }).count).toBe(1);
    expect(countWhere(c, METRIC_ATTEMPT_DURATION, {})).toBe(2);
    await pool.close();
  });

  it('names the client whose own bucket a call waited for; a refusal by every client\'s bucket names none', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const dateClock = { now: () => Date.now() };
    const pool = new ClientPool<Upstream>({ clock: dateClock, breaker: false, maxWait: 5_000 });
    pool.use(otelMetrics({ meterProvider: provider }));
    pool.add(a, { name: 'a', limit: { rate: 2, burst: 1 } }); // a token every 500 ms
    await pool.run(() => 'first', { method: 'get_slot' });
    const waiting = pool.run(() => 'waited', { method: 'get_slot' });
    await vi.advanceTimersByTimeAsync(500);
    await expect(waiting).resolves.toBe('waited');
    await expect(pool.run(() => 'refused', { method: 'get_slot', maxWait: 0 })).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_RATE_LIMITED'));

    const c = await collect(reader);
    expect(histogramAt(c, METRIC_RATE_LIMIT_WAIT, { [ATTR_RATE_LIMIT_SCOPE]: 'client', [ATTR_CLIENT]: 'a', [ATTR_METHOD]: 'get_slot' }).sum).toBe(0.5);
    expect(histogramAt(c, METRIC_RATE_LIMIT_WAIT, { [ATTR_RATE_LIMIT_SCOPE]: 'client', [ATTR_METHOD]: 'get_slot', [ATTR_ERROR_TYPE]: 'ERR_RATE_LIMITED' }).count).toBe(1);
    await pool.close();
  });

  it('records methods past maxMethods as other, in every instrument', async () => {
    const pool = new ClientPool<Upstream>({ clock, breaker: false });
    pool.use(otelMetrics({ meterProvider: provider, maxMethods: 2 }));
    pool.add(a, { name: 'a' });
    for (const method of ['m1', 'm2', 'm3', 'm1', 'm4', 'm3']) await callWith(pool, method);

    const c = await collect(reader);
    expect(points(c, METRIC_CALL_DURATION).map((p) => [p.attributes[ATTR_METHOD], (p.value as { count: number }).count])).toEqual([
      ['m1', 2],
      ['m2', 1],
      ['other', 3],
    ]);
    expect(countWhere(c, METRIC_ATTEMPT_DURATION, { [ATTR_METHOD]: 'other' })).toBe(3);
    expect(points(c, METRIC_ATTEMPT_DURATION)).toHaveLength(3);
    await pool.close();
  });

  it('adds the attributes option to every measurement', async () => {
    const pool = new ClientPool<Upstream>({ clock, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.use(otelMetrics({ meterProvider: provider, attributes: { 'clientpool.pool': 'rpc' } }));
    pool.add(b, { name: 'b' });
    b.isDown = true;
    await callWith(pool, 'get_slot').catch(() => undefined);

    const c = await collect(reader);
    for (const name of [METRIC_CALL_DURATION, METRIC_ATTEMPT_DURATION, METRIC_ATTEMPTS_ACTIVE, METRIC_CIRCUIT_STATE, METRIC_CIRCUIT_TRANSITIONS]) {
      expect(points(c, name).map((p) => p.attributes['clientpool.pool'])).toEqual(['rpc']);
    }
    await pool.close();
  });

  it('stops reading a pool and listening to it once the pool closes', async () => {
    const metrics = otelMetrics({ meterProvider: provider });
    const pool = new StandInPool();
    let reads = 0;
    pool.members = () => {
      reads++;
      return [snapshot('a', { state: { kind: 'open', until: 1_000, trips: 1 } })];
    };
    metrics.attach!(pool);
    expect([pool.stateChanges.hasListeners, pool.rateLimits.hasListeners]).toEqual([true, true]);
    expect(valueAt(await collect(reader), METRIC_CIRCUIT_STATE, { [ATTR_CLIENT]: 'a' })).toBe(2);
    expect(reads).toBe(1);

    await metrics.close!(pool);
    expect([pool.stateChanges.hasListeners, pool.rateLimits.hasListeners]).toEqual([false, false]);
    await collect(reader);
    expect(reads).toBe(1);
  });

  it('reads every attached pool until the last one closes, then takes back its observable callback', async () => {
    const metrics = otelMetrics({ meterProvider: provider });
    const [first, second] = [new StandInPool(), new StandInPool()];
    first.snapshots = [snapshot('a', { inFlight: 2 })];
    second.snapshots = [snapshot('b', { inFlight: 5 })];
    metrics.attach!(first);
    metrics.attach!(second);
    let c = await collect(reader);
    expect([valueAt(c, METRIC_ATTEMPTS_ACTIVE, { [ATTR_CLIENT]: 'a' }), valueAt(c, METRIC_ATTEMPTS_ACTIVE, { [ATTR_CLIENT]: 'b' })]).toEqual([2, 5]);

    const meter = provider.getMeter(METER_NAME);
    const removed = vi.spyOn(meter, 'removeBatchObservableCallback');
    await metrics.close!(first);
    expect(removed).not.toHaveBeenCalled();
    first.snapshots = [snapshot('a', { inFlight: 9 })];
    c = await collect(reader);
    expect(valueAt(c, METRIC_ATTEMPTS_ACTIVE, { [ATTR_CLIENT]: 'b' })).toBe(5);
    expect(points(c, METRIC_ATTEMPTS_ACTIVE).map((p) => p.value)).not.toContain(9);
    await metrics.close!(second);
    expect(removed).toHaveBeenCalledTimes(1);
  });

  it('with a real pool: after pool.close() the pool is no longer read', async () => {
    const pool = newPool({}, [a]);
    const members = vi.spyOn(pool, 'members');
    await callWith(pool, 'get_slot');
    await collect(reader);
    expect(members).toHaveBeenCalledTimes(1);
    await pool.close();
    const c = await collect(reader);
    expect(members).toHaveBeenCalledTimes(1);
    // What was recorded stays: the SDK, not the adapter, owns it.
    expect(histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot' }).count).toBe(1);
  });

  it('forgets a removed client\'s attribute sets at the next collection, so that churned clients do not accumulate', async () => {
    const meter = provider.getMeter(METER_NAME);
    const attempts = meter.createHistogram(METRIC_ATTEMPT_DURATION);
    const record = vi.spyOn(attempts, 'record');
    const create = meter.createHistogram.bind(meter);
    vi.spyOn(meter, 'createHistogram').mockImplementation((name, options) => (name === METRIC_ATTEMPT_DURATION ? attempts : create(name, options)));
    const pool = new ClientPool<Upstream>({ clock, breaker: false });
    pool.use(otelMetrics({ meter }));
    pool.add(a, { name: 'a' });
    await callWith(pool, 'get_slot');
    await callWith(pool, 'get_slot');
    const [first, second] = record.mock.calls.map(([, attributes]) => attributes);
    expect(second).toBe(first);

    await pool.remove('a');
    await collect(reader);
    pool.add(a, { name: 'a' });
    await callWith(pool, 'get_slot');
    const third = record.mock.calls[2]![1];
    expect(third).not.toBe(first);
    expect(third).toEqual(first);
    await pool.close();
  });

  it('forgets a removed client\'s circuit-transition attribute sets at the next collection, as its attempt sets', async () => {
    const meter = provider.getMeter(METER_NAME);
    const transitions = meter.createCounter(METRIC_CIRCUIT_TRANSITIONS);
    const add = vi.spyOn(transitions, 'add');
    vi.spyOn(meter, 'createCounter').mockReturnValue(transitions);
    const pool = new ClientPool<Upstream>({ clock, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.use(otelMetrics({ meter }));
    b.isDown = true;
    pool.add(b, { name: 'b' });
    await callWith(pool, 'get_slot').catch(() => undefined);
    const first = add.mock.calls[0]![1];
    expect(first).toEqual({ [ATTR_CLIENT]: 'b', [ATTR_CIRCUIT_FROM]: 'closed', [ATTR_CIRCUIT_TO]: 'open' });

    await pool.remove('b');
    await collect(reader);
    pool.add(b, { name: 'b' });
    await callWith(pool, 'get_slot').catch(() => undefined);
    const again = add.mock.calls.at(-1)![1];
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    await pool.close();
  });

  it('a meter whose addBatchObservableCallback throws leaves pool.use() working and calls counted, and is reported once', async () => {
    const meter = provider.getMeter(METER_NAME);
    vi.spyOn(meter, 'addBatchObservableCallback').mockImplementation(() => {
      throw new Error('no callbacks here');
    });
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const pool = new ClientPool<Upstream>({ clock, breaker: false });
    expect(() => pool.use(otelMetrics({ meter }))).not.toThrow();
    pool.add(a, { name: 'a' });
    await callWith(pool, 'get_slot');
    const c = await collect(reader);
    expect(histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot' }).count).toBe(1);
    expect(warnings.mock.calls.filter(([message]) => String(message).includes(METRIC_ATTEMPTS_ACTIVE))).toHaveLength(1);
    warnings.mockRestore();
    await pool.close();
  });

  it('a meter whose removeBatchObservableCallback throws leaves pool.close() resolved, and is reported', async () => {
    const meter = provider.getMeter(METER_NAME);
    vi.spyOn(meter, 'removeBatchObservableCallback').mockImplementation(() => {
      throw new Error('remove');
    });
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const pool = new ClientPool<Upstream>({ breaker: false }).use(otelMetrics({ meter }));
    await expect(pool.close()).resolves.toBeUndefined();
    expect(warnings.mock.calls.filter(([message]) => String(message).includes('unregistering'))).toHaveLength(1);
    warnings.mockRestore();
  });

  it('takes back no observable callback the meter refused to take', async () => {
    const meter = provider.getMeter(METER_NAME);
    vi.spyOn(meter, 'addBatchObservableCallback').mockImplementation(() => {
      throw new Error('no callbacks here');
    });
    const removed = vi.spyOn(meter, 'removeBatchObservableCallback');
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const pool = new ClientPool<Upstream>({ breaker: false }).use(otelMetrics({ meter }));
    await pool.close();
    expect(removed).not.toHaveBeenCalled();
    warnings.mockRestore();
  });

  it('hears a pool attached twice once: each transition counted once', async () => {
    const metrics = otelMetrics({ meterProvider: provider });
    const pool = new ClientPool<Upstream>({ clock, breaker: { maxFailures: 1 } }).use(metrics);
    metrics.attach!(pool);
    pool.add(a, { name: 'a' });
    await pool.run(() => Promise.reject(new Error('down')), { method: 'get_slot' }).catch(() => undefined);
    const c = await collect(reader);
    expect(valueAt(c, METRIC_CIRCUIT_TRANSITIONS, { [ATTR_CLIENT]: 'a', [ATTR_CIRCUIT_FROM]: 'closed', [ATTR_CIRCUIT_TO]: 'open' })).toBe(1);
    await pool.close();
  });

  describe('a call that failed with a clientpool error of a user subclass with an odd code', () => {
    class ThrowingCodeError extends ClientPoolError {
      override get code(): string {
        throw new Error('no code');
      }
    }
    class NumericCodeError extends ClientPoolError {
      override get code(): string {
        return 42 as unknown as string;
      }
    }
    /** Inner middleware failing every call with `error`: a clientpool error reaches the caller as it is. */
    const failWith = (error: Error): Middleware => ({ name: 'fail', around: () => Promise.reject(error) });

    it.each<[string, ClientPoolError]>([
      ['whose code getter throws', new ThrowingCodeError('x')],
      ['whose code is not a string', new NumericCodeError('x')],
    ])('is recorded under error.type ERR_UNKNOWN (one %s), with no warning of a broken middleware', async (_, error) => {
      const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      const pool = new ClientPool<Upstream>({ breaker: false }).use(otelMetrics({ meterProvider: provider })).use(failWith(error));
      pool.add(a, { name: 'a' });
      await expect(pool.run(() => 'ok', { method: 'get_slot' })).rejects.toBe(error);
      const c = await collect(reader);
      expect(histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot', [ATTR_ERROR_TYPE]: 'ERR_UNKNOWN' }).count).toBe(1);
      expect(warnings.mock.calls.filter(([message]) => String(message).includes('otelMetrics'))).toEqual([]);
      warnings.mockRestore();
      await pool.close();
    });
  });

  it('a meter that throws while recording a call leaves the call\'s result alone, and is reported once', async () => {
    const meter = provider.getMeter('throwing');
    const histogram = meter.createHistogram('x');
    vi.spyOn(histogram, 'record').mockImplementation(() => {
      throw new Error('exporter full');
    });
    vi.spyOn(meter, 'createHistogram').mockReturnValue(histogram);
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const pool = new ClientPool<Upstream>({ clock, breaker: false });
    pool.use(otelMetrics({ meter }));
    pool.add(a, { name: 'a' });
    await expect(pool.run(() => 'ok', { method: 'get_slot' })).resolves.toBe('ok');
    await expect(pool.run(() => Promise.reject(new Error('down')), { method: 'get_slot' })).rejects.toSatisfy((error) => hasErrorCode(error, 'ERR_CLIENT_CALL'));
    const ours = warnings.mock.calls.filter(([message]) => String(message).includes(METRIC_CALL_DURATION));
    expect(ours).toHaveLength(1);
    warnings.mockRestore();
    await pool.close();
  });
});

describe('otelMetrics without an SDK', () => {
  afterEach(() => metrics.disable());

  it('records nothing and asks the pool to time nothing when the meter is the API\'s no-op one', async () => {
    const middleware = otelMetrics();
    expect(middleware.name).toBe('otel-metrics');
    // The pool times attempts for a hook that declares durationMs as its third parameter.
    expect(middleware.onOutcome?.length).toBe(0);
    expect(['around', 'attach', 'execute', 'close'].filter((hook) => hook in middleware)).toEqual([]);
    expect(otelMetrics({ meter: createNoopMeter() }).onOutcome?.length).toBe(0);

    // Clock reads of one call: the same as with no middleware at all.
    const readsOfOneCall = async (use: readonly Middleware[]): Promise<number> => {
      const clock = { reads: 0, now: () => ++clock.reads };
      const pool = new ClientPool<object>({ clock, middleware: use });
      pool.add({}, { name: 'a' });
      const before = clock.reads;
      await pool.run(() => 'ok', { method: 'get_slot' });
      const reads = clock.reads - before;
      await pool.close();
      return reads;
    };
    expect(await readsOfOneCall([middleware])).toBe(await readsOfOneCall([]));
    // Whereas the middleware on a real meter has the pool time each attempt.
    const { provider } = testMeterProvider();
    expect(await readsOfOneCall([otelMetrics({ meterProvider: provider })])).toBeGreaterThan(await readsOfOneCall([]));
    await provider.shutdown();
  });

  it('records through the global provider registered before it was made', async () => {
    const { provider, reader } = testMeterProvider();
    metrics.setGlobalMeterProvider(provider);
    const middleware = otelMetrics();
    expect(middleware.onOutcome?.length).toBe(3);
    const pool = new ClientPool<object>();
    pool.use(middleware);
    pool.add({}, { name: 'a' });
    await pool.run(() => 'ok', { method: 'get_slot' });
    const c = await collect(reader);
    expect(histogramAt(c, METRIC_CALL_DURATION, { [ATTR_METHOD]: 'get_slot' }).count).toBe(1);
    expect(c.scopes.get(METRIC_CALL_DURATION)).toBe(METER_NAME);
    await pool.close();
    await provider.shutdown();
  });
});
