import { Registry } from 'prom-client';
import { prometheusMetrics } from '../src/prometheus/index.js';
import { call, defaultPool } from './core.js';
import { MultiEchoClient } from './generated/multi-echo-client.js';
import type { Candidate } from './harness.js';

export const METHOD_LABEL = 'clientpool run({ method })';
export const RATE_LIMIT = 'clientpool + rate limit';
export const PROXY = 'clientpool pool.proxy().get()';
export const GENERATED = 'clientpool generated wrapper';
export const FULL_STACK = 'clientpool full stack (breaker + limit + prometheus)';

/** Hoisted, as a caller would keep it, so that no candidate allocates an options object per call. */
const GET = { method: 'get' } as const;
/** A pool-wide token bucket that never runs dry, so the numbers show the cost of taking a token. */
const NEVER_EMPTY = { rate: 1e12, burst: 1e12 } as const;

/**
 * The ways of calling through clientpool beyond its default stack: a method label, a pool-wide rate
 * limit, the proxy, the generated wrapper, and everything at once. Each has its own pool over the
 * shared echo clients, so every candidate starts its round robin at the same client.
 */
export function variantCandidates(): Candidate[] {
  const labelled = defaultPool();
  const limited = defaultPool({ limit: NEVER_EMPTY });
  const proxied = defaultPool();
  const proxy = proxied.proxy();
  const generated = new MultiEchoClient(defaultPool());
  const full = defaultPool({ limit: NEVER_EMPTY });
  full.use(prometheusMetrics({ registry: new Registry() }));
  return [
    { name: METHOD_LABEL, run: () => labelled.run(call, GET), close: () => labelled.close() },
    { name: RATE_LIMIT, run: () => limited.run(call, GET), close: () => limited.close() },
    { name: PROXY, run: () => proxy.get(1), close: () => proxied.close() },
    { name: GENERATED, run: () => generated.get(1), close: () => generated.pool.close() },
    { name: FULL_STACK, run: () => full.run(call, GET), close: () => full.close() },
  ];
}
