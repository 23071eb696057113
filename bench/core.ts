import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import { ClientPool, type PoolOptions } from '../src/index.js';
import { EchoClient } from './echo-client.js';
import type { Candidate } from './harness.js';

export { EchoClient } from './echo-client.js';

export const CLIENTS = 4;
export const clients = Array.from({ length: CLIENTS }, (_, i) => new EchoClient(i));
export const call = (client: EchoClient): Promise<number> => client.get(1);

export const BARE = 'bare await fn(client)';
export const DEFAULT = 'clientpool default';
export const COCKATIEL = 'cockatiel breaker + RR';

/** A pool over the shared echo clients with the default options: round robin, consecutive breaker, recovery. */
export function defaultPool(options: PoolOptions<EchoClient> = {}): ClientPool<EchoClient> {
  const pool = new ClientPool<EchoClient>(options);
  clients.forEach((client, i) => pool.add(client, { name: `c${i}` }));
  return pool;
}

/** Bare call, the clientpool default stack, and cockatiel's breaker with a hand-written round robin. */
export function coreCandidates(): Candidate[] {
  const bare = clients[0]!;
  const pool = defaultPool();

  const breakers = clients.map(() => circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }));
  let next = 0;

  return [
    { name: BARE, run: () => call(bare) },
    { name: DEFAULT, run: () => pool.run(call), close: () => pool.close() },
    {
      name: COCKATIEL,
      run: () => {
        const i = next++ % CLIENTS;
        return breakers[i]!.execute(() => call(clients[i]!));
      },
    },
  ];
}
