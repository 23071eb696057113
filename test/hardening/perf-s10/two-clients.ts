import { ClientPool } from '../../../src/index.js';

/** What the attack's pools hold: clients named a and b. */
export type Client = { name: string };

/** A function that never settles. */
export const never = (): Promise<never> => new Promise(() => {});

/** A pool of clients a and b, round robin, no retry budget. */
export function makePool(): ClientPool<Client> {
  const pool = new ClientPool<Client>({ retryBudget: false, strategy: 'round-robin' });
  pool.add({ name: 'a' }, { name: 'a' });
  pool.add({ name: 'b' }, { name: 'b' });
  return pool;
}

/** `{ value }` when `promise` resolves, else what it rejected with. */
export function settled(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => error,
  );
}
