import { ClientPoolError } from '../errors.js';

/**
 * A JSON-RPC error that came back inside a response the transport resolved with (@solana/kit's
 * transports resolve with the server's JSON and let the RPC layer raise). The pool transport raises it
 * so that the pool can classify the attempt (`isSolanaNodeError`: a node error counts and is retried, a
 * request error is `answered`); once the call is over, the transport hands the `response` back to kit,
 * which raises its own `SolanaError` as it would without the pool.
 */
export class JsonRpcResponseError extends ClientPoolError {
  static readonly code = 'ERR_JSONRPC_RESPONSE';
  override readonly name = 'JsonRpcResponseError';
  readonly code = JsonRpcResponseError.code;
  /** The server's JSON-RPC error code, e.g. -32005. */
  readonly rpcCode: number;
  /** The server's message. */
  readonly rpcMessage: string;
  /** The server's `data`, if any. */
  readonly data: unknown;
  /** The whole response (an object, or an array for a batch), returned to the caller in the end. */
  readonly response: unknown;
  constructor(rpcCode: number, rpcMessage: string, data: unknown, response: unknown) {
    super(`JSON-RPC error ${rpcCode}: ${rpcMessage}`);
    this.rpcCode = rpcCode;
    this.rpcMessage = rpcMessage;
    this.data = data;
    this.response = response;
  }
}

/** The error member of one JSON-RPC response, if it has one: `{ code, message, data }`. */
export function errorOfResponse(response: unknown): { code: number; message: string; data: unknown } | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const error = (response as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message, data } = error as { code?: unknown; message?: unknown; data?: unknown };
  const number = typeof code === 'bigint' ? Number(code) : code;
  if (typeof number !== 'number') return undefined;
  return { code: number, message: typeof message === 'string' ? message : '', data };
}
