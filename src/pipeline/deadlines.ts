import type { Clock } from '../clock.js';
import { MAX_DURATION_MS } from '../validate.js';
import { cancelAfterIO, refTimer, runAfterIO, unrefTimer, type AfterIOHandle } from '../util/host.js';

/** The list of entries whose deadline passed and whose expiry waits for the loop's I/O to be read. */
/** How late a timer may fire (ms, pool clock) before the loop is taken to have stalled. */
const STALL_MS = 5;

const DUE: DeadlineList = Object.freeze({ delay: -1, head: undefined, tail: undefined });
const NONE: ReadonlySet<Timed> = new Set();

/** Whether `entry` is due: its deadline came and the queue is about to expire it (an expiry before it may run user code first). */
export function isDue(entry: Timed): boolean {
  return entry.deadlineList === DUE;
}

/** Something with a deadline: a timed attempt, a hedge delay. Linked into its list by the queue. */
export interface Timed {
  /** Clock time at which `expire()` is due. */
  deadline: number;
  /** Its list while queued, and its neighbours there. */
  deadlineList: DeadlineList | undefined;
  deadlinePrev: Timed | undefined;
  deadlineNext: Timed | undefined;
  /** The deadline passed. Called once, after it was taken out of the queue. */
  expire(): void;
}

/** The entries of one delay, in the order they were added: which is also deadline order. */
export interface DeadlineList {
  readonly delay: number;
  head: Timed | undefined;
  /**
   * Its last entry; undefined when it is empty or has only `head` (adding to an empty list stores the
   * entry once, not twice). The list is long-lived and the entry new, so each such store pays V8's write
   * barrier (about 50 instructions), and a sequential stream of timed calls always finds the list empty.
   */
  tail: Timed | undefined;
}

/**
 * Deadlines on one timer: entries are kept in a FIFO list per delay (all entries of a delay expire in
 * the order they were added, as Node's own timer lists do), so adding and removing are O(1) and allocate
 * nothing; the one timer is set for the earliest head. A sequential stream of timed calls sets the timer
 * about once per delay rather than once per call.
 *
 * Time is the pool's clock, and the timer has the last word: when it fires, its due time has come even
 * if the clock disagrees (a manual clock that is not advanced, fake timers that do not fake the clock),
 * so a deadline never waits on a clock that does not move.
 *
 * A timer that fires late (the event loop was stalled) expires its entries only after the loop has read
 * its I/O (in a `setImmediate`, after the poll phase): after a stall Node runs due timers before it reads
 * sockets, and an answer that arrived in time would otherwise lose to its own timeout, blaming the client
 * for the process's stall. A timer on time (fake timers included) expires them at once.
 */
export class DeadlineQueue {
  readonly #clock: Clock;
  readonly #lists = new Map<number, DeadlineList>();
  /** The list the last entry went to: a stream of calls with one timeout skips the map. */
  #lastList: DeadlineList | undefined;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  /**
   * Whether the timer keeps the process alive. It is let go (unref'd) once the loop has turned with
   * nothing queued, not each time the queue empties: a stream of calls would otherwise toggle it twice
   * per call, each a trip into Node's timer binding.
   */
  #isRefed = false;
  /** False once the owner has closed (`clear(keep)`): what is left, and any timer armed for it, keeps no process alive. */
  #keepsAlive = true;
  #unrefDue: AfterIOHandle | undefined;
  /** When the timer fires; Infinity when none is set. */
  #timerDue = Infinity;
  /** Entries past their deadline, expired once the loop's I/O has been read; undefined when none. */
  #due: Timed[] | undefined;
  #dueImmediate: AfterIOHandle | undefined;
  /** The clock's latest reading, to notice it stepping back. */
  #lastNow = Number.NEGATIVE_INFINITY;
  /** Every step back of the clock so far, summed: added to its readings, they never go back. */
  #stepsBack = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#size;
  }

  /**
   * The clock's reading plus every step back it made so far: a time that never goes back, for deadlines
   * kept as a time (a call's `deadline`), which a clock stepped back (a wall clock corrected) must not
   * stretch. Queued entries need none of it: the queue moves them back with the clock.
   */
  now(): number {
    return this.#read() + this.#stepsBack;
  }

