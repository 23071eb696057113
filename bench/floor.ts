import { call, clients, CLIENTS, type EchoClient } from './core.js';
import type { Candidate } from './harness.js';

export const FLOOR = 'floor: the least a pool can do';

/** A client's record in the floor pool: what any pool must keep per client. */
interface Slot {
  readonly client: EchoClient;
  inFlight: number;
  failures: number;
}

/**
 * What every pool has to do per call, and nothing more: pick a client by round robin, refuse it after 5
 * consecutive failures, count it in flight, and settle the call after its promise with one `then()`
 * (success resets the count, an error is wrapped with its cause). No options, no signal, no observers,
 * no typed errors: the floor clientpool's default call is measured against, not a design to use.
 */
export function floorCandidate(): Candidate {
  const slots: Slot[] = clients.map((client) => ({ client, inFlight: 0, failures: 0 }));
  let next = 0;
  const run = <R>(fn: (client: EchoClient) => Promise<R>): Promise<R> => {
    const slot = slots[next++ % CLIENTS]!;
    if (slot.failures >= 5) return Promise.reject(new Error('circuit open'));
    slot.inFlight++;
    let result: Promise<R>;
    try {
      result = Promise.resolve(fn(slot.client));
    } catch (error) {
      result = Promise.reject(error);
    }
    return result.then(
      (value) => {
        slot.inFlight--;
        slot.failures = 0;
        return value;
      },
      (error: unknown) => {
        slot.inFlight--;
        slot.failures++;
        throw new Error('call failed', { cause: error });
      },
    );
  };
  return { name: FLOOR, run: () => run(call) };
}
