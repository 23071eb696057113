import { InvalidOptionError } from '../errors.js';
import { unreadableOptions } from '../validate.js';

/**
 * What a call costs against each limit it passes, by the limit's name: `{ requests: 1, tokens: 1200 }`.
 * `requests` is 1 unless given; a name no limit counts costs nothing. Each amount is a finite number
 * >= 0 (tokens, dollars, whatever the limit counts).
 */
export type Cost = Readonly<Record<string, number>>;

/** The name of the limit every call costs 1 of, the one a plain `{ rate, burst }` limit counts. */
export const REQUESTS = 'requests';

/**
 * A cost object with no prototype: a limit named `constructor` or `toString` must read as "not in the
 * cost", never as an inherited function.
 */
export function emptyCost(): Record<string, number> {
  return Object.create(null) as Record<string, number>;
}

/** The cost of a call that declares none: one request. Recognised by identity on the fast path. */
export const DEFAULT_COST: Cost = Object.freeze(Object.assign(emptyCost(), { [REQUESTS]: 1 }));

/**
 * Whether `value` is a plain object (its prototype `Object.prototype` or none): a Map, a Promise (an
 * async estimate) or a class instance holds no amounts as own keys, and would read as a cost of nothing.
 */
function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  try {
    const proto: unknown = Object.getPrototypeOf(value);
    return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
  } catch {
    return false;
  }
}

/** Most amount of one name: beyond 2^53 sums lose units. */
const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;

/**
 * A validated copy of `value` (each entry read once, so a getter cannot answer twice), with `requests`
 * filled in as 1 when the cost does not name it (`withRequests`).
 * @throws InvalidOptionError naming `option.<name>` for an amount that is not a finite number in
 *   [0, 2^53-1], or `option` for something that is not a plain object of amounts.
 */
export function costOption(option: string, value: unknown, withRequests = true): Cost {
  if (!isPlainObject(value)) throw new InvalidOptionError(option, 'a plain object of amounts by limit name, such as { tokens: 1200 }', value);
  const cost = emptyCost();
  let name = '';
  try {
    // Own keys only (an inherited `tokens` is no part of this cost); read once each.
    for (name in value) {
      if (!Object.hasOwn(value, name)) continue;
      const amount = (value as Record<string, unknown>)[name];
      if (typeof amount !== 'number' || !(amount >= 0 && amount <= MAX_AMOUNT)) throw new InvalidOptionError(`${option}.${name}`, `a number from 0 to ${MAX_AMOUNT}`, amount);
      cost[name] = amount;
    }
  } catch (error) {
    throw unreadableOptions(name === '' ? option : `${option}.${name}`, value, error);
  }
  if (withRequests && cost[REQUESTS] === undefined) cost[REQUESTS] = 1;
  // Not frozen: made per call, and never handed to user code but through `call.options`, as given.
  return cost;
}
