import type { Balancer } from '../balancers/balancer.js';
import type { Clock } from '../clock.js';
import { ConcurrencyLimitedError, HeightNotReachedError, PoolClosedError, RateLimitedError } from '../errors.js';
import type { Member } from '../member.js';
import type { Avoid, Roster } from '../roster.js';
import { DEFAULT_COST, type Cost } from './cost.js';
import { NORMAL } from './priority.js';
import { WaiterQueue, type Overdue } from './waiter-queue.js';

/** Reports a wait for a client's token: who, for which method, since when, and whether it was refused. */
export type WaitReport = (client: string | undefined, method: string, since: number, rejected: boolean) => void;

/** What a queued call keeps: how to pick for it when its turn comes. */
interface QueuedCall<T> {
  readonly balancer: Balancer<T>;
  /** Clients this call tried already, and its affinity key: kept when it is served. */
  readonly avoid: readonly Member<T>[] | undefined;
  readonly key: string | undefined;
  /** Its `minHeight` (read-your-writes), kept when it is served. */
  readonly minHeight: number | undefined;
  /** What it takes of a client's limits. */
  readonly cost: Cost;
  /** Its priority: higher ones are served first (`queue.push` places it), FIFO within one. */
  readonly priority: number;
  readonly since: number;
  readonly method: string;
  /** Whether it queued for tokens (some client was out of them), not only for a client at its cap: reported as a rate-limit wait. */
  readonly isTokenWait: boolean;
  /** When a client its pick passed over for its cost has room for it (its own due time), if one did. */
  costDue: number | undefined;
  /**
   * Whether only some clients will do for it (a quorum's, which needs one it has not tried; a `minHeight`
   * one): it waits out of line, so that it holds up nobody behind it.
   */
  readonly isPicky: boolean;
}

/**
 * Calls waiting because every eligible client is out of tokens (their own rate limits, or paused by the
 * upstream) or at its `maxInFlight`. They are served in FIFO order, by one timer set for the first client
 * due back or when a call ends, and only while a client can serve them within their `maxWait`; the others
 * fail with `RateLimitedError`, or `ConcurrencyLimitedError` when only caps held them.
 */
export class ClientQueue<T> {
  readonly #roster: Roster<T>;
  readonly #clock: Clock;
  readonly #report: WaitReport;
  readonly #queue: WaiterQueue<[Member<T>, 'call' | 'probe'], QueuedCall<T>>;
  #isWaking = false;
  /** Waiting calls that are not picky. */
  #inLine = 0;
  readonly #leaveLine = (): void => {
    if (--this.#inLine === 0) this.#roster.hasCallsInLine = false;
  };

