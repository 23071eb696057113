import { tracing } from '../src/otel/index.js';
import { call, defaultPool } from './core.js';
import type { Candidate } from './harness.js';

/**
 * The tracing middleware with no OpenTelemetry SDK registered, as most installs run it: compare with
 * `clientpool default` (bench/core.ts) in the same run for its added cost per call.
 */
export function otelCandidates(): Candidate[] {
  const pool = defaultPool({ middleware: [tracing()] });
  return [{ name: 'clientpool + tracing (no SDK)', run: () => pool.run(call, GET), close: () => pool.close() }];
}

/** Hoisted so that the candidate allocates no options object, like `clientpool default`. */
const GET = { method: 'get' } as const;
