/**
 * One process of the fleet circuit tests (fleet-circuits.slow.test.ts), run as
 * `node --import tsx test/redis/fleet-circuit-worker.ts '<config>'`. It holds a ClientPool over real HTTP
 * upstreams (global `fetch`, `isFailure` default) with a `RedisFleet` (or none, for the comparison), and
 * runs calls when the parent says so. Everything the parent may wait for is pushed as it happens: the
 * pool's `onStateChange` transitions and the fleet's events. Each call is recorded (upstream, start time,
 * whether it was a half-open probe and of which opening), and its request carries the same in headers, so
 * that the parent can count at the upstream what every process sent.
 */
import type { Redis } from 'ioredis';
import { ClientPool, type CircuitState } from '../../src/index.js';
import { RedisFleet, type RedisFleetStats } from '../../src/redis/index.js';

export interface UpstreamRef {
  readonly name: string;
  readonly url: string;
}

export interface CircuitWorkerConfig {
  /** This process's name: its fleet `id` and the `x-process` header of its requests. */
  readonly name: string;
  readonly redisPort: number;
  /** `ioredis` (5) or `ioredis6`. */
  readonly ioredis: 'ioredis' | 'ioredis6';
  readonly upstreams: readonly UpstreamRef[];
  /** The fleet's options, or null for a pool that learns alone. */
  readonly fleet: {
    readonly key: string;
    readonly quorum?: number;
    readonly syncInterval?: number;
    readonly timeout?: number;
    readonly recheckInterval?: number;
    readonly probeLease?: number;
  } | null;
  readonly breaker: { readonly maxFailures: number; readonly cooldown: number; readonly halfOpenProbes?: number; readonly cooldownMultiplier?: number };
  /** Attempts per call (1: no retry); a retry goes to another client at once. */
  readonly attempts: number;
}

/** One call as this process made it: which upstream the pool chose, when (`Date.now()`), and whether it was a probe. */
export interface CallRecord {
  readonly upstream: string;
  readonly at: number;
  /** The circuit's `trips` when the call was a half-open probe (the opening it probes), else 0. */
  readonly probeOf: number;
  readonly ok: boolean;
}

/** When a `run` stops: after `calls` calls, after `forMs`, after a call went to `untilUpstream`, once `untilOpen` is open here, or on `stop`. */
export interface RunCommand {
  readonly type: 'run';
  readonly calls?: number;
  readonly forMs?: number;
  readonly untilUpstream?: string;
  readonly untilOpen?: string;
  /** Concurrent callers. @default 1 */
  readonly concurrency?: number;
  /** Milliseconds each caller waits between its calls, to keep the machine's two cores for everyone. @default 2 */
  readonly gapMs?: number;
}

export type ToWorker = RunCommand | { readonly type: 'stop' } | { readonly type: 'close' };

export type WorkerEvent =
  | { readonly kind: 'state'; readonly client: string; readonly from: CircuitState['kind']; readonly to: CircuitState['kind']; readonly trips: number; readonly at: number }
  | { readonly kind: 'apply'; readonly client: string; readonly applied: 'open' | 'close' | 'pause' | 'down' | 'up'; readonly lagMs: number; readonly at: number }
  | { readonly kind: 'fallback'; readonly cause: string; readonly at: number }
  | { readonly kind: 'recover'; readonly downMs: number; readonly at: number }
  | { readonly kind: 'mismatch'; readonly code: string; readonly ours: string; readonly theirs: string; readonly at: number };

export type ToParent =
  | { readonly type: 'ready' }
  | { readonly type: 'event'; readonly event: WorkerEvent }
  | { readonly type: 'ran'; readonly calls: readonly CallRecord[]; readonly errors: readonly string[]; readonly stats: RedisFleetStats | undefined }
  | { readonly type: 'closed'; readonly stats: RedisFleetStats | undefined; readonly unhandled: readonly string[] };

/** An upstream answered with an error status. */
class UpstreamStatusError extends Error {
  override readonly name = 'UpstreamStatusError';
  readonly code = 'ERR_UPSTREAM_STATUS';
  readonly status: number;
  constructor(upstream: string, status: number) {
    super(`${upstream} answered ${status}`);
    this.status = status;
  }
}

