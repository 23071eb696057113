import type { EIP1193RequestOptions, Transport } from 'viem';
import type { Call } from '../call.js';
import { CallbackError, hasErrorCode } from '../errors.js';
import { catchRejection } from '../jsonrpc/warn.js';
import { pauseOnRetryAfter } from '../jsonrpc/retry-after.js';

/** One instantiated viem transport: what `http(url)({ chain })` returns. */
export type TransportInstance = ReturnType<Transport>;

/** What a viem client hands its transport factory. */
export type TransportParams = Parameters<Transport>[0];

/** A JSON-RPC request as viem's clients make it. */
export interface RpcArguments {
  readonly method: string;
  readonly params?: unknown;
}

/** The request function of a transport, typed loosely: the pool sends whatever its viem client asked. */
type LooseRequest = (args: RpcArguments, options?: EIP1193RequestOptions) => Promise<unknown>;

/** Instantiate a transport factory for a viem client with viem's own retries off: the pool retries. */
export function instantiate(factory: Transport, params: TransportParams): TransportInstance {
  const instance: unknown = factory({ ...params, retryCount: 0 });
  let request: unknown;
  try {
    request = (instance as { request?: unknown } | null | undefined)?.request;
  } catch (error) {
    throw new CallbackError('the transport factory', 'returned a transport whose request cannot be read', error);
  }
  if (typeof request !== 'function') {
    // An async factory's rejection must not go unhandled: the node fails here instead.
    catchRejection(instance);
    throw new CallbackError('the transport factory', 'returned no transport (an object with request())');
  }
  return instance as TransportInstance;
}

/**
 * Send one request through one instantiated transport, without viem's retries and with `signal` (the
 * attempt's, aborted by the pool's timeout; none with `abortAttempts: false`); an HTTP 429's
 * `Retry-After` pauses the client.
 */
export async function send(instance: TransportInstance, args: RpcArguments, signal: AbortSignal | undefined, call: Call<unknown>, maxPause: number): Promise<unknown> {
  const request = instance.request as unknown as LooseRequest;
  try {
    return await request(args, signal === undefined ? NO_RETRY : { retryCount: 0, signal });
  } catch (error) {
    pauseOnRetryAfter(error, call, maxPause);
    throw error;
  }
}

const NO_RETRY: EIP1193RequestOptions = Object.freeze({ retryCount: 0 });

/**
 * What the caller gets: the transport's own error (viem's `RpcRequestError`, `HttpRequestError`...) in
 * place of the pool's `ClientCallError` around it, so that viem's actions decode reverts and name errors
 * as they do without the pool; the pool's own errors (`TimeoutError`, `AllCircuitsOpenError`...) as they are.
 */
export function unwrap(error: unknown): unknown {
  if (hasErrorCode(error, 'ERR_CLIENT_CALL')) {
    const cause: unknown = error.cause;
    if (cause instanceof Error) return cause;
  }
  return error;
}
