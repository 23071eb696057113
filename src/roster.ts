import type { Balancer } from './balancers/balancer.js';
import { guardedHooks, type BalancerHooks } from './balancers/guarded-hooks.js';
import { RoundRobin } from './balancers/round-robin.js';
import { HashRing } from './balancers/hash-ring.js';
import { strategyFactory, validateStrategy, type Strategy } from './balancers/strategies.js';
import type { Admission, CircuitState } from './breaker/breaker.js';
import type { Clock } from './clock.js';
import { AllCircuitsOpenError, CallbackError, HeightNotReachedError, InvalidOptionError, NoClientsError, type ClientPoolError, type UnavailableClient } from './errors.js';
import { Member, type Freshness, type MemberSnapshot, type PoolMember, type Tier } from './member.js';
import type { Random } from './random.js';
import { IndexedHeap } from './util/indexed-heap.js';
import { nonEmptyString } from './validate.js';
import { onRejected } from './pipeline/guard.js';
import { DEFAULT_COST, type Cost } from './limit/cost.js';
import { LOW, NORMAL } from './limit/priority.js';

/**
 * What a pick found, as grpc-js's picker answers: a client ready and admitted (as a call or a half-open
 * probe), nothing ready now but a client due back once its tokens return (wait), or nothing that waiting
 * would help (unavailable, with the error to fail with).
 */
export type PickResult<T> = ReadyPick<T> | { readonly kind: 'wait' } | { readonly kind: 'unavailable'; readonly error: ClientPoolError };

/** A client picked, admitted by its breaker, and held: counted in flight until its attempt settles. */
export interface ReadyPick<T> {
  readonly kind: 'ready';
  readonly member: Member<T>;
  readonly admission: 'call' | 'probe';
}

const WAIT = Object.freeze({ kind: 'wait' as const });

/** `balancer` as the pool's own round robin, if it is one. */
function asRoundRobin<T>(balancer: Balancer<T>): RoundRobin<T> | undefined {
  return balancer instanceof RoundRobin ? balancer : undefined;
}

/**
 * Whether `picked` is a member rather than the error `#pick` made of a bad pick: read off a field only
 * members have, which V8 checks against the member's shape where `instanceof` walks the prototype chain of
 * an object it knows nothing of (a balancer's return value).
 */
function isMember<T>(picked: Member<T> | ClientPoolError): picked is Member<T> {
  return (picked as { readyIndex?: number }).readyIndex !== undefined;
}

/** A member's `pausedUntil` when it is not paused (not 0: a clock may read below 0). */
const NONE = Number.NEGATIVE_INFINITY;

/** Called when a member's circuit state changed. */
export type TransitionListener<T> = (member: Member<T>, from: CircuitState, to: CircuitState) => void;

/** How members that come back, or too many going out, are handled. */
export interface RosterPolicy {
  /** Fraction (0..1] of members that may be ejected (open or down) before traffic spreads over all of them. */
  readonly maxEjected: number;
  /** Slow start window in ms (0: off) and the share a member starts with. */
  readonly slowStartWindow: number;
  readonly slowStartMinShare: number;
  /** Share of each cap and in-memory limit kept from low-priority calls (0..1). */
  readonly reserve: number;
}

/**
 * Clients a call tried already: passed over while others are ready, or, when `isStrict` (a quorum read,
 * which needs distinct clients), never given to it again.
 */
export type Avoid<T> = readonly Member<T>[] & { readonly isStrict?: boolean };

/** The ready member with the fewest calls in flight that is not in `avoid`, if any. */
function leastBusyExcept<T>(ready: readonly Member<T>[], avoid: readonly Member<T>[]): Member<T> | undefined {
  let best: Member<T> | undefined;
  for (const member of ready) if (!avoid.includes(member) && (best === undefined || member.inFlight < best.inFlight)) best = member;
  return best;
}

/** The least busy ready member at `minHeight` or above, preferring one not in `avoid` (never one in a strict `avoid`), if any. */
function leastBusyAtHeight<T>(ready: readonly Member<T>[], minHeight: number, avoid: Avoid<T> | undefined): Member<T> | undefined {
  let best: Member<T> | undefined;
  let bestAvoided = true;
  for (const member of ready) {
    if (!(member.height >= minHeight)) continue;
    const isAvoided = avoid?.includes(member) ?? false;
    if (isAvoided && avoid?.isStrict === true) continue;
    if (best === undefined || (bestAvoided && !isAvoided) || (bestAvoided === isAvoided && member.inFlight < best.inFlight)) {
      best = member;
      bestAvoided = isAvoided;
    }
  }
  return best;
}

/** The highest height among `members` in sync with the head, or `undefined` if none has one. */
function highestOf<T>(members: Iterable<Member<T>>): number | undefined {
  let highest = -1;
  for (const member of members) if (member.height > highest && !member.isOutOfSync) highest = member.height;
  return highest < 0 ? undefined : highest;
}

/**
 * The pool's bookkeeping of its members: which may take a call now (`ready`, what balancers pick from),
 * which are open until some time (`cooling`), which wait for a rate-limit token or a pause
 * (`throttled`), and which are half-open with every probe taken (`saturated`). Every move is O(1) or
 * O(log n), so a pick never scans the members.
 */
