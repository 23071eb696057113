import { randomBytes } from 'node:crypto';
import { callKey, type Call } from '../call.js';
import { callable, keySet, knownKeys, optionsObject } from '../validate.js';

const OPTION_KEYS = keySet(['generate']);
import type { Middleware, Next } from './middleware.js';

/** Where the `traceId()` middleware puts the call's trace ID: `call.get(TRACE_ID)`. */
export const TRACE_ID = callKey<string>('clientpool.traceId');

/** Options of {@link traceId}. */
export interface TraceIdOptions {
  /**
   * Makes a new ID when the caller passed none.
   * @default 32 random hex characters (a W3C trace-id)
   */
  readonly generate?: () => string;
}

/**
 * The original's dependency-free trace-ID middleware: passes on `run(fn, { traceId })` or generates one,
 * and stores it on the call so that the user's function (to send it upstream as a header) and later
 * middleware (to log it) can read it with `call.get(TRACE_ID)`.
 *
 * @example
 * ```ts
 * pool.use(traceId());
 * await pool.run((client, call) => client.get('/x', { headers: { 'x-trace-id': call.get(TRACE_ID)! } }));
 * ```
 */
export function traceId(options: TraceIdOptions = {}): Middleware {
  optionsObject('traceId options', options);
  if (options !== undefined) knownKeys('traceId options', options, OPTION_KEYS);
  const generate = options.generate === undefined ? randomTraceId : callable<() => string>('traceId.generate', options.generate);
  return {
    name: 'traceId',
    execute(call: Call<unknown>, next: Next): Promise<unknown> {
      call.set(TRACE_ID, call.options.traceId ?? generate());
      return next(call);
    },
  };
}

// Random bytes in batches: one syscall per 512 IDs instead of one per call.
let pool = Buffer.alloc(0);
let offset = 0;
function randomTraceId(): string {
  if (offset + 16 > pool.length) {
    pool = randomBytes(16 * 512);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + 16);
  offset += 16;
  return id;
}
