// The pool: one UpstreamClient per upstream over its own undici Pool, every middleware, retries, hedging,
// a pool-wide limit and a quota per client. Everything the demo shows is configured here.
import type { TracerProvider } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { Pool } from 'undici';
import { ClientPool, failureRate, seededRandom, TokenBucket, type Limiter } from '../../src/index.js';
import { tracing } from '../../src/otel/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import type { AttemptRecorder } from './recorder.js';
import { UpstreamClient } from './upstream-client.js';
import type { UpstreamSpec } from './upstreams.js';

export interface PoolSetup {
  readonly registry: Registry;
  readonly tracerProvider: TracerProvider;
  readonly recorder: AttemptRecorder;
  readonly seed: number;
  /** Clients whose quota is another limiter than their spec's in-memory one (a Redis-shared bucket, `--redis`). */
  readonly clientLimits?: Readonly<Record<string, Limiter>>;
}

/** The pool, and its pool-wide token bucket (kept to show the tokens left). */
export interface DemoPool {
  readonly pool: ClientPool<UpstreamClient>;
  readonly limit: TokenBucket;
}

/** Build the pool over upstreams listening at `origins` (same order as `specs`). */
export function buildPool(specs: readonly UpstreamSpec[], origins: readonly string[], setup: PoolSetup): DemoPool {
  // Pool-wide: more than the default offered load (200 calls/s), so that only a --rate above it is refused.
  const limit = new TokenBucket({ rate: 400, burst: 100 });
  const pool = new ClientPool<UpstreamClient>({
    // Fewest calls in flight: the slow upstream holds more of them, so it gets less traffic.
    strategy: 'least-in-flight',
    // Open when half of a client's last 40 calls failed: the flaky upstream's 15 % stays far below (the
    // odds of 20 failures in 40 are about 1 in 10 million), a dead upstream gets there in a fraction of a
    // second. A 1 s cooldown (2 s after a failed probe) lets a short run show the circuit coming back.
    breaker: failureRate({ threshold: 0.5, window: { kind: 'count', size: 40 }, minimumThroughput: 20, cooldown: 1_000, maxCooldown: 2_000 }),
    timeout: 1_000,
    retry: { attempts: 3, backoff: { initial: 10, max: 200 } },
    // Start a second attempt once the first has taken longer than 99 % of this method's calls, and at
    // least 150 ms: that catches the slow upstream's long tail (300-600 ms), not its usual 40-100 ms. An
    // attempt outrun by its hedge counts as a timeout of its client, so a lower delay would open the
    // slow upstream's circuit.
    hedge: { delay: { quantile: 0.99, min: 150, max: 400 }, maxHedges: 1 },
    retryBudget: { ratio: 0.2, reserve: 20 },
    limit,
    maxWait: 100,
    // First registered is outermost: Prometheus times the whole chain, the recorder sees the bare attempt.
    middleware: [
      prometheusMetrics({ registry: setup.registry }),
      tracing<UpstreamClient>({ tracerProvider: setup.tracerProvider, serverAddress: (client) => new URL(client.origin).host, attributes: { 'rpc.system': 'http' } }),
      setup.recorder,
    ],
    random: seededRandom(setup.seed),
  });
  specs.forEach((spec, index) => {
    const origin = origins[index]!;
    const dispatcher = new Pool(origin, { connections: 32, connect: { timeout: 500 } });
    // The pool closes the dispatcher once the client has drained: on pool.close(), or on pool.remove().
    const limit = setup.clientLimits?.[spec.name] ?? spec.quota;
    pool.add(new UpstreamClient(origin, dispatcher), { name: spec.name, limit, close: () => dispatcher.close() });
  });
  return { pool, limit };
}