export class Roster<T> {
  readonly byName = new Map<string, Member<T>>();
  readonly #byClient = new Map<T, Member<T>>();
  readonly #bySlot: (Member<T> | undefined)[] = [];
  readonly #freeSlots: number[] = [];
  #nextSlot = 0;
  #autoName = 0;
  /** The clock's reading at the last promotion, to notice it stepping back. */
  #lastNow = Number.NEGATIVE_INFINITY;
  /** Every tier with a member, lowest first; each keeps its ready members. */
  readonly #tiers: Tier<T>[] = [];
  /**
   * The first tier with a ready member, or undefined when none is: the only members balancers see (their
   * `onReady`/`onUnready` hooks follow it), so a tier takes calls only while the tiers before it cannot.
   */
  #active: Tier<T> | undefined;
  /** Open members, by the time their cooldown ends. */
  readonly #cooling = new IndexedHeap<Member<T>>();
  /** Members out of tokens or paused, by the time they may take a call again. */
  readonly #throttled = new IndexedHeap<Member<T>>();
  readonly #balancers = new Map<Strategy<T>, Balancer<T>>();
  /** The round robin made for the strategy `'round-robin'`, once one is. */
  #roundRobin: RoundRobin<T> | undefined;
  readonly #readyHooks: BalancerHooks<T>[] = [];
  readonly #inFlightHooks: BalancerHooks<T>[] = [];
  /** 1 once a balancer has an `onInFlight` hook (a small integer, for the per-call test: see `lane`). */
  #tellsInFlight = 0;
  readonly #warn: (name: string, error: unknown) => void;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #onTransition: TransitionListener<T>;
  readonly #onReady: () => void;
  readonly #policy: RosterPolicy;
  /** The tier panic routing is decided in: the first whose members are not all out (else the first). */
  #panicTier: Tier<T> | undefined;
  /** Members at their `maxInFlight`: out of the rotation until a call of theirs ends. */
  #fullCount = 0;
  /** Whether any call was placed yet. */
  #hasServed = false;
  #isTimed = false;
  #hasCallsInLine = false;
  #isClosing = false;
  /**
   * Whether a call with nothing of its own to ask of the pick may go straight to the balancer's pick
   * (`selectPlain`): a tier serves, no member is cooling or paused, no cost is due, no panic, calls are
   * not timed, no call waits in line, the pool is not closing. One flag, so that the plain pick tests one thing; `#syncLane()` keeps it wherever one of
   * those changes. 1 while open, 0 while closed: a small integer, which V8 compares with 0 in one
   * instruction, where a boolean field takes a full truthiness test.
   */
  lane = 0;
  /** What the last `laneMember` that returned no member picked instead. */
  missed: PickResult<T> = WAIT;
  /** A fleet's say on probing an open member whose cooldown is over: ms to wait for its turn, 0 to go. */
  probeGate: ((member: Member<T>) => number) | undefined;
  /** Whether more than `maxEjected` of the members are out, kept up to date on every move. */
  #isPanicking = false;
  /** The affinity ring over every member, rebuilt lazily after the membership changes. */
  #ring: HashRing<Member<T>> | undefined;

  constructor(
    clock: Clock,
    random: Random,
    policy: RosterPolicy,
    onTransition: TransitionListener<T>,
    onReady: () => void,
    warn: (name: string, error: unknown) => void = () => {},
  ) {
    this.#warn = warn;
    this.#policy = policy;
    this.#clock = clock;
    this.#random = random;
    this.#onTransition = onTransition;
    this.#onReady = onReady;
  }

  /** Whether calls are timed: asked for, or needed by a balancer, a breaker or quantile hedging. Never unset. */
  get isTimed(): boolean {
    return this.#isTimed;
  }

  set isTimed(value: boolean) {
    this.#isTimed = value;
    this.#syncLane();
  }

