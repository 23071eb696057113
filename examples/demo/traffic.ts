// Open-loop load: calls start at a steady rate whether or not earlier ones have answered (as users
// arrive), bounded by a cap on calls in flight so that a stuck pool cannot pile up memory. A call is
// started on time or not at all: the calls that fell due while the process was stalled (a busy machine,
// a long pause of the garbage collector) are skipped and counted, not fired in one burst that would bury
// the process it has just got back; and a process too starved to keep up sheds its own load this way.
import { isClientPoolError } from '../../src/index.js';
import { SlidingWindow } from './sliding-window.js';

/** One way of calling through the pool: `pool.run()`, `pool.proxy()`, or the generated wrapper. */
export interface CallPath {
  readonly name: string;
  call(sequence: number): Promise<unknown>;
}

export interface TrafficOptions {
  /** Calls started per second. */
  readonly rate: number;
  /** Most calls in flight; a call due beyond it is not started and counted as shed. */
  readonly maxInFlight: number;
  /**
   * A tick (every 10 ms) that runs later than this many ms starts none of the calls that fell due since
   * the previous one: they are skipped and counted as late. @default 50
   */
  readonly maxLateMs?: number;
  /** Used in turn, call after call. */
  readonly paths: readonly CallPath[];
}

const TICK_MS = 10;
const MAX_LATE_MS = 50;

/** Drives calls at a fixed rate and keeps what the callers saw: outcomes, latency, error codes. */
export class Traffic {
  readonly #options: TrafficOptions;
  readonly #inFlight = new Set<Promise<void>>();
  /** What callers saw, over the last seconds. */
  readonly window = new SlidingWindow();
  /** Calls started per path name. */
  readonly byPath = new Map<string, number>();
  /** Failed calls by error code (`ERR_RATE_LIMITED`, ...). */
  readonly errors = new Map<string, number>();
  started = 0;
  succeeded = 0;
  failed = 0;
  /** Calls not started: too many in flight. */
  shed = 0;
  /** Calls not started: they fell due while the process was stalled (see `maxLateMs`). */
  late = 0;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  /** Calls due so far, started or not. */
  #due = 0;
  /** When the last tick ran. */
  #lastTick = 0;

  constructor(options: TrafficOptions) {
    this.#options = options;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  start(): void {
    this.#startedAt = this.#lastTick = performance.now();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Start no more calls; resolves when the ones in flight have settled. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled(this.#inFlight);
  }

  #tick(): void {
    const { rate, maxInFlight, paths, maxLateMs = MAX_LATE_MS } = this.#options;
    const now = performance.now();
    const due = Math.floor(((now - this.#startedAt) * rate) / 1_000);
    // This tick ran late: the process was stalled, or is busier than it can bear. The calls that fell
    // due meanwhile are skipped rather than started in a burst, and the process gets its breath back.
    if (now - this.#lastTick - TICK_MS > maxLateMs) {
      this.late += due - this.#due;
      this.#due = due;
    }
    this.#lastTick = now;
    for (; this.#due < due; this.#due++) {
      if (this.#inFlight.size >= maxInFlight) {
        this.shed++;
        continue;
      }
      const path = paths[this.#due % paths.length]!;
      this.#launch(path, this.#due);
    }
  }

  #launch(path: CallPath, sequence: number): void {
    this.started++;
    this.byPath.set(path.name, (this.byPath.get(path.name) ?? 0) + 1);
    const started = performance.now();
    const done: Promise<void> = path.call(sequence).then(
      () => {
        this.succeeded++;
        this.window.success(performance.now() - started);
      },
      (error: unknown) => {
        this.failed++;
        this.window.error();
        const code = isClientPoolError(error) ? error.code : 'OTHER';
        this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
      },
    ).finally(() => this.#inFlight.delete(done));
    this.#inFlight.add(done);
  }
}
