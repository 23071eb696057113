import { callKey, type Call } from '../call.js';
import { callable, keySet, knownKeys, optionsObject } from '../validate.js';
import type { Middleware, Next } from './middleware.js';

const OPTION_KEYS = keySet(['generate']);

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

// Random bytes in batches, from the web-standard `crypto.getRandomValues` (Node >= 20, Bun, Deno, browsers):
// one fill per 512 IDs instead of one per call (a fill is at most 65 536 bytes).
const IDS_PER_BATCH = 512;
const bytes = new Uint8Array(16 * IDS_PER_BATCH);
let offset = bytes.length;
// Hex through Buffer where there is one (Node, Bun, Deno: native, about twice as fast as the loop below),
// over the same memory; a browser has none and takes the loop.
const hexView = typeof globalThis.Buffer === 'function' ? globalThis.Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function randomTraceId(): string {
  if (offset === bytes.length) {
    globalThis.crypto.getRandomValues(bytes);
    offset = 0;
  }
  const start = offset;
  offset += 16;
  if (hexView !== undefined) return hexView.toString('hex', start, offset);
  let id = '';
  for (let i = start; i < offset; i++) id += HEX[bytes[i]!]!;
  return id;
}
