import type { Clock } from '../clock.js';
import { AbortedError } from '../errors.js';
import { MAX_DURATION_MS } from '../validate.js';

/**
 * Tolerance in ms when comparing a turn with a deadline or a wake time with the clock: a sum such as
 * 3 · 1000/7 ms may land a hair after the deadline it equals, and that waiter must be served, not refused.
 */
const ROUNDING = 1e-6;

/** A waiter's backstop (`WaiterQueue.push`): refused after `ms` by its own timer, with `error()` if given. */
export interface Overdue {
  readonly ms: number;
  readonly error?: (() => Error) | undefined;
}

/** One queued caller, as its owner reads it. */
export interface Waiter<D> {
  /** What the owner keeps with the caller (the balancer and method of a queued call, for example). */
  readonly data: D;
  /** Tokens it waits for (1 where a waiter is not counted in tokens). */
  readonly n: number;
  /** Clock time by which it must be served, else it is refused. */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
}

/** Options of a {@link WaiterQueue}. */
export interface WaiterQueueOptions<D> {
  /** The owner's clock: deadlines and wake times are read on it. */
  readonly clock: Clock;
  /**
   * Milliseconds each queued token adds to the wait of those behind it (a bucket's interval), for
   * {@link WaiterQueue.refuseLate}; 0 when a waiter's place does not predict its wait.
   * @default 0
   */
  readonly perToken?: number;
  /**
   * Milliseconds past its deadline that a waiter may still be served by work under way (a Redis round
   * trip for it); the timer refuses it then.
   * @default 0
   */
  readonly grace?: number;
  /**
   * The owner's turn: serve what it can ({@link WaiterQueue.serve}) and say when to come back
   * ({@link WaiterQueue.wakeAt}). Called when the time given to `wakeAt` comes, and when the head leaves
   * unserved (aborted or past its deadline), since the next one may be due sooner.
   */
  readonly wake: () => void;
  /** The error for a waiter that cannot be served by its deadline, given its estimated remaining wait. */
  readonly late: (waiter: Waiter<D>, retryAfterMs: number) => Error;
}

/** A queued caller: a FIFO link, a place in each heap, and its own abort listener (no closure). */
class Node<V, D> implements Waiter<D> {
  readonly data: D;
  readonly n: number;
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  /** Tokens pushed since the queue was last empty, this waiter's included. */
  readonly end: number;
  /** Its deadline less the wait its place implies: who is refused first when the wait grows. */
  readonly latest: number;
  readonly resolve: (value: V) => void;
  readonly reject: (error: Error) => void;
  readonly #onAbort: (node: Node<V, D>) => void;
  prev: Node<V, D> | undefined = undefined;
  next: Node<V, D> | undefined = undefined;
  /** Served before every waiter of a lower one (FIFO within one). */
  readonly priority: number;
  /** Index in the heap by `latest` / by `deadline`; -1 when out. */
  latestSlot = -1;
  deadlineSlot = -1;
  /** Its backstop timer (`push`'s `overdue`), while queued, and the error it refuses it with (else `late`). */
  overdue: NodeJS.Timeout | undefined = undefined;
  overdueError: (() => Error) | undefined = undefined;

  constructor(
    data: D,
    n: number,
    deadline: number,
    signal: AbortSignal | undefined,
    end: number,
    latest: number,
    resolve: (value: V) => void,
    reject: (error: Error) => void,
    onAbort: (node: Node<V, D>) => void,
    priority: number,
  ) {
    this.priority = priority;
    this.data = data;
    this.n = n;
    this.deadline = deadline;
    this.signal = signal;
    this.end = end;
    this.latest = latest;
    this.resolve = resolve;
    this.reject = reject;
    this.#onAbort = onAbort;
  }

  handleEvent(): void {
    this.#onAbort(this);
  }
}

/**
 * A FIFO of callers waiting for tokens (or for a client with tokens), each with a deadline and an
 * optional `AbortSignal`, on one timer. The owner (a bucket, the pool's client queue) decides who can be
 * served and when; the queue keeps the order, the running total of queued tokens, the abort listeners
 * and the deadlines:
 *
 * - push, serve the head, abort (one listener per waiter, removed when it leaves) and the token total
 *   cost O(1), plus O(log n) for the waiter's place in the deadline heap(s); nothing walks the queue;
 * - `refuseLate` refuses at once those a longer wait makes miss their deadline, in line order, finding
 *   them in the heap by latest start: O(log n) each, nothing for those who still make it;
 * - one timer, set only while someone waits (cleared when the queue empties, and by `close`), for the
 *   owner's next wake time or the earliest deadline, whichever comes first; a waiter still queued at its
 *   deadline (plus `grace`) is refused then, so none waits past it.
 *
 * @example
 * ```ts
 * const queue = new WaiterQueue<void, undefined>({ clock, perToken: 100, wake: serve, late: (_w, ms) => new RateLimitedError(ms) });
 * const taken = queue.push(undefined, 1, clock.now() + maxWait, signal);
 * queue.wakeAt(dueTime); // serve() calls queue.serve() while tokens last
 * ```
 */
