// The adapters' lifecycle: one adapter that outlives many pools, close() with calls in flight.
// After a pool closes, an adapter must keep nothing of it (its event subscriptions, its observable callback).
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { Meter } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool, type Middleware } from '../../src/index.js';
import { otelMetrics } from '../../src/otel/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { deferred } from '../helpers/manual-clock.js';
import { find, parseExposition } from '../prometheus/exposition.js';

/** Node's gc, reachable without --expose-gc. */
function gc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const tick = (): Promise<void> => new Promise((done) => setTimeout(done, 0));

/**
 * Use `adapter` on 50 short-lived pools, each closed after a call; returns how many of the pools' event
 * sources (`onStateChange`, `onRateLimit`) are still reachable after a gc while the adapter lives.
 */
async function eventSourcesKeptAlive(adapter: Middleware): Promise<number> {
  // At most the last pool's two may survive in the async function's frame; the test allows for them.
  const collectGarbage = gc();
  const refs: WeakRef<object>[] = [];
  for (let i = 0; i < 50; i++) {
    const pool = new ClientPool<object>().use(adapter);
    pool.add({}, { name: 'a' });
    await pool.run(() => 1);
    await pool.close();
    refs.push(new WeakRef(pool.onStateChange), new WeakRef(pool.onRateLimit));
  }
  await tick();
  collectGarbage();
  await tick();
  collectGarbage();
  return refs.filter((ref) => ref.deref() !== undefined).length;
}

describe('an adapter that outlives its pools', () => {
  it('otelMetrics() keeps nothing of a closed pool: it disposes at close()', async () => {
    const meter = stubMeter();
    expect(await eventSourcesKeptAlive(otelMetrics({ meter: meter.meter }))).toBeLessThanOrEqual(2);
    expect(meter.callbacks()).toBe(0);
  });
});

describe('close() with calls in flight and both adapters attached', () => {
  it('counts each call once, leaves no observable callback, and reads no member after close', async () => {
    const registry = new Registry();
    const meter = stubMeter();
    const pool = new ClientPool<object>().use(prometheusMetrics({ registry })).use(otelMetrics({ meter: meter.meter }));
    pool.add({}, { name: 'a' });
    const held = deferred<number>();
    const running = pool.run(() => held.promise, { method: 'get' });
    const closing = pool.close();
    held.resolve(1);
    await running;
    await closing;
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_calls_total', { method: 'get', code: 'OK' })[0]!.value).toBe(1);
    expect(find(s, 'middleware_requests_total', { client: 'a', method: 'get' })[0]!.value).toBe(1);
    expect(find(s, 'middleware_in_flight')).toEqual([]);
    expect(meter.callbacks()).toBe(0);
    expect(meter.recorded('clientpool.call.duration')).toBe(1);
  });
});

/** A stand-in meter: counts records per instrument and the batch callbacks registered. */
function stubMeter(): { meter: Meter; callbacks: () => number; recorded: (name: string) => number } {
  const registered = new Set<unknown>();
  const counts = new Map<string, number>();
  const instrument = (name: string): { record: () => void; add: () => void } => {
    const count = (): void => void counts.set(name, (counts.get(name) ?? 0) + 1);
    return { record: count, add: count };
  };
  const meter = {
    createHistogram: instrument,
    createCounter: instrument,
    createObservableGauge: () => ({}),
    createObservableUpDownCounter: () => ({}),
    createObservableCounter: () => ({}),
    addBatchObservableCallback: (callback: unknown) => void registered.add(callback),
    removeBatchObservableCallback: (callback: unknown) => void registered.delete(callback),
  } as unknown as Meter;
  return { meter, callbacks: () => registered.size, recorded: (name) => counts.get(name) ?? 0 };
}
