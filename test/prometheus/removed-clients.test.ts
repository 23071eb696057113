import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool, type Call, type StateChange } from '../../src/index.js';
import { prometheusMetrics, type PrometheusMetricsOptions } from '../../src/prometheus/index.js';
import { trackedEntries } from '../../src/prometheus/prometheus-metrics.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';
import { find, parseExposition, type Scrape } from './exposition.js';
import { snapshot, StandInPool } from './stand-in-pool.js';

interface Fake {
  readonly name: string;
}

/** The client names that have a series of `name` in a scrape. */
const clientsOf = (s: Scrape, name: string): string[] => [...new Set(find(s, name).map((sample) => sample.labels['client']!))].sort();

/** The default `removedClientsRetention`: 5 minutes. */
const RETENTION = 5 * 60_000;

function poolWith(registry: Registry, options: Omit<PrometheusMetricsOptions, 'registry'> = {}): { pool: ClientPool<Fake>; metrics: ReturnType<typeof prometheusMetrics>; clock: ManualClock } {
  const clock = new ManualClock();
  const metrics = prometheusMetrics({ registry, clock, ...options });
  const pool = new ClientPool<Fake>({ clock, breaker: { maxFailures: 1, cooldown: 1_000 } }).use(metrics);
  return { pool, metrics, clock };
}

/** `count` clients named `<prefix><i>` join, make one call each and leave (the last one stays when `keepLast`). */
async function churn(pool: ClientPool<Fake>, count: number, prefix: string, keepLast = false): Promise<void> {
  for (let i = 0; i < count; i++) {
    pool.add({ name: `${prefix}${i}` }, { name: `${prefix}${i}` });
    await pool.run(() => 'x', { method: 'get' });
    if (!keepLast || i < count - 1) await pool.remove(`${prefix}${i}`);
  }
}