  #syncLane(): void {
    this.lane = this.#active !== undefined && this.#cooling.size === 0 && this.#throttled.size === 0 && !this.#hasCostDue && !this.#isPanicking && !this.#isTimed && !this.#hasCallsInLine && !this.#isClosing ? 1 : 0;
  }

  /** The pool is closing: no call takes the lane again (a call there gets `PoolClosedError` from the pick). */
  closeLane(): void {
    this.#isClosing = true;
    this.#syncLane();
  }

  /** Whether calls wait in line for a client (the client queue says): a new call goes in line behind them. */
  get hasCallsInLine(): boolean {
    return this.#hasCallsInLine;
  }

  set hasCallsInLine(value: boolean) {
    this.#hasCallsInLine = value;
    this.#syncLane();
  }

  /** Whether some member is at its `maxInFlight`: a call that finds no client ready waits for a slot. */
  get hasFullMembers(): boolean {
    return this.#fullCount > 0;
  }

  get size(): number {
    return this.byName.size;
  }

  find(client: string | T): Member<T> | undefined {
    return (typeof client === 'string' ? this.byName.get(client) : undefined) ?? this.#byClient.get(client as T);
  }

  /**
   * The name of a client joining: the one asked for, or the next free `client-<n>`.
   * @throws InvalidOptionError for an empty or taken name, or a client already in the pool.
   */
  nameFor(client: T, requested: unknown): string {
    let name: string;
    if (requested === undefined) {
      do name = `client-${++this.#autoName}`;
      while (this.byName.has(name));
    } else {
      name = nonEmptyString('name', requested);
      if (this.byName.has(name)) throw new InvalidOptionError('name', 'unique in the pool', name);
    }
    const existing = this.#byClient.get(client);
    if (existing !== undefined) throw new InvalidOptionError('client', `not already in the pool (it is "${existing.name}")`, name);
    return name;
  }

  /** A slot for a new member: reused after a removal has drained. */
  allocateSlot(): number {
    return this.#freeSlots.pop() ?? this.#nextSlot++;
  }

  add(member: Member<T>): void {
    // An adaptive limit learns from each attempt's latency.
    if (member.adaptive !== undefined) this.isTimed = true;
    if (member.quota !== undefined) member.quota.warn = this.#warn;
    this.byName.set(member.name, member);
    this.#byClient.set(member.client, member);
    this.#bySlot[member.slot] = member;
    member.lastState = member.breaker.state;
    this.#ring = undefined;
    const tier = (member.tierEntry = this.#tierOf(member.tier));
    member.tierIndex = tier.members.length;
    tier.members.push(member);
    // A member joining a pool that already serves traffic ramps up; the first members do not.
    if (this.#hasServed) this.#startWarming(member);
    this.place(member);
    // One more member (perhaps of a tier that now serves) changes the share out.
    this.#updatePanic();
    this.onMembership?.(member, true);
  }

  /** Take a member out at once: no new call goes to it. Its slot stays taken until `freeSlot`. */
  detach(member: Member<T>): void {
    this.byName.delete(member.name);
    this.#byClient.delete(member.client);
    this.#unplace(member);
    member.placement = 'gone';
    if (member.inFlight >= member.maxInFlight) this.#fullCount--;
    this.#ring = undefined;
    const tier = member.tierEntry;
    const last = tier.members.pop()!;
    if (last !== member) {
      tier.members[member.tierIndex] = last;
      last.tierIndex = member.tierIndex;
    }
    if (member.isDown) tier.ejected--;
    // A tier with no member left is forgotten: pools whose tiers come and go keep no empty ones.
    if (tier.members.length === 0) this.#tiers.splice(this.#tiers.indexOf(tier), 1);
    this.#updatePanic();
    this.onMembership?.(member, false);
    // Calls waiting for a client may have waited for this one (at its cap): they look again, and fail at
    // once if no client is left.
    this.#onReady();
  }

  /** Mark a member down (failing health checks) or up again; coming up, it ramps up like any return. */
  setDown(member: Member<T>, isDown: boolean): void {
    if (member.isDown === isDown || member.placement === 'gone') return;
    member.isDown = isDown;
    member.tierEntry.ejected += isDown ? 1 : -1;
    if (!isDown) this.#startWarming(member);
    this.place(member);
    this.#updatePanic();
    // Calls waiting for this very client (a quorum's untried one) look again: it may no longer come back.
    if (isDown) this.onLost?.();
  }

  /**
   * The pool's corroborated head (the highest height `corroboration` clients reach), or `undefined` while
   * too few clients report one: set by the pool's height tracker.
   */
  head: number | undefined;

  /** Told when a member goes down or out of sync: calls waiting for that very client (picky ones) look again. */
  onLost: (() => void) | undefined;

  /** Told of each member that joins (`true`) or leaves (`false`): the pool's probes poll a newcomer at once and stop a leaver's. */
  onMembership: ((member: Member<T>, joined: boolean) => void) | undefined;

  /** A member's height moved it in or out of sync with the head: out of sync, it leaves the rotation (not counted as ejected: no panic routing sends calls to a stale client). */
  setFreshness(member: Member<T>, freshness: Freshness): void {
    if (member.freshness === freshness || member.placement === 'gone') return;
    const wasOut = member.isOutOfSync;
    member.freshness = freshness;
    if (wasOut === member.isOutOfSync) return;
    this.place(member);
    // As when it goes down: calls waiting for it look again.
    if (member.isOutOfSync) this.onLost?.();
  }

  /** After a removed member has drained. */
  freeSlot(member: Member<T>): void {
    this.#bySlot[member.slot] = undefined;
    this.#freeSlots.push(member.slot);
  }

  /**
   * `select()` for a call that asks nothing of its client (no key, height, cost or priority of its own, no
   * client to avoid) while every client is in its place (none cooling, paused, short of a cost, no panic):
   * the balancer's pick and the breaker's admission, in a method small enough for V8 to inline into the
   * pick stage. Anything else goes on with `select()`, from this pick, so that the balancer picks once.
   */
  selectPlain(balancer: Balancer<T>): PickResult<T> {
    return this.lane === 0 ? this.select(balancer) : this.selectLane(balancer);
  }

  /** `selectPlain` once its caller saw the lane open. */
  selectLane(balancer: Balancer<T>): PickResult<T> {
    return this.laneMember(balancer)?.readyAsCall ?? this.missed;
  }

  /**
   * `selectLane` for the pick stage's lane: the member held as a normal call, or undefined with what the
   * pick made instead in `missed` (the lane then tests no kind or admission, two string compares, per call).
   */
  laneMember(balancer: Balancer<T>): Member<T> | undefined {
    const ready = this.#active!.ready;
    let member: Member<T>;
    // The pool's own round robin returns one of `ready` by construction: its pick needs no check.
    if (balancer === this.#roundRobin) member = this.#roundRobin.pickMember(ready);
    else {
      const picked = this.#pick(balancer, ready);
      if (!isMember(picked)) return this.#miss(this.select(balancer, undefined, undefined, undefined, DEFAULT_COST, NORMAL, picked));
      member = picked;
    }
    if (member.isWarming || member.quota !== undefined) return this.#miss(this.select(balancer, undefined, undefined, undefined, DEFAULT_COST, NORMAL, member));
    const admission = member.breaker.acquire();
    if (admission !== 'call' || member.placement !== 'ready') return this.#miss(this.#admit(member, admission) ?? this.select(balancer));
    this.#hasServed = true;
    this.inFlight(member, 1);
    return member;
  }

  /** Keep what the pick made instead of a lane member, for `laneMember`'s caller to read at once. */
  #miss(picked: PickResult<T>): undefined {
    this.missed = picked;
    return undefined;
  }

  /**
   * Pick a ready member with `balancer`, admitted by its breaker and its own rate limit. With `key`, the
   * key's member on the affinity ring comes first; members in `avoid` (tried already by this call) are
   * passed over while others are ready. Never throws: a balancer that throws or returns a stranger makes
   * the pick `unavailable` with a `CallbackError`. `first`: what the balancer picked already for this
   * call (`selectPlain`), taken as the loop's first pick.
   */
  select(balancer: Balancer<T>, avoid?: Avoid<T>, key?: string, minHeight?: number, cost: Cost = DEFAULT_COST, priority = NORMAL, first?: Member<T> | ClientPoolError): PickResult<T> {
    if (this.#cooling.size > 0 || this.#throttled.size > 0) this.#promoteDue();
    // Noted anew by this pick if still short.
    // Read before written: the plain pick (no cost ever short) writes nothing here.
    if (this.#hasCostDue) this.#expireCostDue();
    // A read-your-writes call never goes to a panic pick, which knows nothing of heights; nor a quorum's,
    // which knows nothing of the clients it tried.
    if (this.#isPanicking && minHeight === undefined && avoid?.isStrict !== true) {
      const member = this.#panicPick(cost, priority === LOW ? this.reserve : 0);
      if (member !== undefined) return member.readyAsCall;
    }
    let skips = 0;
    for (;;) {
      // Read each turn: a member refused below may have emptied its tier, and the next one serves.
      const active = this.#active;
      if (active === undefined) {
        // A picky call (a quorum's, a minHeight one) waits only for a client it could take.
        if (minHeight !== undefined || avoid?.isStrict === true) return this.#pickyWait(avoid, minHeight);
        return this.#throttled.size > 0 || this.#fullCount > 0 ? WAIT : { kind: 'unavailable', error: this.#unavailable() };
      }
      const ready = active.ready;
      let member: Member<T> | undefined;
      if (key !== undefined) {
        member = (this.#ring ??= new HashRing(this.byName.values())).find(key, (m) => m.placement === 'ready' && m.tierEntry === active && !(avoid?.includes(m) ?? false));
        // Once the key's members are all out, fall back to the balancer for this call.
        if (member === undefined) key = undefined;
      }
      if (member === undefined) {
        const picked = first ?? this.#pick(balancer, ready);
        first = undefined;
        if (!isMember(picked)) return { kind: 'unavailable', error: picked };
        member = picked;
      }
      if (avoid !== undefined && avoid.includes(member)) {
        // A retry or hedge: prefer a client this call has not tried. A deterministic balancer (least
        // in-flight) may keep returning the same one, so look for another directly, O(n) on this path only.
        // A quorum's (`isStrict`) never takes one it tried: a later tier's, or a wait, or none.
        const other = leastBusyExcept(ready, avoid) ?? (avoid.isStrict === true ? this.#untriedInOtherTiers(avoid) : undefined);
        if (other === undefined && avoid.isStrict === true) return this.#noneUntried(avoid);
        member = other ?? member;
      }
      if (minHeight !== undefined && !(member.height >= minHeight)) {
        // Read-your-writes: only a client at `minHeight` or above, of whichever tier has one ready; when
        // none is ready but one in sync is there (busy, out of tokens, open, down), the call waits for it.
        const high = this.#atHeight(minHeight, avoid);
        if (high === undefined) return this.#hasInSync(minHeight) ? WAIT : { kind: 'unavailable', error: new HeightNotReachedError(minHeight, highestOf(this.byName.values())) };
        member = high;
      }
      if (cost !== DEFAULT_COST && member.quota !== undefined && !member.quota.fits(cost)) {
        // A cost over one of its bursts never fits this client: another that it fits takes the call, and
        // this one stays ready for the calls it fits.
        const fitting = this.#fittingReady(cost, avoid, minHeight, false, false);
        if (fitting === undefined) return this.#noneFits(cost, minHeight);
        member = fitting;
      }
      if (cost !== DEFAULT_COST && member.quota !== undefined && !member.quota.hasRoom(cost, 0) && member.quota.hasRoom(DEFAULT_COST, 0)) {
        // Short of this call's cost only: passed over for it, not for cheaper calls, and the wait for a
        // client wakes when the cost's tokens are back. (Calls in line keep their order: a large call
        // waiting is not overtaken by smaller ones behind it.)
        this.#noteCostDue(this.#clock.now() + Math.max(member.quota.waitTime(cost), 1));
        const other = this.#fittingReady(cost, avoid, minHeight, priority === LOW && this.reserve > 0, true);
        if (other === undefined) return WAIT;
        member = other;
      }
      if (priority === LOW && this.reserve > 0 && !this.#admitsLow(member, cost)) {
        // A low-priority call takes no slot or token of the reserve: another client with room outside
        // it, or a wait, which the pick turns into shedding.
        const other = this.#fittingReady(cost, avoid, minHeight, true, true);
        if (other === undefined) return WAIT;
        member = other;
      }
      if (member.isWarming && !this.#admitWarming(member) && ++skips < ready.length * 2) continue;
      const admission = member.breaker.acquire();
      const quota = member.quota;
      if (admission !== false && quota !== undefined && !quota.tryTakeLocal(cost)) {
        member.breaker.release(admission);
        // At least a millisecond: a bucket shared with other code may refuse (someone is queued on it)
        // while its own wait is 0, and the member must not come straight back into this loop.
        this.throttle(member, this.#clock.now() + Math.max(quota.waitTime(cost), 1));
        continue;
      }
      const served = this.#admit(member, admission);
      if (served !== undefined) return served;
    }
  }

  /** The breaker answered `admission` for `member`: the pick is served, or undefined when the loop must look again. */
  #admit(member: Member<T>, admission: Admission): PickResult<T> | undefined {
    if (admission === false) {
      this.afterBreaker(member);
      if (member.placement === 'ready') this.#moveTo(member, 'saturated');
      return undefined;
    }
    // A probe may have used the last permit; a refusal or transition is seen here too.
    if (admission === 'probe') this.afterBreaker(member);
    // A state-change listener may have removed it just now: it must not be called after its removal.
    if (member.placement === 'gone') {
      member.breaker.release(admission);
      return undefined;
    }
    return this.#serve(member, admission);
  }

  #serve(member: Member<T>, admission: Exclude<Admission, false>): PickResult<T> {
    this.#hasServed = true;
    this.inFlight(member, 1);
    return admission === 'call' ? member.readyAsCall : member.readyAsProbe;
  }

  /**
   * The least busy ready member whose limits can hold `cost`, from the first tier that has one (at
   * `minHeight` if given; never one a strict `avoid` holds, preferably none `avoid` holds). O(n): on the
   * path of a cost larger than some client's burst only.
   */
  #fittingReady(cost: Cost, avoid: Avoid<T> | undefined, minHeight: number | undefined, isLow: boolean, needsRoom: boolean): Member<T> | undefined {
    for (const tier of this.#tiers) {
      let best: Member<T> | undefined;
      let bestAvoided = true;
      for (const member of tier.ready) {
        if (member.quota !== undefined && !member.quota.fits(cost)) continue;
        if (isLow && !this.#admitsLow(member, cost)) continue;
        if (needsRoom && member.quota !== undefined && !member.quota.hasRoom(cost, 0)) continue;
        if (minHeight !== undefined && !(member.height >= minHeight)) continue;
        const isAvoided = avoid?.includes(member) ?? false;
        if (isAvoided && avoid?.isStrict === true) continue;
        if (best === undefined || (bestAvoided && !isAvoided) || (bestAvoided === isAvoided && member.inFlight < best.inFlight)) {
          best = member;
          bestAvoided = isAvoided;
        }
      }
      if (best !== undefined) return best;
    }
    return undefined;
  }

  /**
   * Whether a low-priority call may take `member`: a slot below `max(1, floor(maxInFlight × (1 - reserve)))`,
   * and tokens that leave `reserve` of each in-memory limit's burst (or a full bucket too small for both).
   */
  #admitsLow(member: Member<T>, cost: Cost): boolean {
    const cap = member.maxInFlight;
    // At least one slot, so that a low call runs on an idle client however small its cap; a hair over the
    // product, so that 100 x (1 - 0.34) is the 66 it reads as, not 65.99...
    if (member.isCapped && member.inFlight >= Math.max(1, Math.floor(cap * (1 - this.reserve) + 1e-9))) return false;
    return member.quota === undefined || member.quota.hasRoom(cost, this.reserve);
  }

  /**
   * The earliest time a client passed over for a call's cost (short of it, not of a request) has room for
   * it: a wait for a client wakes then. Infinity when none. (Only ever a time to look again: a stale one
   * costs a wasted turn, never a wrong answer.)
   */
  #costDue = Number.POSITIVE_INFINITY;

  /** When the client the last pick passed over for its cost has room for it, if that pick did; else undefined. */
  lastCostDue: number | undefined;

  /** Whether a cost due time is noted (`#costDue` or `lastCostDue`): a flag, so the plain pick reads no double. */
  #hasCostDue = false;

  #noteCostDue(at: number): void {
    this.#hasCostDue = true;
    this.lane = 0;
    if (at < this.#costDue) this.#costDue = at;
    if (this.lastCostDue === undefined || at < this.lastCostDue) this.lastCostDue = at;
  }

  /** At a pick: the last pick's due time is no longer this one's, and a passed one is forgotten. */
  #expireCostDue(): void {
    this.lastCostDue = undefined;
    if (this.#costDue <= this.#clock.now()) this.#costDue = Number.POSITIVE_INFINITY;
    this.#hasCostDue = this.#costDue !== Number.POSITIVE_INFINITY;
    this.#syncLane();
  }

  /** The share of each cap and in-memory limit that low-priority calls may not use (the pool's `reserve`). */
  get reserve(): number {
    return this.#policy.reserve;
  }

  /**
   * No ready member can hold `cost`: wait while one that could is back soon (out of tokens, at its cap),
   * fail as any call when those that could are open or down, else refuse the cost, naming the limit it
   * exceeds everywhere and the largest burst of that limit.
   */
  #noneFits(cost: Cost, minHeight: number | undefined): PickResult<T> {
    let name: string | undefined;
    let largest = 0;
    let anyFits = false;
    for (const member of this.byName.values()) {
      // A read-your-writes call can only ever go to a client at its height.
      if (minHeight !== undefined && !(member.height >= minHeight)) continue;
      const quota = member.quota;
      if (quota === undefined || quota.fits(cost)) {
        anyFits = true;
        if (!member.isDown && !member.isOutOfSync && (member.placement === 'throttled' || member.inFlight >= member.maxInFlight)) return WAIT;
        continue;
      }
      for (const limit of Object.keys(cost)) {
        const burst = quota.burstOf(limit);
        if (burst !== undefined && cost[limit]! > burst && (name === undefined || limit === name)) {
          name = limit;
          largest = Math.max(largest, burst);
        }
      }
    }
    if (anyFits || name === undefined) return { kind: 'unavailable', error: this.#unavailable() };
    return { kind: 'unavailable', error: new InvalidOptionError(`cost.${name}`, `at most the burst of some client's "${name}" limit (the largest is ${largest})`, cost[name]) };
  }

  /** The least busy ready member at `minHeight` or above, from the first tier that has one. */
  #atHeight(minHeight: number, avoid: Avoid<T> | undefined): Member<T> | undefined {
    for (const tier of this.#tiers) {
      const member = leastBusyAtHeight(tier.ready, minHeight, avoid);
      if (member !== undefined) return member;
    }
    return undefined;
  }

  /**
   * No member ready: a picky call waits while some member it could take may come back soon (out of
   * tokens, busy at its cap or with its probes), and fails at once when none can: an open circuit fails
   * fast here as for any call.
   */
  #pickyWait(avoid: Avoid<T> | undefined, minHeight: number | undefined): PickResult<T> {
    if (this.byName.size === 0) return { kind: 'unavailable', error: new NoClientsError() };
    for (const member of this.byName.values()) {
      if (member.isDown || member.isOutOfSync || member.placement === 'cooling' || (avoid?.isStrict === true && avoid.includes(member))) continue;
      if (minHeight === undefined || member.height >= minHeight) return WAIT;
    }
    if (minHeight !== undefined) return { kind: 'unavailable', error: new HeightNotReachedError(minHeight, this.highestInSync()) };
    return { kind: 'unavailable', error: this.#unavailable(avoid) };
  }

  /** The highest height of a client in sync with the head, or `undefined` if none has one. */
  highestInSync(): number | undefined {
    return highestOf(this.byName.values());
  }

  /**
   * Whether a member in sync with the head, not ready now but back soon (out of tokens, busy at its cap or
   * with its probes), is at `minHeight` or above: open and down ones fail the call fast, as for any call.
   */
  #hasInSync(minHeight: number): boolean {
    for (const member of this.byName.values()) if (member.height >= minHeight && !member.isOutOfSync && !member.isDown && member.placement !== 'cooling') return true;
    return false;
  }

  /** Undo a pick whose caller is gone before it held the client: its admission and in-flight count go back. */
  giveBack(member: Member<T>, admission: 'call' | 'probe'): void {
    member.breaker.release(admission);
    this.inFlight(member, -1);
    this.afterBreaker(member);
    if (member.drained !== undefined && member.inFlight === 0) member.drained();
  }

  /**
   * A snapshot of every member as of now: an open circuit past its cooldown reads half-open, as the next
   * call finds it, so an idle pool does not report a circuit open long after its cooldown ended.
   */
  snapshots(): MemberSnapshot[] {
    const now = this.#clock.now();
    return Array.from(this.byName.values(), (member) => member.snapshot(now, this.head));
  }

  /** When the first throttled member may take a call again, if any. */
  nextThrottleDue(): number | undefined {
    return this.#throttled.peek()?.key;
  }

  /** When the first client passed over for some waiting call's cost has room for it, if any: a time to look again. */
  nextCostDue(): number | undefined {
    return this.#costDue === Number.POSITIVE_INFINITY ? undefined : this.#costDue;
  }

  /** When the first member out of the rotation for a time (throttled, or open until its cooldown ends) is due back, if any. */
  nextDue(): number | undefined {
    const throttled = this.#throttled.peek()?.key;
    const cooling = this.#cooling.peek()?.key;
    return throttled === undefined ? cooling : cooling === undefined ? throttled : Math.min(throttled, cooling);
  }

  inFlight(member: Member<T>, delta: number): void {
    const before = member.inFlight;
    member.inFlight = before + delta;
    // One comparison for an uncapped member (Infinity): the cap is crossed only when the higher count is at it.
    if ((delta > 0 ? member.inFlight : before) >= member.maxInFlight) this.#crossedCap(member, before);
    if (this.#tellsInFlight !== 0) this.#tellInFlight(member);
  }

  /** The balancer's `onInFlight` hooks hear a member's new count (not once it is gone). */
  #tellInFlight(member: Member<T>): void {
    const hooks = this.#inFlightHooks;
    if (member.placement !== 'gone') for (let i = 0; i < hooks.length; i++) hooks[i]!.onInFlight?.(member);
  }

  /**
   * Its adaptive limit moved: at or over the new cap it leaves the rotation; below it, it comes back and
   * calls waiting for a slot are served.
   */
  setMaxInFlight(member: Member<T>, cap: number): void {
    const wasFull = member.inFlight >= member.maxInFlight;
    member.maxInFlight = cap;
    const isFull = member.inFlight >= cap;
    if (wasFull === isFull || member.placement === 'gone') return;
    this.#fullCount += isFull ? 1 : -1;
    this.place(member);
  }

  /**
   * A member reached its `maxInFlight` (it leaves the rotation, as an empty bucket does) or fell below it
   * (it comes back, and calls waiting for a client are served). A bulkhead per client (Hystrix, Envoy's
   * `max_requests` per host).
   */
  #crossedCap(member: Member<T>, before: number): void {
    const isFull = member.inFlight >= member.maxInFlight;
    if (isFull === before >= member.maxInFlight || member.placement === 'gone') return;
    this.#fullCount += isFull ? 1 : -1;
    this.place(member);
  }

  /** Report a transition, if the breaker made one, and move the member where its state says. */
  afterBreaker(member: Member<T>): void {
    const state = member.breaker.state;
    const from = member.lastState;
    if (state !== from) {
      member.lastState = state;
      // A client back from an open circuit ramps up instead of taking its full share at once.
      if (state.kind === 'closed') this.#startWarming(member);
      this.#onTransition(member, from, state);
    }
    this.place(member);
  }

  /** Keep a member out of the rotation until `until` (its tokens come back, or the upstream asked for a pause). */
  throttle(member: Member<T>, until: number): void {
    if (until > member.pausedUntil) member.pausedUntil = until;
    this.place(member);
  }

  place(member: Member<T>): void {
    if (member.placement === 'gone') return;
    if (member.isDown || member.isOutOfSync) {
      this.#moveTo(member, 'saturated');
      return;
    }
    const state = member.breaker.state;
    const now = state.kind === 'open' || member.pausedUntil !== NONE ? this.#clock.now() : NONE;
    if (state.kind === 'open' && now < state.until) {
      this.#wait(member, 'cooling', state.until);
    } else if (member.pausedUntil > now) {
      this.#wait(member, 'throttled', member.pausedUntil);
    } else {
      member.pausedUntil = NONE;
      // A fleet's open client is probed by one process at a time: the others wait their turn, still open.
      const turn = state.kind === 'open' && this.probeGate !== undefined ? this.probeGate(member) : 0;
      if (turn > 0) {
        this.#wait(member, 'cooling', now + turn);
        return;
      }
      this.#moveTo(member, member.inFlight < member.maxInFlight && member.breaker.canAcquire() ? 'ready' : 'saturated');
    }
  }

  /**
   * The balancer of a call's own `strategy`: a name (made once, then kept), the pool's or a method's own
   * object, or a stateless object used as it is. A new object with hooks per call would be registered
   * forever and fed by every later call, so it is refused: give such a balancer to the pool or a method.
   */
  balancerForCall(strategy: Strategy<T>): Balancer<T> {
    if (typeof strategy === 'string') return this.balancerFor(strategy);
    const known = this.#balancers.get(strategy);
    if (known !== undefined) return known;
    const balancer = validateStrategy<T>('strategy', strategy) as Balancer<T>;
    if (balancer.onReady !== undefined || balancer.onUnready !== undefined || balancer.onInFlight !== undefined || balancer.usesLatency === true) {
      throw new InvalidOptionError('strategy', 'a name or a Balancer without hooks per call (give one with hooks to the pool or its methods)', 'a Balancer with hooks');
    }
    return balancer;
  }

  balancerFor(strategy: Strategy<T>): Balancer<T> {
    let balancer = this.#balancers.get(strategy);
    if (balancer !== undefined) return balancer;
    balancer =
      typeof strategy === 'string'
        ? strategyFactory<T>('strategy', strategy)({ random: this.#random, clock: this.#clock })
        : validateStrategy<T>('strategy', strategy) as Balancer<T>;
    this.#balancers.set(strategy, balancer);
    this.#roundRobin ??= asRoundRobin(balancer);
    // The pool's own balancers (by name) are trusted; a balancer given as an object has its hooks guarded.
    const hooks = typeof strategy === 'string' ? balancer : guardedHooks(balancer, this.#warn);
    if (hooks.onReady !== undefined || hooks.onUnready !== undefined) {
      this.#readyHooks.push(hooks);
      for (const member of this.#active?.ready ?? []) hooks.onReady?.(member);
    }
    if (hooks.onInFlight !== undefined) {
      this.#inFlightHooks.push(hooks);
      this.#tellsInFlight = 1;
    }
    if (balancer.usesLatency === true) this.isTimed = true;
    return balancer;
  }

  /**
   * Panic routing (Envoy's panic threshold): with more than `maxEjected` of the members out, a pick goes
   * to any member at random, so that traffic spreads over all of them instead of crushing the last few.
   * An open member picked so is admitted as a plain call: its breaker ignores the outcome.
   */
  #panicPick(cost: Cost, keep: number): Member<T> | undefined {
    const all = this.#panicTier!.members;
    // From a random member on, each once: a member that can take the call is found if there is one.
    const start = Math.floor(this.#random() * all.length);
    for (let i = 0; i < all.length; i++) {
      const member = all[(start + i) % all.length]!;
      if (member.placement === 'ready') return undefined; // the normal path admits it
      // Panic spreads load over failing clients, never reads over stale ones.
      if (member.inFlight >= member.maxInFlight || member.isOutOfSync) continue;
      // A low call keeps out of the reserve here too.
      if (keep > 0 && !this.#admitsLow(member, cost)) continue;
      if (member.quota !== undefined && !member.quota.tryTakeLocal(cost, keep)) continue;
      this.inFlight(member, 1);
      return member;
    }
    return undefined;
  }

  #startWarming(member: Member<T>): void {
    const window = this.#policy.slowStartWindow;
    if (window <= 0) return;
    const now = this.#clock.now();
    member.isWarming = true;
    member.warmingSince = now;
    member.warmUntil = now + window;
  }

  /** During slow start, take a pick with probability rising linearly from `minShare` to 1 over the window. */
  #admitWarming(member: Member<T>): boolean {
    const now = this.#clock.now();
    if (now >= member.warmUntil) {
      member.isWarming = false;
      return true;
    }
    const share = Math.max(this.#policy.slowStartMinShare, (now - member.warmingSince) / this.#policy.slowStartWindow);
    return this.#random() < share;
  }

  #promoteDue(): void {
    const now = this.#clock.now();
    if (now < this.#lastNow) this.#clockSteppedBack(now, this.#lastNow);
    this.#lastNow = now;
    this.#promoteFrom(this.#cooling, now);
    this.#promoteFrom(this.#throttled, now);
  }

  /**
   * The clock went back (an injected clock reset, a wall clock corrected): waits measured from before
   * would keep members out for the length of the step. Each waiting member is placed again: an open
   * circuit re-measures its cooldown from now, a pause keeps what was left of it. O(n log n), on a step
   * back only.
   */
  #clockSteppedBack(now: number, before: number): void {
    for (const member of [...this.#cooling.values(), ...this.#throttled.values()]) {
      if (member.pausedUntil !== NONE) member.pausedUntil = now + Math.max(0, member.pausedUntil - before);
      member.breaker.canAcquire();
      this.place(member);
    }
  }

  #promoteFrom(heap: IndexedHeap<Member<T>>, now: number): void {
    for (let top = heap.peek(); top !== undefined && top.key <= now; top = heap.peek()) {
      heap.pop();
      this.place(top.value);
    }
    this.#syncLane();
  }

  /**
   * The balancer's pick, which must be one of `ready`: our record of that slot, at its place among the
   * members `ready` holds (a stranger, a copy, a Proxy, or one written into the array is not).
   */
  #pick(balancer: Balancer<T>, ready: readonly Member<T>[]): Member<T> | ClientPoolError {
    let picked: PoolMember<T> | undefined;
    let member: Member<T> | undefined;
    try {
      picked = balancer.pick(ready);
      // Read inside the guard: what a custom balancer returns may be a Proxy or have a throwing getter.
      member = picked === undefined || picked === null ? undefined : this.#bySlot[picked.slot];
    } catch (error) {
      return new CallbackError('the balancer\'s pick()', 'threw', error);
    }
    return member !== undefined && member === picked && ready[member.readyIndex] === member ? member : this.#refusePick(picked);
  }

  /** What the balancer returned is not one of the ready members it was given. */
  #refusePick(picked: unknown): ClientPoolError {
    this.#reportRejection(picked);
    return new CallbackError('the balancer\'s pick()', 'returned something that is not one of the ready members it was given');
  }

  /**
   * An async pick() (a promise is no member): its rejection must not go unhandled. A method of its own, so
   * that the closure is not in #pick (a closure there would allocate a context on every pick).
   */
  #reportRejection(picked: unknown): void {
    onRejected(picked, (error) => this.#warn('the balancer\'s pick()', error));
  }

  #wait(member: Member<T>, placement: 'cooling' | 'throttled', until: number): void {
    // Remember the clock's reading: a later one smaller than it means the clock stepped back.
    const now = this.#clock.now();
    if (now > this.#lastNow) this.#lastNow = now;
    this.#moveTo(member, placement);
    const heap = placement === 'cooling' ? this.#cooling : this.#throttled;
    const node = member.node;
    node.key = until;
    if (heap.has(node)) heap.update(node);
    else heap.push(node);
    // Panic is decided anew, and with it whether the plain pick's lane is open.
    this.#updatePanic();
    // Calls waiting for a client wake when it is due back, or fail at once if none can come back now.
    this.#onReady();
  }

  /**
   * Panic is decided within one tier, after failover: the first tier whose members are not all out (a
   * lower tier wholly out fails over to it, as Envoy's priorities do before its panic threshold), or the
   * first tier when every one is out.
   */
  #updatePanic(): void {
    let tier = this.#tiers[0];
    for (const candidate of this.#tiers) {
      if (candidate.ejected < candidate.members.length) {
        tier = candidate;
        break;
      }
    }
    this.#panicTier = tier;
    this.#isPanicking = this.#policy.maxEjected < 1 && tier !== undefined && tier.ejected > this.#policy.maxEjected * tier.members.length;
    this.#syncLane();
  }

  #moveTo(member: Member<T>, placement: 'ready' | 'cooling' | 'throttled' | 'saturated'): void {
    if (member.placement === placement) return;
    this.#unplace(member);
    // A balancer's hook, told it left the rotation, may have removed it (or closed the pool): it stays gone.
    if (member.placement === 'gone') return;
    member.placement = placement;
    if (placement === 'cooling') member.tierEntry.ejected++;
    if (placement === 'ready') {
      const tier = member.tierEntry;
      member.readyIndex = tier.ready.length;
      tier.ready.push(member);
      if (tier === this.#active) for (const balancer of this.#readyHooks) balancer.onReady?.(member);
      // A member of a lower tier than the one serving: its tier serves now.
      else if (this.#active === undefined || tier.tier < this.#active.tier) this.#activate(tier);
      this.#onReady();
    }
  }

  /**
   * Take a member out of the ready array (swap-remove, O(1)) or its heap. It is out (`saturated`) before a
   * balancer's hook hears of it: a hook may remove it, or close the pool, and must find the roster whole.
   */
  #unplace(member: Member<T>): void {
    if (member.placement === 'ready') {
      const tier = member.tierEntry;
      const ready = tier.ready;
      const last = ready.pop()!;
      if (last !== member) {
        ready[member.readyIndex] = last;
        last.readyIndex = member.readyIndex;
      }
      member.readyIndex = -1;
      member.placement = 'saturated';
      if (tier === this.#active) {
        for (const balancer of this.#readyHooks) balancer.onUnready?.(member);
        // The serving tier has no ready member left: the next one that has serves.
        if (ready.length === 0) this.#activate(this.#tiers.find((t) => t.ready.length > 0));
      }
    } else if (member.placement === 'cooling') {
      this.#cooling.remove(member.node);
      member.tierEntry.ejected--;
      member.placement = 'saturated';
      this.#updatePanic();
    } else if (member.placement === 'throttled') {
      this.#throttled.remove(member.node);
    }
    if (member.placement !== 'gone') member.placement = 'saturated';
    this.#syncLane();
  }

  /**
   * Make `next` the tier balancers see: the members of the one serving until now leave their view
   * (`onUnready`), and `next`'s ready members enter it (`onReady`). O(size of both tiers), when the
   * serving tier changes only.
   */
  #activate(next: Tier<T> | undefined): void {
    const previous = this.#active;
    if (previous === next) return;
    const hooks = this.#readyHooks;
    if (previous !== undefined && hooks.length > 0) for (const member of previous.ready) for (const balancer of hooks) balancer.onUnready?.(member);
    this.#active = next;
    this.#syncLane();
    if (next !== undefined && hooks.length > 0) for (const member of next.ready) for (const balancer of hooks) balancer.onReady?.(member);
  }

  /** The record of tier `tier`, made (in order) on the first member of that tier. */
  #tierOf(tier: number): Tier<T> {
    const tiers = this.#tiers;
    let i = 0;
    while (i < tiers.length && tiers[i]!.tier < tier) i++;
    if (tiers[i]?.tier === tier) return tiers[i]!;
    const entry: Tier<T> = { tier, ready: [], members: [], ejected: 0 };
    tiers.splice(i, 0, entry);
    return entry;
  }

  /** A strict pick's untried ready member outside the serving tier (it tried every ready one there), if any. */
  #untriedInOtherTiers(avoid: Avoid<T>): Member<T> | undefined {
    for (const tier of this.#tiers) {
      if (tier === this.#active) continue;
      const member = leastBusyExcept(tier.ready, avoid);
      if (member !== undefined) return member;
    }
    return undefined;
  }

  /**
   * A strict pick found no untried member ready: wait while one is due back by itself (its tokens, a slot
   * under its cap: the client queue has a time or an event to wake on), else unavailable, listing the
   * untried ones only.
   */
  #noneUntried(avoid: Avoid<T>): PickResult<T> {
    for (const member of this.byName.values()) {
      // One that can come back to take it: out of tokens, or busy at its cap (not down, not out of sync).
      if (!avoid.includes(member) && !member.isDown && !member.isOutOfSync && (member.placement === 'throttled' || member.inFlight >= member.maxInFlight)) return WAIT;
    }
    return { kind: 'unavailable', error: this.#unavailable(avoid) };
  }

  #unavailable(avoid?: Avoid<T>): ClientPoolError {
    if (this.byName.size === 0) return new NoClientsError();
    const now = this.#clock.now();
    const clients: UnavailableClient[] = [];
    for (const member of this.byName.values()) {
      if (avoid?.isStrict === true && avoid.includes(member)) continue;
      const state = member.breaker.state;
      clients.push(
        member.isDown
          ? { name: member.name, state: 'down', retryAfterMs: 0 }
          : member.freshness === 'lagging' || member.freshness === 'ahead'
            ? { name: member.name, state: member.freshness, retryAfterMs: 0 }
          : state.kind === 'open'
            ? { name: member.name, state: 'open', retryAfterMs: Math.max(0, state.until - now) }
            : { name: member.name, state: 'half-open', retryAfterMs: 0 },
      );
    }
    return new AllCircuitsOpenError(clients);
  }
}
