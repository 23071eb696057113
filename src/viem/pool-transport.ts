import type { Transport } from 'viem';
import type { RunOptions } from '../call.js';
import { InvalidOptionError } from '../errors.js';
import type { ClientPool } from '../pool.js';
import { resolveTransportOptions, type JsonRpcTransportOptions } from '../jsonrpc/transport-options.js';
import { ETHEREUM_METHODS, FILTER_METHODS } from './methods.js';
import { instantiate, send, unwrap, type RpcArguments, type TransportInstance } from './send.js';

/** Options of {@link poolTransport}. */
export type PoolTransportOptions = JsonRpcTransportOptions;

/** The viem transport {@link poolTransport} returns; its `value.pool` is the pool. */
export type PoolTransport = Transport<'clientpool', { readonly pool: ClientPool<Transport> }>;

let transports = 0;

/**
 * A viem `Transport` whose requests run through `pool`, a `ClientPool` of viem transport *factories*
 * (what `http(url)`, `webSocket(url)` or `custom(provider)` return, added as they are):
 *
 * ```ts
 * const pool = new ClientPool<Transport>({ isFailure: isNodeError, retry: { attempts: 3 }, timeout: 2_000 });
 * pool.add(http('https://a.example'), { name: 'a' });
 * pool.add(http('https://b.example'), { name: 'b' });
 * const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
 * ```
 *
 * Each viem client that uses this transport instantiates each factory once, lazily, with its own
 * `chain` and with viem's retries off (`retryCount: 0`): the pool retries, on another client. Each request
 * is one `pool.run()` whose `method` label is the JSON-RPC method (see `ETHEREUM_METHODS`; `other` for
 * the rest), with the attempt's `signal` passed to the transport (the pool's timeout aborts the fetch)
 * and the caller's `signal` as the call's. viem's `dedupe` becomes the pool's `coalesce`, and its
 * `retryCount: 0` (which viem's actions give sends and signatures: `eth_sendRawTransaction`...) runs
 * the request with neither retry nor hedge, whatever the pool's policy. Filter methods
 * (`eth_newFilter`, `eth_getFilterChanges`...) share one affinity key, as a filter lives on one node.
 *
 * Errors: give the pool `isFailure: isNodeError` so that a revert or invalid params is `answered` (not
 * counted, not retried) and only node errors count and are retried. An HTTP 429 with `Retry-After` pauses
 * its client (`call.pauseClient`, at most `maxPause`). The caller gets the transport's own error (a
 * `ClientCallError` is unwrapped to its `cause`), so viem decodes reverts as usual; the pool's own errors
 * (`TimeoutError`, `AllCircuitsOpenError`, `RetryBudgetExhaustedError`...) reach it as they are.
 *
 * Not through the pool: subscriptions (`watch*` falls back to polling, as over `http`).
 * @throws InvalidOptionError when `pool` is not a pool or an option is invalid (named, with its value).
 */
export function poolTransport(pool: ClientPool<Transport>, options?: PoolTransportOptions): PoolTransport {
  if (typeof pool !== 'object' || pool === null || typeof (pool as { run?: unknown }).run !== 'function') throw new InvalidOptionError('pool', 'a ClientPool of viem transports', pool);
  const { key, label, maxPause, abortAttempts } = resolveTransportOptions(options, ETHEREUM_METHODS);
  const uid = `clientpool-viem-${++transports}`;
  const filterKey = key ?? `${uid}:filters`;
  // The run options of a request with no signal and no dedupe, one frozen object per method: none made per call.
  const plain = new Map<string, RunOptions<Transport>>();

  return (params) => {
    const instances = new WeakMap<Transport, TransportInstance>();
    const instanceOf = (factory: Transport): TransportInstance => {
      let instance = instances.get(factory);
      if (instance === undefined) {
        instance = instantiate(factory, params);
        instances.set(factory, instance);
      }
      return instance;
    };
    const request = async (args: RpcArguments, requestOptions?: { readonly signal?: AbortSignal | undefined; readonly dedupe?: boolean | undefined; readonly retryCount?: number | undefined }): Promise<unknown> => {
      const method = args.method;
      const runOptions = optionsFor(method, requestOptions?.signal, requestOptions?.dedupe === true ? dedupeKey(uid, args) : undefined, requestOptions?.retryCount === 0);
      try {
        return await pool.run((factory, call) => send(instanceOf(factory), args, abortAttempts ? call.signal : undefined, call, maxPause), runOptions);
      } catch (error) {
        throw unwrap(error);
      }
    };
    const optionsFor = (method: string, signal: AbortSignal | undefined, coalesce: string | undefined, isOnce: boolean): RunOptions<Transport> => {
      const methodKey = FILTER_METHODS.has(method) ? filterKey : key;
      if (signal === undefined && coalesce === undefined) {
        const cacheKey = isOnce ? `${method}\u0000once` : method;
        let shared = plain.get(cacheKey);
        if (shared === undefined) {
          const fresh: RunOptions<Transport> = isOnce ? { method: label(method), retry: false, hedge: false } : { method: label(method) };
          shared = Object.freeze(withKey(fresh, methodKey));
          // Bounded: one entry per method name seen, and callers name methods from a fixed API.
          if (plain.size < 1_024) plain.set(cacheKey, shared);
        }
        return shared;
      }
      const own: { method: string; signal?: AbortSignal; coalesce?: string; retry?: false; hedge?: false } = { method: label(method) };
      if (signal !== undefined) own.signal = signal;
      if (coalesce !== undefined) own.coalesce = coalesce;
      if (isOnce) {
        own.retry = false;
        own.hedge = false;
      }
      return withKey(own, methodKey);
    };
    return {
      config: { key: 'clientpool', name: 'clientpool', request: request as never, retryCount: 0, retryDelay: 0, timeout: params.timeout, type: 'clientpool' },
      request: request as never,
      value: { pool },
    };
  };
}

function withKey<O extends object>(options: O, key: string | undefined): O & { key?: string } {
  return key === undefined ? options : { ...options, key };
}

/** The coalescing key of a deduplicated request: the transport and the request's JSON, or none if it has no JSON. */
function dedupeKey(uid: string, args: RpcArguments): string | undefined {
  try {
    return `${uid}:${JSON.stringify(args, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value))}`;
  } catch {
    return undefined;
  }
}
