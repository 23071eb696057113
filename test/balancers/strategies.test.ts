// Strategies given per call: a stateless balancer is fine, a stateful one made per call is refused.
import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, leastInFlight } from '../../src/index.js';

interface Fake {
  readonly id: string;
}

describe('a strategy given per call', () => {
  it('a new stateful balancer per call is refused rather than registered forever; a stateless one is fine', async () => {
    const pool = new ClientPool<Fake>();
    pool.add({ id: 'a' });
    await expect(pool.run(() => 1, { strategy: leastInFlight<Fake>() })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(pool.run((client) => client.id, { strategy: { pick: (ready) => ready[0]! } })).resolves.toBe('a');
  });
});
