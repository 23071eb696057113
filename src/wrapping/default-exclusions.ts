/**
 * Methods a typed wrapper (`pool.proxy()` or `clientpool-codegen`) leaves out unless asked for by name.
 * Each is either about one connection's lifecycle, so sending it to one random member would shut down or
 * change a client the pool keeps routing to, or about events and streams, which belong to one connection.
 */

/** Lifecycle methods: they open, close or copy one connection (`quit()` would stop one member, not the pool). */
export const LIFECYCLE_METHODS: readonly string[] = Object.freeze([
  'close',
  'quit',
  'disconnect',
  'destroy',
  'connect',
  'duplicate',
  'end',
  'terminate',
  'shutdown',
  'dispose',
]);

/** Methods of Node's `EventEmitter`: a listener added through the pool would land on one random member. */
export const EVENT_EMITTER_METHODS: readonly string[] = Object.freeze([
  'on',
  'once',
  'off',
  'emit',
  'addListener',
  'removeListener',
  'removeAllListeners',
  'prependListener',
  'prependOnceListener',
  'listeners',
  'rawListeners',
  'listenerCount',
  'eventNames',
  'setMaxListeners',
  'getMaxListeners',
]);

/** Methods that put one connection into a streaming or subscriber mode. */
export const STREAM_METHODS: readonly string[] = Object.freeze([
  'pipe',
  'unpipe',
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'unsubscribe',
  'punsubscribe',
  'sunsubscribe',
  'monitor',
  'pipeline',
  'multi',
  'watch',
  'unwatch',
  'exec',
]);

/**
 * Methods that return an event source or a filter kept on one node, or that copy one client (viem's
 * `getFilterChanges` must reach the node that made the filter; `extend` would extend one random member).
 * Names matching {@link EVENT_SOURCE_PATTERNS} are left out too.
 */
export const EVENT_SOURCE_METHODS: readonly string[] = Object.freeze(['getFilterChanges', 'getFilterLogs', 'uninstallFilter', 'extend']);

/**
 * Name patterns of methods that return an event source: watchers (`watch*`: viem's `watchBlocks`,
 * `watchEvent`...) and filters (`create*Filter`: `createBlockFilter`, `createEventFilter`...).
 */
export const EVENT_SOURCE_PATTERNS: readonly RegExp[] = Object.freeze([/^watch./, /^create.*Filter$/]);

/**
 * Why a method is left out by default, or undefined when it is wrapped. Event sources (watchers,
 * filters, `extend`) count as `'stream or connection state'`.
 */
export function defaultExclusionReason(name: string): 'lifecycle' | 'event emitter' | 'stream or connection state' | undefined {
  if (LIFECYCLE_METHODS.includes(name)) return 'lifecycle';
  if (EVENT_EMITTER_METHODS.includes(name)) return 'event emitter';
  if (STREAM_METHODS.includes(name) || EVENT_SOURCE_METHODS.includes(name)) return 'stream or connection state';
  if (EVENT_SOURCE_PATTERNS.some((pattern) => pattern.test(name))) return 'stream or connection state';
  return undefined;
}

/**
 * The names of {@link LIFECYCLE_METHODS}, {@link EVENT_EMITTER_METHODS}, {@link STREAM_METHODS} and
 * {@link EVENT_SOURCE_METHODS}, and the {@link EVENT_SOURCE_PATTERNS}, as a type, so that `pool.proxy()` leaves them out of its type as well as at run time (a test keeps the two
 * in step).
 */
export type DefaultExcludedMethod =
  | 'close'
  | 'quit'
  | 'disconnect'
  | 'destroy'
  | 'connect'
  | 'duplicate'
  | 'end'
  | 'terminate'
  | 'shutdown'
  | 'dispose'
  | 'on'
  | 'once'
  | 'off'
  | 'emit'
  | 'addListener'
  | 'removeListener'
  | 'removeAllListeners'
  | 'prependListener'
  | 'prependOnceListener'
  | 'listeners'
  | 'rawListeners'
  | 'listenerCount'
  | 'eventNames'
  | 'setMaxListeners'
  | 'getMaxListeners'
  | 'pipe'
  | 'unpipe'
  | 'subscribe'
  | 'psubscribe'
  | 'ssubscribe'
  | 'unsubscribe'
  | 'punsubscribe'
  | 'sunsubscribe'
  | 'monitor'
  | 'pipeline'
  | 'multi'
  | 'watch'
  | 'unwatch'
  | 'exec'
  | 'getFilterChanges'
  | 'getFilterLogs'
  | 'uninstallFilter'
  | 'extend'
  | `watch${string}`
  | `create${string}Filter`;
