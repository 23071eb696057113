import { Counter, Histogram, Registry } from 'prom-client';
import type { Middleware } from '../src/index.js';
import { prometheusMetrics } from '../src/prometheus/index.js';
import { call, defaultPool } from './core.js';
import type { Candidate } from './harness.js';

/** Hoisted so that the candidates allocate no options object, like `clientpool default`. */
const GET = { method: 'get' } as const;

/**
 * What one would write with prom-client directly, as the original middleware did: the same three
 * per-call metrics, each updated through `labels(...)` on every call.
 */
export function naivePromClientMiddleware(registry: Registry): Middleware {
  const labelNames = ['client', 'method'];
  const requests = new Counter({ name: 'middleware_requests_total', help: 'Requests', labelNames, registers: [registry] });
  const errors = new Counter({ name: 'middleware_request_errors_total', help: 'Errors', labelNames, registers: [registry] });
  const duration = new Histogram({ name: 'middleware_request_duration_seconds', help: 'Duration', labelNames, registers: [registry] });
  return {
    name: 'naive-prom-client',
    async execute(call, next) {
      const start = performance.now();
      requests.labels(call.clientName, call.method).inc();
      try {
        return await next(call);
      } catch (error) {
        errors.labels(call.clientName, call.method).inc();
        throw error;
      } finally {
        duration.labels(call.clientName, call.method).observe((performance.now() - start) / 1000);
      }
    },
  };
}

/**
 * The Prometheus adapter against the naive prom-client middleware; compare both with `clientpool default`
 * (bench/core.ts) in the same run to get each one's added cost per call.
 */
export function prometheusCandidates(): Candidate[] {
  // `clientpool default`'s pool with one middleware more.
  const adapted = defaultPool({ middleware: [prometheusMetrics({ registry: new Registry() })] });
  const naive = defaultPool({ middleware: [naivePromClientMiddleware(new Registry())] });
  return [
    { name: 'clientpool + prometheus', run: () => adapted.run(call, GET), close: () => adapted.close() },
    { name: 'clientpool + naive prom-client middleware', run: () => naive.run(call, GET), close: () => naive.close() },
  ];
}
