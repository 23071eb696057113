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
