export { poolTransport, type PoolTransport, type PoolTransportOptions } from './pool-transport.js';
export { pinned, PinnedTransportClosedError, type PinnedOptions } from './pinned.js';
export { ETHEREUM_METHODS, FILTER_METHODS } from './methods.js';
export { classifyJsonRpcError, isNodeError, type JsonRpcVerdict } from '../jsonrpc/classify.js';
export { ETHEREUM, type JsonRpcDialect } from '../jsonrpc/dialect.js';
export { parseRetryAfter, retryAfterMs } from '../jsonrpc/retry-after.js';
export { OTHER_METHOD } from '../jsonrpc/method-label.js';
export type { JsonRpcTransportOptions } from '../jsonrpc/transport-options.js';
