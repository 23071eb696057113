import type { Balancer, BalancerContext } from './balancer.js';
import type { PoolMember } from '../member.js';

/**
 * Power of two choices on peak-EWMA latency (Finagle's `P2CPeakEwma`): draw two distinct ready members at
 * random and take the one with the lower cost, latency x (in-flight + 1). O(1), adapts to slow clients
 * within a few calls, and avoids the herding of always choosing the global minimum.
 */
export function p2cEwma<T>({ random }: BalancerContext): Balancer<T> {
  return {
    usesLatency: true,
    pick(ready: readonly PoolMember<T>[]): PoolMember<T> {
      const n = ready.length;
      if (n === 1) return ready[0]!;
      const i = Math.floor(random() * n);
      let j = Math.floor(random() * (n - 1));
      if (j >= i) j++;
      const a = ready[i]!;
      const b = ready[j]!;
      return cost(a) <= cost(b) ? a : b;
    },
  };
}

// An unmeasured member costs as much as its in-flight count alone, so new members get traffic and a measurement.
function cost(member: PoolMember): number {
  return (member.latencyMs + 1) * (member.inFlight + 1);
}
