import type { CallFunction, RunOptions } from '../call.js';
import { givenOf, methodOf } from '../pipeline/call-end.js';
import type { ClientPool } from '../pool.js';
import type { OptionsRefusal } from '../pool-options.js';
import { callChannel, type CallMessage } from './channels.js';

/**
 * Run one `pool.run()` inside the `clientpool:call` tracing channel: `start` before it begins (in the
 * stores bound to it, so an `AsyncLocalStorage` a tracer binds there is the call's, attempts included),
 * `end` once it has started, then `asyncStart`/`asyncEnd` when it settles, after `error` when it fails.
 * The caller's promise settles as the call does. Called only while the channel has subscribers.
 */
export function traceCall<T>(
  pool: ClientPool<T>,
  call: (this: ClientPool<T>, fn: CallFunction<T, unknown>, options: RunOptions<T> | OptionsRefusal, isTraced: false) => Promise<unknown>,
  fn: CallFunction<T, unknown>,
  options: RunOptions<T> | OptionsRefusal,
): Promise<unknown> {
  const context: CallMessage<T> = { pool, method: methodOf(options), options: givenOf(options) };
  return callChannel.tracePromise(call, context as CallMessage, pool, fn, options, false);
}