describe('series of removed clients', () => {
  it('drops a removed client\'s series by default once a scrape showed its last counts and the retention passed', async () => {
    const registry = new Registry();
    const { pool, clock } = poolWith(registry);
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b' });
    for (let i = 0; i < 4; i++) await pool.run(() => 'x', { method: 'get' });
    // b fails until its circuit opens: a per-client transition series.
    const failOnB = (client: Fake): string => {
      if (client.name === 'b') throw new Error('down');
      return 'x';
    };
    for (let i = 0; i < 20 && pool.members().find((m) => m.name === 'b')!.state.kind === 'closed'; i++) await pool.run(failOnB, { method: 'get' }).catch(() => undefined);
    let s = parseExposition(await registry.metrics());
    expect(clientsOf(s, 'middleware_requests_total')).toEqual(['a', 'b']);
    expect(find(s, 'middleware_circuit_transitions_total', { client: 'b', to: 'open' })).toHaveLength(1);

    await pool.run(() => 'x', { method: 'get' });
    const before = find(s, 'middleware_requests_total').reduce((sum, sample) => sum + sample.value, 0);
    await pool.remove('b');
    // The next scrape still has b, with every attempt it ran before it left.
    s = parseExposition(await registry.metrics());
    expect(clientsOf(s, 'middleware_requests_total')).toEqual(['a', 'b']);
    expect(find(s, 'middleware_requests_total').reduce((sum, sample) => sum + sample.value, 0)).toBe(before + 1);
    expect(clientsOf(s, 'middleware_in_flight')).toEqual(['a']);
    // Within the retention, a second scrape (another scraper's) still has them.
    clock.advance(RETENTION - 1);
    expect(clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total')).toEqual(['a', 'b']);
    // Once it passed, the next scrape has none of b's series; a's and the call metrics stay.
    clock.advance(1);
    s = parseExposition(await registry.metrics());
    for (const name of ['middleware_requests_total', 'middleware_request_duration_seconds_count', 'middleware_request_errors_total', 'middleware_retries_total', 'middleware_circuit_state']) {
      expect(clientsOf(s, name)).toEqual(['a']);
    }
    expect(find(s, 'middleware_circuit_transitions_total', { client: 'b' })).toHaveLength(0);
    expect(find(s, 'middleware_calls_total', { method: 'get', code: 'OK' })[0]!.value).toBeGreaterThan(0);
    await pool.close();
  });

  it('keeps a removed client\'s series with removedClients: keep', async () => {
    const registry = new Registry();
    const { pool } = poolWith(registry, { removedClients: 'keep' });
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b' });
    for (let i = 0; i < 4; i++) await pool.run(() => 'x', { method: 'get' });
    await pool.remove('b');
    await registry.metrics();
    const s = parseExposition(await registry.metrics());
    expect(clientsOf(s, 'middleware_requests_total')).toEqual(['a', 'b']);
    await pool.close();
  });

  it('carries on with a client\'s series when it is added again under its name before it was dropped', async () => {
    const registry = new Registry();
    const { pool } = poolWith(registry);
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => 'x', { method: 'get' });
    await pool.remove('a');
    await registry.metrics();
    pool.add({ name: 'a2' }, { name: 'a' });
    await pool.run(() => 'x', { method: 'get' });
    await registry.metrics();
    let s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_requests_total', { client: 'a' }).map((sample) => sample.value)).toEqual([2]);
    // Removed again, it is again shown at one more scrape: its earlier absence is forgotten.
    await pool.run(() => 'x', { method: 'get' });
    await pool.remove('a');
    s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_requests_total', { client: 'a' }).map((sample) => sample.value)).toEqual([3]);
    await pool.close();
  });

  it('shows a client at one more scrape after each removal, even one after it came back with no new counts', async () => {
    const registry = new Registry();
    const { pool } = poolWith(registry);
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => 'x', { method: 'get' });
    await pool.remove('a');
    await registry.metrics();
    pool.add({ name: 'a' }, { name: 'a' });
    await registry.metrics();
    await pool.remove('a');
    const s = parseExposition(await registry.metrics());
    expect(clientsOf(s, 'middleware_requests_total')).toEqual(['a']);
    await pool.close();
  });

  it('shows a removed client at the next scrape even when a sweep between scrapes found it gone', async () => {
    const registry = new Registry();
    const { pool, clock } = poolWith(registry);
    pool.add({ name: 'gone' }, { name: 'gone' });
    await pool.run(() => 'x', { method: 'get' });
    await pool.remove('gone');
    // 64 new clients, one at a time, make 64 new entries: a sweep runs between scrapes and marks "gone".
    await churn(pool, 64, 'n', true);
    let s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_requests_total', { client: 'gone' }).map((sample) => sample.value)).toEqual([1]);
    clock.advance(RETENTION);
    s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_requests_total', { client: 'gone' })).toHaveLength(0);
    await pool.close();
  });

  it('shows a removed client at the next scrape however many sweeps ran between scrapes', async () => {
    const registry = new Registry();
    const { pool, clock } = poolWith(registry);
    pool.add({ name: 'gone' }, { name: 'gone' });
    await pool.run(() => 'x', { method: 'get' });
    await pool.remove('gone');
    // 130 clients come and go: two sweeps between scrapes, the first marks "gone", the second must keep it.
    await churn(pool, 130, 'n');
    let s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_requests_total', { client: 'gone' }).map((sample) => sample.value)).toEqual([1]);
    clock.advance(RETENTION);
    s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_requests_total', { client: 'gone' })).toHaveLength(0);
    await pool.close();
  });

  it('lets at most max(64, clients) removed clients wait for a scrape: the first ones removed keep their place', async () => {
    const registry = new Registry();
    const { pool, metrics } = poolWith(registry);
    await churn(pool, 1_000, 'c');
    // At most 64 removed clients waiting, and fewer than 64 made since the last sweep.
    expect(trackedEntries(metrics).clients).toBeLessThanOrEqual(64 + 64);
    const shown = clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total');
    expect(shown).toContain('c0');
    expect(shown).not.toContain('c500');
    await pool.close();
  });

  it("keeps a closing pool's client series through scrapes made while close() waits for a call in flight", async () => {
    const registry = new Registry();
    const { pool } = poolWith(registry);
    pool.add({ name: 'a' }, { name: 'a' });
    for (let i = 0; i < 5; i++) await pool.run(() => 'x', { method: 'get' });
    let release = (): void => {};
    const running = pool.run(() => new Promise<string>((resolve) => (release = () => resolve('x'))), { method: 'get' });
    const closing = pool.close();
    // The pool no longer lists "a" while close() waits: two scrapes would have dropped it as removed.
    await registry.metrics();
    await registry.metrics();
    release();
    await running;
    await closing;
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_requests_total', { client: 'a', method: 'get' }).map((sample) => sample.value)).toEqual([6]);
  });

  it("treats a closed pool's clients as removed ones while the adapter serves another pool", async () => {
    const registry = new Registry();
    const clock = new ManualClock();
    const metrics = prometheusMetrics({ registry, clock });
    const one = new ClientPool<Fake>({ clock }).use(metrics);
    const two = new ClientPool<Fake>({ clock }).use(metrics);
    one.add({ name: 'x' }, { name: 'x' });
    two.add({ name: 'y' }, { name: 'y' });
    await one.run(() => 'x', { method: 'get' });
    await two.run(() => 'x', { method: 'get' });
    await one.close();
    expect(clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total')).toEqual(['x', 'y']);
    clock.advance(RETENTION);
    expect(clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total')).toEqual(['y']);
    await two.close();
  });

  it('starts a client added again after its series were dropped from zero', async () => {
    const registry = new Registry();
    const { pool, clock } = poolWith(registry);
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => 'x', { method: 'get' });
    await pool.remove('a');
    await registry.metrics();
    clock.advance(RETENTION);
    await registry.metrics();
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => 'x', { method: 'get' });
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_requests_total', { client: 'a' }).map((sample) => sample.value)).toEqual([1]);
    await pool.close();
  });

  it('stays bounded over 10 000 add/remove cycles without a scrape when calls are in flight at removal', async () => {
    const registry = new Registry();
    const { pool, metrics } = poolWith(registry);
    pool.add({ name: 'steady' }, { name: 'steady' });
    for (let i = 0; i < 10_000; i++) {
      const name = `c${i}`;
      pool.add({ name }, { name });
      if (i % 100 === 0) {
        // The attempt ends after its client's removal began: counted on a client already gone.
        let release = (): void => {};
        const running = pool.run(() => new Promise<string>((resolve) => (release = () => resolve('x'))), { method: 'get' });
        const removing = pool.remove(name);
        release();
        await running;
        await removing;
      } else {
        await pool.run(() => 'x', { method: 'get' });
        await pool.remove(name);
      }
    }
    // The live ones, at most 64 waiting for a scrape, fewer than 64 made since the last sweep.
    expect(trackedEntries(metrics).clients).toBeLessThanOrEqual(2 + 64 + 64);
    await pool.close();
  });

  it('drops client-scoped rate-limit series of removed clients, never the pool-wide ones', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry, removedClientsRetention: 0 });
    const pool = new StandInPool();
    pool.snapshots = [snapshot('a')];
    metrics.attach(pool);
    for (const [scope, client] of [['pool', undefined], ['client', 'a']] as const) {
      pool.rateLimits.emit({ scope, client, method: 'get', waitedMs: 5, rejected: false });
      pool.rateLimits.emit({ scope, client, method: 'get', waitedMs: 5, rejected: true });
    }
    pool.snapshots = [];
    await registry.metrics();
    // A refusal reported after the client left (its call was waiting): shown at one more scrape.
    pool.rateLimits.emit({ scope: 'client', client: 'a', method: 'get', waitedMs: 5, rejected: true });
    pool.rateLimits.emit({ scope: 'client', client: 'a', method: 'get', waitedMs: 5, rejected: false });
    const late = parseExposition(await registry.metrics());
    expect(find(late, 'middleware_rate_limited_total', { scope: 'client', client: 'a' }).map((sample) => sample.value)).toEqual([2]);
    expect(find(late, 'middleware_rate_limit_wait_seconds_count', { scope: 'client', client: 'a' }).map((sample) => sample.value)).toEqual([2]);
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_rate_limited_total').map((sample) => sample.labels['scope'])).toEqual(['pool']);
    expect(find(s, 'middleware_rate_limit_wait_seconds_count').map((sample) => sample.labels['scope'])).toEqual(['pool']);
  });

  it('drops nothing while no pool is attached, so the counts stay readable after every pool closed', async () => {
    const registry = new Registry();
    const { pool } = poolWith(registry);
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => 'x', { method: 'get' });
    await pool.close();
    await registry.metrics();
    const s = parseExposition(await registry.metrics());
    expect(clientsOf(s, 'middleware_requests_total')).toEqual(['a']);
  });

  it('keeps memory bounded over 10 000 add/remove cycles without a scrape', async () => {
    const registry = new Registry();
    const { pool, metrics, clock } = poolWith(registry);
    let most = 0;
    for (let i = 0; i < 10_000; i++) {
      const name = `churn-${i}`;
      pool.add({ name }, { name });
      // Every other client fails its call and its circuit opens: a transition series per client too.
      await pool.run(() => (i % 2 === 0 ? 'x' : Promise.reject(new Error('down'))), { method: 'get' }).catch(() => undefined);
      await pool.remove(name);
      const entries = trackedEntries(metrics);
      most = Math.max(most, entries.clients + entries.transitions + entries.rateLimits);
    }
    expect(trackedEntries(metrics).transitions).toBeGreaterThan(0);
    // A sweep runs every 64 new entries (max(64, live clients)); at most 64 marked entries wait for a scrape.
    expect(most).toBeLessThanOrEqual(3 * 64);
    // Two scrapes: the first shows what is left and marks it, the second, past the retention, has no client series at all.
    await registry.metrics();
    clock.advance(RETENTION);
    const s = parseExposition(await registry.metrics());
    expect(clientsOf(s, 'middleware_requests_total')).toEqual([]);
    expect(trackedEntries(metrics)).toEqual({ clients: 0, transitions: 0, rateLimits: 0, methods: 1 });
    // The call-level series stay: every call was counted.
    expect(find(s, 'middleware_calls_total').reduce((sum, sample) => sum + sample.value, 0)).toBe(10_000);
    await pool.close();
  });

  it('never drops a client in the pool, shows new counts at one more scrape, and forgets a client gone at two (any sequence)', async () => {
    // `late`: an attempt that was in flight when its client left ends now.
    type Op = { kind: 'add' | 'remove' | 'call' | 'late'; client: number } | { kind: 'scrape' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constantFrom('add' as const, 'remove' as const, 'call' as const, 'late' as const), client: fc.integer({ min: 0, max: 4 }) }),
      fc.constant({ kind: 'scrape' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const registry = new Registry();
        const metrics = prometheusMetrics({ registry, removedClientsRetention: 0 });
        const pool = new StandInPool();
        metrics.attach(pool);
        const live = new Set<string>();
        /** Clients whose series the adapter holds, and whether a scrape found each gone since its last counts. */
        const seenGone = new Map<string, boolean>();
        for (const step of ops) {
          if (step.kind === 'scrape') {
            const shown = new Set(clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total'));
            for (const [client, wasSeenGone] of seenGone) {
              // In the pool: shown. Gone: shown at one more scrape after its removal or its last counts, then forgotten.
              const isShown = live.has(client) || !wasSeenGone;
              expect([client, shown.has(client)]).toEqual([client, isShown]);
              if (isShown) seenGone.set(client, !live.has(client));
              else seenGone.delete(client);
            }
            continue;
          }
          const name = `c${step.client}`;
          if (step.kind === 'add') live.add(name);
          else if (step.kind === 'remove') live.delete(name);
          else if (step.kind === 'late' ? !live.has(name) : live.has(name)) {
            metrics.onOutcome({ clientName: name, method: 'get', kind: 'first' } as Call<unknown>, { kind: 'success' }, 1);
            seenGone.set(name, false);
          }
          pool.snapshots = [...live].map((client) => snapshot(client));
        }
        metrics.unregister();
      }),
      { numRuns: 300 },
    );
  });

  it.each([['without scrapes', 0], ['with a scrape every 100 clients', 100]])(
    "keeps dropping another pool's removed clients while one pool's close() waits for a call that never settles (%s)",
    async (_, scrapeEvery) => {
      const registry = new Registry();
      const clock = new ManualClock();
      const metrics = prometheusMetrics({ registry, clock });
      const stuck = new ClientPool<Fake>({ clock }).use(metrics);
      const busy = new ClientPool<Fake>({ clock }).use(metrics);
      stuck.add({ name: 'stuck' }, { name: 'stuck' });
      for (let i = 0; i < 3; i++) await stuck.run(() => 'x', { method: 'get' });
      // Added after the last sweep, just before the close: its series are protected too.
      stuck.add({ name: 'late' }, { name: 'late' });
      await stuck.run(() => 'x', { method: 'get' });
      // Its function ignores call.signal: not even destroy() settles it, so close() never finishes by itself.
      void stuck.run(() => new Promise<string>(() => {}), { method: 'get' }).catch(() => undefined);
      const closing = stuck.close();
      busy.add({ name: 'steady' }, { name: 'steady' });
      let most = 0;
      for (let i = 0; i < 10_000; i++) {
        const name = `c${i}`;
        busy.add({ name }, { name });
        await busy.run(() => (i % 2 === 0 ? 'x' : Promise.reject(new Error('down'))), { method: 'get' }).catch(() => undefined);
        await busy.remove(name);
        if (scrapeEvery > 0 && i % scrapeEvery === 0) await registry.metrics();
        const entries = trackedEntries(metrics);
        most = Math.max(most, entries.clients + entries.transitions + entries.rateLimits);
      }
      // The live and protected clients, at most max(64, clients) removed ones waiting (a client has up
      // to two entries here), fewer than 64 entries made since the last sweep.
      expect(most).toBeLessThanOrEqual(3 + 2 * 64 + 64);
      const s = parseExposition(await registry.metrics());
      expect(find(s, 'middleware_requests_total', { client: 'stuck' }).map((sample) => sample.value)).toEqual([3]);
      expect(find(s, 'middleware_requests_total', { client: 'late' }).map((sample) => sample.value)).toEqual([1]);
      expect(find(s, 'middleware_circuit_transitions_total', { client: 'stuck', from: 'closed', to: 'open' }).map((sample) => sample.value)).toEqual([0]);
      await Promise.all([stuck.destroy(), closing, busy.close()]);
    },
  );

  it('keeps max(64, clients) removed clients until the next scrape whatever the number of series each has', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry });
    const pool = new StandInPool();
    metrics.attach(pool);
    const steady = snapshot('steady');
    pool.snapshots = [steady];
    for (let i = 0; i < 200; i++) {
      const client = `c${i}`;
      pool.snapshots = [steady, snapshot(client)];
      // Four entries per client: its calls, a transition, a refusal and a wait of its rate limit.
      metrics.onOutcome({ clientName: client, method: 'get', kind: 'first' } as Call<unknown>, { kind: 'success' }, 1);
      pool.stateChanges.emit({ client, from: { kind: 'closed' }, to: { kind: 'open', until: 1_000 }, at: 0 } as StateChange);
      pool.rateLimits.emit({ scope: 'client', client, method: 'get', waitedMs: 5, rejected: true });
      pool.rateLimits.emit({ scope: 'client', client, method: 'get', waitedMs: 5, rejected: false });
      pool.snapshots = [steady];
    }
    const s = parseExposition(await registry.metrics());
    const first64 = Array.from({ length: 64 }, (_, i) => `c${i}`);
    for (const name of ['middleware_requests_total', 'middleware_circuit_transitions_total', 'middleware_rate_limited_total', 'middleware_rate_limit_wait_seconds_count']) {
      const shown = clientsOf(s, name);
      // The first 64 removed keep their place, every series of each; those after them were dropped unseen
      // but for the ones made since the last sweep (16 clients of 4 entries), which the scrape shows.
      expect(first64.filter((client) => !shown.includes(client)), name).toEqual([]);
      expect(shown.filter((client) => client !== 'steady').length, name).toBeLessThanOrEqual(64 + 16);
      expect(shown, name).not.toContain('c100');
    }
    metrics.unregister();
  });

  it('keeps a removed client\'s series through every scrape within removedClientsRetention, so each of two scrapers sees its last counts', async () => {
    const registry = new Registry();
    const { pool, clock } = poolWith(registry, { removedClientsRetention: 60_000 });
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b' });
    for (let i = 0; i < 4; i++) await pool.run(() => 'x', { method: 'get' });
    await pool.remove('b');
    clock.advance(1_000);
    // An HA pair 15 s apart, each every 30 s, and a health check hitting /metrics in between.
    const seen: boolean[] = [];
    for (let t = 0; t < 8; t++) {
      for (let hit = 0; hit < 3; hit++) seen.push(clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total').includes('b'));
      clock.advance(15_000);
    }
    // Found gone at the first scrape (at 1 s), kept until 60 s later: scrapes at 1, 16, 31 and 46 s show it, not 61 s.
    expect(seen).toEqual([...Array<boolean>(12).fill(true), ...Array<boolean>(12).fill(false)]);
    await pool.close();
  });

  it('drops a removed client\'s series at the scrape after the one that showed them with removedClientsRetention: 0', async () => {
    const registry = new Registry();
    const { pool } = poolWith(registry, { removedClientsRetention: 0 });
    pool.add({ name: 'a' }, { name: 'a' });
    pool.add({ name: 'b' }, { name: 'b' });
    for (let i = 0; i < 4; i++) await pool.run(() => 'x', { method: 'get' });
    await pool.remove('b');
    expect(clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total')).toEqual(['a', 'b']);
    expect(clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total')).toEqual(['a']);
    await pool.close();
  });

  it('drops a removed client only once a scrape showed it, however long ago it left', async () => {
    const registry = new Registry();
    const clock = new ManualClock();
    const metrics = prometheusMetrics({ registry, clock });
    const pool = new StandInPool();
    metrics.attach(pool);
    const callOn = (clientName: string): void => metrics.onOutcome({ clientName, method: 'get', kind: 'first' } as Call<unknown>, { kind: 'success' }, 1);
    pool.snapshots = [snapshot('b')];
    callOn('b');
    pool.snapshots = [];
    /** 64 new clients in the pool make 64 entries: a sweep between scrapes. */
    const sweepNow = (prefix: string): void => {
      const names = Array.from({ length: 64 }, (_, i) => `${prefix}${i}`);
      pool.snapshots = names.map((name) => snapshot(name));
      for (const name of names) callOn(name);
    };
    sweepNow('n');
    // Found gone at that sweep; the retention passes with no scrape, and another sweep runs.
    clock.advance(10 * RETENTION);
    sweepNow('m');
    expect(find(parseExposition(await registry.metrics()), 'middleware_requests_total', { client: 'b' })).toHaveLength(1);
    // Both conditions met now: shown once, retention long past.
    expect(find(parseExposition(await registry.metrics()), 'middleware_requests_total', { client: 'b' })).toHaveLength(0);
    metrics.unregister();
  });

  it('bounds removed clients waiting out the retention by the allowance, giving way to ones no scrape has shown', async () => {
    const registry = new Registry();
    const { pool, metrics } = poolWith(registry);
    // 100 removed, all shown by one scrape, all within the retention (the clock does not move).
    await churn(pool, 100, 'old');
    const first = clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total');
    expect(first).toHaveLength(100);
    // 64 more leave before the next scrape: they take the allowance, and shown ones waiting give way.
    await churn(pool, 64, 'new');
    const shown = clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total');
    expect(shown.filter((client) => client.startsWith('new'))).toHaveLength(64);
    expect(shown.filter((client) => client.startsWith('old'))).toEqual([]);
    // Scrapes with no churn in between keep memory within the allowance, however many there are.
    await churn(pool, 300, 'more');
    for (let i = 0; i < 3; i++) await registry.metrics();
    expect(trackedEntries(metrics).clients).toBeLessThanOrEqual(64);
    await pool.close();
  });

  it('shows a removed client at every scrape until one has shown it and the retention has passed since it was found gone (any sequence)', async () => {
    const retention = 1_000;
    type Op = { kind: 'add' | 'remove' | 'late'; client: number } | { kind: 'scrape' } | { kind: 'wait'; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constantFrom('add' as const, 'remove' as const, 'late' as const), client: fc.integer({ min: 0, max: 3 }) }),
      fc.constant({ kind: 'scrape' as const }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.constantFrom(1, 400, 999, 1_000) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const registry = new Registry();
        const clock = new ManualClock();
        const metrics = prometheusMetrics({ registry, clock, removedClientsRetention: retention });
        const pool = new StandInPool();
        metrics.attach(pool);
        const live = new Set<string>();
        /** Clients the adapter holds: when a scrape first found each gone since its last counts (undefined: not yet). */
        const goneSince = new Map<string, number | undefined>();
        for (const step of ops) {
          if (step.kind === 'wait') {
            clock.advance(step.ms);
            continue;
          }
          if (step.kind === 'scrape') {
            const shown = new Set(clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total'));
            for (const [client, since] of goneSince) {
              if (live.has(client)) {
                goneSince.set(client, undefined);
              } else if (since === undefined) {
                goneSince.set(client, clock.time);
              } else if (clock.time - since >= retention) {
                // Shown at the scrape that found it gone, and the retention has passed: dropped.
                expect([client, shown.has(client)]).toEqual([client, false]);
                goneSince.delete(client);
                continue;
              }
              expect([client, shown.has(client)]).toEqual([client, true]);
            }
            continue;
          }
          const name = `c${step.client}`;
          if (step.kind === 'add') live.add(name);
          else if (step.kind === 'remove') live.delete(name);
          else {
            // Counts, in the pool or after it left (an attempt in flight at its removal): its clock restarts.
            metrics.onOutcome({ clientName: name, method: 'get', kind: 'first' } as Call<unknown>, { kind: 'success' }, 1);
            goneSince.set(name, undefined);
          }
          pool.snapshots = [...live].map((client) => snapshot(client));
        }
        metrics.unregister();
      }),
      { numRuns: 300 },
    );
  });

  it('grows without bound under churn with removedClients: keep (what drop prevents)', async () => {
    const registry = new Registry();
    const { pool, metrics } = poolWith(registry, { removedClients: 'keep' });
    await churn(pool, 1_000, 'c');
    expect(trackedEntries(metrics).clients).toBe(1_000);
    await pool.close();
  });
});

