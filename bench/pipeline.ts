import CircuitBreaker from 'opossum';
import { call, CLIENTS, clients, defaultPool } from './core.js';
import type { Candidate } from './harness.js';

export const TIMED = 'clientpool run({ timeout })';
export const SIGNALLED = 'clientpool run({ signal })';
export const RETRIED = 'clientpool run({ retry }), first attempt succeeds';
export const OPOSSUM_TIMED = 'opossum breaker + RR, 10 s timeout';

/** Hoisted, as a caller keeps them: the cost measured is the pool's, not the options object's. */
const TIMEOUT = { timeout: 10_000 } as const;
const SIGNAL = { signal: new AbortController().signal } as const;
const RETRY = { retry: { attempts: 3 } } as const;

/**
 * What production calls use: a timeout, a caller's signal, retries that are not needed; and opossum
 * with its own per-call timer, the peer a user would pick for a timed, guarded call.
 */
export function pipelineCandidates(): Candidate[] {
  const timed = defaultPool();
  const signalled = defaultPool();
  const retried = defaultPool();
  let nextOpossum = 0;
  const opossum = clients.map((client) => new CircuitBreaker(() => call(client), { timeout: 10_000, resetTimeout: 10_000 }));
  return [
    { name: TIMED, run: () => timed.run(call, TIMEOUT), close: () => timed.close() },
    { name: SIGNALLED, run: () => signalled.run(call, SIGNAL), close: () => signalled.close() },
    { name: RETRIED, run: () => retried.run(call, RETRY), close: () => retried.close() },
    {
      name: OPOSSUM_TIMED,
      run: () => opossum[nextOpossum++ % CLIENTS]!.fire(),
      close: () => {
        for (const breaker of opossum) breaker.shutdown();
      },
    },
  ];
}
