/**
 * Bound a close with `close({ signal })`: when `signal` aborts before `closing` completes, the close turns
 * into `destroy(signal.reason)`; at once when it has aborted already. The listener leaves the signal once
 * the close completes, so a long-lived signal keeps nothing of the pool.
 */
export function destroyOnAbort(closing: Promise<void>, signal: AbortSignal | undefined, destroy: (reason: unknown) => void): void {
  if (signal === undefined) return;
  const onAbort = (): void => destroy(signal.reason);
  if (signal.aborted) {
    onAbort();
    return;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  const detach = (): void => signal.removeEventListener('abort', onAbort);
  closing.then(detach, detach);
}
