import type { BreakerFactory } from './breaker/breaker.js';
import type { Clock } from './clock.js';
import { Member } from './member.js';
import { checkAddOptions, maxInFlight, MAX_WEIGHT, MIN_WEIGHT, quotaOption, tierOption, type AddOptions } from './pool-options.js';
import type { Random } from './random.js';
import type { Roster } from './roster.js';
import { givenOr, between, callable } from './validate.js';

/**
 * The member `add()` makes of `client`: its options checked, its name given (`options.name`, or one the
 * roster makes), a breaker of its own, a slot. A breaker that reads durations turns attempt timing on.
 * @throws InvalidOptionError for a bad weight, limit, tier or hook, a duplicate name, or a client already in the pool.
 */
export function newMember<T>(client: T, options: AddOptions<T>, roster: Roster<T>, clock: Clock, random: Random, breakerFactory: BreakerFactory): Member<T> {
  checkAddOptions(options);
  const weight = between('weight', givenOr(options.weight, 1), MIN_WEIGHT, MAX_WEIGHT);
  const close = options.close === undefined ? undefined : callable<(client: T) => void>('close', options.close);
  const quota = quotaOption('limit', options.limit, clock, 'client');
  const name = roster.nameFor(client, options.name);
  const breaker = breakerFactory({ clock, random });
  if (breaker.usesDuration === true) roster.isTimed = true;
  return new Member(client, name, weight, roster.allocateSlot(), breaker, close, quota, maxInFlight(options.maxInFlight), tierOption(options.tier));
}
