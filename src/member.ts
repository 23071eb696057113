import { CLOSED, type Breaker, type CircuitState, type OpenState } from './breaker/breaker.js';
import type { ConcurrencyLimit } from './limit/adaptive/concurrency-limit.js';
import type { Quota } from './limit/quota.js';
import { PeakEwma } from './peak-ewma.js';
import { heapNode, type HeapNode } from './util/indexed-heap.js';

/** A member's `maxInFlight` when it has none: the largest small integer, a count never reached. */
const UNCAPPED = 2 ** 31 - 1;

/** What a balancer may read of a client in the pool. */
export interface PoolMember<T = unknown> {
  readonly client: T;
  readonly name: string;
  readonly weight: number;
  /** A small integer unique among current members, reused after removal: an index for balancer tables. */
  readonly slot: number;
  readonly inFlight: number;
  /** Peak-EWMA latency in milliseconds (0 before the first call). */
  readonly latencyMs: number;
  /**
   * The share of its own in-memory limits left now, from 0 to 1: the smallest `available / burst` over
   * them, 1 when it has none. What the `most-headroom` strategy picks by.
   */
  readonly headroom: number;
  /** Whether any call of it was timed yet. */
  readonly isMeasured: boolean;
  /** The peak-EWMA latency as of `now`, decayed for the time since its last call. */
  latencyAt(now: number): number;
}

/** A read-only snapshot of one member, from `pool.members()`. */
export interface MemberSnapshot {
  readonly name: string;
  readonly weight: number;
  /** Its circuit as the next call finds it: an open circuit whose cooldown is over reads half-open. */
  readonly state: CircuitState;
  readonly inFlight: number;
  readonly successes: number;
  readonly failures: number;
  /** Attempts that ended with no verdict on the client: the caller aborted, a hedge won, or `destroy()`. */
  readonly cancelled: number;
  /** Attempts that held it but never reached it: a middleware or its shared limit refused them, or a middleware answered for it (a cache hit). */
  readonly refused: number;
  readonly latencyMs: number;
  /** Tokens left in its own in-memory `requests` bucket, or `undefined` without one. */
  readonly tokens: number | undefined;
  /** Tokens left in each of its own in-memory limits, by name (`{ requests: 3, tokens: 38_000 }`), or `undefined` without any. */
  readonly quota: Readonly<Record<string, number>> | undefined;
  /** Its concurrency cap (`add(client, { maxInFlight })`), or `undefined` when it has none. */
  readonly maxInFlight: number | undefined;
  /** Its priority tier (`add(client, { tier })`); 0 by default. */
  readonly tier: number;
  /** Its last reported height (`freshness.height` polls, `call.reportHeight()`), or `undefined` before any. */
  readonly height: number | undefined;
  /** How far it trails the pool's head (negative: ahead of it), or `undefined` while either is unknown. */
  readonly lag: number | undefined;
  /** Where its height stands: only `unknown` and `fresh` clients take calls. */
  readonly freshness: Freshness;
  /** Quorum reads (`pool.quorum()`) its answer was outvoted in. */
  readonly disagreements: number;
}

/** The members of one priority tier that are ready now: what balancers pick from while it is the first with any. */
export interface Tier<T> {
  /** Its number: lower serves first. */
  readonly tier: number;
  readonly ready: Member<T>[];
  /** Every member of the tier, for panic routing, which stays within one tier. */
  readonly members: Member<T>[];
  /** Its members out of the rotation for a while: open and cooling, or down. */
  ejected: number;
}

/**
 * Where a client's height stands against the pool's head: `unknown` (no report yet, or too few clients
 * report for a head), `fresh`, `lagging` (more than `maxLag` behind) or `ahead` (more than `maxLag` above
 * the head no other client corroborates).
 */
export type Freshness = 'unknown' | 'fresh' | 'lagging' | 'ahead';

/** Where a member stands in the pool's bookkeeping. */
export type Placement = 'ready' | 'cooling' | 'throttled' | 'saturated' | 'gone';

