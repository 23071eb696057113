import { Registry } from 'prom-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { ClientPoolError, ClientPool, TimeoutError } from '../../src/index.js';
import { ZERO_CODES } from '../../src/prometheus/call-outcomes.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { trackedEntries } from '../../src/prometheus/prometheus-metrics.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { find, parseExposition, value, type Scrape } from './exposition.js';
import { snapshot, StandInPool } from './stand-in-pool.js';

interface Fake {
  readonly name: string;
}

const CALLS = 'middleware_calls_total';
const CALL_COUNT = 'middleware_call_duration_seconds_count';
const TRANSITIONS = 'middleware_circuit_transitions_total';
const REFUSED = 'middleware_rate_limited_total';
const OPENED = { from: 'closed', to: 'open' } as const;

/** An application's own error class with a code, as a user subclass may have. */
class AppError extends ClientPoolError {
  readonly code: string;
  constructor(code: string) {
    super(code);
    this.code = code;
  }
}

// Prometheus' rate() and increase() cannot see the jump from "no series" to a first count: each series
// an alert reads must be exported at 0 before it first moves.
describe('series exported at 0 before their first count', () => {
  let clock: ManualClock;
  let registry: Registry;

  beforeEach(() => {
    clock = new ManualClock();
    registry = new Registry();
  });

  const scrapeNow = async (): Promise<Scrape> => parseExposition(await registry.metrics());

  function poolWith(names: readonly string[]): { pool: ClientPool<Fake>; metrics: ReturnType<typeof prometheusMetrics> } {
    const metrics = prometheusMetrics({ registry, clock, removedClientsRetention: 0 });
    const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 1_000 } }).use(metrics);
    for (const name of names) pool.add({ name }, { name });
    return { pool, metrics };
  }

  /** Fail calls on `client` until its circuit opens. */
  async function openCircuitOf(pool: ClientPool<Fake>, client: string): Promise<void> {
    const failOn = (fake: Fake): string => {
      if (fake.name === client) throw new Error('down');
      return 'x';
    };
    for (let i = 0; i < 20 && pool.members().find((m) => m.name === client)!.state.kind === 'closed'; i++) await pool.run(failOn, { method: 'get' }).catch(() => undefined);
  }

  it("exports every member's closed -> open transitions at 0 until its circuit first opens, then its count", async () => {
    const { pool, metrics } = poolWith(['a', 'b']);
    let s = await scrapeNow();
    expect([value(s, TRANSITIONS, { client: 'a', ...OPENED }), value(s, TRANSITIONS, { client: 'b', ...OPENED })]).toEqual([0, 0]);
    // Only that transition: it is the one an alert needs to see first, the others follow it.
    expect(find(s, TRANSITIONS)).toHaveLength(2);
    await openCircuitOf(pool, 'b');
    s = await scrapeNow();
    // One sample each (value() throws on two): the zero and the count are one series.
    expect([value(s, TRANSITIONS, { client: 'a', ...OPENED }), value(s, TRANSITIONS, { client: 'b', ...OPENED })]).toEqual([0, 1]);
    // Read from the pool at scrape time: no entry per client is kept for them.
    expect(trackedEntries(metrics).transitions).toBe(1);
    await pool.close();
  });

  it("drops a removed client's zero transitions with it, and its counted ones by the removed-client policy", async () => {
    const { pool } = poolWith(['a', 'b', 'c']);
    await openCircuitOf(pool, 'b');
    await pool.remove('a');
    await pool.remove('b');
    let s = await scrapeNow();
    expect(find(s, TRANSITIONS, { client: 'a' })).toEqual([]);
    // b's count is exported at one more scrape, then gone (retention 0 here).
    expect(value(s, TRANSITIONS, { client: 'b', ...OPENED })).toBe(1);
    s = await scrapeNow();
    expect(find(s, TRANSITIONS).map((sample) => sample.labels['client'])).toEqual(['c']);
    await pool.close();
  });

  it("exports rate_limited_total at 0 for each client with a limit of its own until its first refusal", async () => {
    const metrics = prometheusMetrics({ registry, clock });
    const pool = new StandInPool();
    pool.snapshots = [snapshot('limited', { tokens: 10 }), snapshot('gone', { tokens: 0 }), snapshot('free')];
    metrics.attach(pool);
    let s = await scrapeNow();
    expect(find(s, REFUSED).map((sample) => [sample.labels['scope'], sample.labels['client'], sample.value])).toEqual([['client', 'limited', 0], ['client', 'gone', 0]]);
    pool.rateLimits.emit({ scope: 'client', client: 'limited', method: 'get', waitedMs: 5, rejected: true });
    // Removed before any refusal: its zero goes with it at once.
    pool.snapshots = [snapshot('limited', { tokens: 0 }), snapshot('free')];
    s = await scrapeNow();
    expect(find(s, REFUSED).map((sample) => [sample.labels['client'], sample.value])).toEqual([['limited', 1]]);
    metrics.unregister();
  });

  it("exports calls_total at 0 for the pool's own error codes of every method seen, as counter lines only", async () => {
    const { pool, metrics } = poolWith(['a']);
    let s = await scrapeNow();
    expect(find(s, CALLS)).toEqual([]);
    await pool.run(() => 'x', { method: 'get' });
    s = await scrapeNow();
    expect(ZERO_CODES.map((code) => value(s, CALLS, { method: 'get', code }))).toEqual(ZERO_CODES.map(() => 0));
    // The codes the error-ratio alert and the dashboard need first.
    expect([...ZERO_CODES].sort()).toEqual(['ERR_ALL_CIRCUITS_OPEN', 'ERR_CLIENT_CALL', 'ERR_NO_CLIENTS', 'ERR_RATE_LIMITED', 'ERR_TIMEOUT']);
    // No histogram series for them: the duration of no call is no series.
    expect(find(s, CALL_COUNT).map((sample) => sample.labels['code'])).toEqual(['OK']);
    expect(find(s, CALLS, { method: 'put' })).toEqual([]);

    await pool.run(() => Promise.reject(new Error('down')), { method: 'get', timeout: 5 }).catch(() => undefined);
    s = await scrapeNow();
    expect(value(s, CALLS, { method: 'get', code: 'ERR_CLIENT_CALL' })).toBe(1);
    expect(value(s, CALL_COUNT, { method: 'get', code: 'ERR_CLIENT_CALL' })).toBe(1);
    expect(trackedEntries(metrics).methods).toBe(1);
    await pool.close();
  });

  it('keeps the zero series through registry.resetMetrics(), one line each', async () => {
    const { pool } = poolWith(['a', 'b']);
    await openCircuitOf(pool, 'b');
    await pool.run(() => 'x', { method: 'get' });
    registry.resetMetrics();
    const s = await scrapeNow();
    expect([value(s, TRANSITIONS, { client: 'a', ...OPENED }), value(s, TRANSITIONS, { client: 'b', ...OPENED })]).toEqual([0, 0]);
    expect(ZERO_CODES.map((code) => value(s, CALLS, { method: 'get', code }))).toEqual(ZERO_CODES.map(() => 0));
    await pool.close();
  });

  it("names the pool's own codes as themselves even after other codes filled the cap on distinct codes", async () => {
    const { pool } = poolWith(['a']);
    let next: () => Error = () => new Error('unset');
    // Inside the adapter's around, so that it sees each call end with the error made here.
    pool.use({ name: 'fail', around: () => Promise.reject(next()) });
    for (let i = 0; i < 70; i++) {
      next = () => new AppError(`APP_${i}`);
      await pool.run(() => 'x', { method: 'get' }).catch(() => undefined);
    }
    next = () => new TimeoutError(5);
    await pool.run(() => 'x', { method: 'get' }).catch(() => undefined);
    const s = await scrapeNow();
    // 64 codes kept their names, the 6 after them share ERR_UNKNOWN; the pool's own ERR_TIMEOUT is never one of those.
    expect(value(s, CALLS, { method: 'get', code: 'ERR_UNKNOWN' })).toBe(6);
    expect(value(s, CALLS, { method: 'get', code: 'ERR_TIMEOUT' })).toBe(1);
    await pool.close();
  });
});
