import { unrefTimer } from '../util/host.js';

/** What one probe of a member found: its value, or that it failed (threw, rejected, timed out, was stopped). */
export type ProbeResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** What a periodic probe runs over and reports to. */
export interface ProbeTarget<M> {
  members(): Iterable<M>;
  /** The user's probe of one member; may throw, return anything, or a promise that never settles. */
  probe(member: M, signal: AbortSignal): unknown;
  /** A probe ended (not called for a probe begun before `stop()`). */
  onResult(member: M, result: ProbeResult): void;
}

/**
 * Runs a probe of every member every `interval` ms, each bounded by `timeout` ms: what health checks and
 * height polls share. A probe still running is not started twice. Timers are `unref`ed, so they never
 * keep a process alive; `stop()` clears them all at once and aborts probes in flight, and a probe that
 * ends after `stop()` reports nothing, even if the probe was started again.
 */
export class PeriodicProbe<M extends object> {
  readonly #interval: number;
  readonly #timeout: number;
  readonly #target: ProbeTarget<M>;
  readonly #running = new WeakMap<M, AbortController>();
  /** Probes in flight and their timeout timers. */
  readonly #timers = new Map<AbortController, NodeJS.Timeout>();
  /** Probes of removed members: they report nothing. */
  readonly #forgotten = new WeakSet<AbortController>();
  #timer: NodeJS.Timeout | undefined;
  /** Bumped by `stop()`: a probe begun in an earlier epoch reports nothing. */
  #epoch = 0;

  constructor(interval: number, timeout: number, target: ProbeTarget<M>) {
    this.#interval = interval;
    this.#timeout = timeout;
    this.#target = target;
  }

  /** Probe one member now (a client just added), if the probes are running. */
  runNow(member: M): void {
    if (this.#timer !== undefined) void this.#runOne(member);
  }

  /** Abort the probe of a member in flight (a client removed): it reports nothing. */
  forget(member: M): void {
    const controller = this.#running.get(member);
    if (controller === undefined) return;
    this.#forgotten.add(controller);
    controller.abort(new Error('client removed'));
  }

  start(): void {
    if (this.#timer !== undefined) return;
    // runAll never rejects: each probe's failure is its result.
    this.#timer = setInterval(() => void this.runAll(), this.#interval);
    unrefTimer(this.#timer);
  }

  stop(): void {
    this.#epoch++;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    // Cleared here rather than when each probe settles, so that no timer outlives stop().
    for (const [controller, timeout] of this.#timers) {
      clearTimeout(timeout);
      controller.abort(new Error('probes stopped'));
    }
    this.#timers.clear();
  }

  /** One round of probes now; resolves when every probe of the round has ended. */
  runAll(): Promise<void> {
    const rounds: Promise<void>[] = [];
    for (const member of this.#target.members()) rounds.push(this.#runOne(member));
    return Promise.all(rounds).then(() => undefined);
  }

  async #runOne(member: M): Promise<void> {
    if (this.#running.has(member)) return;
    const epoch = this.#epoch;
    const controller = new AbortController();
    this.#running.set(member, controller);
    const timeout = setTimeout(() => controller.abort(new Error(`probe timed out after ${this.#timeout} ms`)), this.#timeout);
    unrefTimer(timeout);
    this.#timers.set(controller, timeout);
    let result: ProbeResult;
    try {
      result = await this.#settle(member, controller.signal);
    } finally {
      clearTimeout(timeout);
      this.#timers.delete(controller);
      this.#running.delete(member);
    }
    if (epoch === this.#epoch && !this.#forgotten.has(controller)) this.#target.onResult(member, result);
  }

  /**
   * The probe's result: a failure if it throws (synchronously or not) or `signal` aborts first (timeout
   * or stop), whatever the probe does with the signal. Never rejects.
   */
  #settle(member: M, signal: AbortSignal): Promise<ProbeResult> {
    return new Promise<ProbeResult>((resolve) => {
      const settle = (result: ProbeResult): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onAbort = (): void => settle({ ok: false, error: signal.reason });
      signal.addEventListener('abort', onAbort, { once: true });
      // Calling the probe inside then() turns a synchronous throw into a rejection, and adopting its
      // result there turns a thenable whose then() throws into one too. Once aborted, the result is in.
      void Promise.resolve()
        .then(() => (signal.aborted ? undefined : this.#target.probe(member, signal)))
        .then(
          (value: unknown) => settle({ ok: true, value }),
          (error: unknown) => settle({ ok: false, error }),
        );
    });
  }
}
