// Several Node processes (fleet-circuit-worker.ts), each with a ClientPool and a RedisFleet on one real
// redis-server, calling real HTTP upstreams that this process serves and counts: what a process sent is
// counted where it lands, across every process. Each test waits for events (a transition, an applied
// report, a fallback) and then counts; the only wall-clock bounds are the properties that are about time
// ("within 1 s", "for Retry-After"). The slow tier runs on ioredis 5 only: the fleet sends the same two
// scripts through either major, and redis-fleet.test.ts runs both in one process.
//
// Requests a dead upstream received from 4 processes calling every ~10 ms, until every pool saw its 5th
// opening (cooldown 500 ms, maxFailures 3, halfOpenProbes 1), as the last test prints them on a quiet
// 2-core machine. Up to 12 of them are first failures (3 per process; fewer with the fleet when another
// process's opening arrives first); the rest are half-open probes.
//
//   |                | requests to the dead x | processes probing each half-open period |
//   | fleet (Redis)  | 13 to 16               | 1                                       |
//   | no fleet       | 28 to 34               | 4                                       |
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWithRedis, IOREDIS_MAJORS, useRedisServer, type RedisFixture } from './describe-with-redis.js';
import type { CallRecord, CircuitWorkerConfig, RunCommand, ToParent, ToWorker, WorkerEvent } from './fleet-circuit-worker.js';