/** A client with its breaker and counters: the pool's internal record, read by balancers as {@link PoolMember}. */
export class Member<T> implements PoolMember<T> {
  readonly client: T;
  readonly name: string;
  readonly weight: number;
  readonly slot: number;
  readonly breaker: Breaker;
  readonly latency: PeakEwma;
  readonly close: ((client: T) => void | Promise<void>) | undefined;
  /**
   * The client's own limits: in-memory buckets (answered synchronously, so routed around) and limits
   * shared with other processes (Redis), waited on after the client is chosen.
   */
  readonly quota: Quota | undefined;
  /** Its entry in whichever waiting heap holds it (it is in at most one). */
  readonly node: HeapNode<Member<T>>;
  /**
   * Clock time until which it takes no call (tokens out, or paused by the upstream); -Infinity when not
   * (not 0: a clock may read below 0).
   */
  pausedUntil = Number.NEGATIVE_INFINITY;
  /** Failing active health checks: out of the rotation until it passes enough of them. */
  isDown = false;
  /** Its last reported height (block, slot, LSN), or -1 before any report. */
  height = -1;
  /** Where its height stands against the pool's corroborated head; `lagging` and `ahead` keep it out of the rotation. */
  freshness: Freshness = 'unknown';
  /**
   * Slow start: whether it is coming back, since when, and until when it takes less than its full share.
   * (A flag, not a sentinel time: a clock may read below 0, and the flag is what every pick reads.)
   */
  isWarming = false;
  warmingSince = 0;
  warmUntil = 0;
  /** Position in its tier's list of members (for panic routing). */
  tierIndex = -1;
  inFlight = 0;
  /**
   * Its `maxInFlight`: at it, the member leaves the rotation until a call ends. `UNCAPPED` (2^31-1, a count
   * never reached) when it has none: a small integer, so that the two tests per call against it compare
   * integers rather than a boxed Infinity. Moved by the roster alone (`setMaxInFlight`), as its adaptive
   * limit learns.
   */
  maxInFlight: number;
  /** Whether it was given a `maxInFlight` (a number, or adaptive): what its snapshot and the metrics report. */
  readonly isCapped: boolean;
  /** Its adaptive concurrency limit, told of each attempt that reached it, if `maxInFlight` is adaptive. */
  readonly adaptive: ConcurrencyLimit | undefined;
  /** Its priority tier (`add(client, { tier })`): it takes calls only while no member of a lower tier is ready. */
  readonly tier: number;
  /** Its tier's record in the roster, set when it joins. */
  tierEntry!: Tier<T>;
  successes = 0;
  failures = 0;
  /** Quorum reads its answer was outvoted in. */
  disagreements = 0;
  cancelled = 0;
  refused = 0;
  /** Not in any structure until the pool places it; `gone` once removed. */
  placement: Placement = 'saturated';
  /** The breaker state last seen by the pool: a different object means a transition to report. */
  lastState: CircuitState = CLOSED;
  /** Position in the pool's ready array while `placement` is `ready`. */
  readyIndex = -1;
  /** Set while draining: resolves `remove()` when the last call ends. */
  drained: (() => void) | undefined;
  /** Its pick results, made once: a pick allocates nothing. */
  readonly readyAsCall: { readonly kind: 'ready'; readonly member: Member<T>; readonly admission: 'call' };
  readonly readyAsProbe: { readonly kind: 'ready'; readonly member: Member<T>; readonly admission: 'probe' };
  /**
   * Bumped by `destroy()` when it releases the attempts still in flight: an attempt bound under an older
   * epoch was already counted, and its late end changes nothing. (A number, not a list of attempts: a
   * link from this long-lived record to each short-lived attempt would cost a write barrier per call.)
   */
  epoch = 0;
  /** Its attempts in flight that the pool tracks one by one (the rest `destroy()` releases by count). */
  tracked = 0;

  constructor(
    client: T,
    name: string,
    weight: number,
    slot: number,
    breaker: Breaker,
    close: ((client: T) => void | Promise<void>) | undefined,
    quota: Quota | undefined,
    maxInFlight?: number | ConcurrencyLimit,
    tier = 0,
  ) {
    this.adaptive = typeof maxInFlight === 'object' ? maxInFlight : undefined;
    this.maxInFlight = maxInFlight === undefined ? UNCAPPED : typeof maxInFlight === 'number' ? maxInFlight : maxInFlight.limit;
    this.isCapped = maxInFlight !== undefined;
    this.tier = tier;
    this.client = client;
    this.name = name;
    this.weight = weight;
    this.slot = slot;
    this.breaker = breaker;
    this.close = close;
    this.quota = quota;
    this.latency = new PeakEwma();
    this.node = heapNode<Member<T>>(this);
    this.readyAsCall = Object.freeze({ kind: 'ready', member: this, admission: 'call' });
    this.readyAsProbe = Object.freeze({ kind: 'ready', member: this, admission: 'probe' });
  }

  /** Out of sync with the pool's head: out of the rotation until it catches up. */
  get isOutOfSync(): boolean {
    return this.freshness === 'lagging' || this.freshness === 'ahead';
  }

  get latencyMs(): number {
    return this.latency.value;
  }

  get isMeasured(): boolean {
    return this.latency.isMeasured;
  }

  get headroom(): number {
    return this.quota === undefined ? 1 : this.quota.headroom;
  }

  latencyAt(now: number): number {
    return this.latency.valueAt(now);
  }

  /**
   * Its counters and state as of `now` (the pool clock): an open circuit whose cooldown is over reads
   * half-open, as the next call finds it (the breaker moves there only when a call asks), unless it waits
   * for its turn to probe (a fleet's other process probes it): then it reads open until that turn.
   */
  #dueState(state: OpenState): CircuitState {
    return this.placement === 'cooling' && this.node.key > state.until ? { kind: 'open', until: this.node.key, trips: state.trips } : { kind: 'half-open', trips: state.trips };
  }

  snapshot(now: number, head?: number): MemberSnapshot {
    const state = this.breaker.state;
    return {
      name: this.name,
      weight: this.weight,
      state: state.kind === 'open' && now >= state.until ? this.#dueState(state) : state,
      inFlight: this.inFlight,
      successes: this.successes,
      failures: this.failures,
      cancelled: this.cancelled,
      refused: this.refused,
      latencyMs: this.latency.value,
      tokens: this.quota?.requests?.available,
      quota: this.quota?.available(),
      maxInFlight: this.isCapped ? this.maxInFlight : undefined,
      tier: this.tier,
      height: this.height < 0 ? undefined : this.height,
      lag: this.height < 0 || head === undefined ? undefined : head - this.height,
      freshness: this.freshness,
      disagreements: this.disagreements,
    };
  }
}
