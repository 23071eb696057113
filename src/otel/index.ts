export { tracing, TRACER_NAME } from './tracing.js';
export type { TracingOptions } from './options.js';
export { ATTR_ATTEMPT, ATTR_CANCELLED, ATTR_CLIENT, ATTR_ERROR_TYPE, ATTR_RPC_METHOD, ATTR_SERVER_ADDRESS, errorType } from './attributes.js';
