import { cancelAfterIO, emitWarning, runAfterIO, type AfterIOHandle } from '../util/host.js';

/** Something that ends when a caller's signal aborts: an attempt in flight. */
export interface Watcher {
  watchPrev: Watcher | undefined;
  watchNext: Watcher | undefined;
  watched: SignalWatch | undefined;
  /** The signal aborted (with `reason`). Called once, after it was taken off the list. */
  aborted(reason: unknown): void;
}

/**
 * The watches of a pool, one per caller signal in use. A watch left empty keeps its listener until the
 * event loop turns (one sweep per turn): a stream of calls sharing a signal adds one listener, not one
 * per call, and once nothing is in flight no listener remains, so a signal such as `AbortSignal.timeout()`
 * is not kept alive by the pool.
 */
export class SignalWatches {
  readonly #table = new WeakMap<AbortSignal, SignalWatch>();
  readonly #empty = new Set<SignalWatch>();
  #sweepDue: AfterIOHandle | undefined;
  /** The watch last joined, while it is in the table: calls sharing a signal skip the map lookup. */
  #last: SignalWatch | undefined;

  /** Add `watcher` to the watch of `signal`; if the signal has aborted already, it hears so at once instead. */
  join(signal: AbortSignal, watcher: Watcher): void {
    let watch = this.#last;
    if (watch === undefined || watch.signal !== signal) {
      watch = this.#table.get(signal);
      if (watch === undefined) {
        if (signal.aborted) {
          watcher.aborted(signal.reason);
          return;
        }
        watch = new SignalWatch(signal, this);
        // The listener first: one that cannot be added leaves no watch behind.
        signal.addEventListener('abort', watch.onAbort, { once: true });
        this.#table.set(signal, watch);
      }
      this.#last = watch;
    }
    watch.add(watcher);
  }

  /**
   * Keep the watch of `signal` (and its one listener) for as long as the signal lives: for a signal the
   * pool owns (its closing signal), which every wait joins, so that no sweep is due after each wait.
   */
  keep(signal: AbortSignal): void {
    if (signal.aborted || this.#table.has(signal)) return;
    const watch = new SignalWatch(signal, this);
    watch.isKept = true;
    this.#table.set(signal, watch);
    signal.addEventListener('abort', watch.onAbort, { once: true });
  }

  /** A watch has no watcher left: drop its listener on the next turn unless one joins meanwhile. */
  emptied(watch: SignalWatch): void {
    // Noted once per sweep: a stream of calls on one signal empties its watch after every call.
    if (watch.isKept || watch.isSweepDue) return;
    watch.isSweepDue = true;
    this.#empty.add(watch);
    this.#sweepDue ??= runAfterIO(() => this.sweep());
  }

  /** A watch's signal aborted: it is gone. */
  forget(watch: SignalWatch): void {
    this.#table.delete(watch.signal);
    this.#empty.delete(watch);
    watch.isSweepDue = false;
    if (this.#last === watch) this.#last = undefined;
  }

  /** Drop the listeners of watches left empty now (the pool closed: no immediate is left behind). */
  sweep(): void {
    if (this.#sweepDue !== undefined) cancelAfterIO(this.#sweepDue);
    this.#sweepDue = undefined;
    for (const watch of this.#empty) {
      watch.isSweepDue = false;
      if (!watch.isEmpty) continue;
      try {
        watch.signal.removeEventListener('abort', watch.onAbort);
      } catch (error) {
        // A Proxy of a signal revoked since: its listener stays on the signal behind it, and finds its watch gone.
        warnUnreachable(error);
      }
      this.#table.delete(watch.signal);
      // Not kept by the cache either: the pool holds no signal it no longer listens to.
      if (this.#last === watch) this.#last = undefined;
    }
    this.#empty.clear();
  }
}

/**
 * The watchers of one caller signal behind a single 'abort' listener, however many calls share the
 * signal: no `MaxListenersExceededWarning`, and O(1) to join or leave.
 */
export class SignalWatch {
  readonly signal: AbortSignal;
  readonly onAbort = (): void => this.#abort();
  readonly #owner: SignalWatches;
  #head: Watcher | undefined;
  /** Never swept: see `SignalWatches.keep()`. */
  isKept = false;
  /** In its owner's list of watches to sweep. */
  isSweepDue = false;

  constructor(signal: AbortSignal, owner: SignalWatches) {
    this.signal = signal;
    this.#owner = owner;
  }

  get isEmpty(): boolean {
    return this.#head === undefined;
  }

  add(watcher: Watcher): void {
    watcher.watched = this;
    watcher.watchPrev = undefined;
    watcher.watchNext = this.#head;
    if (this.#head !== undefined) this.#head.watchPrev = watcher;
    this.#head = watcher;
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
    if (watch.#head === undefined) watch.#owner.emptied(watch);
  }

  #abort(): void {
    this.#owner.forget(this);
    let reason: unknown;
    try {
      reason = this.signal.reason;
    } catch (error) {
      // A Proxy of a signal revoked since: what reading it threw is the reason its calls hear.
      reason = error;
    }
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

/** A caller's signal that can no longer be reached (a revoked Proxy of one): said once per such signal. */
function warnUnreachable(error: unknown): void {
  let detail: string;
  try {
    detail = String(error);
  } catch {
    detail = 'an error that cannot be printed';
  }
  emitWarning("clientpool: the listener on a caller's signal could not be removed (a revoked Proxy of a signal?)", 'CLIENTPOOL_SIGNAL_UNREACHABLE', detail);
}
