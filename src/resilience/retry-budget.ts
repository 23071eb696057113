import { givenOr, keySet, knownKeys, nonNegative, optionsObject } from '../validate.js';

const BUDGET_KEYS = keySet(['ratio', 'reserve']);

/** Options of the pool's {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /**
   * Extra attempts (retries and hedges) allowed per call, on average: 0.1 lets retries add at most 10 %
   * to the load an outage would otherwise cause.
   * @default 0.1
   */
  readonly ratio?: number;
  /**
   * Extra attempts allowed beyond the ratio, for low traffic: the budget starts with this many and never
   * holds more, so a quiet period cannot bank a retry storm.
   * @default 10
   */
  readonly reserve?: number;
}

/**
 * A retry budget shared by every call of a pool, as gRPC and Finagle have: each call deposits `ratio`
 * of a token, each retry or hedge withdraws one, and the balance is capped at `reserve`. Over any run of
 * calls, extra attempts <= reserve + ratio x calls, so an outage cannot become a retry storm. Time-free:
 * it costs one addition per call and reads no clock.
 */
export class RetryBudget {
  readonly ratio: number;
  readonly reserve: number;
  /** The balance as of the last `#settle()`. */
  #balance: number;
  /** Calls made since: counted as an integer and added at once, as `ratio x calls`, when an extra attempt asks (`tryWithdraw`). */
  #deposits = 0;
  /** Attempts refused for lack of budget, for metrics. */
  refused = 0;

  constructor(options: RetryBudgetOptions = {}) {
    optionsObject('retryBudget', options);
    knownKeys('retryBudget', options, BUDGET_KEYS);
    this.ratio = nonNegative('retryBudget.ratio', givenOr(options.ratio, 0.1));
    this.reserve = nonNegative('retryBudget.reserve', givenOr(options.reserve, 10));
    this.#balance = this.reserve;
  }

  /**
   * Tokens available for extra attempts now. Read without settling: only `tryWithdraw` adds the calls
   * counted, so when the budget is read (a metrics poll) never changes what it grants.
   */
  get balance(): number {
    const deposits = this.#deposits;
    if (deposits === 0) return this.#balance;
    const balance = this.#balance + deposits * this.ratio;
    return balance > this.reserve ? this.reserve : balance;
  }

  /** Its state, for `pool.retryBudget`. */
  snapshot(): { readonly balance: number; readonly refused: number } {
    return { balance: this.balance, refused: this.refused };
  }

  /** A call was made: one integer increment on the call's path (no floating-point store). */
  deposit(): void {
    this.#deposits++;
  }

  /** Ask for one extra attempt. */
  tryWithdraw(): boolean {
    if (this.#settle() < 1) {
      this.refused++;
      return false;
    }
    this.#balance -= 1;
    return true;
  }

  /**
   * The deposits made since the last withdrawal, added: min(reserve, balance + ratio x calls) is what adding
   * `ratio` and capping once per call gives (the cap only ever holds the balance down), without the
   * rounding error of many small additions.
   */
  #settle(): number {
    const balance = this.balance;
    this.#deposits = 0;
    return (this.#balance = balance);
  }
}
