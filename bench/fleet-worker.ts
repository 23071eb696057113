/**
 * One process of the fleet bench (bench/fleet.ts), run as `node --import tsx bench/fleet-worker.ts '<config>'`.
 * It builds a ClientPool over the bench's HTTP upstreams (with a `RedisFleet` when the config names a key),
 * tells the parent it is ready (after its first sync, so the fleet is live before the load), then, once
 * the parent says start, sends calls open-loop at a fixed rate (a call is started on schedule whether or
 * not the earlier ones have ended) and reports what its callers saw and what its pool and fleet did.
 */
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { ClientPool } from '../src/index.js';
import { RedisFleet, type RedisFleetStats } from '../src/redis/index.js';
import { PROBE_HEADER, WORKER_HEADER } from './fleet.js';

export interface FleetUpstream {
  readonly name: string;
  readonly port: number;
}

export interface FleetWorkerConfig {
  /** This process's number in the fleet, sent to the upstreams with every request. */
  readonly worker: number;
  readonly upstreams: readonly FleetUpstream[];
  /** Share through Redis on this port and key; absent: every process learns alone. */
  readonly fleet?: { readonly port: number; readonly key: string; readonly quorum: number };
  /** Calls per second, open-loop. */
  readonly rate: number;
  /** Calls in all. */
  readonly calls: number;
  /** The pool's per-call timeout in ms. */
  readonly timeout: number;
  readonly maxFailures: number;
  /** The breaker's cooldown in ms. */
  readonly cooldown: number;
}

/** What one process saw. Times are `Date.now()` values, comparable across the processes of one machine. */
export interface FleetWorkerReport {
  readonly type: 'done';
  readonly worker: number;
  readonly calls: number;
  readonly succeeded: number;
  /** Failed calls by error code. */
  readonly failed: Readonly<Record<string, number>>;
  /** When the circuit of each client first opened here, locally or applied from the fleet. */
  readonly firstOpenAt: Readonly<Record<string, number>>;
  /** Transitions to open, by client (applied ones included). */
  readonly openings: Readonly<Record<string, number>>;
  /** Openings applied from another process's report, by client. */
  readonly appliedOpenings: Readonly<Record<string, number>>;
  /** Transitions to half-open, by client. */
  readonly halfOpens: Readonly<Record<string, number>>;
  /** The fleet's counters at the end (no fleet: undefined). */
  readonly fleet: Pick<RedisFleetStats, 'syncs' | 'failures' | 'fallbacks' | 'reports' | 'applied'> | undefined;
  /** Why the fleet fell back to the local view, each time it did. */
  readonly fallbackCauses: readonly string[];
  readonly unhandled: readonly string[];
}

export type FleetToParent = { readonly type: 'ready' } | FleetWorkerReport;

/** The parent's go: the first call starts at `at` (`Date.now()`). */
export interface FleetStart {
  readonly type: 'start';
  readonly at: number;
}

/** An upstream answered with an error status. */
export class UpstreamStatusError extends Error {
  readonly code = 'ERR_UPSTREAM_STATUS';
  override readonly name = 'UpstreamStatusError';
  readonly status: number;

  constructor(upstream: string, status: number) {
    super(`${upstream} answered ${status}`);
    this.status = status;
  }
}

const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason)));

function send(message: FleetToParent): void {
  process.send?.(message);
}

