import { PeriodicProbe } from './periodic-probe.js';
import { givenOr, callable, integerAtLeast, keySet, knownKeys, optionsObject, positiveDuration } from '../validate.js';

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
}

/**
 * Runs `check(client, signal)` for every client every `interval`, each bounded by `timeout` (a
 * {@link PeriodicProbe}). A client failing `unhealthyThreshold` checks in a row is marked down (out of
 * the rotation); a down client must pass `healthyThreshold` in a row to come back. A check still running
 * is not started twice; timers are `unref`ed; `stop()` aborts checks in flight, and a check that ends
 * after it gives no verdict.
 */
export class HealthChecker<T, M extends object> {
  readonly #unhealthyThreshold: number;
  readonly #healthyThreshold: number;
  readonly #target: HealthTarget<T, M>;
  readonly #streaks = new WeakMap<M, Streak>();
  readonly #probe: PeriodicProbe<M>;

  constructor(options: HealthCheckOptions<T>, target: HealthTarget<T, M>) {
    optionsObject('healthCheck', options);
    knownKeys('healthCheck', options, HEALTH_CHECK_KEYS);
    const check = callable<HealthCheckOptions<T>['check']>('healthCheck.check', options.check);
    const interval = positiveDuration('healthCheck.interval', givenOr(options.interval, 10_000));
    const timeout = positiveDuration('healthCheck.timeout', givenOr(options.timeout, 2_000));
    this.#unhealthyThreshold = integerAtLeast('healthCheck.unhealthyThreshold', givenOr(options.unhealthyThreshold, 2), 1);
    this.#healthyThreshold = integerAtLeast('healthCheck.healthyThreshold', givenOr(options.healthyThreshold, 2), 1);
    this.#target = target;
    this.#probe = new PeriodicProbe<M>(interval, timeout, {
      members: () => target.members(),
      probe: (member, signal) => check(target.clientOf(member), signal),
      onResult: (member, result) => this.#verdict(member, result.ok),
    });
  }

  start(): void {
    this.#probe.start();
  }

  stop(): void {
    this.#probe.stop();
  }

  /** Abort the check of a removed client in flight: it gives no verdict. */
  forget(member: M): void {
    this.#probe.forget(member);
  }

  /** One round of checks now; resolves when every check of the round has finished. */
  checkAll(): Promise<void> {
    return this.#probe.runAll();
  }

  #verdict(member: M, isHealthy: boolean): void {
    let streak = this.#streaks.get(member);
    if (streak === undefined) this.#streaks.set(member, (streak = { passes: 0, failures: 0 }));
    if (isHealthy) {
      streak.failures = 0;
      if (++streak.passes >= this.#healthyThreshold && this.#target.isDown(member)) this.#target.setDown(member, false);
    } else {
      streak.passes = 0;
      if (++streak.failures >= this.#unhealthyThreshold && !this.#target.isDown(member)) this.#target.setDown(member, true);
    }
  }
}
