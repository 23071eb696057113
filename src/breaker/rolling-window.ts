import type { Clock } from '../clock.js';

/**
 * Recent call outcomes, summarised for a rate breaker: how many calls, how many failed, how many were
 * slow. Recording is O(1) in time and memory is fixed at construction, however many calls pass.
 */
export interface RollingWindow {
  /** Calls in the window. */
  readonly total: number;
  readonly failures: number;
  readonly slow: number;
  record(failed: boolean, slow: boolean): void;
  /** Forget everything. */
  clear(): void;
}

const FAILED = 1;
const SLOW = 2;

/** The last `size` outcomes, in a ring. Reads no clock. */
export class CountWindow implements RollingWindow {
  total = 0;
  failures = 0;
  slow = 0;
  readonly #ring: Uint8Array;
  #next = 0;

  constructor(size: number) {
    this.#ring = new Uint8Array(size);
  }

  record(failed: boolean, slow: boolean): void {
    const ring = this.#ring;
    const at = this.#next;
    // Slots at and past `total` hold leftovers from before a clear(): only a full ring evicts.
    if (this.total === ring.length) {
      const old = ring[at]!;
      this.failures -= old & FAILED;
      this.slow -= (old & SLOW) >> 1;
    } else {
      this.total++;
    }
    ring[at] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slow++;
    this.#next = at + 1 === ring.length ? 0 : at + 1;
  }

  /** Calls it can hold. */
  get size(): number {
    return this.#ring.length;
  }

  clear(): void {
    this.total = this.failures = this.slow = this.#next = 0;
  }
}

/**
 * The last `ms` milliseconds as a ring of `buckets` buckets, each `ms / buckets` wide. An outcome counts
 * until the window has moved `buckets` bucket boundaries past the one it fell in: for more than
 * `ms - ms / buckets` and at most `ms`. Time is read once per recorded outcome.
 *
 * A clock that steps back keeps counting in the newest bucket, and the window slides on from there as the
 * clock moves forward again: it neither resurrects old buckets nor stops expiring until the clock has
 * caught up with the step.
 */
export class TimeWindow implements RollingWindow {
  total = 0;
  failures = 0;
  slow = 0;
  readonly #width: number;
  readonly #clock: Clock;
  // Counts per bucket, in parallel arrays; bucket `epoch % buckets` holds the outcomes of that epoch.
  readonly #totals: Float64Array;
  readonly #failures: Float64Array;
  readonly #slow: Float64Array;
  /** Epoch (`floor(now / width) + #shift`) of the newest bucket: buckets of the `buckets` epochs up to it are live. */
  #epoch = -Infinity;
  /** Epochs added to the clock's so that epochs never go back: grown by each step back of the clock. */
  #shift = 0;

  constructor(ms: number, buckets: number, clock: Clock) {
    this.#width = ms / buckets;
    this.#clock = clock;
    this.#totals = new Float64Array(buckets);
    this.#failures = new Float64Array(buckets);
    this.#slow = new Float64Array(buckets);
  }

  record(failed: boolean, slow: boolean): void {
    const epoch = Math.floor(this.#clock.now() / this.#width) + this.#shift;
    if (epoch > this.#epoch) this.#advance(epoch);
    // The clock stepped back: file the outcome in the newest bucket, and measure later epochs from here.
    else if (epoch < this.#epoch) this.#shift += this.#epoch - epoch;
    const n = this.#totals.length;
    const slot = ((this.#epoch % n) + n) % n;
    this.#totals[slot]!++;
    this.total++;
    if (failed) {
      this.#failures[slot]!++;
      this.failures++;
    }
    if (slow) {
      this.#slow[slot]!++;
      this.slow++;
    }
  }

  clear(): void {
    this.#totals.fill(0);
    this.#failures.fill(0);
    this.#slow.fill(0);
    this.total = this.failures = this.slow = 0;
    this.#epoch = -Infinity;
  }

  /** Move the newest bucket to `epoch`, emptying the buckets that fall out: at most `buckets` of them. */
  #advance(epoch: number): void {
    const n = this.#totals.length;
    if (epoch - this.#epoch >= n) {
      if (this.total > 0) this.clear();
    } else {
      // Counted in steps, not epochs: past 2^53 an epoch + 1 is the same number, and `e++` would never end.
      const steps = epoch - this.#epoch;
      const newest = ((this.#epoch % n) + n) % n;
      for (let k = 1; k <= steps; k++) {
        const slot = (newest + k) % n;
        this.total -= this.#totals[slot]!;
        this.failures -= this.#failures[slot]!;
        this.slow -= this.#slow[slot]!;
        this.#totals[slot] = this.#failures[slot] = this.#slow[slot] = 0;
      }
    }
    this.#epoch = epoch;
  }
}
