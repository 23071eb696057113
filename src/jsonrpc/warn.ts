/**
 * Report a user callback's failure once per `name` and `seen` set, as the pool reports its own callbacks:
 * a `CLIENTPOOL_CALLBACK_ERROR` process warning (a console warning where there is no `process`).
 */
export function warnOnce(seen: Set<string>, name: string, error: unknown, detail: string): void {
  if (seen.has(name)) return;
  seen.add(name);
  let text: string;
  try {
    text = error instanceof Error ? error.message : String(error);
  } catch {
    text = '(unreadable error)';
  }
  const message = `clientpool: ${name} failed (reported once): ${text}`;
  const emit = (globalThis as { process?: { emitWarning?: unknown } }).process?.emitWarning;
  if (typeof emit === 'function') (emit as (message: string, options: object) => void)(message, { code: 'CLIENTPOOL_CALLBACK_ERROR', detail });
  else console.warn(`${message} ${detail}`);
}

/**
 * A callback returned a promise (or thenable) where none is awaited: its rejection goes to `onRejected`
 * (by default, nowhere), never to the process as an unhandled rejection. Anything else is left alone.
 * Never throws.
 */
export function catchRejection(value: unknown, onRejected: (error: unknown) => void = ignore): void {
  try {
    if ((typeof value === 'object' || typeof value === 'function') && value !== null) {
      const then = (value as { then?: unknown }).then;
      if (typeof then === 'function') (then as (onFulfilled: undefined, onRejected: (error: unknown) => void) => unknown).call(value, undefined, onRejected);
    }
  } catch {
    // A thenable whose `then` throws: it will deliver nothing to anyone.
  }
}

const ignore = (): void => undefined;
