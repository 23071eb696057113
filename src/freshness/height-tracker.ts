import { AbortedError, HeightNotReachedError } from '../errors.js';
import type { Freshness, Member } from '../member.js';
import type { DeadlineQueue } from '../pipeline/deadlines.js';
import { SignalWatch, type SignalWatches } from '../pipeline/signal-watch.js';
import { TimedWatcher } from '../pipeline/timed-watcher.js';
import type { Roster } from '../roster.js';
import { heapNode, IndexedHeap, type HeapNode } from '../util/indexed-heap.js';

/** A client's height moved it in or out of sync with the pool's head (`pool.onFreshnessChange`). */
export interface FreshnessChange {
  readonly client: string;
  readonly freshness: Freshness;
  /** Its height, or `undefined` if it has none. */
  readonly height: number | undefined;
  /** The pool's corroborated head, or `undefined` while too few clients report one. */
  readonly head: number | undefined;
}

/** How far a client may drift from the head, and how many clients make a head. */
export interface HeightRules {
  /** Heights a client may trail (or lead) the head by and still take calls. */
  readonly maxLag: number;
  /** Clients that must reach a height for it to be the head. */
  readonly corroboration: number;
}

/**
 * Every client's height (block number, slot, replication LSN) and the pool's head: the highest height
 * at least `corroboration` clients reach, so that a single far-ahead node is flagged, never followed
 * (eRPC's block tracking, ethers' FallbackProvider quorum). A client more than `maxLag` behind the head
 * (`lagging`) or above it (`ahead`) leaves the rotation until it is back in sync. Calls with a
 * `minHeight` (read-your-writes) wait here until a client in sync reaches it. O(clients x corroboration)
 * per change of a height; waiters in a heap by the height they wait for.
 */
export class HeightTracker<T> {
  readonly #rules: HeightRules;
  readonly #roster: Roster<T>;
  readonly #deadlines: DeadlineQueue;
  readonly #signals: SignalWatches;
  readonly #onChange: (change: FreshnessChange) => void;
  readonly #waiters = new IndexedHeap<HeightWaiter>();
  /** The highest height of a client in sync (not lagging or ahead): what a `minHeight` call can be served at. */
  #serving = -1;
  /** The head last worked out: it goes down only when no client is in sync with it any more. */
  #head: number | undefined;
  /** An update is running (its listeners may ask for another), or one is due at the next microtask. */
  #isUpdating = false;
  #isAgain = false;
  #isDue = false;

  constructor(rules: HeightRules, roster: Roster<T>, deadlines: DeadlineQueue, signals: SignalWatches, onChange: (change: FreshnessChange) => void) {
    this.#rules = rules;
    this.#roster = roster;
    this.#deadlines = deadlines;
    this.#signals = signals;
    this.#onChange = onChange;
  }

  /** Whether a client in sync is at `minHeight` or above now. */
  isServing(minHeight: number): boolean {
    return this.#serving >= minHeight;
  }

