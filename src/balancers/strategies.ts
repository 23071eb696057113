import { InvalidOptionError } from '../errors.js';
import type { Balancer, BalancerFactory } from './balancer.js';
import { leastInFlight } from './least-in-flight.js';
import { mostHeadroom } from './most-headroom.js';
import { p2cEwma } from './p2c-ewma.js';
import { randomBalancer } from './random.js';
import { ownRoundRobin, roundRobin } from './round-robin.js';
import { smoothWeightedRoundRobin } from './smooth-weighted-round-robin.js';
import { weightedRandom } from './weighted-random.js';

/** The built-in strategies, by name. */
export const strategies = {
  'round-robin': roundRobin,
  'weighted-random': weightedRandom,
  random: randomBalancer,
  'smooth-weighted-round-robin': smoothWeightedRoundRobin,
  'least-in-flight': leastInFlight,
  'p2c-ewma': p2cEwma,
  'most-headroom': mostHeadroom,
} as const satisfies Record<string, BalancerFactory>;

/** Name of a built-in strategy. */
export type StrategyName = keyof typeof strategies;

/** A strategy as options take it: a built-in name, or your own balancer object. */
export type Strategy<T> = StrategyName | Balancer<T>;

/** Resolve a name to its factory, or throw naming the valid ones. */
export function strategyFactory<T>(option: string, name: string): BalancerFactory<T> {
  if (!Object.hasOwn(strategies, name)) {
    throw new InvalidOptionError(option, `one of ${Object.keys(strategies).map((s) => `"${s}"`).join(', ')} or a Balancer`, name);
  }
  // The pool's own round robin for its name: one the roster knows it can trust (`roundRobin()` makes plain objects).
  return name === 'round-robin' ? ownRoundRobin : strategies[name as StrategyName];
}

/** Check a strategy option: a known name or an object with `pick`. */
export function validateStrategy<T>(option: string, value: unknown): Strategy<T> {
  if (typeof value === 'string') {
    strategyFactory(option, value);
    return value as StrategyName;
  }
  if (typeof value === 'object' && value !== null && typeof (value as { pick?: unknown }).pick === 'function') {
    return value as Balancer<T>;
  }
  throw new InvalidOptionError(option, `one of ${Object.keys(strategies).map((s) => `"${s}"`).join(', ')} or a Balancer`, value);
}
