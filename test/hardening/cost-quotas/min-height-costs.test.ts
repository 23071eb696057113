// Attack: minHeight (read-your-writes) with costs: the only client at the height cannot hold the cost.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';

interface Node {
  readonly id: string;
  readonly height: number;
}

const MINUTE = 60_000;

async function twoNodes(): Promise<ClientPool<Node>> {
  const pool = new ClientPool<Node>({ clock: new ManualClock(), maxWait: 0, strategy: 'round-robin' });
  pool.add({ id: 'high', height: 10 }, { name: 'high', limit: { tokens: { rate: 1_000, per: MINUTE } } });
  pool.add({ id: 'low', height: 5 }, { name: 'low', limit: { tokens: { rate: 40_000, per: MINUTE } } });
  for (let i = 0; i < 2; i++) await pool.run((node, call) => call.reportHeight(node.height), { cost: { tokens: 1 } });
  return pool;
}

describe('minHeight with costs', () => {
  it('a cost the client at the height can never hold fails naming the cost (or the height), never as open circuits', async () => {
    const pool = await twoNodes();
    const error = await pool.run((node) => node.id, { minHeight: 10, cost: { tokens: 5_000 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: expect.stringMatching(/^(ERR_INVALID_OPTION|ERR_HEIGHT_NOT_REACHED)$/) });
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
  });

  it('a cost the client at the height holds goes to it', async () => {
    const pool = await twoNodes();
    await expect(pool.run((node) => node.id, { minHeight: 10, cost: { tokens: 500 } })).resolves.toBe('high');
  });

  it('a cost that fits no client at the height never runs on a client below it', async () => {
    const pool = await twoNodes();
    const ran: string[] = [];
    await pool.run((node) => ran.push(node.id), { minHeight: 10, cost: { tokens: 5_000 } }).catch(() => undefined);
    expect(ran).toEqual([]);
  });
});
