import { callable, integerAtLeast, keySet, knownKeys, optionsObject, positiveDuration } from '../validate.js';

const HEALTH_CHECK_KEYS = keySet(['check', 'interval', 'timeout', 'unhealthyThreshold', 'healthyThreshold']);

/** Active health checks of each client. */
export interface HealthCheckOptions<T> {
  /**
   * Return or resolve (any value) when the client is healthy; throw or reject when it is not. Honour
   * `signal`. A check that ignores it, never settles or misbehaves otherwise (a `then` that throws) only
   * fails: it never stops the checker nor leaves a timer behind.
   */
  readonly check: (client: T, signal: AbortSignal) => unknown;
  /** Milliseconds between checks, at most 2^31-1 (the longest Node timer). @default 10_000 */
  readonly interval?: number;
  /** Milliseconds a check may take before it counts as failed, at most 2^31-1. @default 2_000 */
  readonly timeout?: number;
  /** Consecutive failed checks that mark a client down. @default 2 */
  readonly unhealthyThreshold?: number;
  /** Consecutive passed checks that bring a down client back. @default 2 */
  readonly healthyThreshold?: number;
}

/** What the checker needs of the pool. */
export interface HealthTarget<T, M> {
  members(): Iterable<M>;
  clientOf(member: M): T;
  isDown(member: M): boolean;
  setDown(member: M, isDown: boolean): void;
}

interface Streak {
  passes: number;
  failures: number;
  running: AbortController | undefined;
}

/**
 * Runs `check(client, signal)` for every client every `interval`, each bounded by `timeout`. A client
 * failing `unhealthyThreshold` checks in a row is marked down (out of the rotation); a down client must
 * pass `healthyThreshold` in a row to come back. A check still running is not started twice. Timers are
 * `unref`ed, so they never keep a process alive, and `stop()` clears them all at once and aborts checks
 * in flight; a check that ends after `stop()` gives no verdict, even if the checker was started again.
 */
export class HealthChecker<T, M extends object> {
  readonly #check: (client: T, signal: AbortSignal) => unknown;
  readonly #interval: number;
  readonly #timeout: number;
  readonly #unhealthyThreshold: number;
  readonly #healthyThreshold: number;
  readonly #target: HealthTarget<T, M>;
  readonly #streaks = new WeakMap<M, Streak>();
  /** Checks in flight and their timeout timers. */
  readonly #running = new Map<AbortController, NodeJS.Timeout>();
  #timer: NodeJS.Timeout | undefined;
  #isStopped = false;
  /** Bumped by `stop()`: a check begun in an earlier epoch gives no verdict. */
  #epoch = 0;

  constructor(options: HealthCheckOptions<T>, target: HealthTarget<T, M>) {
    optionsObject('healthCheck', options);
    knownKeys('healthCheck', options, HEALTH_CHECK_KEYS);
    this.#check = callable('healthCheck.check', options.check);
    this.#interval = positiveDuration('healthCheck.interval', options.interval ?? 10_000);
    this.#timeout = positiveDuration('healthCheck.timeout', options.timeout ?? 2_000);
    this.#unhealthyThreshold = integerAtLeast('healthCheck.unhealthyThreshold', options.unhealthyThreshold ?? 2, 1);
    this.#healthyThreshold = integerAtLeast('healthCheck.healthyThreshold', options.healthyThreshold ?? 2, 1);
    this.#target = target;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#isStopped = false;
    // checkAll never rejects: each check's failure is its verdict.
    this.#timer = setInterval(() => void this.checkAll(), this.#interval);
    this.#timer.unref();
  }

  stop(): void {
    this.#isStopped = true;
    this.#epoch++;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    // Clear the timeouts here rather than when each check settles, so that no timer outlives stop().
    for (const [controller, timeout] of this.#running) {
      clearTimeout(timeout);
      controller.abort(new Error('health checks stopped'));
    }
    this.#running.clear();
  }

  /** One round of checks now; resolves when every check of the round has finished. */
  checkAll(): Promise<void> {
    const rounds: Promise<void>[] = [];
    for (const member of this.#target.members()) rounds.push(this.#checkOne(member));
    return Promise.all(rounds).then(() => undefined);
  }

  async #checkOne(member: M): Promise<void> {
    let streak = this.#streaks.get(member);
    if (streak === undefined) this.#streaks.set(member, (streak = { passes: 0, failures: 0, running: undefined }));
    if (streak.running !== undefined) return;
    const epoch = this.#epoch;
    const controller = new AbortController();
    streak.running = controller;
    const timeout = setTimeout(() => controller.abort(new Error(`health check timed out after ${this.#timeout} ms`)), this.#timeout);
    timeout.unref();
    this.#running.set(controller, timeout);
    let isHealthy: boolean;
    try {
      isHealthy = await this.#verdict(member, controller.signal);
    } finally {
      clearTimeout(timeout);
      this.#running.delete(controller);
      streak.running = undefined;
    }
    if (this.#isStopped || epoch !== this.#epoch) return;
    if (isHealthy) {
      streak.failures = 0;
      if (++streak.passes >= this.#healthyThreshold && this.#target.isDown(member)) this.#target.setDown(member, false);
    } else {
      streak.passes = 0;
      if (++streak.failures >= this.#unhealthyThreshold && !this.#target.isDown(member)) this.#target.setDown(member, true);
    }
  }

  /**
   * Whether the user's check passed: false if it throws (synchronously or not) or `signal` aborts first
   * (timeout or stop), whatever the check does with the signal. Never rejects.
   */
  #verdict(member: M, signal: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const settle = (isHealthy: boolean): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(isHealthy);
      };
      const onAbort = (): void => settle(false);
      signal.addEventListener('abort', onAbort, { once: true });
      // Calling the check inside then() turns a synchronous throw into a rejection, and adopting its
      // result there turns a thenable whose then() throws into one too. Once aborted, the verdict is in.
      void Promise.resolve()
        .then(() => (signal.aborted ? undefined : this.#check(this.#target.clientOf(member), signal)))
        .then(
          () => settle(true),
          () => settle(false),
        );
    });
  }
}
