import { ClientPoolError } from '../errors.js';
import { isBlockingMethod } from './default-exclusions.js';

/** Why a wrapper refuses a method or a call. */
export type ExclusionReason = 'lifecycle' | 'event emitter' | 'stream or connection state' | 'callback style' | 'excluded' | 'callback';

const WHY: Readonly<Record<ExclusionReason, (method: string, name: string) => string>> = {
  lifecycle: (method, name) =>
    `${method} is not proxied: a lifecycle method would act on one random client while the pool keeps routing to it; manage clients with pool.add(), pool.remove() and pool.close(), or include it: pool.proxy({ include: ['${name}'] })`,
  'event emitter': (method, name) =>
    `${method} is not proxied: an event listener would land on one random client; add listeners to each client before pool.add(), or include it: pool.proxy({ include: ['${name}'] })`,
  'stream or connection state': (method, name) =>
    isBlockingMethod(name)
      ? `${method} is not proxied: a blocking command holds one connection until data arrives, past the pool's timeout, and every later call picked onto that client waits behind it; use a connection of its own (pool.run with client.duplicate()), or include it: pool.proxy({ include: ['${name}'] })`
      : `${method} is not proxied: it changes or streams from one connection (selected database, subscriber mode, a transaction, a pipeline, a stream) in a way the next call may not see; run multi-step work on one client with pool.run((client) => ...), or include it: pool.proxy({ include: ['${name}'] })`,
  'callback style': (method, name) =>
    `${method} is not proxied: it reports its outcome to a handler or callback, so the pool would count the call a success while the handler gets the error; use pool.run((client) => ...) with a promise of the outcome, or include it: pool.proxy({ include: ['${name}'] })`,
  excluded: (method) => `${method} is not proxied: it is left out by the proxy's exclude option`,
  callback: (method) =>
    `${method} was called with a callback as its last argument: the pool would count the call a success while the callback gets the error; call the promise form, or allow callbacks: pool.proxy({ callbacks: 'allow' })`,
};

/**
 * A wrapper was asked for a method it leaves out (`pool.proxy().quit`), or a call it refuses (a
 * callback-style call). `method` is the proxy path (`proxy.quit`), `reason` why.
 */
export class ExcludedMethodError extends ClientPoolError {
  static readonly code = 'ERR_EXCLUDED_METHOD';
  override readonly name = 'ExcludedMethodError';
  readonly code = ExcludedMethodError.code;
  /** The method as reached through the proxy: `proxy.quit`, `proxy.chat.completions.create`. */
  readonly method: string;
  readonly reason: ExclusionReason;
  constructor(method: string, reason: ExclusionReason) {
    super(WHY[reason](method, method.slice(method.lastIndexOf('.') + 1)));
    this.method = method;
    this.reason = reason;
  }
}
