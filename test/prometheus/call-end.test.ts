import { tracingChannel } from 'node:diagnostics_channel';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool, type CallEnd } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';
import { find, histogram, parseExposition, type Scrape } from '../prometheus/exposition.js';

// The `onCallEnd` hook (src/pipeline/call-end.ts, src/pool.ts `#call`) as the call-level Prometheus
// metrics it feeds see it, under odd and hostile input.

interface Fake {
  readonly name: string;
}

const a: Fake = { name: 'a' };

/** A pool with `a`, the Prometheus adapter and the pool on one manual clock. */
function meteredPool(clock = new ManualClock()): { pool: ClientPool<Fake>; registry: Registry; clock: ManualClock } {
  const registry = new Registry();
  const pool = new ClientPool<Fake>({ clock, breaker: false });
  pool.use(prometheusMetrics({ registry, clock }));
  pool.add(a, { name: 'a' });
  return { pool, registry, clock };
}

const scrapeOf = async (registry: Registry): Promise<Scrape> => parseExposition(await registry.metrics());

/** The `calls_total` series that moved (the pool's own codes are exported at 0 for every method). */
const movedCalls = (s: Scrape): { method: string; code: string; value: number }[] =>
  find(s, 'middleware_calls_total')
    .filter((sample) => sample.value > 0)
    .map((sample) => ({ method: sample.labels['method']!, code: sample.labels['code']!, value: sample.value }));

describe('onCallEnd as the Prometheus adapter hears it', () => {
  it('labels a call with the method its attempts carry, even when options.method is a getter that answers differently each read', async () => {
    const { pool, registry } = meteredPool();
    let reads = 0;
    const options = {
      get method(): string {
        reads++;
        return `m${reads}`;
      },
    };
    await pool.run(() => 'x', options);

    const s = await scrapeOf(registry);
    const attemptMethods = find(s, 'middleware_requests_total').map((sample) => sample.labels['method']);
    const callMethods = movedCalls(s).map((call) => call.method);
    // CallEnd.method is documented as "the label its attempts carry": one read, shared by both.
    expect(attemptMethods).toHaveLength(1);
    expect(callMethods).toEqual(attemptMethods);
    await pool.close();
  });

  it("never exports a negative duration when the pool's clock steps back during a call", async () => {
    const clock = new ManualClock();
    clock.time = 1_000;
    const { pool, registry } = meteredPool(clock);
    // A wall clock stepped back by NTP, or a user clock that is not monotonic: 1 s back mid-call.
    await pool.run(() => {
      clock.time = 0;
      return 'x';
    }, { method: 'get' });

    const s = await scrapeOf(registry);
    const call = histogram(s, 'middleware_call_duration_seconds', { method: 'get', code: 'OK' });
    const attempt = histogram(s, 'middleware_request_duration_seconds', { client: 'a', method: 'get' });
    expect(call.count).toBe(1);
    // A histogram's _sum must not go down (rate() over it would read a counter reset): durations are >= 0.
    expect(call.sum).toBeGreaterThanOrEqual(0);
    expect(attempt.sum).toBeGreaterThanOrEqual(0);
    await pool.close();
  });

  it('does not hear a call that began before the first onCallEnd middleware was added; its attempt that ends later is counted', async () => {
    const registry = new Registry();
    const pool = new ClientPool<Fake>({ breaker: false });
    pool.add(a, { name: 'a' });
    const answer = deferred<string>();
    const call = pool.run(() => answer.promise, { method: 'get' });
    pool.use(prometheusMetrics({ registry }));
    answer.resolve('x');
    await call;
    await pool.run(() => 'y', { method: 'get' });

    const s = await scrapeOf(registry);
    expect(find(s, 'middleware_requests_total', { method: 'get' }).map((sample) => sample.value)).toEqual([2]);
    // The pool times calls only while some middleware hears them (documented on CallEnds): the first call is not one.
    expect(movedCalls(s)).toEqual([{ method: 'get', code: 'OK', value: 1 }]);
    await pool.close();
  });

  it("leaves the caller's result alone when an onCallEnd hook throws, rejects, or re-enters run() and close()", async () => {
    const ends: string[] = [];
    const pool = new ClientPool<Fake>({ breaker: false });
    let nested: Promise<unknown> | undefined;
    let closing: Promise<void> | undefined;
    pool.use({
      name: 'throws',
      onCallEnd: () => {
        throw new Error('hook threw');
      },
    });
    const rejecting: { name: string; onCallEnd: () => Promise<never> } = { name: 'rejects', onCallEnd: () => Promise.reject(new Error('hook rejected')) };
    // An async hook where the type asks for void: TypeScript lets a promise-returning function stand in.
    pool.use(rejecting);
    pool.use({
      name: 're-enters',
      onCallEnd: (end: CallEnd<Fake>) => {
        ends.push(`${end.method}:${end.error?.code ?? 'OK'}`);
        if (end.method === 'outer') nested ??= pool.run(() => 'inner', { method: 'inner' });
        else if (end.method === 'inner') closing ??= pool.close();
      },
    });
    pool.add(a, { name: 'a' });
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      await expect(pool.run(() => 'outer', { method: 'outer' })).resolves.toBe('outer');
      await expect(nested).resolves.toBe('inner');
      await closing;
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(ends).toEqual(['outer:OK', 'inner:OK']);
    expect(pool.isClosed).toBe(true);
    expect(warnings.some((message) => message.includes('"throws" onCallEnd'))).toBe(true);
    expect(warnings.some((message) => message.includes('"rejects" onCallEnd'))).toBe(true);
  });

  it('gives onCallEnd and the caller a CallbackError when an around hook rejects with a Proxy whose every trap throws', async () => {
    const ends: CallEnd<Fake>[] = [];
    const pool = new ClientPool<Fake>({ breaker: false });
    pool.use({ name: 'ends', onCallEnd: (end: CallEnd<Fake>) => void ends.push(end) });
    const trap = (): never => {
      throw new Error('trap');
    };
    const hostile = new Proxy({}, { get: trap, has: trap, getPrototypeOf: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
    pool.use({ name: 'hostile', around: () => Promise.reject(hostile) });
    pool.add(a, { name: 'a' });

    const error = await pool.run(() => 'x', { method: 'get' }).catch((thrown: unknown) => thrown);
    expect((error as { code?: unknown }).code).toBe('ERR_CALLBACK');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.error).toBe(error);
    await pool.close();
  });

  it('hears a call traced on clientpool:call exactly once', async () => {
    const channel = tracingChannel('clientpool:call');
    const subscriber = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
    channel.subscribe(subscriber);
    try {
      const { pool, registry } = meteredPool();
      await pool.run(() => 'x', { method: 'get' });
      await pool.run(() => Promise.reject(new Error('down')), { method: 'get' }).catch(() => undefined);
      expect(movedCalls(await scrapeOf(registry))).toEqual([
        { method: 'get', code: 'OK', value: 1 },
        { method: 'get', code: 'ERR_CLIENT_CALL', value: 1 },
      ]);
      await pool.close();
    } finally {
      channel.unsubscribe(subscriber);
    }
  });
});
