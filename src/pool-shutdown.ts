import { destroyOnAbort } from './bounded-close.js';
import { PoolClosedError } from './errors.js';
import type { Middleware } from './middleware/middleware.js';
import type { PoolCore } from './pipeline/pool-core.js';
import { closeOptionsError, type CloseOptions } from './pool-options.js';
import type { PoolObserver } from './pool-events.js';
import type { PoolProbes } from './pool-probes.js';
import type { Removals } from './removals.js';
import type { Roster } from './roster.js';

/** What closing a pool reaches: its parts, its middleware (closed after the clients), and its event emitters. */
export interface ShutdownParts<T> {
  readonly core: PoolCore<T>;
  readonly roster: Roster<T>;
  readonly removals: Removals<T>;
  readonly probes: PoolProbes<T>;
  readonly middleware: readonly Middleware<T>[];
  readonly emitters: readonly { clear(): void }[];
  /** Remove one client, as `pool.remove()` does. */
  remove(name: string): Promise<void>;
  /** The pool, as middleware `close` hooks are given it. */
  readonly pool: PoolObserver;
}

/** A pool's `close()` and `destroy()`: the order things stop in, once, however often they are called. */
export class PoolShutdown<T> {
  readonly #parts: ShutdownParts<T>;
  #closing: Promise<void> | undefined;

  constructor(parts: ShutdownParts<T>) {
    this.#parts = parts;
  }

  /** @param error what calls still waiting get (destroy()'s, with its reason, when it is the first to close) */
  close(options?: CloseOptions, error: PoolClosedError = new PoolClosedError()): Promise<void> {
    const refused = closeOptionsError(options);
    if (refused !== undefined) return Promise.reject(refused);
    // Aborted already: destroy(reason) from the start, so that every call and wait it ends hears the reason.
    const signal = options?.signal;
    if (signal !== undefined && signal.aborted) return this.destroy(signal.reason);
    this.#parts.core.close(error);
    const closing = (this.#closing ??= this.#shutdown());
    destroyOnAbort(closing, options?.signal, (reason) => void this.destroy(reason));
    return closing;
  }

  destroy(reason?: unknown): Promise<void> {
    const error = new PoolClosedError();
    if (reason !== undefined) Object.defineProperty(error, 'cause', { value: reason, configurable: true, writable: true });
    const { core, roster, removals } = this.#parts;
    // Calls held in around hooks and calls waiting hear the reason too, unless close() ended them already.
    core.held.end(error);
    const closing = this.close(undefined, error);
    core.destroy(error, [...roster.byName.values(), ...removals.draining]);
    core.held.endInside(error);
    return closing;
  }

  async #shutdown(): Promise<void> {
    const { core, roster, removals, probes, middleware, pool } = this.#parts;
    probes.stop();
    core.queue.close();
    for (const call of [...core.sleeping]) call.wake();
    // Remove every client still in the pool; then wait for those and for removals already under way.
    for (const name of Array.from(roster.byName.keys())) void this.#parts.remove(name).catch(() => undefined);
    const results = await removals.settled();
    const closed = await Promise.allSettled([...middleware.map((m) => removals.hook(`middleware "${m.name}" close`, () => m.close?.(pool))), removals.hook('the limit close', () => core.limit?.close?.()), removals.hook('the fleet leave', () => core.fleet?.leave())]);
    core.clearTimers();
    for (const emitter of this.#parts.emitters) emitter.clear();
    const errors = [...results, ...closed].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length > 0) throw new AggregateError(errors, `closing the pool: ${errors.length} close hook(s) failed`);
  }
}
