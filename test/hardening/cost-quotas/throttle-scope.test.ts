// Attack: how far a shortage in one limit reaches: a 429 pause over a daily dollar budget, a refused call
// short of one limit holding back calls that do not use that limit.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';

interface Key {
  readonly id: string;
}

const DAY = 86_400_000;

function keyWithBudget(clock: ManualClock): ClientPool<Key> {
  const pool = new ClientPool<Key>({ clock, maxWait: 0, breaker: false });
  pool.add({ id: 'k' }, { name: 'k', limit: { requests: { rate: 10 }, usd: { rate: 20, per: DAY } } });
  return pool;
}

describe('a shortage in one limit', () => {
  it('a 1-second 429 pause does not spend the key\'s daily dollar budget', async () => {
    const clock = new ManualClock();
    const pool = keyWithBudget(clock);
    await pool.run((_k, call) => {
      call.pauseClient(1_000);
      throw new Error('429');
    }, { cost: { usd: 0 } }).catch(() => undefined);
    clock.advance(2_000);
    // Two seconds later the provider serves again; the key still has (nearly) $20 of today's budget.
    await expect(pool.run(() => 'ok', { cost: { usd: 1 } })).resolves.toBe('ok');
    expect(pool.members()[0]!.quota!['usd']).toBeGreaterThan(18);
  });

  it('a call refused for lack of dollars does not hold back calls that cost no dollars', async () => {
    const clock = new ManualClock();
    const pool = keyWithBudget(clock);
    await pool.run(() => 'a', { cost: { usd: 18 } });
    // $2 left: a $5 call is refused (maxWait 0); nobody waits for the key.
    await expect(pool.run(() => 'b', { cost: { usd: 5 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    clock.advance(100);
    // A call that costs only a request has all it needs.
    await expect(pool.run(() => 'c', { cost: { usd: 0 } })).resolves.toBe('c');
  });

  it('a call refused for lack of dollars does not hold back a cheaper call that fits', async () => {
    const clock = new ManualClock();
    const pool = keyWithBudget(clock);
    await pool.run(() => 'a', { cost: { usd: 18 } });
    await expect(pool.run(() => 'b', { cost: { usd: 5 } })).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    clock.advance(100);
    // The $5 call left (refused at once): no large call is queued to protect from starvation.
    await expect(pool.run(() => 'c', { cost: { usd: 1 } })).resolves.toBe('c');
  });
});
