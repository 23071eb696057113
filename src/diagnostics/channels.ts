import { channel, tracingChannel } from 'node:diagnostics_channel';
import type { CircuitState } from '../breaker/breaker.js';
import type { Call, RunOptions } from '../call.js';
import type { Outcome } from '../pipeline/outcome.js';
import type { ClientPool } from '../pool.js';

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
  /** The options the caller gave `run()`, as given (undefined when none). */
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

// Made once, at module level: a publish point reads one `hasSubscribers` and, without a subscriber,
// builds no message. Internal: subscribers reach them by name.
/** The `clientpool:call` tracing channel. */
export const callChannel = tracingChannel<unknown, CallMessage>(CHANNELS.call);
/** `clientpool:attempt:start`, messages {@link AttemptStartMessage}. */
export const attemptStartChannel = channel(CHANNELS.attemptStart);
/** `clientpool:attempt:end`, messages {@link AttemptEndMessage}. */
export const attemptEndChannel = channel(CHANNELS.attemptEnd);
/** `clientpool:circuit`, messages {@link CircuitMessage}. */
export const circuitChannel = channel(CHANNELS.circuit);
/** `clientpool:rate-limit`, messages {@link RateLimitMessage}. */
export const rateLimitChannel = channel(CHANNELS.rateLimit);