const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason)));

function send(message: ToParent): void {
  process.send?.(message);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const config = JSON.parse(process.argv[2] ?? '') as CircuitWorkerConfig;
const { Redis: RedisClass } = (await import(config.ioredis)) as { Redis: typeof Redis };
// What docs/redis.md recommends: commands fail at once while Redis is down, and it reconnects soon after.
const redis = new RedisClass(config.redisPort, '127.0.0.1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => 20 });
redis.on('error', () => {});
await redis.connect();

const fleet = config.fleet === null ? undefined : new RedisFleet({ redis, id: config.name, ...config.fleet });
const pool = new ClientPool<UpstreamRef>({
  breaker: config.breaker,
  ...(fleet === undefined ? {} : { fleet }),
  retry: config.attempts > 1 ? { attempts: config.attempts, backoff: { initial: 0, max: 0, jitter: 'none' } } : false,
  retryBudget: false,
});
for (const upstream of config.upstreams) pool.add(upstream, { name: upstream.name });

/** Each client's circuit as the last transition left it: a call that finds it half-open is a probe. */
const circuits = new Map<string, CircuitState>();
pool.onStateChange(({ client, from, to }) => {
  circuits.set(client, to);
  send({ type: 'event', event: { kind: 'state', client, from: from.kind, to: to.kind, trips: to.kind === 'closed' ? 0 : to.trips, at: Date.now() } });
});
fleet?.onApply(({ client, kind, lagMs }) => send({ type: 'event', event: { kind: 'apply', client, applied: kind, lagMs, at: Date.now() } }));
fleet?.onFallback(({ cause }) => send({ type: 'event', event: { kind: 'fallback', cause: String(cause), at: Date.now() } }));
fleet?.onRecover(({ downMs }) => send({ type: 'event', event: { kind: 'recover', downMs, at: Date.now() } }));
fleet?.onMismatch((error) => send({ type: 'event', event: { kind: 'mismatch', code: error.code, ours: error.ours, theirs: error.theirs, at: Date.now() } }));

let calls: CallRecord[] = [];
let errors: string[] = [];
let isStopped = false;

async function callOnce(): Promise<void> {
  try {
    await pool.run(async (upstream, call) => {
      const state = circuits.get(upstream.name);
      const probeOf = state?.kind === 'half-open' ? state.trips : 0;
      const record = { upstream: upstream.name, at: Date.now(), probeOf, ok: false };
      calls.push(record);
      const response = await fetch(upstream.url, { signal: call.signal, headers: { 'x-process': config.name, 'x-probe-of': String(probeOf) } });
      await response.arrayBuffer();
      if (response.status === 429) call.pauseClient(Number(response.headers.get('retry-after')) * 1_000);
      if (!response.ok) throw new UpstreamStatusError(upstream.name, response.status);
      record.ok = true;
    });
  } catch (error) {
    errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }
}

async function run(command: RunCommand): Promise<void> {
  calls = [];
  errors = [];
  isStopped = false;
  const start = Date.now();
  let started = 0;
  const isDone = (): boolean =>
    isStopped ||
    (command.calls !== undefined && started >= command.calls) ||
    (command.forMs !== undefined && Date.now() - start >= command.forMs) ||
    (command.untilUpstream !== undefined && calls.some((c) => c.upstream === command.untilUpstream)) ||
    (command.untilOpen !== undefined && circuits.get(command.untilOpen)?.kind === 'open');
  await Promise.all(
    Array.from({ length: command.concurrency ?? 1 }, async () => {
      while (!isDone()) {
        started++;
        await callOnce();
        await sleep(command.gapMs ?? 2);
      }
    }),
  );
  send({ type: 'ran', calls, errors, stats: fleet?.stats });
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'run') void run(message);
  else if (message.type === 'stop') isStopped = true;
  else {
    void (async () => {
      await pool.close();
      redis.disconnect();
      send({ type: 'closed', stats: fleet?.stats, unhandled });
      process.disconnect();
    })();
  }
});

// Ready once the fleet has synced: the parent's clock for "B has not called x yet" starts from a joined fleet.
while (fleet !== undefined && fleet.stats.syncs === 0) await sleep(5);
send({ type: 'ready' });
