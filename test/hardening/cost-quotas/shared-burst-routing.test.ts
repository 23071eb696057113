// Attack: a cost above a shared limit's burst (a Redis bucket's, which says its burst) on one client while
// another client fits it: the docs say the call goes to a client it fits.
import { describe, expect, it } from 'vitest';
import { ClientPool, type Limiter } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';

interface Key {
  readonly id: string;
}

/** A shared limiter with a burst, as RedisTokenBucket has: it refuses more than that per take. */
function sharedWithBurst(burst: number): Limiter & { readonly burst: number } {
  return { burst, take: (n: number) => (n <= burst ? Promise.resolve() : Promise.reject(new RangeError(`more than ${burst}`))) };
}

describe('a cost above a shared limit\'s burst', () => {
  it('goes to the client it fits, whichever the strategy would have picked first', async () => {
    const pool = new ClientPool<Key>({ clock: new ManualClock(), strategy: 'round-robin' });
    pool.add({ id: 'shared' }, { name: 'shared', limit: { tokens: sharedWithBurst(1_000) } });
    pool.add({ id: 'local' }, { name: 'local', limit: { tokens: { rate: 10_000, per: 60_000 } } });
    const names: string[] = [];
    // The local key's 10 000 a minute hold two such calls; the shared limit's burst never holds one.
    for (let i = 0; i < 2; i++) names.push(await pool.run((k) => k.id, { cost: { tokens: 5_000 } }));
    expect(names).toEqual(['local', 'local']);
  });
});