  constructor(roster: Roster<T>, clock: Clock, report: WaitReport) {
    this.#roster = roster;
    this.#clock = clock;
    roster.onLost = () => this.#onLost();
    this.#report = report;
    this.#queue = new WaiterQueue({
      clock,
      wake: () => this.#wake(),
      late: (waiter, retryAfterMs) => this.#lateError(waiter.data, retryAfterMs),
    });
  }

  /** The error of a call no client could take within its `maxWait`. */
  #lateError(call: QueuedCall<T>, retryAfterMs: number): Error {
    const roster = this.#roster;
    // A read-your-writes call: no client at its height could take it in time.
    const minHeight = call.minHeight;
    if (minHeight !== undefined) return new HeightNotReachedError(minHeight, roster.highestInSync());
    // Short of its own cost: tokens, whatever the slots did.
    const costDue = call.costDue;
    if (costDue !== undefined) {
      this.#report(undefined, call.method, call.since, true);
      return new RateLimitedError(Math.max(0, costDue - this.#clock.now()), 'every client');
    }
    // Only clients at their cap, none waiting for tokens: no slot freed in time.
    if (roster.hasFullMembers && roster.nextThrottleDue() === undefined) return new ConcurrencyLimitedError();
    this.#report(undefined, call.method, call.since, true);
    return new RateLimitedError(retryAfterMs, 'every client');
  }

  /** The priority of the first call waiting (the highest waiting): a call above it may pick at once. */
  get headPriority(): number {
    return this.#queue.head?.data.priority ?? -1;
  }

  /** Calls waiting in line now (picky ones left out): while any wait, new calls queue behind them. */
  get length(): number {
    return this.#inLine;
  }

  /**
   * Queue until a client can take the call, within `maxWait`; resolves with the chosen, admitted member.
   * With `overdue`, the wait also ends (refused) after `overdue.ms` by its own timer, whatever the clock
   * says (`WaiterQueue.push`).
   */
  wait(
    balancer: Balancer<T>,
    signal: AbortSignal | undefined,
    maxWait: number,
    method: string,
    avoid?: readonly Member<T>[],
    key?: string,
    minHeight?: number,
    cost: Cost = DEFAULT_COST,
    priority = NORMAL,
    costDue?: number,
    overdue?: Overdue,
  ): Promise<[Member<T>, 'call' | 'probe']> {
    const since = this.#clock.now();
    const throttled = this.#roster.nextThrottleDue();
    // Its own cost's due time counts, never another call's: a slot wait stays a slot wait.
    const due = costDue === undefined ? throttled : throttled === undefined ? costDue : Math.min(throttled, costDue);
    const isPicky = (avoid as Avoid<T> | undefined)?.isStrict === true || minHeight !== undefined;
    // A client at its cap may free a slot at any time: only clients out of tokens make a wait hopeless
    // (for a picky call, the tokens of clients it would not take tell nothing: its own deadline decides).
    if (!isPicky && due !== undefined && due - since > maxWait && !this.#roster.hasFullMembers) {
      this.#report(undefined, method, since, true);
      return Promise.reject(new RateLimitedError(due - since, 'every client'));
    }
    const queue = this.#queue;
    const call: QueuedCall<T> = { balancer, avoid, key, minHeight, cost, priority, since, method, isTokenWait: due !== undefined, costDue, isPicky };
    // No wait allowed: it fails now, as a wait would at its deadline. Queued, even for 0 ms, a slot freed
    // before its timer ran (or a stalled loop, whose late timers wait for I/O) would decide instead.
    if (maxWait <= 0) return Promise.reject(this.#lateError(call, due === undefined ? 0 : Math.max(0, due - since)));
    const picked = queue.push(call, 1, since + maxWait, signal, priority, overdue);
    if (!isPicky) {
      if (this.#inLine++ === 0) this.#roster.hasCallsInLine = true;
      picked.then(this.#leaveLine, this.#leaveLine);
    }
    // The first in line sets the timer; those behind it are served from there.
    if (queue.length === 1) this.#schedule();
    // Placed ahead of calls already waiting (a higher priority): its turn is now, not at their wake time.
    else if (queue.head?.data === call) this.onReady();
    return picked;
  }

  /**
   * A client went down or out of sync: picky calls (which may wait for that very client) look again, now;
   * calls in line keep waiting, as any client may still come back for them.
   */
  #onLost(): void {
    if (this.#queue.length === this.#inLine || this.#isWaking) return;
    this.#wake(true);
  }

  /** A client became ready: serve waiting calls on the next turn of the event loop. */
  onReady(): void {
    if (this.#queue.length === 0 || this.#isWaking) return;
    this.#queue.wakeAt(this.#clock.now());
  }

  /** Fail every waiting call with `PoolClosedError` and stop the timer. */
  close(): void {
    this.#queue.close(new PoolClosedError());
  }

  /** Serve waiting calls in order while clients can take them (with `pickyOnly`, look at picky ones alone). */
  #wake(pickyOnly = false): void {
    const queue = this.#queue;
    this.#isWaking = true;
    try {
      for (let waiter = queue.head; waiter !== undefined; ) {
        const call = waiter.data;
        if (pickyOnly && !call.isPicky) {
          waiter = queue.after(waiter);
          continue;
        }
        const pick = this.#roster.select(call.balancer, call.avoid, call.key, call.minHeight, call.cost, call.priority);
        const isQueued = queue.has(waiter);
        if (pick.kind === 'wait') {
          call.costDue = this.#roster.lastCostDue;
          // In line, the wait holds everyone behind; a picky call's holds only itself.
          if (!call.isPicky) break;
          waiter = isQueued ? queue.after(waiter) : queue.head;
          continue;
        }
        if (pick.kind === 'unavailable') {
          // No client left, or all open: waiting cannot help anyone (a picky call: no client it would take).
          if (!call.isPicky) {
            queue.close(pick.error);
            return;
          }
          const next = isQueued ? queue.after(waiter) : queue.head;
          queue.settle(waiter, { error: pick.error });
          waiter = next;
          continue;
        }
        // A callback run by the pick (a listener, a balancer, a breaker) may have aborted this waiter:
        // then the client it was picked for goes back, and the line is read again from its head.
        if (!isQueued) {
          this.#roster.giveBack(pick.member, pick.admission);
          waiter = queue.head;
          continue;
        }
        const next = queue.after(waiter);
        queue.settle(waiter, { value: [pick.member, pick.admission] });
        if (call.isTokenWait) this.#report(pick.member.name, call.method, call.since, false);
        waiter = next;
      }
    } finally {
      this.#isWaking = false;
    }
    this.#schedule();
  }

  /** Fail those who cannot be served before their deadline; wake when the first client is due back. */
  #schedule(): void {
    const queue = this.#queue;
    if (queue.length === 0) return;
    const roster = this.#roster;
    // With clients at their cap, one may come back when a call ends (onReady) or its cooldown ends; so
    // may the client a picky call waits for (busy, open, down: `onReady` when it is back).
    const anyMayReturn = roster.hasFullMembers || this.#inLine === 0;
    const due = anyMayReturn ? roster.nextDue() : roster.nextThrottleDue();
    // A client passed over for a waiting call's cost has room for it then: a time to look again.
    const costDue = roster.nextCostDue();
    if (due === undefined) {
      // Until a call ends the waiters' deadlines run; without full clients, the pick says what to do now.
      queue.wakeAt(costDue ?? (anyMayReturn ? undefined : this.#clock.now()));
      return;
    }
    // Refused early by the line's next token: only while no picky call waits (that token may not be for
    // it), and no call waits for its cost (whose own time is not the line's).
    if (!anyMayReturn && queue.length === this.#inLine && costDue === undefined) queue.refuseLate(due);
    queue.wakeAt(costDue === undefined ? due : Math.min(due, costDue));
  }
}