export class WaiterQueue<V, D = undefined> {
  readonly #clock: Clock;
  readonly #perToken: number;
  readonly #grace: number;
  readonly #wake: () => void;
  readonly #late: (waiter: Waiter<D>, retryAfterMs: number) => Error;
  #head: Node<V, D> | undefined;
  #tail: Node<V, D> | undefined;
  #length = 0;
  #tokens = 0;
  /**
   * Tokens pushed and tokens gone (served, refused, aborted) since the queue was last empty. A waiter's
   * `end - #gone` is at most the tokens up to and including it (exact unless someone behind it left), so
   * estimates made from it err towards serving, never refuse too early.
   */
  #pushed = 0;
  #gone = 0;
  /**
   * `#zero + (end - #gone) · perToken`: when a waiter would be served, as `refuseLate` last estimated,
   * counting only the tokens still ahead of it.
   */
  #zero = Number.NaN;
  readonly #byLatest = new Heap<Node<V, D>>('latest', 'latestSlot');
  /** By deadline, for the timer; with `perToken` 0 `#byLatest` is that order already. */
  readonly #byDeadline: Heap<Node<V, D>> | undefined;
  #wakeAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Clock time the timer is set for; Infinity when none. */
  #timerAt = Infinity;
  /** The owner's `wake` is running: the timer is set once it returns, not at each step of it. */
  #isWaking = false;
  readonly #onAbort = (node: Node<V, D>): void => {
    const wasHead = node === this.#head;
    this.#unlink(node);
    node.reject(new AbortedError(node.signal!.reason));
    if (wasHead && this.#length > 0) this.#turn();
    this.#arm();
  };

  constructor(options: WaiterQueueOptions<D>) {
    this.#clock = options.clock;
    this.#perToken = options.perToken ?? 0;
    this.#grace = options.grace ?? 0;
    this.#wake = options.wake;
    this.#late = options.late;
    this.#byDeadline = this.#perToken === 0 ? undefined : new Heap<Node<V, D>>('deadline', 'deadlineSlot');
  }

  /** Waiters queued. */
  get length(): number {
    return this.#length;
  }

  /** Tokens queued: the sum of every waiter's `n`, kept as a running total. */
  get tokens(): number {
    return this.#tokens;
  }

  /** The first in line, served next. */
  get head(): Waiter<D> | undefined {
    return this.#head;
  }