describe('removed clients right after a scrape', () => {
  it('trims the removed clients a scrape showed past the allowance at the first sweep after it, before new series pile up on them', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry });
    const pool = new StandInPool();
    metrics.attach(pool);
    const steady = snapshot('steady');
    const many = Array.from({ length: 200 }, (_, i) => `c${i}`);
    pool.snapshots = [steady, ...many.map((client) => snapshot(client))];
    for (const client of many) metrics.onOutcome({ clientName: client, method: 'get', kind: 'first' } as Call<unknown>, { kind: 'success' }, 1);
    // All 200 leave at once: no new series, so no sweep, until the scrape, which shows every one.
    pool.snapshots = [steady];
    expect(clientsOf(parseExposition(await registry.metrics()), 'middleware_requests_total')).toHaveLength(200);
    let most = 0;
    for (let i = 0; i < 200; i++) {
      const client = `new${i}`;
      pool.snapshots = [steady, snapshot(client)];
      metrics.onOutcome({ clientName: client, method: 'get', kind: 'first' } as Call<unknown>, { kind: 'success' }, 1);
      pool.snapshots = [steady];
      most = Math.max(most, trackedEntries(metrics).clients);
    }
    // The live client, max(64, clients) removed ones, fewer than 64 made since the last sweep: the 200 shown
    // are trimmed at once, not a whole interval later (200 + 63).
    expect(most).toBeLessThanOrEqual(1 + 64 + 64);
    metrics.unregister();
  });
});

