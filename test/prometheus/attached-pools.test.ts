import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';
import { find, parseExposition } from './exposition.js';
import { StandInPool } from './stand-in-pool.js';

/** Node's gc, reachable without --expose-gc. */
function gc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const tick = (): Promise<void> => new Promise((done) => setTimeout(done, 0));

describe('the pools an adapter serves', () => {
  it("disposes a pool's event subscriptions when the pool closes, and only that pool's", () => {
    const metrics = prometheusMetrics({ registry: new Registry() });
    const closing = new StandInPool();
    const staying = new StandInPool();
    metrics.attach(closing);
    metrics.attach(staying);
    metrics.close?.(closing);
    expect([closing.rateLimits.hasListeners, closing.stateChanges.hasListeners]).toEqual([false, false]);
    expect([staying.rateLimits.hasListeners, staying.stateChanges.hasListeners]).toEqual([true, true]);
  });

  it('subscribes once to a pool attached twice', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry });
    const pool = new StandInPool();
    metrics.attach(pool);
    metrics.attach(pool);
    pool.stateChanges.emit({ client: 'a', from: { kind: 'closed' }, to: { kind: 'open', until: 1, trips: 1 }, at: 0 });
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_circuit_transitions_total').map((sample) => sample.value)).toEqual([1]);
  });

  it('keeps nothing of 50 closed pools, and still counts the calls of the next one', async () => {
    const metrics = prometheusMetrics({ registry: new Registry() });
    const collectGarbage = gc();
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 50; i++) {
      const pool = new ClientPool<object>().use(metrics);
      pool.add({}, { name: 'a' });
      await pool.run(() => 1);
      await pool.close();
      refs.push(new WeakRef(pool.onStateChange), new WeakRef(pool.onRateLimit));
    }
    await tick();
    collectGarbage();
    await tick();
    collectGarbage();
    // The last pool's two may survive in this frame.
    expect(refs.filter((ref) => ref.deref() !== undefined).length).toBeLessThanOrEqual(2);
    const pool = new ClientPool<object>().use(metrics);
    pool.add({}, { name: 'a' });
    await pool.run(() => 1, { method: 'get' });
    const s = parseExposition(await metrics.registry.metrics());
    expect(find(s, 'middleware_calls_total', { method: 'get', code: 'OK' })[0]!.value).toBe(1);
    await pool.close();
  });

  it('keeps counting one pool while another closes, listing only the open one in in_flight', async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry, clock });
    const one = new ClientPool<object>({ clock }).use(metrics);
    const two = new ClientPool<object>({ clock }).use(metrics);
    one.add({}, { name: 'x' });
    two.add({}, { name: 'y' });
    const held = deferred<number>();
    const running = two.run(() => held.promise, { method: 'get' });
    await one.run(() => 1, { method: 'get' });
    await one.close();
    let s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_in_flight').map((sample) => [sample.labels['client'], sample.value])).toEqual([['y', 1]]);
    held.resolve(1);
    await running;
    await two.run(() => 1, { method: 'get' });
    s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_calls_total', { method: 'get', code: 'OK' })[0]!.value).toBe(3);
    expect(find(s, 'middleware_requests_total', { client: 'y' })[0]!.value).toBe(2);
    await two.close();
  });
});
