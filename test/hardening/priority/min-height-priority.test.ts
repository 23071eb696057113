// Attack: read-your-writes (minHeight) calls with priorities.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { deferred, ManualClock } from '../../helpers/manual-clock.js';

interface Node {
  readonly id: string;
  readonly height: number;
}

async function twoNodes(maxWait: number): Promise<ClientPool<Node>> {
  const pool = new ClientPool<Node>({ clock: new ManualClock(), maxWait, reserve: 0.5, strategy: 'round-robin' });
  pool.add({ id: 'tall', height: 10 }, { name: 'tall', maxInFlight: 2 });
  pool.add({ id: 'short', height: 5 }, { name: 'short', maxInFlight: 2 });
  for (let i = 0; i < 2; i++) await pool.run((node, call) => call.reportHeight(node.height));
  return pool;
}

describe('minHeight with priority', () => {
  it('a low call at the height is shed when the client at the height is at its low share; it never runs below the height', async () => {
    const pool = await twoNodes(0);
    const gate = deferred();
    const ran: string[] = [];
    const held = pool.run((n) => (ran.push(n.id), gate.promise), { priority: 'low', minHeight: 10 });
    await expect(pool.run((n) => ran.push(n.id), { priority: 'low', minHeight: 10 })).rejects.toMatchObject({ code: 'ERR_SHED' });
    expect(ran).toEqual(['tall']);
    gate.resolve();
    await held;
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
  });

  it('a high call at the height waits for the client at its cap and is served when it frees', async () => {
    const pool = await twoNodes(10_000);
    const gate = deferred();
    const held = [0, 1].map(() => pool.run(() => gate.promise, { minHeight: 10 }));
    const high = pool.run((n) => n.id, { priority: 'high', minHeight: 10 });
    gate.resolve();
    await Promise.all(held);
    await expect(high).resolves.toBe('tall');
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
  });
});
