/** A caller queued for `n` tokens, as the in-memory and the Redis buckets keep them (FIFO, with a deadline). */
export interface TokenWaiter {
  readonly n: number;
  /** Clock time past which it is refused with `RateLimitedError`. */
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly signal: AbortSignal | undefined;
  /** Its listener on `signal`, removed when it is served or refused. */
  onAbort: (() => void) | undefined;
}