const WORKER = fileURLToPath(new URL('./fleet-circuit-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const IOREDIS = IOREDIS_MAJORS[0]!;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------
// Upstreams: real HTTP servers on 127.0.0.1; every request is recorded with the process that sent it.

interface UpstreamRequest {
  readonly process: string;
  readonly at: number;
  /** The trips of the opening a half-open probe was sent for, 0 for an ordinary call. */
  readonly probeOf: number;
}

interface Upstream {
  readonly name: string;
  readonly url: string;
  readonly requests: UpstreamRequest[];
  /** `ok` answers 200, `dead` 503; `429` answers the next request 429 with `Retry-After: 2`, then 200. */
  mode: 'ok' | 'dead' | '429';
  close(): Promise<void>;
}

async function startUpstream(name: string): Promise<Upstream> {
  const requests: UpstreamRequest[] = [];
  const upstream = { name, url: '', requests, mode: 'ok' as Upstream['mode'], close: async () => {} };
  const server: Server = createServer((request, response) => {
    requests.push({ process: String(request.headers['x-process']), at: Date.now(), probeOf: Number(request.headers['x-probe-of'] ?? 0) });
    if (upstream.mode === 'dead') {
      response.writeHead(503).end();
    } else if (upstream.mode === '429') {
      upstream.mode = 'ok';
      response.writeHead(429, { 'retry-after': '2' }).end();
    } else {
      response.writeHead(200).end(name);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  upstream.url = `http://127.0.0.1:${address.port}/`;
  upstream.close = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  return upstream;
}

async function startUpstreams<N extends string>(...names: N[]): Promise<Record<N, Upstream>> {
  const entries = await Promise.all(names.map(async (name) => [name, await startUpstream(name)] as const));
  return Object.fromEntries(entries) as Record<N, Upstream>;
}

// ---------------------------------------------------------------------------------------------------------
// Workers: a child process each, driven by IPC.

type Ran = Extract<ToParent, { type: 'ran' }>;
type Closed = Extract<ToParent, { type: 'closed' }>;

class Worker {
  readonly name: string;
  readonly events: WorkerEvent[] = [];
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  #ran: ((message: Ran) => void) | undefined;
  #closed: ((message: Closed) => void) | undefined;
  #exit: Error | undefined;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
  }

  /** Start a worker; resolves once its fleet has synced (or at once, without a fleet). */
  static start(config: CircuitWorkerConfig): Promise<Worker> {
    const child = fork(WORKER, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const worker = new Worker(config.name, child);
    return new Promise((resolve, reject) => {
      child.on('message', (message: ToParent) => {
        if (message.type === 'ready') resolve(worker);
        else if (message.type === 'event') worker.events.push(message.event);
        else if (message.type === 'ran') worker.#ran?.(message);
        else worker.#closed?.(message);
        for (const wake of worker.#waiters) wake();
      });
      // A message to a worker on its way out fails (EPIPE) as an 'error' event: a failure of the test, not an uncaught exception.
      child.on('error', (cause) => {
        worker.#exit ??= new Error(`worker ${config.name} failed: ${cause.message}`, { cause });
        reject(worker.#exit);
        for (const wake of worker.#waiters) wake();
      });
      child.on('exit', (code) => {
        worker.#exit = new Error(`worker ${config.name} exited with code ${code}`);
        reject(worker.#exit);
        for (const wake of worker.#waiters) wake();
      });
    });
  }

  /** Resolves with the first event `match` accepts (among those already received, too). */
  async waitFor<E extends WorkerEvent>(match: (event: WorkerEvent) => event is E): Promise<E>;
  async waitFor(match: (event: WorkerEvent) => boolean): Promise<WorkerEvent>;
  async waitFor(match: (event: WorkerEvent) => boolean): Promise<WorkerEvent> {
    for (;;) {
      const found = this.events.find(match);
      if (found !== undefined) return found;
      if (this.#exit !== undefined) throw this.#exit;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
      });
    }
  }

  /** Run calls until the command's condition; resolves with this run's calls. */
  run(command: Omit<RunCommand, 'type'>): Promise<Ran> {
    const ran = new Promise<Ran>((resolve) => (this.#ran = resolve));
    this.#send({ type: 'run', ...command });
    return ran;
  }

  stop(): void {
    this.#send({ type: 'stop' });
  }

  close(): Promise<Closed> {
    const closed = new Promise<Closed>((resolve) => (this.#closed = resolve));
    this.#send({ type: 'close' });
    return closed;
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill();
  }

  #send(message: ToWorker): void {
    this.#child.send(message);
  }
}

const isApply =
  (client: string, applied: 'open' | 'close' | 'pause') =>
  (event: WorkerEvent): event is Extract<WorkerEvent, { kind: 'apply' }> =>
    event.kind === 'apply' && event.client === client && event.applied === applied;
const isState =
  (client: string, to: 'open' | 'half-open' | 'closed', minTrips = 0) =>
  (event: WorkerEvent): event is Extract<WorkerEvent, { kind: 'state' }> =>
    event.kind === 'state' && event.client === client && event.to === to && event.trips >= minTrips;
const isKind =
  <K extends WorkerEvent['kind']>(kind: K) =>
  (event: WorkerEvent): event is Extract<WorkerEvent, { kind: K }> =>
    event.kind === kind;

/** `Map.groupBy`, which Node 20 lacks. */
function groupBy<V, K>(values: readonly V[], keyOf: (value: V) => K): Map<K, V[]> {
  const groups = new Map<K, V[]>();
  for (const value of values) {
    const key = keyOf(value);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [value]);
    else group.push(value);
  }
  return groups;
}

const count = (calls: readonly CallRecord[], upstream: string): number => calls.filter((c) => c.upstream === upstream).length;
const from = (requests: readonly UpstreamRequest[], process: string): UpstreamRequest[] => requests.filter((r) => r.process === process);

let keys = 0;
const freshKey = (): string => `fleet-circuits:${process.pid}:${++keys}`;

/** Poll Redis until `field` of `key` exists; resolves with the time it was seen. */
async function fieldAppears(fixture: RedisFixture, key: string, field: string): Promise<number> {
  const redis = await fixture.connect();
  try {
    while ((await redis.call('HGET', key, field)) === null) await sleep(2);
    return Date.now();
  } finally {
    redis.disconnect();
  }
}

/** Start the workers, run the test, then close them (asserting none saw an unhandled rejection) and the upstreams. */
async function withFleet(configs: readonly CircuitWorkerConfig[], upstreams: readonly Upstream[], body: (workers: Worker[]) => Promise<void>): Promise<void> {
  const started = await Promise.allSettled(configs.map((config) => Worker.start(config)));
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    await body(workers);
    const closed = await Promise.all(workers.map((w) => w.close()));
    for (const report of closed) expect(report.unhandled).toEqual([]);
  } finally {
    for (const worker of workers) worker.kill();
    await Promise.all(upstreams.map((u) => u.close()));
  }
}

describeWithRedis(`a fleet of processes sharing circuits through Redis (${IOREDIS.label})`, () => {
  const fixture = useRedisServer(IOREDIS);
  const configFor = (name: string, upstreams: readonly Upstream[], options: Partial<CircuitWorkerConfig> = {}): CircuitWorkerConfig => ({
    name,
    redisPort: fixture.server.port,
    ioredis: IOREDIS.module,
    upstreams: upstreams.map(({ name: n, url }) => ({ name: n, url })),
    fleet: null,
    breaker: { maxFailures: 3, cooldown: 30_000 },
    attempts: 1,
    ...options,
  });

  it(
    'A trips x: B takes the opening at a sync (its lag printed), before any call of its own reached x, and of the calls B starts after that sync, over 1 s, none goes to x',
    { timeout: 60_000 },
    async () => {
      const key = freshKey();
      // A generous Redis timeout: this test is about sharing; a fallback on a busy machine is tested below.
      const fleet = { key, syncInterval: 250, timeout: 5_000 };
      const { x, y } = await startUpstreams('x', 'y');
      x.mode = 'dead';
      await withFleet([configFor('A', [x, y], { fleet }), configFor('B', [x, y], { fleet })], [x, y], async ([A, B]) => {
        const tripped = await A!.run({ untilOpen: 'x' });
        expect(count(tripped.calls, 'x')).toBe(3); // maxFailures
        const published = await fieldAppears(fixture, key, 'o:x');
        const applied = await B!.waitFor(isApply('x', 'open'));
        // From A's report to B's sync, on the server's clock: about syncInterval (250 ms) and a round trip.
        // Printed, not bounded: a busy machine makes it longer, not wrong.
        expect(applied.lagMs).toBeGreaterThanOrEqual(0);
        console.info(`fleet lag (${IOREDIS.label}): A's opening applied by B ${applied.lagMs} ms after it reached Redis (server clock), ${Math.round(applied.at - published)} ms by the test's clock`);
        expect(from(x.requests, 'B')).toEqual([]);

        const ran = await B!.run({ forMs: 1_000 });
        expect(ran.calls.length).toBeGreaterThan(0);
        expect(count(ran.calls, 'x')).toBe(0);
        expect(ran.errors).toEqual([]);
        expect(from(x.requests, 'B')).toEqual([]);
        expect(ran.stats).toMatchObject({ fallbacks: 0 });
      });
    },
  );

  it('a 429 with Retry-After: 2 on A pauses x on B: B sends x nothing until the pause ends, then calls it again', { timeout: 60_000 }, async () => {
    const fleet = { key: freshKey(), syncInterval: 100, timeout: 5_000 };
    const { x, y } = await startUpstreams('x', 'y');
    await withFleet([configFor('A', [x, y], { fleet }), configFor('B', [x, y], { fleet })], [x, y], async ([A, B]) => {
      x.mode = '429';
      const paused = await A!.run({ untilUpstream: 'x' });
      expect(paused.errors).toHaveLength(1);
      expect(paused.errors[0]).toContain('x answered 429');
      const answered = x.requests.find((r) => r.process === 'A')!.at;
      await B!.waitFor(isApply('x', 'pause'));

      const ran = await B!.run({ untilUpstream: 'x' });
      // A paused x for 2 000 ms after x answered, so the pause in Redis ends no sooner than `answered` +
      // 2 000 (less 1 ms of rounding); 10 ms of slack for Date.now()'s millisecond steps.
      const pauseEnds = answered + 1_990;
      const during = ran.calls.filter((c) => c.at < pauseEnds);
      expect(during.length).toBeGreaterThan(0);
      expect(count(during, 'x')).toBe(0);
      const firstX = ran.calls.find((c) => c.upstream === 'x')!;
      expect(firstX.at).toBeGreaterThanOrEqual(pauseEnds);
      expect(firstX.ok).toBe(true);
      expect(ran.errors).toEqual([]);
      expect(from(x.requests, 'B').every((r) => r.at >= pauseEnds)).toBe(true);
    });
  });

  // The second variant is an attack's input: a short lease and a cooldown near the sync interval, so that a
  // process whose last sync predates a reopening asks for the lease while the new opening still cools.
  it.each([
    { label: 'sync 100 ms, cooldown 800 ms, lease 10 s', fleet: { syncInterval: 100 }, cooldown: 800, deadPeriods: 4 },
    { label: 'sync 250 ms, cooldown 300 ms, lease 2 s', fleet: { syncInterval: 250, probeLease: 2_000 }, cooldown: 300, deadPeriods: 12 },
  ])(
    '4 processes, x dead for some cooldowns then healed ($label): each half-open period is probed by one process, with at most halfOpenProbes requests, and every request x gets after the opening is such a probe',
    { timeout: 120_000 },
    async (variant) => {
      const halfOpenProbes = 2;
      const fleet = { key: freshKey(), timeout: 5_000, ...variant.fleet };
      const breaker = { maxFailures: 3, cooldown: variant.cooldown, halfOpenProbes, cooldownMultiplier: 1 };
      const { x, y } = await startUpstreams('x', 'y');
      x.mode = 'dead';
      const names = ['P0', 'P1', 'P2', 'P3'];
      await withFleet(
        names.map((name) => configFor(name, [x, y], { fleet, breaker })),
        [x, y],
        async (workers) => {
          const [first, ...others] = workers;
          await first!.run({ untilOpen: 'x' });
          await Promise.all(others.map((w) => w.waitFor(isApply('x', 'open'))));
          const opened = x.requests.length;
          // Everyone calls, two callers each so that two probes of one process could overlap.
          const runs = workers.map((w) => w.run({ concurrency: 2, gapMs: 5 }));
          // Three half-open periods that failed: some process saw the 4th opening.
          await Promise.race(workers.map((w) => w.waitFor(isState('x', 'open', variant.deadPeriods))));
          const deadUntil = x.requests.length;
          x.mode = 'ok';
          await Promise.all(workers.map((w) => w.waitFor(isState('x', 'closed'))));
          for (const w of workers) w.stop();
          const ran = await Promise.all(runs);

          const closedAt = new Map(workers.map((w) => [w.name, w.events.find(isState('x', 'closed'))!.at]));
          const after = x.requests.slice(opened);
          // Every request after the opening, until its process closed x, is a probe of some opening's half-open period...
          expect(after.filter((r) => r.probeOf === 0 && r.at < closedAt.get(r.process)!)).toEqual([]);
          const probes = after.filter((r) => r.probeOf > 0);
          const byPeriod = groupBy(probes, (r) => r.probeOf);
          // The half-open transitions of all four pools: a pool goes half-open only with the fleet's lease.
          const halfOpens = workers.flatMap((w) => w.events.filter(isState('x', 'half-open')).map((e) => ({ process: w.name, trips: e.trips, at: e.at })));
          const holdersByPeriod = groupBy(halfOpens, (e) => e.trips);
          expect([...holdersByPeriod.keys()].sort()).toEqual([...byPeriod.keys()].sort());
          const lease = variant.fleet.probeLease ?? 10_000;
          for (const [period, requests] of byPeriod) {
            // ...sent by the period's lease holder, at most halfOpenProbes times. A second holder of one period
            // only once the first's lease ran out (its holder stalled past probeLease on a busy machine, what a
            // lease is for), never two at once: their half-open transitions at least half a lease apart.
            const holders = holdersByPeriod.get(period)!.sort((a, b) => a.at - b.at);
            for (let i = 1; i < holders.length; i++) expect(holders[i]!.at - holders[i - 1]!.at).toBeGreaterThanOrEqual(lease / 2);
            const holderNames = new Set(holders.map((h) => h.process));
            expect(requests.filter((r) => !holderNames.has(r.process))).toEqual([]);
            for (const [, own] of groupBy(requests, (r) => r.process)) expect(own.length).toBeLessThanOrEqual(halfOpenProbes);
          }
          expect(byPeriod.size).toBeGreaterThanOrEqual(4);
          // With x dead, at most halfOpenProbes per cooldown period and lease holder, not one per process.
          const deadPeriods = new Set(x.requests.slice(opened, deadUntil).map((r) => r.probeOf));
          const deadHolders = [...deadPeriods].reduce((sum, period) => sum + (holdersByPeriod.get(period)?.length ?? 1), 0);
          expect(deadUntil - opened).toBeLessThanOrEqual(halfOpenProbes * deadHolders);
          for (const r of ran) expect(r.errors.filter((e) => !e.endsWith('x answered 503'))).toEqual([]);
          console.info(
            `fleet probes (${IOREDIS.label}): ${probes.length} requests to x after the opening over ${byPeriod.size} half-open periods ` +
              `(${deadPeriods.size} dead, ${deadUntil - opened} requests); half-open transitions in 4 pools: ${halfOpens.length}, ${halfOpens.length - holdersByPeriod.size} after a lease ran out`,
          );
        },
      );
    },
  );

  it('Redis SIGKILLed: both processes serve every call on local breakers (fallback), resync after the restart, and an opening in A reaches B again', { timeout: 90_000 }, async () => {
    const key = freshKey();
    const fleet = { key, syncInterval: 100, timeout: 500, recheckInterval: 200 };
    const { x, y, z } = await startUpstreams('x', 'y', 'z');
    // Two attempts: a call that fails on a dead client is served by another.
    const options = { fleet, attempts: 2 };
    await withFleet([configFor('A', [x, y, z], options), configFor('B', [x, y, z], options)], [x, y, z], async ([A, B]) => {
      await fixture.server.kill();
      const down = await Promise.all([A!, B!].map((w) => w.waitFor(isKind('fallback'))));
      for (const event of down) expect(event.cause).not.toBe('');
      x.mode = 'dead';
      const local = await Promise.all([A!, B!].map((w) => w.run({ calls: 200 })));
      for (const [i, ran] of local.entries()) {
        // Every call served; x tripped here by this process's own maxFailures calls (nothing shared).
        expect(ran.errors).toEqual([]);
        expect(ran.calls.filter((c) => c.ok)).toHaveLength(200);
        expect(count(ran.calls, 'x')).toBe(3);
        expect(ran.stats).toMatchObject({ mode: 'fallback' });
        expect(ran.stats!.fallbacks).toBeGreaterThanOrEqual(1);
        await [A!, B!][i]!.waitFor(isState('x', 'open'));
      }
      expect(x.requests).toHaveLength(6);

      await fixture.server.restart();
      const recovered = await Promise.all([A!, B!].map((w) => w.waitFor(isKind('recover'))));
      for (const event of recovered) expect(event.downMs).toBeGreaterThan(0);
      z.mode = 'dead';
      const zDied = z.requests.length;
      const tripped = await A!.run({ untilOpen: 'z' });
      expect(tripped.errors).toEqual([]);
      await B!.waitFor(isApply('z', 'open'));
      const after = await B!.run({ calls: 100 });
      expect(count(after.calls, 'z')).toBe(0);
      expect(count(after.calls, 'x')).toBe(0);
      expect(after.errors).toEqual([]);
      expect(after.stats).toMatchObject({ mode: 'redis' });
      expect(from(z.requests.slice(zDied), 'B')).toEqual([]);
    });
  });

  it('two processes on one key with quorum 1 and quorum 2: each reports the mismatch, naming both settings, and its calls go on', { timeout: 60_000 }, async () => {
    const key = freshKey();
    const { x, y } = await startUpstreams('x', 'y');
    const one = configFor('A', [x, y], { fleet: { key, quorum: 1, syncInterval: 50, timeout: 5_000 } });
    const two = configFor('B', [x, y], { fleet: { key, quorum: 2, syncInterval: 50, timeout: 5_000 } });
    await withFleet([one, two], [x, y], async ([A, B]) => {
      const [a, b] = await Promise.all([A!.waitFor(isKind('mismatch')), B!.waitFor(isKind('mismatch'))]);
      expect(a.code).toBe('ERR_CONFIG_MISMATCH');
      expect(a.ours).toContain('quorum=1');
      expect(a.theirs).toContain('quorum=2');
      expect(b.ours).toBe(a.theirs);
      expect(b.theirs).toBe(a.ours);
      const ran = await Promise.all([A!, B!].map((w) => w.run({ calls: 50 })));
      for (const r of ran) {
        expect(r.errors).toEqual([]);
        expect(count(r.calls, 'x')).toBe(25);
        expect(r.stats!.mismatches).toBeGreaterThan(0);
        expect(r.stats).toMatchObject({ mode: 'redis', fallbacks: 0 });
      }
    });
  });

  it('dead x across 4 processes for 5 cooldowns: with the fleet one process probes each period; without it every process does (counts printed)', { timeout: 120_000 }, async () => {
    const breaker = { maxFailures: 3, cooldown: 500, halfOpenProbes: 1, cooldownMultiplier: 1 };
    const measure = async (shared: boolean): Promise<{ requests: number; probers: number[] }> => {
      const { x, y } = await startUpstreams('x', 'y');
      x.mode = 'dead';
      const fleet = shared ? { key: freshKey(), syncInterval: 100, timeout: 5_000 } : null;
      let result = { requests: 0, probers: [] as number[] };
      await withFleet(
        ['P0', 'P1', 'P2', 'P3'].map((name) => configFor(name, [x, y], { fleet, breaker })),
        [x, y],
        async (workers) => {
          const runs = workers.map((w) => w.run({ gapMs: 10 }));
          // Five openings seen by every pool (applied or its own).
          await Promise.all(workers.map((w) => w.waitFor(isState('x', 'open', 5))));
          for (const w of workers) w.stop();
          await Promise.all(runs);
          const periods = groupBy(
            x.requests.filter((r) => r.probeOf > 0 && r.probeOf < 5),
            (r) => r.probeOf,
          );
          result = { requests: x.requests.length, probers: [1, 2, 3, 4].map((k) => new Set(periods.get(k)?.map((r) => r.process)).size) };
        },
      );
      return result;
    };
    const withFleetCounts = await measure(true);
    const alone = await measure(false);
    console.info(
      `dead x across 4 processes (${IOREDIS.label}), until every pool saw its 5th opening: ` +
        `${withFleetCounts.requests} requests with the fleet (probing processes per period ${withFleetCounts.probers.join(', ')}), ` +
        `${alone.requests} without (${alone.probers.join(', ')})`,
    );
    expect(withFleetCounts.probers).toEqual([1, 1, 1, 1]);
    expect(alone.probers).toEqual([4, 4, 4, 4]);
  });
});