  /**
   * A client reported its height (a poll, or `call.reportHeight()`), or lost it (`-1`: its polls keep
   * failing). No effect on a removed client. The head is worked out again at the next microtask: the
   * reports of one poll round (or of one batch of answers) cost one update, not one each.
   */
  report(member: Member<T>, height: number): void {
    if (member.height === height || member.placement === 'gone') return;
    member.height = height;
    if (this.#isDue) return;
    this.#isDue = true;
    queueMicrotask(() => {
      this.#isDue = false;
      this.update();
    });
  }

  /**
   * Work out the head again, and every client's place against it: after heights changed or a client left.
   * Clients that move in or out of sync are placed again, then reported; waiters a client in sync now
   * serves are released. Re-entrant: a listener that reports a height or removes a client (or a balancer
   * run by a placement) gets a full update after this one, never half of one.
   */
  update(): void {
    if (this.#isUpdating) {
      this.#isAgain = true;
      return;
    }
    this.#isUpdating = true;
    try {
      do {
        this.#isAgain = false;
        const changes = this.#apply();
        // Told once the whole pool is placed: a listener sees a consistent pool, whatever it does.
        for (const change of changes) this.#onChange(change);
      } while (this.#isAgain);
    } finally {
      this.#isUpdating = false;
    }
    const waiters = this.#waiters;
    for (let top = waiters.peek(); top !== undefined && top.key <= this.#serving; top = waiters.peek()) top.value.finish(undefined);
  }

  #apply(): FreshnessChange[] {
    const { maxLag, corroboration } = this.#rules;
    const members = this.#roster.byName;
    const head = (this.#head = this.#roster.head = headOf(kthHighest(members.values(), corroboration), this.#head, members.values(), maxLag));
    let serving = -1;
    const changes: FreshnessChange[] = [];
    for (const member of members.values()) {
      const height = member.height;
      const freshness: Freshness = height < 0 || head === undefined ? 'unknown' : head - height > maxLag ? 'lagging' : height - head > maxLag ? 'ahead' : 'fresh';
      if (freshness !== 'lagging' && freshness !== 'ahead' && height > serving) serving = height;
      if (freshness === member.freshness) continue;
      this.#roster.setFreshness(member, freshness);
      changes.push({ client: member.name, freshness, height: height < 0 ? undefined : height, head });
    }
    this.#serving = serving;
    return changes;
  }

  /**
   * Wait until a client in sync reaches `minHeight`: resolves then, rejects with `HeightNotReachedError`
   * after `maxWait` ms, or with `AbortedError` (its reason the signal's) when `signal` aborts first.
   */
  waitFor(minHeight: number, signal: AbortSignal, maxWait: number): Promise<void> {
    if (this.#serving >= minHeight) return Promise.resolve();
    if (signal.aborted) return Promise.reject(new AbortedError(signal.reason));
    // No time to wait (`maxWait: 0`, or a deadline already reached): the answer is now.
    if (!(maxWait > 0)) return Promise.reject(new HeightNotReachedError(minHeight, this.serving));
    return new Promise<void>((resolve, reject) => {
      const waiter = new HeightWaiter(minHeight, resolve, reject, this);
      this.#waiters.push(waiter.node);
      this.#signals.join(signal, waiter);
      // Joining an aborted signal ends it at once.
      if (waiter.node.index >= 0) this.#deadlines.add(waiter, maxWait);
    });
  }

  /** Take a waiter out of the heap, the deadline queue and its signal's watch. */
  leave(waiter: HeightWaiter): void {
    if (this.#waiters.has(waiter.node)) this.#waiters.remove(waiter.node);
    if (waiter.deadlineList !== undefined) this.#deadlines.remove(waiter);
    if (waiter.watched !== undefined) SignalWatch.leave(waiter);
  }

  /** The highest height of a client in sync, or `undefined` if none has one. */
  get serving(): number | undefined {
    return this.#serving < 0 ? undefined : this.#serving;
  }
}

/** What a waiter needs of its tracker. */
interface WaiterOwner {
  leave(waiter: HeightWaiter): void;
  readonly serving: number | undefined;
}

/** One call waiting for a height: in the tracker's heap, the deadline queue and its signal's watch. */
class HeightWaiter extends TimedWatcher {
  readonly node: HeapNode<HeightWaiter>;
  readonly #resolve: () => void;
  readonly #reject: (error: Error) => void;
  readonly #tracker: WaiterOwner;
  readonly #minHeight: number;

  constructor(minHeight: number, resolve: () => void, reject: (error: Error) => void, tracker: WaiterOwner) {
    super();
    this.#minHeight = minHeight;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#tracker = tracker;
    this.node = heapNode<HeightWaiter>(this, minHeight);
  }

  override expire(): void {
    this.finish(new HeightNotReachedError(this.#minHeight, this.#tracker.serving));
  }

  override aborted(reason: unknown): void {
    this.finish(new AbortedError(reason));
  }

  finish(error: Error | undefined): void {
    this.#tracker.leave(this);
    if (error === undefined) this.#resolve();
    else this.#reject(error);
  }
}

/**
 * The head: the corroborated height, but never below the last head while some client is still in sync
 * with it (nodes that restart at 0 or re-sync must not drag the head down and push the one good node out
 * as `ahead`); once none is, the corroborated height, whatever it is (a chain reset).
 */
function headOf<T>(corroborated: number | undefined, last: number | undefined, members: Iterable<Member<T>>, maxLag: number): number | undefined {
  if (last === undefined || (corroborated !== undefined && corroborated >= last)) return corroborated;
  for (const member of members) if (member.height >= 0 && Math.abs(member.height - last) <= maxLag) return last;
  return corroborated;
}

/** The `k`-th highest known height among `members` (O(n k)), or `undefined` if fewer than `k` have one. */
function kthHighest<T>(members: Iterable<Member<T>>, k: number): number | undefined {
  // The k highest so far, highest first.
  const top: number[] = [];
  for (const member of members) {
    const height = member.height;
    if (height < 0) continue;
    if (top.length === k && height <= top[k - 1]!) continue;
    let i = Math.min(top.length, k - 1);
    if (top.length < k) top.push(height);
    while (i > 0 && top[i - 1]! < height) {
      top[i] = top[i - 1]!;
      i--;
    }
    top[i] = height;
  }
  return top.length < k ? undefined : top[k - 1];
}
