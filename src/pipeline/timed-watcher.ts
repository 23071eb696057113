import type { DeadlineList, Timed } from './deadlines.js';
import type { SignalWatch, Watcher } from './signal-watch.js';

/**
 * Something that ends at a deadline or when a caller's signal aborts, whichever comes first: it carries
 * its own links in the deadline queue and the signal's watch, so joining either allocates nothing.
 */
export abstract class TimedWatcher implements Timed, Watcher {
  deadline = 0;
  deadlineList: DeadlineList | undefined;
  deadlinePrev: Timed | undefined;
  deadlineNext: Timed | undefined;
  watched: SignalWatch | undefined;
  watchPrev: Watcher | undefined;
  watchNext: Watcher | undefined;

  /** The deadline passed. */
  abstract expire(): void;
  /** The signal aborted with `reason`. */
  abstract aborted(reason: unknown): void;
}
