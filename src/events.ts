import { InvalidOptionError } from './errors.js';
import { onRejected, safeString } from './pipeline/guard.js';
import { emitWarning } from './util/host.js';

/** What subscribing returns: call `dispose()` (or use `using`) to stop listening. */
export interface Disposable {
  dispose(): void;
  [Symbol.dispose](): void;
}

/** A typed event source: `on(listener)` returns a {@link Disposable}. */
export type Event<E> = (listener: (event: E) => void) => Disposable;

/**
 * A minimal typed emitter. Emitting with no listener costs one length check, so events can sit on the
 * hot path. A throwing listener must not corrupt the pool's bookkeeping mid-transition, so its error is
 * reported as a process warning instead of propagating into the pool; so is the rejection of an `async`
 * listener's promise, which is not waited for.
 */
export class Emitter<E> {
  #listeners: ((event: E) => void)[] = [];

  get hasListeners(): boolean {
    return this.#listeners.length > 0;
  }

  /** The subscribe function to expose publicly. */
  readonly event: Event<E> = (listener) => {
    if (typeof listener !== 'function') throw new InvalidOptionError('listener', 'a function', listener);
    // Copy on write: emit may be iterating the old array.
    this.#listeners = [...this.#listeners, listener];
    const dispose = (): void => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
    return { dispose, [Symbol.dispose]: dispose };
  };

  emit(event: E): void {
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        // An async listener is not waited for; its rejection is reported as a throw is.
        const result: unknown = listeners[i]!(event);
        if (result !== undefined) onRejected(result, reportListenerError);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }

  clear(): void {
    this.#listeners = [];
  }
}

/** Whatever a listener threw, even a value that cannot be turned into a string, is reported, never rethrown. */
function reportListenerError(error: unknown): void {
  emitWarning(`clientpool: an event listener threw: ${safeString(error)}`, 'CLIENTPOOL_LISTENER_ERROR');
}
