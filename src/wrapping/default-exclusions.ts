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
 * Commands that change one connection's state (Redis `SELECT` a database, `AUTH` as another user,
 * `READONLY` on a cluster replica, `CLIENT SETNAME`, `HELLO 3`, `RESET`) or add a command to one client
 * (ioredis `defineCommand`): sent to one random member, they leave the members different from each
 * other. Their `Buffer` variants (`clientBuffer`) are left out too.
 */
export const CONNECTION_STATE_METHODS: readonly string[] = Object.freeze(['select', 'auth', 'readonly', 'readwrite', 'reset', 'hello', 'client', 'defineCommand']);

/**
 * Blocking commands: Redis holds the connection until data arrives or their own timeout passes
 * (`BLPOP key 0` for ever), and the pool's timeout cannot unblock it, so every later call picked onto
 * that member waits too. `xread`/`xreadgroup` block only with `BLOCK`, but the proxy cannot tell which
 * calls give it, so they are left out as well (`include: ['xread']` for reads without `BLOCK`). Their
 * `Buffer` variants (`blpopBuffer`) are left out too.
 */
export const BLOCKING_METHODS: readonly string[] = Object.freeze([
  'blpop',
  'brpop',
  'brpoplpush',
  'blmove',
  'blmpop',
  'bzpopmin',
  'bzpopmax',
  'bzmpop',
  'wait',
  'waitaof',
  'xread',
  'xreadgroup',
]);

/**
 * Methods that take a handler object receiving the request's outcome (undici's `dispatch(options,
 * handler)`): its errors go to the handler after the pool has counted the call a success.
 */
export const HANDLER_METHODS: readonly string[] = Object.freeze(['dispatch']);

/**
 * Name patterns of methods that return a stream synchronously (ioredis `scanStream`, `hscanBufferStream`):
 * its errors arrive after the pool has counted the call a success. The generator leaves these out by
 * their return type as well.
 */
export const STREAM_PATTERNS: readonly RegExp[] = Object.freeze([/.Stream$/]);

/** Why a method is left out by default: the reasons shared by `pool.proxy()` and `clientpool-codegen`. */
export type DefaultExclusionReason = 'lifecycle' | 'event emitter' | 'stream or connection state' | 'callback style';

/** `name` without a trailing `Buffer` (ioredis `blpopBuffer` is `blpop` returning buffers). */
function withoutBuffer(name: string): string {
  return name.length > 6 && name.endsWith('Buffer') ? name.slice(0, -6) : name;
}

/**
 * Why a method is left out by default, or undefined when it is wrapped. Event sources (watchers,
 * filters, `extend`), stream-returning names (`*Stream`), connection-state and blocking commands count
 * as `'stream or connection state'`; handler-style methods (`dispatch`) as `'callback style'`.
 */
export function defaultExclusionReason(name: string): DefaultExclusionReason | undefined {
  if (LIFECYCLE_METHODS.includes(name)) return 'lifecycle';
  if (EVENT_EMITTER_METHODS.includes(name)) return 'event emitter';
  if (STREAM_METHODS.includes(name) || EVENT_SOURCE_METHODS.includes(name)) return 'stream or connection state';
  if (EVENT_SOURCE_PATTERNS.some((pattern) => pattern.test(name)) || STREAM_PATTERNS.some((pattern) => pattern.test(name))) return 'stream or connection state';
  const command = withoutBuffer(name);
  if (CONNECTION_STATE_METHODS.includes(command) || BLOCKING_METHODS.includes(command)) return 'stream or connection state';
  if (HANDLER_METHODS.includes(name)) return 'callback style';
  return undefined;
}

/** Whether `name` is one of {@link BLOCKING_METHODS} (or its `Buffer` variant), for a message that says so. */
export function isBlockingMethod(name: string): boolean {
  return BLOCKING_METHODS.includes(withoutBuffer(name));
}

/**
 * The names of {@link LIFECYCLE_METHODS}, {@link EVENT_EMITTER_METHODS}, {@link STREAM_METHODS},
 * {@link EVENT_SOURCE_METHODS}, {@link CONNECTION_STATE_METHODS}, {@link BLOCKING_METHODS} (each also with
 * `Buffer`) and {@link HANDLER_METHODS}, and the {@link EVENT_SOURCE_PATTERNS} and {@link STREAM_PATTERNS},
 * as a type, so that `pool.proxy()` leaves them out of its type as well as at run time (a test keeps the
 * two in step).
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
  | ConnectionStateOrBlocking
  | `${ConnectionStateOrBlocking}Buffer`
  | 'dispatch'
  | `watch${string}`
  | `create${string}Filter`
  | `${string}Stream`;

type ConnectionStateOrBlocking =
  | 'select'
  | 'auth'
  | 'readonly'
  | 'readwrite'
  | 'reset'
  | 'hello'
  | 'client'
  | 'defineCommand'
  | 'blpop'
  | 'brpop'
  | 'brpoplpush'
  | 'blmove'
  | 'blmpop'
  | 'bzpopmin'
  | 'bzpopmax'
  | 'bzmpop'
  | 'wait'
  | 'waitaof'
  | 'xread'
  | 'xreadgroup';
