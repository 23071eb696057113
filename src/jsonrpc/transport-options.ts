import { InvalidOptionError } from '../errors.js';
import { callable, duration, keySet, knownKeys, optionsObject, unreadableOptions } from '../validate.js';
import { methodLabeler } from './method-label.js';

/** Options both pool transports take (`poolTransport` of clientpool/viem, `poolRpcTransport` of clientpool/solana). */
export interface JsonRpcTransportOptions {
  /**
   * Affinity: every request of this transport carries this `RunOptions.key`, so that they all go to the
   * same node while it is ready (consistent hashing over the clients' names; when that node is out, the
   * next one on the ring serves, and the key comes back once it is ready again). A non-empty string, say
   * an account address. @default none: each request is balanced on its own
   */
  readonly key?: string;
  /**
   * The method label of a request (metrics, traces, the pool's `methods` options). Return a value from a
   * small, fixed set. @default the JSON-RPC method for the chain's standard methods, `other` for the rest
   */
  readonly methodLabel?: (method: string) => string;
  /**
   * The longest pause, in ms, that an HTTP 429's `Retry-After` puts on a client (`call.pauseClient`);
   * longer asks are cut to it, 0 turns pausing off. At most 2^31-1. @default 60_000
   */
  readonly maxPause?: number;
  /**
   * Pass each attempt's `call.signal` to the transport, so that the pool's timeout or deadline, a hedge
   * that lost, or the caller's abort cancels the request itself. `false` saves a fresh `AbortSignal` and
   * its listeners per request (about 20-30 µs on Node 20, where adding a listener to a new signal is
   * slow); the pool still settles the call on time, but the abandoned request runs on until the
   * transport's own timeout (viem's `http`: 10 s). @default true
   */
  readonly abortAttempts?: boolean;
}

/** The options, validated once. */
export interface ResolvedTransportOptions {
  readonly key: string | undefined;
  readonly label: (method: string) => string;
  readonly maxPause: number;
  readonly abortAttempts: boolean;
}

const COMMON_KEYS = ['key', 'methodLabel', 'maxPause', 'abortAttempts'] as const;

/**
 * Validate the options shared by both transports; `extra` names the adapter's own keys (checked by it).
 * @throws InvalidOptionError naming the option and the bad value.
 */
export function resolveTransportOptions(options: unknown, known: ReadonlySet<string>, extra: readonly string[] = []): ResolvedTransportOptions {
  optionsObject('options', options);
  if (options === undefined) return { key: undefined, label: methodLabeler(known, undefined, 'methodLabel'), maxPause: 60_000, abortAttempts: true };
  knownKeys('options', options as object, keySet([...COMMON_KEYS, ...extra]));
  try {
    const { key, methodLabel, maxPause, abortAttempts } = options as JsonRpcTransportOptions;
    if (key !== undefined && (typeof key !== 'string' || key === '')) throw new InvalidOptionError('key', 'a non-empty string', key);
    if (abortAttempts !== undefined && typeof abortAttempts !== 'boolean') throw new InvalidOptionError('abortAttempts', 'a boolean', abortAttempts);
    return {
      key,
      label: methodLabeler(known, methodLabel === undefined ? undefined : callable('methodLabel', methodLabel), 'methodLabel'),
      maxPause: maxPause === undefined ? 60_000 : duration('maxPause', maxPause),
      abortAttempts: abortAttempts ?? true,
    };
  } catch (error) {
    throw unreadableOptions('options', options, error);
  }
}
