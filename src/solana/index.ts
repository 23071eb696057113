export { poolRpcTransport, type PoolRpcTransportOptions } from './pool-rpc-transport.js';
export { BATCH_METHOD, SOLANA_METHODS } from './methods.js';
export type { SlotListener } from './slots.js';
export { classifyJsonRpcError, isSolanaNodeError, type JsonRpcVerdict } from '../jsonrpc/classify.js';
export { SOLANA, type JsonRpcDialect } from '../jsonrpc/dialect.js';
export { JsonRpcResponseError } from '../jsonrpc/response-error.js';
export { parseRetryAfter, retryAfterMs } from '../jsonrpc/retry-after.js';
export { OTHER_METHOD } from '../jsonrpc/method-label.js';
export type { JsonRpcTransportOptions } from '../jsonrpc/transport-options.js';