const config = JSON.parse(process.argv[2] ?? '') as FleetWorkerConfig;
const agent = new Agent({ keepAlive: true });
const redis = config.fleet === undefined ? undefined : new Redis(config.fleet.port, '127.0.0.1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
redis?.on('error', () => {});
await redis?.connect();
// Defaults but the quorum: what a user who turns sharing on gets.
const fleet = config.fleet === undefined || redis === undefined ? undefined : new RedisFleet({ redis, key: config.fleet.key, quorum: config.fleet.quorum, id: `bench-${config.worker}-${process.pid}` });
const pool = new ClientPool<FleetUpstream>({
  breaker: { maxFailures: config.maxFailures, cooldown: config.cooldown },
  timeout: config.timeout,
  ...(fleet === undefined ? {} : { fleet }),
});
for (const upstream of config.upstreams) pool.add(upstream, { name: upstream.name });

const bump = (counts: Record<string, number>, key: string): void => void (counts[key] = (counts[key] ?? 0) + 1);
const firstOpenAt: Record<string, number> = {};
const openings: Record<string, number> = {};
const appliedOpenings: Record<string, number> = {};
const halfOpens: Record<string, number> = {};
pool.onStateChange((change) => {
  if (change.to.kind === 'open' && change.from.kind !== 'open') {
    bump(openings, change.client);
    firstOpenAt[change.client] ??= Date.now();
  } else if (change.to.kind === 'half-open') bump(halfOpens, change.client);
});
fleet?.onApply((event) => {
  if (event.kind === 'open') bump(appliedOpenings, event.client);
});
const fallbackCauses: string[] = [];
fleet?.onFallback((event) => void fallbackCauses.push(event.cause.message));

/** One HTTP GET; rejects on an error status, and aborts (destroying the socket) with the call's signal. */
function get(upstream: FleetUpstream, signal: AbortSignal, isProbe: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: upstream.port, path: '/', agent, signal, headers: { [WORKER_HEADER]: String(config.worker), [PROBE_HEADER]: isProbe ? '1' : '0' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new UpstreamStatusError(upstream.name, res.statusCode ?? 0))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let succeeded = 0;
const failed: Record<string, number> = {};
function fire(): Promise<void> {
  return pool
    .run((upstream, call) => {
      // The snapshot reads the circuit as this attempt was admitted: half-open means it is the probe.
      const isProbe = pool.members().find((m) => m.name === call.clientName)?.state.kind === 'half-open';
      return get(upstream, call.signal, isProbe);
    })
    .then(
      () => {
        succeeded++;
      },
      (error: unknown) => {
        const code = (error as { code?: unknown } | null)?.code;
        bump(failed, typeof code === 'string' ? code : 'unknown');
      },
    );
}

// Ready once the fleet has synced (or at once without one); a fleet that cannot reach Redis fails the run.
const syncBy = Date.now() + 10_000;
while (fleet !== undefined && fleet.stats.syncs === 0) {
  if (Date.now() > syncBy) throw new Error(`worker ${config.worker}: no fleet sync within 10 s (${fleet.state.mode})`);
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const start = await new Promise<FleetStart>((resolve) => {
  process.once('message', (message) => resolve(message as FleetStart));
  send({ type: 'ready' });
});

// Open-loop: call i starts at start.at + i / rate, late ones at once (a busy machine bunches them, it does not drop them).
const pending: Promise<void>[] = [];
const interval = 1_000 / config.rate;
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const due = Math.min(config.calls, Math.floor((Date.now() - start.at) / interval) + 1);
    while (pending.length < due) pending.push(fire());
    if (pending.length >= config.calls) resolve();
    else setTimeout(tick, Math.max(0, start.at + pending.length * interval - Date.now()));
  };
  setTimeout(tick, Math.max(0, start.at - Date.now()));
});
await Promise.all(pending);

const stats = fleet?.stats;
// Only counters: JSON would turn the Infinity and NaN of the gauges into null.
const fleetStats = stats === undefined ? undefined : { syncs: stats.syncs, failures: stats.failures, fallbacks: stats.fallbacks, reports: stats.reports, applied: stats.applied };
await pool.close();
agent.destroy();
redis?.disconnect();
send({ type: 'done', worker: config.worker, calls: config.calls, succeeded, failed, firstOpenAt, openings, appliedOpenings, halfOpens, fleet: fleetStats, fallbackCauses, unhandled });
process.disconnect();
