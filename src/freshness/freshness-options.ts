import { InvalidOptionError } from '../errors.js';
import { givenOr, callable, integerAtLeast, keySet, knownKeys, nonNegative, optionsObject, positiveDuration } from '../validate.js';
import type { HeightRules } from './height-tracker.js';

const FRESHNESS_KEYS = keySet(['height', 'interval', 'timeout', 'maxLag', 'corroboration']);

/** A height as clients give it: a number, or a bigint (an LSN, a slot) up to 2^53 - 1. */
export type Height = number | bigint;

/**
 * Height-aware routing (docs/freshness.md): each client's height (block number, slot, replication LSN)
 * from a poll or from calls (`call.reportHeight(n)`), a head corroborated by several clients, clients out
 * of sync with it kept out of the rotation, and `minHeight` reads (read-your-writes).
 */
export interface FreshnessOptions<T> {
  /**
   * Poll a client's height every `interval` (optional: heights may come from calls alone). Return or
   * resolve a non-negative safe integer (a bigint is accepted up to 2^53 - 1); honour `signal`. A poll
   * that throws, times out or answers something else leaves the height as it was (a bad answer is
   * reported as a `CLIENTPOOL_CALLBACK_ERROR` warning).
   */
  readonly height?: (client: T, signal: AbortSignal) => Height | Promise<Height>;
  /** Milliseconds between polls, at most 2^31-1. @default 1_000 */
  readonly interval?: number;
  /** Milliseconds a poll may take, at most 2^31-1. @default 1_000 */
  readonly timeout?: number;
  /**
   * Heights a client may trail the head by (or lead it by) and still take calls: more and it is
   * `lagging` (or `ahead`) and out of the rotation until it is back in sync. @default Infinity (heights
   * are tracked and `minHeight` works, but nobody is excluded)
   */
  readonly maxLag?: number;
  /** Clients that must reach a height for it to be the head: one far-ahead node is flagged, never followed. @default 2 */
  readonly corroboration?: number;
}

/** The poll of a pool's `freshness` option, if it has one. */
export interface HeightPoll<T> {
  readonly height: (client: T, signal: AbortSignal) => unknown;
  readonly interval: number;
  readonly timeout: number;
}

/** Validate the pool's `freshness` option. @throws InvalidOptionError naming the bad field. */
export function freshnessOption<T>(option: FreshnessOptions<T> | undefined): { rules: HeightRules; poll: HeightPoll<T> | undefined } {
  optionsObject('freshness', option);
  if (option !== undefined) knownKeys('freshness', option, FRESHNESS_KEYS);
  const maxLag = option?.maxLag === undefined ? Number.POSITIVE_INFINITY : option.maxLag === Number.POSITIVE_INFINITY ? option.maxLag : nonNegative('freshness.maxLag', option.maxLag);
  const corroboration = integerAtLeast('freshness.corroboration', givenOr(option?.corroboration, 2), 1);
  if (corroboration > 1_000) throw new InvalidOptionError('freshness.corroboration', 'an integer from 1 to 1000', corroboration);
  const rules = { maxLag, corroboration };
  if (option?.height === undefined) {
    if (option?.interval !== undefined || option?.timeout !== undefined) throw new InvalidOptionError('freshness.height', 'a function, since interval or timeout is set', option.height);
    return { rules, poll: undefined };
  }
  const height = callable<HeightPoll<T>['height']>('freshness.height', option.height);
  return { rules, poll: { height, interval: positiveDuration('freshness.interval', givenOr(option.interval, 1_000)), timeout: positiveDuration('freshness.timeout', givenOr(option.timeout, 1_000)) } };
}

/**
 * A height given by a poll or `call.reportHeight()` as a number, or an error saying what is wrong with it.
 * A non-negative safe integer, or a bigint up to 2^53 - 1.
 */
export function heightValue(what: string, value: unknown): number | InvalidOptionError {
  if (typeof value === 'bigint' && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  return new InvalidOptionError(what, 'a non-negative safe integer (or a bigint up to 2^53 - 1)', value);
}

/** A `minHeight` run option. @throws InvalidOptionError */
export function minHeightOption(value: unknown): number {
  const height = heightValue('minHeight', value);
  if (height instanceof InvalidOptionError) throw height;
  return height;
}
