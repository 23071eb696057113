// How responsive this process is. On a busy machine the event loop stalls (the process waits for a core,
// or for the garbage collector), and every timer due meanwhile fires late, in one batch. The demo's
// upstreams live in this process too, so a stall delays their answers and the pool's timeouts alike:
// the loop's delay and its stalls are shown beside the upstreams' latencies, so that a slow second can be
// told from a slow upstream.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Event-loop delay in ms: how late timers ran. NaN before any sample. */
export interface LoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** A timer this much later than due (in ms) marks a stall: the process did not run meanwhile. */
export const STALL_MS = 50;
/** How often the loop's turns are sampled to find its stalls, in ms. */
const TICK_MS = 10;
/** Resolution of the delay histograms, in ms. */
const RESOLUTION_MS = 10;

export interface LoopMonitorOptions {
  /** The clock, in ms. @default performance.now() */
  readonly now?: () => number;
}

/** Measures the event loop: delay percentiles (node:perf_hooks), and how often and how long it stalled. */
export class LoopMonitor {
  readonly #now: () => number;
  /** Since the last `window()`. */
  readonly #window: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  /** Since `start()`. */
  readonly #total: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  #timer: NodeJS.Timeout | undefined;
  /** When the loop last turned (sampled every TICK_MS); NaN until started. */
  #lastTurn = Number.NaN;
  /** Stalls seen since start, and their total length in ms. */
  #count = 0;
  #stalledMs = 0;

  constructor(options: LoopMonitorOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
  }

  /** Stalls seen so far. */
  get stalls(): number {
    return this.#count;
  }

  /** Total length of the stalls seen so far, in ms. */
  get stalledMs(): number {
    return this.#stalledMs;
  }

  start(): void {
    this.#window.enable();
    this.#total.enable();
    this.#lastTurn = this.#now();
    // Unref'd: watching the loop must not keep the process alive.
    this.#timer = setInterval(() => this.turn(), TICK_MS).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#window.disable();
    this.#total.disable();
  }

  /**
   * The loop turned (the sampling timer ran) at `now`: a turn later than due by over STALL_MS ends a
   * stall, which lasted from when the turn was due.
   */
  turn(now = this.#now()): void {
    const late = now - (this.#lastTurn + TICK_MS);
    if (late > STALL_MS) {
      this.#count++;
      this.#stalledMs += late;
    }
    this.#lastTurn = now;
  }

  /** Delay since the last call of `window()`, which starts a new window. */
  window(): LoopDelay {
    const delay = read(this.#window);
    this.#window.reset();
    return delay;
  }

  /** Delay since `start()`. */
  total(): LoopDelay {
    return read(this.#total);
  }
}

function read(histogram: IntervalHistogram): LoopDelay {
  if (histogram.count === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  // Nanoseconds; each sample includes the resolution the timer was set for, which is not delay.
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  return { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) };
}
