import type { Balancer } from './balancer.js';
import type { PoolMember } from '../member.js';

/**
 * The ready member with the largest share of its own quota left (`headroom`: the smallest
 * `available / burst` over its in-memory limits; 1 without any), ties to the one with fewer calls in
 * flight, then in turn. Keys with quotas of 10 000 and 40 000 tokens a minute each stay at the same share
 * of their quota, so they take calls 1 : 4 at any load, not only once the small one runs dry (as
 * LiteLLM's usage-based routing aims to). O(n) per pick: for pools of a few keys.
 */
export function mostHeadroom<T>(): Balancer<T> {
  let turn = 0;
  return {
    pick(ready: readonly PoolMember<T>[]): PoolMember<T> {
      const n = ready.length;
      const start = turn++ % n;
      let best = ready[start]!;
      let bestShare = best.headroom;
      for (let i = 1; i < n; i++) {
        const member = ready[(start + i) % n]!;
        const share = member.headroom;
        if (share > bestShare || (share === bestShare && member.inFlight < best.inFlight)) {
          best = member;
          bestShare = share;
        }
      }
      return best;
    },
  };
}