/** An adapter on a manual clock serving two pools. */
function twoPools(retention = RETENTION): { registry: Registry; clock: ManualClock; metrics: ReturnType<typeof prometheusMetrics>; one: ClientPool<Fake>; two: ClientPool<Fake> } {
  const registry = new Registry();
  const clock = new ManualClock();
  const metrics = prometheusMetrics({ registry, clock, removedClientsRetention: retention });
  const one = new ClientPool<Fake>({ clock, breaker: false }).use(metrics);
  const two = new ClientPool<Fake>({ clock, breaker: false }).use(metrics);
  return { registry, clock, metrics, one, two };
}

const requestsOf = (s: Scrape, client: string): number[] => find(s, 'middleware_requests_total', { client }).map((sample) => sample.value);

describe('removed clients of two pools on one adapter', () => {
  it('carries on with the series of a client removed from one pool and added to the other under its name within the retention', async () => {
    const { registry, clock, one, two } = twoPools();
    one.add({ name: 'x' }, { name: 'x' });
    await one.run(() => 'x', { method: 'get' });
    await one.remove('x');
    await registry.metrics();
    clock.advance(RETENTION / 2);
    two.add({ name: 'x' }, { name: 'x' });
    clock.advance(RETENTION);
    await registry.metrics();
    await two.run(() => 'x', { method: 'get' });
    // One counter, never reset: 2 attempts.
    expect(requestsOf(parseExposition(await registry.metrics()), 'x')).toEqual([2]);
    await Promise.all([one.close(), two.close()]);
  });

  it('keeps at most max(64, clients) removed clients, and fewer than 64 not yet swept, when a scrape comes every 1 000 removals', async () => {
    const { registry, clock, metrics, two } = twoPools(2 ** 31 - 1);
    two.add({ name: 'steady' }, { name: 'steady' });
    let most = 0;
    for (let i = 0; i < 3_000; i++) {
      const name = `c${i}`;
      // Weighted so that every call runs on the new client: one new entry per removal.
      two.add({ name }, { name, weight: 1_000 });
      await two.run(() => 'x', { method: 'get' });
      await two.remove(name);
      clock.advance(1);
      if (i % 1_000 === 999) await registry.metrics();
      most = Math.max(most, trackedEntries(metrics).clients);
    }
    expect(most).toBeLessThanOrEqual(1 + 64 + 64);
    await two.close();
  });

  it("keeps a stuck pool's client through 10 000 removals from the other pool, memory bounded", async () => {
    const { registry, clock, metrics, one, two } = twoPools(2 ** 31 - 1);
    one.add({ name: 'stuck' }, { name: 'stuck' });
    await one.run(() => 'x', { method: 'get' });
    const answer = deferred<string>();
    const running = one.run(() => answer.promise, { method: 'get' });
    const closing = one.close();
    two.add({ name: 'steady' }, { name: 'steady' });
    let most = 0;
    for (let i = 0; i < 10_000; i++) {
      const name = `c${i}`;
      two.add({ name }, { name, weight: 1_000 });
      await two.run(() => 'x', { method: 'get' });
      await two.remove(name);
      clock.advance(1);
      if (i % 1_000 === 999) expect(requestsOf(parseExposition(await registry.metrics()), 'stuck')).toEqual([1]);
      most = Math.max(most, trackedEntries(metrics).clients);
    }
    // Bounded by a few intervals (one interval of the other pool's clients joins the stuck pool's, as
    // documented), not by the 10 000 removals.
    expect(most).toBeLessThan(400);
    answer.resolve('x');
    await running;
    await closing;
    expect(requestsOf(parseExposition(await registry.metrics()), 'stuck')).toEqual([2]);
    await two.close();
  });

  it('shows the last counts of a client removed while a scrape and close() run at once', async () => {
    const { registry, one, two } = twoPools(0);
    one.add({ name: 'a' }, { name: 'a' });
    two.add({ name: 'b' }, { name: 'b' });
    const answer = deferred<string>();
    const running = one.run(() => answer.promise, { method: 'get' });
    const [first] = await Promise.all([registry.metrics(), one.close(), Promise.resolve().then(() => answer.resolve('x'))]);
    await running;
    expect(requestsOf(parseExposition(first), 'a').length + requestsOf(parseExposition(await registry.metrics()), 'a').length).toBeGreaterThan(0);
    await two.close();
  });
});
