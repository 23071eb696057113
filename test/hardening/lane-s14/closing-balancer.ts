// A pool whose balancer closes it in its first pick, then returns the member it picked (which close() has
// just removed): what both the lane and the full pick must refuse alike.
import { ClientPool, type Balancer } from '../../../src/index.js';

export interface ClosingInPick<T> {
  readonly pool: ClientPool<T>;
  /** The close() the pick started, once it did. */
  readonly closing: () => Promise<void> | undefined;
}

/** One client, `client`, named 'a', in a pool whose balancer closes the pool in its first pick. */
export function poolClosingInItsPick<T extends object>(client: T): ClosingInPick<T> {
  let closing: Promise<void> | undefined;
  const balancer: Balancer<T> = {
    pick: (ready) => {
      const member = ready[0]!;
      // close() removes every client at once: the member picked is gone before pick() returns it.
      closing ??= pool.close();
      return member;
    },
  };
  const pool: ClientPool<T> = new ClientPool<T>({ strategy: balancer });
  pool.add(client, { name: 'a' });
  return { pool, closing: () => closing };
}
