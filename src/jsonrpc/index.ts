export { classifyJsonRpcError, isNodeError, isSolanaNodeError, type JsonRpcVerdict } from './classify.js';
export { ETHEREUM, SOLANA, type JsonRpcDialect } from './dialect.js';
export { parseRetryAfter, pauseOnRetryAfter, retryAfterMs } from './retry-after.js';
export { errorOfResponse, JsonRpcResponseError } from './response-error.js';
export { methodLabeler, OTHER_METHOD } from './method-label.js';
export { resolveTransportOptions, type JsonRpcTransportOptions, type ResolvedTransportOptions } from './transport-options.js';
