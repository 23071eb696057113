import type { CircuitState } from '../breaker/breaker.js';
import type { Call, RunOptions } from '../call.js';
import type { Outcome } from '../pipeline/outcome.js';
import type { ClientPool } from '../pool.js';
import { builtinModule } from '../util/host.js';

/**
 * The `node:diagnostics_channel` names clientpool publishes on (docs/diagnostics-channel.md). Channels are
 * process-wide by name: every pool, of every copy of the package (its ESM and CommonJS builds), publishes
 * on the same ones, and a subscriber tells pools apart by the message's `pool`.
 */
export const CHANNELS = Object.freeze({
  /**
   * The `TracingChannel` around each `pool.run()`, its `around` hooks and every attempt included: its
   * events are `tracing:clientpool:call:start`, `:end`, `:asyncStart`, `:asyncEnd` and `:error`.
   */
  call: 'clientpool:call',
  /** An attempt holds a client and its chain (your middleware, your function) is about to run. */
  attemptStart: 'clientpool:attempt:start',
  /** An attempt that held a client settled: after its breaker, the counters and `onOutcome` hooks. */
  attemptEnd: 'clientpool:attempt:end',
  /** A client's circuit changed state. */
  circuit: 'clientpool:circuit',
  /** A call waited for a rate-limit token, or was refused one. */
  rateLimit: 'clientpool:rate-limit',
} as const);

/**
 * The context of the `clientpool:call` tracing channel: one object per traced call, the same in each of
 * its events. Node sets `result` (on success) or `error` (what the caller gets) on it before `asyncStart`.
 */
export interface CallMessage<T = unknown> {
  readonly pool: ClientPool<T>;
  /** The call's `method` option, `'unknown'` when absent or not a string. */
  readonly method: string;
  /** The options the caller gave `run()`, read once: the copy the call runs with (every run option a key), or as given when they were refused; undefined when none. */
  readonly options: RunOptions<T> | undefined;
  /** The call's value, set by Node when it resolved. */
  result?: unknown;
  /** What the call rejected with (a clientpool error), set by Node when it failed. */
  error?: unknown;
}

/** Published on `clientpool:attempt:start`. */
export interface AttemptStartMessage<T = unknown> {
  readonly pool: ClientPool<T>;
  /** The attempt itself, as middleware see it: `clientName`, `method`, `attempt` number, `kind`. */
  readonly call: Call<T>;
}

/** Published on `clientpool:attempt:end`, exactly once for each `clientpool:attempt:start` published. */
export interface AttemptEndMessage<T = unknown> {
  readonly pool: ClientPool<T>;
  readonly call: Call<T>;
  /** How it ended; the same object `onOutcome` hooks receive. */
  readonly outcome: Outcome;
  /**
   * Milliseconds from the pick to the outcome on the pool's clock; `NaN` when the pool does not time
   * attempts (it does with `measureLatency: true`, `p2c-ewma`, a slow-call breaker, or an `onOutcome`
   * hook that reads a duration).
   */
  readonly durationMs: number;
}

/** Published on `clientpool:circuit`: the fields of `pool.onStateChange`, and the pool. */
export interface CircuitMessage<T = unknown> {
  readonly pool: ClientPool<T>;
  /** The client's name. */
  readonly client: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** The pool clock's time of the transition, ms (`performance.now()` by default). */
  readonly at: number;
}

/** Published on `clientpool:rate-limit`: the fields of `pool.onRateLimit`, and the pool. */
export interface RateLimitMessage<T = unknown> {
  readonly pool: ClientPool<T>;
  /** `pool` for the pool-wide limit, `client` for a client's own bucket. */
  readonly scope: 'pool' | 'client';
  /** The client whose bucket it was (scope `client`), else undefined. */
  readonly client: string | undefined;
  readonly method: string;
  /** Milliseconds the call waited, on the pool's clock. */
  readonly waitedMs: number;
  /** True when no token came within `maxWait`: the call failed with `RateLimitedError`. */
  readonly rejected: boolean;
}

/** What the pool uses of a plain channel: Node's `Channel`, or a silent stand-in where there is none. */
export interface PublishChannel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

/** What the pool uses of the `clientpool:call` tracing channel. */
export interface CallTracingChannel {
  readonly hasSubscribers: boolean;
  tracePromise<ThisArg, Args extends unknown[], Result>(fn: (this: ThisArg, ...args: Args) => Promise<Result>, context: CallMessage, thisArg: ThisArg, ...args: Args): Promise<Result>;
}

/** The two factories of `node:diagnostics_channel` this module uses. */
interface DiagnosticsChannel {
  channel(name: string): PublishChannel;
  tracingChannel(name: string): CallTracingChannel & { readonly start: PublishChannel; readonly end: PublishChannel; readonly asyncStart: PublishChannel; readonly asyncEnd: PublishChannel; readonly error: PublishChannel };
}

// Looked up rather than imported, so that the core bundles for a browser: Node, Bun and Deno have the
// module; a browser gets channels nobody can subscribe to, which cost one `hasSubscribers` read as Node's do.
const diagnostics = builtinModule('node:diagnostics_channel') as Partial<DiagnosticsChannel> | undefined;
const isAvailable = typeof diagnostics?.channel === 'function' && typeof diagnostics.tracingChannel === 'function';

const SILENT_CHANNEL: PublishChannel = Object.freeze({ hasSubscribers: false, publish() {} });
const SILENT_TRACING: CallTracingChannel = Object.freeze({
  hasSubscribers: false,
  tracePromise<ThisArg, Args extends unknown[], Result>(fn: (this: ThisArg, ...args: Args) => Promise<Result>, _context: CallMessage, thisArg: ThisArg, ...args: Args): Promise<Result> {
    return Reflect.apply(fn, thisArg, args);
  },
});

function plainChannel(name: string): PublishChannel {
  return isAvailable ? (diagnostics as DiagnosticsChannel).channel(name) : SILENT_CHANNEL;
}

function callTracingChannel(name: string): CallTracingChannel {
  if (!isAvailable) return SILENT_TRACING;
  const traced = (diagnostics as DiagnosticsChannel).tracingChannel(name);
  if (typeof traced.hasSubscribers === 'boolean') return traced;
  // Bun's TracingChannel has no `hasSubscribers` (Node >= 20.13 has): read it from its five channels, as Node does.
  const { start, end, asyncStart, asyncEnd, error } = traced;
  return {
    get hasSubscribers(): boolean {
      return start.hasSubscribers || end.hasSubscribers || asyncStart.hasSubscribers || asyncEnd.hasSubscribers || error.hasSubscribers;
    },
    tracePromise: (fn, context, thisArg, ...args) => traced.tracePromise(fn, context, thisArg, ...args),
  };
}

// Made once, at module level: a publish point reads one `hasSubscribers` and, without a subscriber,
// builds no message. Internal: subscribers reach them by name.
/** The `clientpool:call` tracing channel. */
export const callChannel = callTracingChannel(CHANNELS.call);
/** `clientpool:attempt:start`, messages {@link AttemptStartMessage}. */
export const attemptStartChannel = plainChannel(CHANNELS.attemptStart);
/** `clientpool:attempt:end`, messages {@link AttemptEndMessage}. */
export const attemptEndChannel = plainChannel(CHANNELS.attemptEnd);
/** `clientpool:circuit`, messages {@link CircuitMessage}. */
export const circuitChannel = plainChannel(CHANNELS.circuit);
/** `clientpool:rate-limit`, messages {@link RateLimitMessage}. */
export const rateLimitChannel = plainChannel(CHANNELS.rateLimit);
