import type { Balancer } from '../balancers/balancer.js';
import type { Clock } from '../clock.js';
import { AbortedError, PoolClosedError, RateLimitedError } from '../errors.js';
import type { Member } from '../member.js';
import type { Roster } from '../roster.js';

/** Reports a wait for a client's token: who, for which method, since when, and whether it was refused. */
export type WaitReport = (client: string | undefined, method: string, since: number, rejected: boolean) => void;

/** A call queued until a client has a token again. */
interface Waiter<T> {
  readonly balancer: Balancer<T>;
  /** Clients this call tried already, and its affinity key: kept when it is served. */
  readonly avoid: readonly Member<T>[] | undefined;
  readonly key: string | undefined;
  readonly since: number;
  readonly deadline: number;
  readonly method: string;
  readonly resolve: (picked: [Member<T>, 'call' | 'probe']) => void;
  readonly reject: (error: Error) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Calls waiting because every eligible client is out of tokens (their own rate limits, or paused by the
 * upstream). They are served in FIFO order, by one timer set for the first client due back, and only
 * while it can serve them within their `maxWait`; the others fail at once with `RateLimitedError`.
 */
export class ClientQueue<T> {
  readonly #roster: Roster<T>;
  readonly #clock: Clock;
  readonly #report: WaitReport;
  readonly #waiting: Waiter<T>[] = [];
  #timer: NodeJS.Timeout | undefined;
  #isWaking = false;

  constructor(roster: Roster<T>, clock: Clock, report: WaitReport) {
    this.#roster = roster;
    this.#clock = clock;
    this.#report = report;
  }

  /** Calls waiting now; while any wait, new calls queue behind them. */
  get length(): number {
    return this.#waiting.length;
  }

  /** Queue until a client can take the call, within `maxWait`; resolves with the chosen, admitted member. */
  wait(
    balancer: Balancer<T>,
    signal: AbortSignal | undefined,
    maxWait: number,
    method: string,
    avoid?: readonly Member<T>[],
    key?: string,
  ): Promise<[Member<T>, 'call' | 'probe']> {
    const since = this.#clock.now();
    const due = this.#roster.nextThrottleDue();
    if (due !== undefined && due - since > maxWait) {
      this.#report(undefined, method, since, true);
      return Promise.reject(new RateLimitedError(due - since, 'every client'));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = { balancer, avoid, key, since, deadline: since + maxWait, method, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const i = this.#waiting.indexOf(waiter);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(new AbortedError(signal.reason));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiting.push(waiter);
      this.#schedule();
    });
  }

  /** A client became ready: serve waiting calls on the next turn of the event loop. */
  onReady(): void {
    if (this.#waiting.length === 0 || this.#isWaking) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#wake(), 0);
  }

  /** Fail every waiting call with `PoolClosedError` and stop the timer. */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiter of this.#waiting.splice(0)) this.#settle(waiter, new PoolClosedError());
  }

  /** Serve waiting calls in order while clients can take them. */
  #wake(): void {
    this.#timer = undefined;
    const waiting = this.#waiting;
    this.#isWaking = true;
    try {
      while (waiting.length > 0) {
        const waiter = waiting[0]!;
        let member: Member<T> | undefined;
        try {
          member = this.#roster.select(waiter.balancer, waiter.avoid, waiter.key);
        } catch (error) {
          // No client left, or all open: waiting cannot help anyone.
          for (const w of waiting.splice(0)) this.#settle(w, error as Error);
          return;
        }
        if (member === undefined) break;
        waiting.shift();
        this.#settle(waiter, undefined);
        this.#report(member.name, waiter.method, waiter.since, false);
        waiter.resolve([member, this.#roster.admission]);
      }
    } finally {
      this.#isWaking = false;
    }
    this.#schedule();
  }

  /** Fail those who cannot be served before their deadline; set the timer for the first client due back. */
  #schedule(): void {
    if (this.#timer !== undefined || this.#waiting.length === 0) return;
    const due = this.#roster.nextThrottleDue();
    if (due === undefined) {
      this.#timer = setTimeout(() => this.#wake(), 0);
      return;
    }
    const now = this.#clock.now();
    const waiting = this.#waiting;
    for (let i = 0; i < waiting.length; ) {
      const waiter = waiting[i]!;
      if (waiter.deadline < due) {
        waiting.splice(i, 1);
        this.#settle(waiter, new RateLimitedError(due - now, 'every client'));
        this.#report(undefined, waiter.method, waiter.since, true);
      } else i++;
    }
    if (waiting.length > 0) this.#timer = setTimeout(() => this.#wake(), Math.max(0, Math.ceil(due - now)));
  }

  /** Detach a waiter's abort listener and, with an error, reject it. */
  #settle(waiter: Waiter<T>, error: Error | undefined): void {
    if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener('abort', waiter.onAbort);
    if (error !== undefined) waiter.reject(error);
  }
}