  /** Queue `entry` to expire `delay` ms from now (finite; above 2^31-1 the timer is re-armed as it fires). */
  add(entry: Timed, delay: number): void {
    // A NaN delay would never come due: treated as now (validation keeps user input out of here).
    if (!(delay >= 0)) delay = 0;
    const now = this.#read();
    entry.deadline = now + delay;
    let list = this.#lastList;
    if (list === undefined || list.delay !== delay) {
      list = this.#lists.get(delay);
      if (list === undefined) this.#lists.set(delay, (list = { delay, head: undefined, tail: undefined }));
      this.#lastList = list;
    }
    entry.deadlineList = list;
    const last = list.tail ?? list.head;
    entry.deadlinePrev = last;
    entry.deadlineNext = undefined;
    if (last === undefined) list.head = entry;
    else {
      last.deadlineNext = entry;
      list.tail = entry;
    }
    this.#size++;
    if (entry.deadline < this.#timerDue) this.#arm(entry.deadline, now);
    else if (!this.#isRefed && this.#keepsAlive) this.#ref();
  }

  /** Take `entry` out, if queued. The timer stays set (unref'd once the loop turned with nothing queued), to be reused. */
  remove(entry: Timed): void {
    const list = entry.deadlineList;
    if (list === undefined) return;
    if (list === DUE) {
      // Settled between its deadline and its expiry: it is no longer expired.
      entry.deadlineList = undefined;
      return;
    }
    const { deadlinePrev: prev, deadlineNext: next } = entry;
    if (prev === undefined) list.head = next;
    else prev.deadlineNext = next;
    if (next === undefined) list.tail = prev;
    else next.deadlinePrev = prev;
    entry.deadlineList = entry.deadlinePrev = entry.deadlineNext = undefined;
    if (--this.#size === 0) {
      if (this.#isRefed) this.#unrefDue ??= runAfterIO(() => this.#unrefIfIdle());
      // Closed: nothing will be added again, so no timer is left set for nothing.
      else if (!this.#keepsAlive) this.#stopTimer();
    }
  }

  /** The timer keeps the process alive again: something is queued. */
  #ref(): void {
    this.#isRefed = true;
    refTimer(this.#timer);
  }

  /** The loop turned: with nothing queued, the timer no longer keeps the process alive. */
  #unrefIfIdle(): void {
    this.#unrefDue = undefined;
    if (this.#size > 0 || !this.#isRefed) return;
    this.#isRefed = false;
    unrefTimer(this.#timer);
  }

  /**
   * Drop every entry without expiring it, but those in `keep`; with none kept, stop the timer. Kept entries
   * stay where they are, on the timer already set: their time left is the timer's, not measured again on
   * a clock that may not move with it (a manual clock, fake timers that do not fake it). From now on the
   * timer keeps no process alive: a caller's promise is all that waits on it.
   */
  clear(keep: ReadonlySet<Timed> = NONE): void {
    this.#keepsAlive = false;
    for (const list of [...this.#lists.values()]) {
      for (let e = list.head; e !== undefined; ) {
        const next = e.deadlineNext;
        if (!keep.has(e)) this.remove(e);
        e = next;
      }
    }
    for (const entry of this.#due ?? []) if (!keep.has(entry)) entry.deadlineList = undefined;
    if (this.#unrefDue !== undefined) cancelAfterIO(this.#unrefDue);
    this.#unrefDue = undefined;
    this.#isRefed = false;
    if (this.#size > 0 || this.#due?.some((entry) => keep.has(entry)) === true) {
      unrefTimer(this.#timer);
      return;
    }
    this.#lists.clear();
    this.#lastList = undefined;
    this.#due = undefined;
    if (this.#dueImmediate !== undefined) cancelAfterIO(this.#dueImmediate);
    this.#dueImmediate = undefined;
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Infinity;
  }

  #arm(due: number, now: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    // Clamped to Node's longest timer (above it Node fires after 1 ms); what is left is armed again when it fires.
    const delay = Math.min(MAX_DURATION_MS, Math.max(0, Math.ceil(due - now)));
    // When the timer fires, as the timer sees it: not `due` if the delay was clamped.
    this.#timerDue = now + delay;
    this.#timer = setTimeout(() => this.#fire(), delay);
    // A new timer is ref'd (only ever armed with something queued), and let go as above.
    if (this.#keepsAlive) this.#isRefed = true;
    else unrefTimer(this.#timer);
  }

  /**
   * The clock now. When it stepped back, every queued deadline moves back by the step: each keeps the
   * time it had left, and the lists stay in deadline order (entries added after the step are not stuck
   * behind ones measured before it). O(n), on a step back only.
   */
  #read(): number {
    const now = this.#clock.now();
    if (now < this.#lastNow) {
      const step = this.#lastNow - now;
      this.#stepsBack += step;
      for (const list of this.#lists.values()) for (let e = list.head; e !== undefined; e = e.deadlineNext) e.deadline -= step;
      this.#timerDue -= step;
    }
    this.#lastNow = now;
    return now;
  }

  #fire(): void {
    const clockNow = this.#read();
    const stalled = clockNow - this.#timerDue > STALL_MS;
    const now = Math.max(clockNow, this.#timerDue);
    this.#timer = undefined;
    this.#isRefed = false;
    this.#timerDue = Infinity;
    const due = (this.#due ??= []);
    let next = Infinity;
    for (const [delay, list] of this.#lists) {
      // A timer never fires early by Node's clock; the tolerance covers the rounding of `ceil` above.
      while (list.head !== undefined && list.head.deadline <= now + 0.5) {
        const entry = list.head;
        this.remove(entry);
        entry.deadlineList = DUE;
        due.push(entry);
      }
      if (list.head === undefined) {
        this.#lists.delete(delay);
        if (this.#lastList === list) this.#lastList = undefined;
      }
      else if (list.head.deadline < next) next = list.head.deadline;
    }
    if (next !== Infinity) this.#arm(next, now);
    if (stalled) this.#dueImmediate ??= runAfterIO(() => this.#expireDue());
    else this.#expireDue();
  }

  /** Expire what is still due once the loop has read its I/O: an entry settled meanwhile was taken out. */
  #expireDue(): void {
    const due = this.#due ?? [];
    this.#due = undefined;
    if (this.#dueImmediate !== undefined) cancelAfterIO(this.#dueImmediate);
    this.#dueImmediate = undefined;
    // After the bookkeeping: an expiry may add or remove entries.
    for (const entry of due) {
      if (entry.deadlineList !== DUE) continue;
      entry.deadlineList = undefined;
      entry.expire();
    }
  }
}
