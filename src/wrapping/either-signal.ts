/**
 * One signal that aborts when either of two does, with the reason of the first to abort, and a way to
 * let go of both: `release()` removes the listeners, so a long-lived source (a server's shutdown
 * signal) does not keep one combined signal per call alive, as Node 20's `AbortSignal.any` can.
 */
export interface EitherSignal {
  readonly signal: AbortSignal;
  /** Stop following the two sources; call it once the call has settled. Idempotent. */
  readonly release: () => void;
}

const noRelease = (): void => undefined;

/** A signal aborting with whichever of `a` and `b` aborts first (at once if one already has). */
export function eitherSignal(a: AbortSignal, b: AbortSignal): EitherSignal {
  if (a.aborted) return { signal: a, release: noRelease };
  if (b.aborted) return { signal: b, release: noRelease };
  const controller = new AbortController();
  const release = (): void => {
    a.removeEventListener('abort', onA);
    b.removeEventListener('abort', onB);
  };
  const onA = (): void => {
    release();
    controller.abort(a.reason);
  };
  const onB = (): void => {
    release();
    controller.abort(b.reason);
  };
  a.addEventListener('abort', onA, { once: true });
  b.addEventListener('abort', onB, { once: true });
  return { signal: controller.signal, release };
}
