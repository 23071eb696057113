import type { MemberSnapshot, PoolObserver, RateLimitEvent, StateChange } from '../../src/index.js';
import { Emitter } from '../../src/events.js';

/**
 * The observable side of a pool, driven by hand: the adapter only ever sees a pool through
 * `PoolObserver`, and here the test decides which events happen and what `members()` says.
 */
export class StandInPool implements PoolObserver {
  readonly stateChanges = new Emitter<StateChange>();
  readonly rateLimits = new Emitter<RateLimitEvent>();
  readonly healthChanges = new Emitter<{ readonly client: string; readonly isDown: boolean }>();
  readonly onStateChange = this.stateChanges.event;
  readonly onRateLimit = this.rateLimits.event;
  readonly onHealthChange = this.healthChanges.event;
  snapshots: MemberSnapshot[] = [];

  members(): MemberSnapshot[] {
    return this.snapshots;
  }
}

/** A member snapshot with the fields the adapter reads; the rest as a fresh client has them. */
export function snapshot(name: string, fields: Partial<MemberSnapshot> = {}): MemberSnapshot {
  return { name, weight: 1, state: { kind: 'closed' }, inFlight: 0, successes: 0, failures: 0, cancelled: 0, refused: 0, latencyMs: 0, tokens: undefined, quota: undefined, maxInFlight: undefined, tier: 0, height: undefined, lag: undefined, freshness: 'unknown', disagreements: 0, ...fields };
}
