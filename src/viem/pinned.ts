import type { Transport } from 'viem';
import type { Call, RunOptions } from '../call.js';
import { ClientPoolError, InvalidOptionError } from '../errors.js';
import type { ClientPool } from '../pool.js';
import { duration, unreadableOptions } from '../validate.js';
import { instantiate, send, unwrap, type RpcArguments } from './send.js';
import { streamSignal } from '../util/follow-signal.js';

/** Options of {@link pinned}: the run options of the whole operation, and the longest 429 pause. */
export type PinnedOptions = RunOptions<Transport> & {
  /** As `poolTransport`'s: the longest pause in ms a 429's `Retry-After` puts on the client. @default 60_000 */
  readonly maxPause?: number;
};

/** A request sent through a pinned transport after its operation ended: it would bypass the pool. */
export class PinnedTransportClosedError extends ClientPoolError {
  static readonly code = 'ERR_PINNED_CLOSED';
  override readonly name = 'PinnedTransportClosedError';
  readonly code = PinnedTransportClosedError.code;
  constructor(method: string) {
    super(`${method} was sent through a pinned transport after its operation ended; make a new pinned() operation`);
  }
}

/**
 * Run a multi-request operation (read the nonce, estimate gas, send the raw transaction) on one node:
 * one `pool.run()` picks a client (balancer, breaker, limits, as for any call) and `fn` gets a viem
 * transport bound to it, from which it builds the clients it needs. Every request of `fn` goes to that
 * node; the operation is one call for the pool: its timeout, deadline and `method` label (default
 * `pinned`) cover the whole of `fn`, and its outcome (classified by `isFailure`, as `isNodeError`)
 * counts once against the node.
 *
 * Neither retried nor hedged by default (`retry: false`, `hedge: false`): rerunning a whole operation
 * that may have sent a transaction is the caller's decision; pass `retry` to rerun `fn` on another node
 * after a node error.
 *
 * ```ts
 * const hash = await pinned(pool, async (transport) => {
 *   const wallet = createWalletClient({ account, chain, transport });
 *   const request = await wallet.prepareTransactionRequest({ to, value });
 *   return wallet.sendRawTransaction({ serializedTransaction: await wallet.signTransaction(request) });
 * });
 * ```
 *
 * For a soft pin that outlives one operation (all of an account's requests to one node while it is up),
 * use `poolTransport(pool, { key: account.address })` instead.
 * @throws InvalidOptionError for a bad `pool`, `fn` or option. The operation's errors as `poolTransport`'s:
 * the transport's own error unwrapped, or the pool's. A request after `fn` settled rejects with
 * `PinnedTransportClosedError`.
 */
export async function pinned<R>(pool: ClientPool<Transport>, fn: (transport: Transport, call: Call<Transport>) => R | PromiseLike<R>, options?: PinnedOptions): Promise<R> {
  if (typeof pool !== 'object' || pool === null || typeof (pool as { run?: unknown }).run !== 'function') throw new InvalidOptionError('pool', 'a ClientPool of viem transports', pool);
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function', fn);
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new InvalidOptionError('options', 'an options object', options);
  let maxPause: number;
  let runOptions: RunOptions<Transport>;
  try {
    const { maxPause: maxPauseOption, ...rest } = options ?? {};
    maxPause = maxPauseOption === undefined ? 60_000 : duration('maxPause', maxPauseOption);
    runOptions = { method: 'pinned', retry: false, hedge: false, ...rest };
  } catch (error) {
    throw unreadableOptions('options', options, error);
  }
  try {
    return await pool.run(async (factory, call) => {
      const binding = { isOpen: true };
      try {
        return await fn(boundTransport(factory, call, maxPause, binding), call);
      } finally {
        binding.isOpen = false;
      }
    }, runOptions);
  } catch (error) {
    throw unwrap(error);
  }
}

/** A transport factory whose instances send to `factory`'s node only, while the operation is open. */
function boundTransport(factory: Transport, call: Call<Transport>, maxPause: number, binding: { isOpen: boolean }): Transport {
  return (params) => {
    const inner = instantiate(factory, params);
    const request = (args: RpcArguments, options?: { readonly signal?: AbortSignal | undefined }): Promise<unknown> => {
      if (!binding.isOpen) return Promise.reject(new PinnedTransportClosedError(args.method));
      const own = options?.signal;
      if (own === undefined) return send(inner, args, call.signal, call, maxPause);
      // Not AbortSignal.any: on Node 20 a long-lived signal keeps every signal made from it; and one
      // listener on the caller's signal, however many requests follow it at once.
      const either = streamSignal(call.signal, own);
      return send(inner, args, either.signal, call, maxPause).finally(either.release);
    };
    return { config: { ...inner.config, retryCount: 0 }, request: request as never, value: inner.value };
  };
}
