import type { Balancer, BalancerContext } from './balancer.js';
import type { PoolMember } from '../member.js';

/**
 * Power of two choices on peak-EWMA latency (Finagle's `P2CPeakEwma`): draw two distinct ready members at
 * random and take the one with the lower cost, latency x (in-flight + 1). O(1), adapts to slow clients
 * within a few calls, and avoids the herding of always choosing the global minimum. Latency is read
 * decayed to the present, so a client that was slow once is tried again after a while.
 */
export function p2cEwma<T>({ random, clock }: BalancerContext): Balancer<T> {
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
      const now = clock.now();
      return cost(a, now) <= cost(b, now) ? a : b;
    },
  };
}

/** Above any measured cost: what an unmeasured member with calls outstanding costs. */
const UNMEASURED_BUSY = 1e9;

/**
 * An unmeasured member costs its in-flight count alone while idle, so that a new member gets a call and
 * a measurement; but while that first call is outstanding it costs more than any measured member, so
 * that a black hole cannot draw calls before its first one times out (as Finagle's penalty does).
 */
function cost(member: PoolMember, now: number): number {
  if (!member.isMeasured) return member.inFlight === 0 ? 0 : UNMEASURED_BUSY + member.inFlight;
  return (member.latencyAt(now) + 1) * (member.inFlight + 1);
}
