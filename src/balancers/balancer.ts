import type { Clock } from '../clock.js';
import type { PoolMember } from '../member.js';
import type { Random } from '../random.js';

/**
 * A load-balancing strategy: picks one of the ready members (never empty). Members whose circuit is open
 * are not in `ready`. The optional hooks let a balancer keep an index (a heap, a Fenwick tree) so that
 * `pick` stays O(1) or O(log n); the pool calls them for every balancer it has in use.
 */
export interface Balancer<T = unknown> {
  pick(ready: readonly PoolMember<T>[]): PoolMember<T>;
  /** A member became eligible. */
  onReady?(member: PoolMember<T>): void;
  /** A member stopped being eligible (circuit opened, removed, probes busy). */
  onUnready?(member: PoolMember<T>): void;
  /** A member's in-flight count changed. */
  onInFlight?(member: PoolMember<T>): void;
  /** True when `pick` reads `latencyMs`: the pool then times every call. */
  readonly usesLatency?: boolean;
}

/** What a balancer factory gets from the pool. */
export interface BalancerContext {
  readonly random: Random;
  readonly clock: Clock;
}

/** Makes a balancer; a pool makes one per strategy it uses. */
export type BalancerFactory<T = unknown> = (context: BalancerContext) => Balancer<T>;