  /**
   * Queue a caller for `n` tokens, to be served by `deadline` (clock time). Resolves with what `serve`
   * gives it; rejects with the owner's `late` error past its deadline, with `AbortedError` (the reason as
   * `cause`) when `signal` aborts, at once if it already has, or with the error given to `close`.
   * With `overdue`, it is also refused once it has waited `overdue.ms` by a timer of its own, whatever the
   * clock says, with `overdue.error()` (default: `late`): the backstop for a clock that does not move (a
   * manual clock not advanced, fake timers that leave it alone), which would never show its deadline
   * passing. It costs a timer per waiter, so a caller gives it only where a wait must end whatever the
   * clock does (the pool's).
   */
  push(data: D, n: number, deadline: number, signal?: AbortSignal, priority = 0, overdue?: Overdue): Promise<V> {
    if (signal?.aborted === true) return Promise.reject(new AbortedError(signal.reason));
    return new Promise<V>((resolve, reject) => {
      // Behind every waiter of its priority or higher: FIFO within a priority. Scanned from the tail, so
      // a queue of one priority (every bucket's) places each waiter in O(1).
      let prev = this.#tail;
      while (prev !== undefined && prev.priority < priority) prev = prev.prev;
      this.#pushed += n;
      // Its place says how many tokens are ahead of it: those up to `prev`, and its own. (Those it passes
      // keep their `end`, which then errs towards serving them, never refusing them early.)
      const end = prev === this.#tail ? this.#pushed : (prev?.end ?? this.#gone) + n;
      const node = new Node<V, D>(data, n, deadline, signal, end, deadline - end * this.#perToken, resolve, reject, this.#onAbort, priority);
      const next = prev === undefined ? this.#head : prev.next;
      node.prev = prev;
      node.next = next;
      if (prev === undefined) this.#head = node;
      else prev.next = node;
      if (next === undefined) this.#tail = node;
      else next.prev = node;
      this.#length++;
      this.#tokens += n;
      this.#byLatest.push(node);
      this.#byDeadline?.push(node);
      signal?.addEventListener('abort', node, { once: true });
      if (overdue !== undefined) {
        node.overdue = setTimeout(this.#onOverdue, Math.min(MAX_DURATION_MS, Math.max(0, overdue.ms)), node);
        node.overdueError = overdue.error;
      }
      this.#arm();
    });
  }

  /** A waiter's backstop timer fired with it still queued: refused as at its deadline. */
  readonly #onOverdue = (node: Node<V, D>): void => {
    node.overdue = undefined;
    if (!this.has(node)) return;
    const wasHead = node === this.#head;
    const servedAt = this.#zero + (node.end - this.#gone) * this.#perToken;
    this.#unlink(node);
    node.reject(node.overdueError?.() ?? this.#late(node, Number.isNaN(servedAt) ? 0 : Math.max(0, servedAt - this.#clock.now())));
    if (wasHead && this.#length > 0) this.#turn();
    this.#arm();
  };

  /** Resolve the head with `value` and take it out. Does nothing on an empty queue. */
  serve(value: V): void {
    const node = this.#head;
    if (node === undefined) return;
    this.#unlink(node);
    node.resolve(value);
    this.#arm();
  }

  /** The waiter behind `waiter` in line, if any (`waiter` still queued). */
  after(waiter: Waiter<D>): Waiter<D> | undefined {
    return waiter instanceof Node ? (waiter.next as Waiter<D> | undefined) : undefined;
  }

  /** Whether `waiter` is still queued (not served, refused, aborted or closed). */
  has(waiter: Waiter<D>): boolean {
    return waiter instanceof Node && (waiter.prev !== undefined || waiter.next !== undefined || this.#head === waiter);
  }

  /**
   * Serve (with `value`) or refuse (with `error`) one waiter out of line: for an owner whose waiters do
   * not all wait for the same thing (a call that needs a client it has not tried), so that one that cannot
   * be served does not hold up those behind it. No effect on a waiter no longer queued.
   */
  settle(waiter: Waiter<D>, outcome: { readonly value: V } | { readonly error: Error }): void {
    if (!this.has(waiter) || !(waiter instanceof Node)) return;
    const node = waiter as Node<V, D>;
    this.#unlink(node);
    if ('error' in outcome) node.reject(outcome.error);
    else node.resolve(outcome.value);
    this.#arm();
  }

  /**
   * The owner's estimate of the wait changed (a bucket paused, an answer from Redis): refuse at once, with
   * the `late` error, each waiter that would be served after its deadline if the waiter with `k` tokens
   * queued up to and including it is served at `at + k · perToken` (with `perToken` 0: at `at`).
   */
  refuseLate(at: number): void {
    const perToken = this.#perToken;
    const heap = this.#byLatest;
    const zero = at - this.#gone * perToken;
    // Those late with everyone still queued, from the heap; only they can be late once some are refused.
    const late: Node<V, D>[] = [];
    for (let node = heap.peek(); node !== undefined && node.latest < zero - ROUNDING; node = heap.peek()) {
      heap.remove(node);
      late.push(node);
    }
    if (late.length > 0) {
      // Decided in line order, as the line is served: one refused leaves its tokens to those behind it.
      late.sort((a, b) => a.end - b.end);
      const now = this.#clock.now();
      let freed = 0;
      for (const node of late) {
        if (node.latest < zero - freed * perToken - ROUNDING) {
          const servedAt = zero + (node.end - freed) * perToken;
          freed += node.n;
          this.#unlink(node);
          node.reject(this.#late(node, Math.max(0, servedAt - now)));
        } else heap.push(node);
      }
    }
    // `at` itself: the estimate is read as `#zero + (end - #gone) · perToken`, with `#gone` as it is then.
    if (this.#length > 0) this.#zero = at;
    this.#arm();
  }

  /** Call the owner's `wake` at clock time `at` (or when the timer next fires after it); `undefined`: not at all. */
  wakeAt(at: number | undefined): void {
    this.#wakeAt = this.#length === 0 ? undefined : at;
    this.#arm();
  }

  /**
   * Reject every waiter with `error` (one instance for all, in queue order) and stop the timer. The queue
   * may be used again: refusing later pushes is the owner's call.
   */
  close(error: Error): void {
    while (this.#head !== undefined) {
      const node = this.#head;
      this.#unlink(node);
      node.reject(error);
    }
    this.#arm();
  }

  /** Take every waiter out, in order, and settle each with the promise `take` gives for it (a hand-over). */
  transfer(take: (waiter: Waiter<D>) => Promise<V>): void {
    while (this.#head !== undefined) {
      const node = this.#head;
      this.#unlink(node);
      void take(node).then(node.resolve, node.reject);
    }
    this.#arm();
  }

  #unlink(node: Node<V, D>): void {
    const { prev, next } = node;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    node.prev = node.next = undefined;
    this.#byLatest.remove(node);
    this.#byDeadline?.remove(node);
    node.signal?.removeEventListener('abort', node);
    if (node.overdue !== undefined) clearTimeout(node.overdue);
    node.overdue = undefined;
    this.#tokens -= node.n;
    this.#gone += node.n;
    if (--this.#length === 0) {
      // Count afresh: the totals stay small, and float sums exact.
      this.#tokens = this.#pushed = this.#gone = 0;
      this.#zero = Number.NaN;
      this.#wakeAt = undefined;
    }
  }

  /** The owner's turn, with the timer set once after it. */
  #turn(): void {
    const wasWaking = this.#isWaking;
    this.#isWaking = true;
    try {
      this.#wake();
    } finally {
      this.#isWaking = wasWaking;
    }
  }

  /** Set the timer for the next event, or clear it when no one waits. A later event keeps the timer set: it fires early and re-arms. */
  #arm(): void {
    if (this.#isWaking) return;
    if (this.#length === 0) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    const first = (this.#byDeadline ?? this.#byLatest).peek()!;
    const at = Math.min(this.#wakeAt ?? Infinity, first.deadline + this.#grace);
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const delay = Math.min(MAX_DURATION_MS, Math.max(0, Math.ceil(at - this.#clock.now())));
    this.#timerAt = at;
    // Not unref'd: it exists only while someone awaits a turn, and a script awaiting a token must not
    // exit before it comes. An idle queue holds no timer at all.
    this.#timer = setTimeout(this.#fire, delay);
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    let now = this.#clock.now();
    // The owner first: a waiter due at its very deadline is served, not refused.
    if (this.#wakeAt !== undefined && this.#wakeAt <= now + ROUNDING) {
      this.#wakeAt = undefined;
      this.#turn();
      now = this.#clock.now();
    }
    const heap = this.#byDeadline ?? this.#byLatest;
    let headLeft = false;
    for (let node = heap.peek(); node !== undefined && node.deadline + this.#grace <= now; node = heap.peek()) {
      headLeft ||= node === this.#head;
      const servedAt = this.#zero + (node.end - this.#gone) * this.#perToken;
      this.#unlink(node);
      node.reject(this.#late(node, Number.isNaN(servedAt) ? 0 : Math.max(0, servedAt - now)));
    }
    if (headLeft && this.#length > 0) this.#turn();
    this.#arm();
  };
}

type Slot = 'latestSlot' | 'deadlineSlot';

/**
 * A binary min-heap of nodes by one of their keys, ties broken by line order (`end`), so that waiters
 * with one deadline are refused in the order they queued; each node keeps its index, so removal is
 * O(log n).
 */
class Heap<N extends Record<Slot | 'latest' | 'deadline' | 'end', number>> {
  readonly #items: N[] = [];
  readonly #key: 'latest' | 'deadline';
  readonly #slot: Slot;

  constructor(key: 'latest' | 'deadline', slot: Slot) {
    this.#key = key;
    this.#slot = slot;
  }

  peek(): N | undefined {
    return this.#items[0];
  }

  push(node: N): void {
    this.#items.push(node);
    this.#up(node, this.#items.length - 1);
  }

  remove(node: N): void {
    const i = node[this.#slot];
    if (i < 0) return;
    node[this.#slot] = -1;
    const last = this.#items.pop()!;
    if (last === node) return;
    // The last node takes the hole, then moves whichever way its key says.
    if (i > 0 && this.#before(last, this.#items[(i - 1) >> 1]!)) this.#up(last, i);
    else this.#down(last, i);
  }

  /** Whether `a` comes out before `b`: its key is smaller, or equal and it queued first. */
  #before(a: N, b: N): boolean {
    const key = this.#key;
    return a[key] < b[key] || (a[key] === b[key] && a.end < b.end);
  }

  #up(node: N, i: number): void {
    const items = this.#items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = items[parent]!;
      if (!this.#before(node, above)) break;
      items[i] = above;
      above[this.#slot] = i;
      i = parent;
    }
    items[i] = node;
    node[this.#slot] = i;
  }

  #down(node: N, i: number): void {
    const items = this.#items;
    const size = items.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && this.#before(items[child + 1]!, items[child]!)) child++;
      const below = items[child]!;
      if (!this.#before(below, node)) break;
      items[i] = below;
      below[this.#slot] = i;
      i = child;
    }
    items[i] = node;
    node[this.#slot] = i;
  }
}
