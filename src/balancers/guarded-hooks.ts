import type { PoolMember } from '../member.js';
import type { Balancer } from './balancer.js';

/** A balancer's index hooks, as the pool calls them. */
export type BalancerHooks<T> = Pick<Balancer<T>, 'onReady' | 'onUnready' | 'onInFlight'>;

/**
 * The hooks of a balancer the pool did not make, guarded: one that throws is reported (`warn`) and
 * the pool's bookkeeping goes on, so a broken index can skew picks but never leak a call or a client.
 */
export function guardedHooks<T>(balancer: Balancer<T>, warn: (name: string, error: unknown) => void): BalancerHooks<T> {
  const call = (name: 'onReady' | 'onUnready' | 'onInFlight', member: PoolMember<T>): void => {
    try {
      balancer[name]?.(member);
    } catch (error) {
      warn(`the balancer's ${name}()`, error);
    }
  };
  return {
    ...(balancer.onReady === undefined ? {} : { onReady: (member: PoolMember<T>) => call('onReady', member) }),
    ...(balancer.onUnready === undefined ? {} : { onUnready: (member: PoolMember<T>) => call('onUnready', member) }),
    ...(balancer.onInFlight === undefined ? {} : { onInFlight: (member: PoolMember<T>) => call('onInFlight', member) }),
  };
}
