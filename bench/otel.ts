import { otelMetrics, tracing } from '../src/otel/index.js';
import { call, defaultPool } from './core.js';
import type { Candidate } from './harness.js';

/**
 * The tracing and metrics middleware with no OpenTelemetry SDK registered, as most installs run them:
 * compare with `clientpool run({ method })` (bench/core.ts) in the same run for their added cost per call.
 */
export function otelCandidates(): Candidate[] {
  const traced = defaultPool({ middleware: [tracing()] });
  const measured = defaultPool({ middleware: [otelMetrics()] });
  return [
    { name: 'clientpool + tracing (no SDK)', run: () => traced.run(call, GET), close: () => traced.close() },
    { name: 'clientpool + otelMetrics (no SDK)', run: () => measured.run(call, GET), close: () => measured.close() },
  ];
}

/** Hoisted so that the candidate allocates no options object, like `clientpool run({ method })`. */
const GET = { method: 'get' } as const;
