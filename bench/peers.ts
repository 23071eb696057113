import { bulkhead, circuitBreaker, ConsecutiveBreaker, handleAll, wrap } from 'cockatiel';
import CircuitBreaker from 'opossum';
import { Counter, Histogram, Registry } from 'prom-client';
import { call, CLIENTS, clients } from './core.js';
import type { Candidate } from './harness.js';

export const COCKATIEL_BULKHEAD = 'cockatiel bulkhead + breaker + RR';
export const OPOSSUM = 'opossum breaker + RR';
export const NAIVE_COCKATIEL_PROM = 'cockatiel breaker + RR + prom-client (naive)';

/** The breaker a cockatiel user would configure to match clientpool's default: 5 failures in a row, 10 s open. */
function cockatielBreaker(): ReturnType<typeof circuitBreaker> {
  return circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
}

/**
 * What one would write without clientpool, one policy per client and a hand-written round robin (the
 * plain cockatiel breaker is in core.ts): cockatiel's bulkhead around its breaker; opossum; and cockatiel
 * plus the same three prom-client metrics as the naive middleware of bench/prometheus.ts.
 */
export function peerCandidates(): Candidate[] {
  // Each candidate keeps its own round robin.
  let nextGuarded = 0;
  let nextOpossum = 0;
  let nextNaive = 0;

  // A bulkhead wide enough never to refuse: the cost of asking it is what is measured.
  const guarded = clients.map(() => wrap(bulkhead(1_000, 0), cockatielBreaker()));

  // timeout: false, as the other candidates: opossum's default 10 s timeout would add a timer per call.
  // Its rolling statistics keep an interval timer per breaker, stopped by shutdown().
  const opossum = clients.map((client) => new CircuitBreaker(() => call(client), { timeout: false, resetTimeout: 10_000 }));

  const breakers = clients.map(() => cockatielBreaker());
  const metrics = naiveMetrics(new Registry());
  const names = clients.map((_, i) => `c${i}`);

  return [
    {
      name: COCKATIEL_BULKHEAD,
      run: () => {
        const i = nextGuarded++ % CLIENTS;
        return guarded[i]!.execute(() => call(clients[i]!));
      },
    },
    {
      name: OPOSSUM,
      run: () => opossum[nextOpossum++ % CLIENTS]!.fire(),
      close: () => {
        for (const breaker of opossum) breaker.shutdown();
      },
    },
    {
      name: NAIVE_COCKATIEL_PROM,
      run: async () => {
        const i = nextNaive++ % CLIENTS;
        const client = names[i]!;
        const start = performance.now();
        metrics.requests.labels(client, 'get').inc();
        try {
          return await breakers[i]!.execute(() => call(clients[i]!));
        } catch (error) {
          metrics.errors.labels(client, 'get').inc();
          throw error;
        } finally {
          metrics.duration.labels(client, 'get').observe((performance.now() - start) / 1000);
        }
      },
    },
  ];
}

/** The three per-call metrics of the naive middleware, on their own registry. */
function naiveMetrics(registry: Registry): { requests: Counter; errors: Counter; duration: Histogram } {
  const labelNames = ['client', 'method'];
  return {
    requests: new Counter({ name: 'requests_total', help: 'Requests', labelNames, registers: [registry] }),
    errors: new Counter({ name: 'request_errors_total', help: 'Errors', labelNames, registers: [registry] }),
    duration: new Histogram({ name: 'request_duration_seconds', help: 'Duration', labelNames, registers: [registry] }),
  };
}
