import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import { ClientPool } from '../src/index.js';
import type { Candidate } from './harness.js';

/** A stand-in client: the call itself costs next to nothing, so the numbers show the wrapper's overhead. */
export class EchoClient {
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }
  async get(value: number): Promise<number> {
    return value + this.id;
  }
}

export const CLIENTS = 4;
export const clients = Array.from({ length: CLIENTS }, (_, i) => new EchoClient(i));
export const call = (client: EchoClient): Promise<number> => client.get(1);

/** Bare call, the clientpool default stack, and cockatiel's breaker with a hand-written round robin. */
export function coreCandidates(): Candidate[] {
  const bare = clients[0]!;
  const pool = new ClientPool<EchoClient>();
  clients.forEach((client, i) => pool.add(client, { name: `c${i}` }));

  const breakers = clients.map(() => circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }));
  let next = 0;

  return [
    { name: 'bare await fn(client)', run: () => call(bare) },
    { name: 'clientpool default', run: () => pool.run(call) },
    {
      name: 'cockatiel breaker + RR',
      run: () => {
        const i = next++ % CLIENTS;
        return breakers[i]!.execute(() => call(clients[i]!));
      },
    },
  ];
}
