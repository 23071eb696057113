import type { CircuitState } from './breaker/breaker.js';
import type { Event } from './events.js';
import type { MemberSnapshot } from './member.js';

/** A circuit transition of one client, from `pool.onStateChange`. */
export interface StateChange {
  readonly client: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** Clock time of the transition. */
  readonly at: number;
}

/** A call that waited for a rate-limit token, or was refused one, from `pool.onRateLimit`. */
export interface RateLimitEvent {
  /** `pool` for the pool-wide limit, `client` for a client's own bucket. */
  readonly scope: 'pool' | 'client';
  /** The client whose bucket it was (scope `client`). */
  readonly client: string | undefined;
  readonly method: string;
  /** Milliseconds the call waited. */
  readonly waitedMs: number;
  /** True when no token came within `maxWait`: the call failed with `RateLimitedError`. */
  readonly rejected: boolean;
}

/** A client marked down or up again by active health checks, from `pool.onHealthChange`. */
export interface HealthChange {
  readonly client: string;
  readonly isDown: boolean;
}

/**
 * What observers (metrics, dashboards) may see of a pool: snapshots and typed events. Middleware with an
 * `attach(pool)` method receives it when registered, so that gauges can be read at scrape time instead of
 * being updated on every call.
 */
export interface PoolObserver {
  members(): MemberSnapshot[];
  readonly onStateChange: Event<StateChange>;
  readonly onRateLimit: Event<RateLimitEvent>;
  readonly onHealthChange: Event<HealthChange>;
}
