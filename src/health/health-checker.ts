import { callable, integerAtLeast, optionsObject, positive } from '../validate.js';

/** Active health checks of each client. */
export interface HealthCheckOptions<T> {
  /** Resolve (any value) when the client is healthy; throw or reject when it is not. Honour `signal`. */
  readonly check: (client: T, signal: AbortSignal) => unknown;
  /** Milliseconds between checks. @default 10_000 */
  readonly interval?: number;
  /** Milliseconds a check may take before it counts as failed. @default 2_000 */
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
 * pass `healthyThreshold` in a row to come back. A check still running is not started twice. The timer
 * is `unref`ed, so it never keeps a process alive, and `stop()` aborts checks in flight.
 */
export class HealthChecker<T, M extends object> {
  readonly #check: (client: T, signal: AbortSignal) => unknown;
  readonly #interval: number;
  readonly #timeout: number;
  readonly #unhealthyThreshold: number;
  readonly #healthyThreshold: number;
  readonly #target: HealthTarget<T, M>;
  readonly #streaks = new WeakMap<M, Streak>();
  readonly #running = new Set<AbortController>();
  #timer: NodeJS.Timeout | undefined;
  #isStopped = false;

  constructor(options: HealthCheckOptions<T>, target: HealthTarget<T, M>) {
    optionsObject('healthCheck', options);
    this.#check = callable('healthCheck.check', options.check);
    this.#interval = positive('healthCheck.interval', options.interval ?? 10_000);
    this.#timeout = positive('healthCheck.timeout', options.timeout ?? 2_000);
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
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const controller of this.#running) controller.abort(new Error('health checks stopped'));
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
    const controller = new AbortController();
    streak.running = controller;
    this.#running.add(controller);
    const timer = setTimeout(() => controller.abort(new Error(`health check timed out after ${this.#timeout} ms`)), this.#timeout);
    let isHealthy: boolean;
    try {
      await Promise.race([
        Promise.resolve().then(() => this.#check(this.#target.clientOf(member), controller.signal)),
        new Promise((_resolve, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true })),
      ]);
      isHealthy = true;
    } catch {
      // A failed check is the expected signal here, not an error to report: it marks the client down.
      isHealthy = false;
    } finally {
      clearTimeout(timer);
      this.#running.delete(controller);
      streak.running = undefined;
    }
    if (this.#isStopped) return;
    if (isHealthy) {
      streak.failures = 0;
      if (++streak.passes >= this.#healthyThreshold && this.#target.isDown(member)) this.#target.setDown(member, false);
    } else {
      streak.passes = 0;
      if (++streak.failures >= this.#unhealthyThreshold && !this.#target.isDown(member)) this.#target.setDown(member, true);
    }
  }
}
