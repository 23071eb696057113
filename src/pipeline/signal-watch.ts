/** Something that ends when a caller's signal aborts: an attempt in flight. */
export interface Watcher {
  watchPrev: Watcher | undefined;
  watchNext: Watcher | undefined;
  watched: SignalWatch | undefined;
  /** The signal aborted (with `reason`). Called once, after it was taken off the list. */
  aborted(reason: unknown): void;
}

/**
 * The watchers of one caller signal behind a single 'abort' listener, however many calls share the
 * signal: no `MaxListenersExceededWarning`, and O(1) to join or leave. The listener is removed when the
 * last watcher leaves, so a long-lived signal keeps nothing of finished calls.
 */
export class SignalWatch {
  readonly signal: AbortSignal;
  #head: Watcher | undefined;
  readonly #onAbort = (): void => this.#abort();
  readonly #table: WeakMap<AbortSignal, SignalWatch>;

  private constructor(signal: AbortSignal, table: WeakMap<AbortSignal, SignalWatch>) {
    this.signal = signal;
    this.#table = table;
  }

  /** Add `watcher` to the watch of `signal` (not yet aborted), creating the watch if needed. */
  static join(table: WeakMap<AbortSignal, SignalWatch>, signal: AbortSignal, watcher: Watcher): void {
    let watch = table.get(signal);
    if (watch === undefined) {
      watch = new SignalWatch(signal, table);
      table.set(signal, watch);
      signal.addEventListener('abort', watch.#onAbort, { once: true });
    }
    watcher.watched = watch;
    watcher.watchPrev = undefined;
    watcher.watchNext = watch.#head;
    if (watch.#head !== undefined) watch.#head.watchPrev = watcher;
    watch.#head = watcher;
  }

  /** Take `watcher` off its watch, if on one. */
  static leave(watcher: Watcher): void {
    const watch = watcher.watched;
    if (watch === undefined) return;
    const { watchPrev: prev, watchNext: next } = watcher;
    if (prev === undefined) watch.#head = next;
    else prev.watchNext = next;
    if (next !== undefined) next.watchPrev = prev;
    watcher.watched = watcher.watchPrev = watcher.watchNext = undefined;
    if (watch.#head === undefined) {
      watch.signal.removeEventListener('abort', watch.#onAbort);
      watch.#table.delete(watch.signal);
    }
  }

  #abort(): void {
    this.#table.delete(this.signal);
    const reason: unknown = this.signal.reason;
    let watcher = this.#head;
    this.#head = undefined;
    while (watcher !== undefined) {
      const next = watcher.watchNext;
      watcher.watched = watcher.watchPrev = watcher.watchNext = undefined;
      watcher.aborted(reason);
      watcher = next;
    }
  }
}
