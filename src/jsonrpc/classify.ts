import { ETHEREUM, SOLANA, type JsonRpcDialect } from './dialect.js';

/** Whom an error blames: the node that answered (or failed to), or the request itself. */
export type JsonRpcVerdict = 'node' | 'request';

/** Links of a `cause` chain followed at most: chains can be cyclic. */
const MAX_DEPTH = 16;

/**
 * Whom `error` blames, read along its `cause` chain (a clientpool `ClientCallError`, a viem `RpcError`
 * wrapping an `RpcRequestError`, a @solana/kit `SolanaError`), the first link that says wins:
 *
 * 1. a JSON-RPC error code (`code`, a `SolanaError`'s `context.__code`, a `JsonRpcResponseError`'s
 *    `rpcCode`) in the dialect's tables;
 * 2. an HTTP status (`status`, `context.statusCode`): 408, 429, 5xx, and 401/403/404 (a key refused or
 *    an endpoint gone: another node would serve) blame the node; any other 4xx blames the request;
 * 3. a timeout (`name` or clientpool `code` `TimeoutError`/`ERR_TIMEOUT`) blames the node.
 *
 * An error nothing recognises (a reset connection, `fetch failed`, a bug) blames the node: a pool
 * should rather retry a request that did no harm than keep sending to a node that fails in a new way.
 * Never throws, whatever the error's getters do.
 * @param dialect the code tables. @default ETHEREUM
 */
export function classifyJsonRpcError(error: unknown, dialect: JsonRpcDialect = ETHEREUM): JsonRpcVerdict {
  try {
    let link: unknown = error;
    for (let depth = 0; depth < MAX_DEPTH && typeof link === 'object' && link !== null; depth++) {
      const verdict = verdictOf(link, dialect);
      if (verdict !== undefined) return verdict;
      link = (link as { cause?: unknown }).cause;
    }
  } catch {
    // A getter or a Proxy that throws: nothing more to read.
  }
  return 'node';
}

/**
 * For the pool's `isFailure` (and a retry's `retryOn`) with viem and Ethereum nodes: true when `error`
 * blames the node, false when it blames the request (a revert, invalid params...). Never throws.
 * @example new ClientPool<Transport>({ isFailure: isNodeError, retry: { attempts: 3 } })
 */
export function isNodeError(error: unknown): boolean {
  return classifyJsonRpcError(error, ETHEREUM) === 'node';
}

/**
 * For the pool's `isFailure` with @solana/kit and Solana nodes: true when `error` blames the node
 * (unhealthy, behind, 5xx, 429...), false when it blames the request (slot skipped, invalid params,
 * preflight failure...). Never throws.
 * @example new ClientPool<RpcTransport>({ isFailure: isSolanaNodeError, retry: { attempts: 3 } })
 */
export function isSolanaNodeError(error: unknown): boolean {
  return classifyJsonRpcError(error, SOLANA) === 'node';
}

function verdictOf(link: object, dialect: JsonRpcDialect): JsonRpcVerdict | undefined {
  const code = rpcCodeOf(link);
  if (code !== undefined) {
    if (dialect.requestCodes.has(code)) {
      const ambiguous = dialect.ambiguous;
      return ambiguous !== undefined && code === ambiguous.code && ambiguous.nodeMessage.test(textOf(link)) ? 'node' : 'request';
    }
    if (dialect.nodeCodes.has(code)) return 'node';
  }
  const status = statusOf(link);
  if (status !== undefined) {
    if (status === 408 || status === 429 || status >= 500 || status === 401 || status === 403 || status === 404) return 'node';
    if (status >= 400) return 'request';
  }
  const { name, code: ownCode } = link as { name?: unknown; code?: unknown };
  if (name === 'TimeoutError' || ownCode === 'ERR_TIMEOUT') return 'node';
  return undefined;
}

/** A JSON-RPC error code on this link, as a number (kit parses codes as bigints). */
function rpcCodeOf(link: object): number | undefined {
  const own = link as { rpcCode?: unknown; code?: unknown; context?: unknown };
  const code = numeric(own.rpcCode) ?? numeric(own.code);
  if (code !== undefined) return code;
  // A SolanaError made from a JSON-RPC error response carries the server's code as its own.
  const context = own.context;
  if (typeof context === 'object' && context !== null) {
    const kitCode = numeric((context as { __code?: unknown }).__code);
    if (kitCode !== undefined && kitCode >= -32768 && kitCode <= -32000) return kitCode;
  }
  return undefined;
}

/** An HTTP status on this link: viem's `status`, kit's `context.statusCode`. */
function statusOf(link: object): number | undefined {
  const own = link as { status?: unknown; context?: unknown };
  const status = numeric(own.status);
  if (status !== undefined) return status;
  const context = own.context;
  return typeof context === 'object' && context !== null ? numeric((context as { statusCode?: unknown }).statusCode) : undefined;
}

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

/** What the server said: viem keeps it in `details`, clientpool's response error in `rpcMessage`. */
function textOf(link: object): string {
  const { details, rpcMessage, message } = link as { details?: unknown; rpcMessage?: unknown; message?: unknown };
  return [details, rpcMessage, message].filter((part): part is string => typeof part === 'string').join(' ');
}
