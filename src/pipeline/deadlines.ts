import type { Clock } from '../clock.js';
import { MAX_DURATION_MS } from '../validate.js';
import { cancelAfterIO, refTimer, runAfterIO, unrefTimer, type AfterIOHandle } from '../util/host.js';

/** The list of entries whose deadline passed and whose expiry waits for the loop's I/O to be read. */
/** How late a timer may fire (ms, pool clock) before the loop is taken to have stalled. */
const STALL_MS = 5;

const DUE: DeadlineList = Object.freeze({ delay: -1, head: undefined, tail: undefined });

/** At most this many earlier timers are kept when a sooner deadline re-arms the timer (see `#arm`). */
const MAX_KEPT_TIMERS = 4;

/** One timer the queue set: its own, or one kept for a later deadline when a sooner one re-armed it. */
interface QueueTimer {
  timer: NodeJS.Timeout | undefined;
  /** Its due time on the clock, moved back with it (the queue's own timer's is `#timerDue`). */
  due: number;
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
 * so a deadline never waits on a clock that does not move. A sooner deadline re-arms the timer, but the
 * timer set for a later one is kept (up to `MAX_KEPT_TIMERS`) rather than cleared: it fires at its own
 * time and has the last word too, so a queued deadline keeps the time it waited even when the clock could
 * not show it (it stood still, or stepped back) and the new timer's delay was measured from that clock.
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
  #unrefDue: AfterIOHandle | undefined;
  /** When the timer fires; Infinity when none is set. */
  #timerDue = Infinity;
  /** The timer `#timer` is: its callback tells it from a kept one. */
  #main: QueueTimer | undefined;
  /** Timers for later deadlines, kept when sooner ones re-armed the timer; undefined when none. */
  #kept: QueueTimer[] | undefined;
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

  /** Queue `entry` to expire `delay` ms from now. `delay` must be <= 2^31-1 (validated by the caller). */
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
    else if (!this.#isRefed) this.#ref();
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
      // Nothing queued: the timers kept for queued deadlines have nothing left to end.
      if (this.#kept !== undefined) this.#clearKept();
      if (this.#isRefed) this.#unrefDue ??= runAfterIO(() => this.#unrefIfIdle());
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

  #clearKept(): void {
    const kept = this.#kept;
    if (kept === undefined) return;
    this.#kept = undefined;
    for (const { timer } of kept) if (timer !== undefined) clearTimeout(timer);
  }

  /** Drop every entry without expiring it and stop the timer. */
  clear(): void {
    for (const list of this.#lists.values()) for (let e = list.head; e !== undefined; e = e.deadlineNext) e.deadlineList = undefined;
    this.#lists.clear();
    this.#lastList = undefined;
    for (const entry of this.#due ?? []) entry.deadlineList = undefined;
    this.#due = undefined;
    if (this.#dueImmediate !== undefined) cancelAfterIO(this.#dueImmediate);
    this.#dueImmediate = undefined;
    if (this.#unrefDue !== undefined) cancelAfterIO(this.#unrefDue);
    this.#unrefDue = undefined;
    this.#size = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#clearKept();
    this.#main = undefined;
    this.#timer = undefined;
    this.#isRefed = false;
    this.#timerDue = Infinity;
  }

  #arm(due: number, now: number): void {
    const previous = this.#main;
    if (previous !== undefined) {
      // Set for a later deadline (this one is sooner): kept rather than cleared. It was set when the clock
      // could still count from its start, so it fires at that deadline's own time, whatever the clock
      // shows since, and has the last word then (`#fireKept`).
      const kept = this.#kept;
      if (this.#timerDue > due && (kept === undefined || kept.length < MAX_KEPT_TIMERS)) {
        previous.due = this.#timerDue;
        (this.#kept ??= []).push(previous);
      } else if (previous.timer !== undefined) clearTimeout(previous.timer);
    }
    this.#timerDue = due;
    const record: QueueTimer = { timer: undefined, due };
    // Clamped: float rounding may put `ceil` one past 2^31-1, which Node would turn into 1 ms.
    this.#timer = record.timer = setTimeout(() => (record === this.#main ? this.#fire() : this.#fireKept(record)), Math.min(MAX_DURATION_MS, Math.max(0, Math.ceil(due - now))));
    this.#main = record;
    // A new timer is ref'd (only ever armed with something queued), and let go as above.
    this.#isRefed = true;
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
      for (const kept of this.#kept ?? []) kept.due -= step;
    }
    this.#lastNow = now;
    return now;
  }

  #fire(): void {
    const clockNow = this.#read();
    const stalled = clockNow - this.#timerDue > STALL_MS;
    const now = Math.max(clockNow, this.#timerDue);
    this.#timer = undefined;
    this.#main = undefined;
    this.#isRefed = false;
    this.#timerDue = Infinity;
    this.#takeDue(now);
    if (stalled) this.#dueImmediate ??= runAfterIO(() => this.#expireDue());
    else this.#expireDue();
  }

  /** A kept timer fired: its deadline's time has come, whatever the clock shows (the last word, as `#fire`'s). */
  #fireKept(record: QueueTimer): void {
    const kept = this.#kept;
    const at = kept === undefined ? -1 : kept.indexOf(record);
    if (at < 0) return;
    kept!.splice(at, 1);
    if (kept!.length === 0) this.#kept = undefined;
    const clockNow = this.#read();
    const stalled = clockNow - record.due > STALL_MS;
    // The queue's own timer stays as it is: set for a deadline it may now find gone, which changes nothing.
    const main = this.#main;
    this.#takeDue(Math.max(clockNow, record.due), main !== undefined);
    if (stalled) this.#dueImmediate ??= runAfterIO(() => this.#expireDue());
    else this.#expireDue();
  }

  /**
   * Move every entry due at `now` to the due list, drop the lists it empties, and set the queue's timer
   * for the earliest head left (unless `isArmed`: a kept timer fired, and the queue's own is still set).
   * A kept timer due by then is taken as the queue's timer rather than a new one set.
   */
  #takeDue(now: number, isArmed = false): void {
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
    if (next === Infinity || isArmed) return;
    const kept = this.#kept;
    if (kept !== undefined) {
      let soonest: QueueTimer | undefined;
      for (const record of kept) if (record.due <= next + 0.5 && (soonest === undefined || record.due < soonest.due)) soonest = record;
      if (soonest !== undefined) {
        // Set when the clock could still count for that deadline: it is the queue's timer again.
        kept.splice(kept.indexOf(soonest), 1);
        if (kept.length === 0) this.#kept = undefined;
        this.#main = soonest;
        this.#timer = soonest.timer;
        this.#timerDue = soonest.due;
        this.#isRefed = true;
        refTimer(soonest.timer);
        return;
      }
    }
    this.#arm(next, now);
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
