import type { RpcTransport } from '@solana/kit';
import type { Call, RunOptions } from '../call.js';
import { hasErrorCode, InvalidOptionError, isClientPoolError } from '../errors.js';
import type { ClientPool } from '../pool.js';
import { isSolanaNodeError } from '../jsonrpc/classify.js';
import { errorOfResponse, JsonRpcResponseError } from '../jsonrpc/response-error.js';
import { pauseOnRetryAfter } from '../jsonrpc/retry-after.js';
import { resolveTransportOptions, type JsonRpcTransportOptions } from '../jsonrpc/transport-options.js';
import { callable, unreadableOptions } from '../validate.js';
import { BATCH_METHOD, SOLANA_METHODS } from './methods.js';
import { reportSlots, type SlotListener } from './slots.js';

/** The highest slot the pool keeps as a height (heights are safe integers). */
const MAX_HEIGHT = BigInt(Number.MAX_SAFE_INTEGER);

/** Options of {@link poolRpcTransport}. */
export interface PoolRpcTransportOptions extends JsonRpcTransportOptions {
  /**
   * Told the slot each node answers with: a `getSlot` result, or the `context.slot` of a result that
   * has one (`getBalance`, `getLatestBlockhash`...), as a bigint, with the client's name and the method.
   * The seam for slot-aware routing (keep the freshest slot per node, drop or `pauseClient` a node that
   * falls behind) until the pool tracks heights itself. Guarded: a throw is reported once as a
   * `CLIENTPOOL_CALLBACK_ERROR` warning. @default none
   */
  readonly onSlot?: SlotListener;
}

/**
 * A @solana/kit `RpcTransport` whose requests run through `pool`, a `ClientPool` of kit transports
 * (`createDefaultRpcTransport({ url })`, `createHttpTransportForSolanaRpc(...)`, or any `RpcTransport`):
 *
 * ```ts
 * const pool = new ClientPool<RpcTransport>({ isFailure: isSolanaNodeError, retry: { attempts: 3 }, timeout: 2_000 });
 * pool.add(createDefaultRpcTransport({ url: 'https://a.example' }), { name: 'a' });
 * pool.add(createDefaultRpcTransport({ url: 'https://b.example' }), { name: 'b' });
 * const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool));
 * ```
 *
 * Each request is one `pool.run()` labelled with its method (see `SOLANA_METHODS`; `batch` for an array
 * payload, `other` for the rest), sent with the attempt's `signal` (the pool's timeout aborts the fetch);
 * the caller's `signal` is the call's.
 *
 * Errors: kit's transports resolve with a JSON-RPC error response rather than throw, so this transport
 * raises it inside the pool as a `JsonRpcResponseError`, for the pool's `isFailure` to classify: give it
 * `isFailure: isSolanaNodeError`, and a node error (-32005 unhealthy, -32016 behind, 5xx...) counts and is
 * retried on another node, while a request error (-32602, -32007 slot skipped...) is `answered`, once.
 * The caller then gets the response back, and kit raises its own `SolanaError` as it would without the
 * pool. In a batch, only a node error among the items fails the attempt (the batch is retried whole);
 * items with request errors are returned as they are. An HTTP 429 with `Retry-After` pauses its client
 * (at most `maxPause`). Transport errors reach the caller as kit raised them (`SolanaError` for an HTTP
 * status; a `ClientCallError` is unwrapped to its `cause`), the pool's own errors as they are.
 * @throws InvalidOptionError when `pool` is not a pool or an option is invalid (named, with its value).
 */
export function poolRpcTransport(pool: ClientPool<RpcTransport>, options?: PoolRpcTransportOptions): RpcTransport {
  if (typeof pool !== 'object' || pool === null || typeof (pool as { run?: unknown }).run !== 'function') throw new InvalidOptionError('pool', 'a ClientPool of @solana/kit transports', pool);
  const { key, label, maxPause, abortAttempts } = resolveTransportOptions(options, LABELLED, ['onSlot']);
  let onSlotOption: unknown;
  try {
    onSlotOption = options?.onSlot;
  } catch (error) {
    throw unreadableOptions('options', options, error);
  }
  const onSlot = onSlotOption === undefined ? undefined : callable<SlotListener>('onSlot', onSlotOption);
  const warned = new Set<string>();
  const plain = new Map<string, RunOptions<RpcTransport>>();

  const optionsFor = (method: string, signal: AbortSignal | undefined): RunOptions<RpcTransport> => {
    if (signal === undefined) {
      let shared = plain.get(method);
      if (shared === undefined) {
        shared = Object.freeze(key === undefined ? { method: label(method) } : { method: label(method), key });
        if (plain.size < 1_024) plain.set(method, shared);
      }
      return shared;
    }
    return key === undefined ? { method: label(method), signal } : { method: label(method), signal, key };
  };

  const attempt = async (transport: RpcTransport, call: Call<RpcTransport>, payload: unknown): Promise<unknown> => {
    let response: unknown;
    try {
      response = await transport(abortAttempts ? { payload, signal: call.signal } : { payload });
    } catch (error) {
      pauseOnRetryAfter(error, call, maxPause);
      throw error;
    }
    const failure = failureOf(response);
    if (failure !== undefined) throw failure;
    // Each slot a node answers with is its height: the pool routes on it (docs/freshness.md).
    reportSlots((clientName, slot, method) => {
      // A slot past 2^53 is no height the pool can keep: skipped there, still told to onSlot.
      if (slot <= MAX_HEIGHT) call.reportHeight(slot);
      // Returned, so that a rejection of an async onSlot is reported as a throw is.
      return onSlot?.(clientName, slot, method);
    }, warned, call.clientName, payload, response);
    return response;
  };

  const transport = async <TResponse>(config: Readonly<{ payload: unknown; signal?: AbortSignal }>): Promise<TResponse> => {
    const { payload, signal } = config;
    const method = Array.isArray(payload) ? BATCH_METHOD : methodOf(payload);
    try {
      return (await pool.run((client, call) => attempt(client, call, payload), optionsFor(method, signal))) as TResponse;
    } catch (error) {
      // An error response the pool gave up on (or answered): kit raises its own error from it.
      if (isClientPoolError(error) && error.code === JsonRpcResponseError.code) return (error as unknown as { readonly response: TResponse }).response;
      if (hasErrorCode(error, 'ERR_CLIENT_CALL') && error.cause instanceof Error) throw error.cause;
      throw error;
    }
  };
  return transport;
}

/** The methods that keep their name as a label, and batches. */
const LABELLED: ReadonlySet<string> = new Set([...SOLANA_METHODS, BATCH_METHOD]);

function methodOf(payload: unknown): string {
  const method = typeof payload === 'object' && payload !== null ? (payload as { method?: unknown }).method : undefined;
  return typeof method === 'string' ? method : 'other';
}

/**
 * The error an attempt fails with for this response: a single response's error, whatever it blames (the
 * pool's `isFailure` classifies it); in a batch, the first item's error that blames the node.
 */
function failureOf(response: unknown): JsonRpcResponseError | undefined {
  if (!Array.isArray(response)) {
    const error = errorOfResponse(response);
    return error === undefined ? undefined : new JsonRpcResponseError(error.code, error.message, error.data, response);
  }
  for (const item of response as unknown[]) {
    const error = errorOfResponse(item);
    if (error === undefined) continue;
    const failure = new JsonRpcResponseError(error.code, error.message, error.data, response);
    if (isSolanaNodeError(failure)) return failure;
  }
  return undefined;
}
