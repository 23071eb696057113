/**
 * A signal that aborts when the pool ends the attempt (`call.signal`: a timeout, a lost hedge) or when the
 * caller's own signal aborts, for as long as the work lasts: an AI model's stream, a request of a pinned
 * viem operation. Every follower of one caller signal shares a single listener on it.
 */
export interface StreamSignal {
  readonly signal: AbortSignal;
  /** Stop following both sources; call it once the stream ended, failed or was cancelled. Idempotent. */
  readonly release: () => void;
}

/**
 * The streams in flight that follow one caller signal, behind a single 'abort' listener on it. A caller
 * may give one long-lived signal (a server's shutdown signal) to every call: one listener per stream
 * would pass Node's limit of 10 (`MaxListenersExceededWarning`) with 11 streams open, and a listener
 * left behind would grow with every call. The listener is removed when the last stream lets go.
 */
class Followers {
  readonly signal: AbortSignal;
  readonly streams = new Set<AbortController>();
  readonly onAbort = (): void => {
    following.delete(this.signal);
    const reason: unknown = this.signal.reason;
    const streams = [...this.streams];
    this.streams.clear();
    for (const controller of streams) controller.abort(reason);
  };

  constructor(signal: AbortSignal) {
    this.signal = signal;
  }
}

/** Caller signals with streams in flight. Weak: a signal nobody holds any more takes its entry with it. */
const following = new WeakMap<AbortSignal, Followers>();

const noRelease = (): void => undefined;

/**
 * A signal for a stream's attempt that aborts with the reason of whichever of `attempt` (the pool's
 * `call.signal`, one per attempt) and `caller` aborts first, at once if one already has. `caller` gets
 * at most one listener from this module however many streams follow it, none once `release()` was
 * called for every stream.
 */
export function streamSignal(attempt: AbortSignal, caller: AbortSignal): StreamSignal {
  if (attempt.aborted) return { signal: attempt, release: noRelease };
  if (caller.aborted) return { signal: caller, release: noRelease };
  const controller = new AbortController();
  let followers = following.get(caller);
  if (followers === undefined) {
    followers = new Followers(caller);
    following.set(caller, followers);
    caller.addEventListener('abort', followers.onAbort, { once: true });
  }
  followers.streams.add(controller);
  const joined = followers;
  const onAttemptAbort = (): void => {
    release();
    controller.abort(attempt.reason);
  };
  const release = (): void => {
    attempt.removeEventListener('abort', onAttemptAbort);
    if (!joined.streams.delete(controller) || joined.streams.size > 0) return;
    // The last stream of this caller signal let go: so does its listener.
    joined.signal.removeEventListener('abort', joined.onAbort);
    if (following.get(joined.signal) === joined) following.delete(joined.signal);
  };
  attempt.addEventListener('abort', onAttemptAbort, { once: true });
  return { signal: controller.signal, release };
}
