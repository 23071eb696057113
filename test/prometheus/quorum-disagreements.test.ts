import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { find, parseExposition } from './exposition.js';

describe('<prefix>_quorum_disagreements_total: quorum reads each client was outvoted in, read at scrape', () => {
  it('counts the liar once per quorum, and has no series for a client never outvoted', async () => {
    const registry = new Registry();
    const pool = new ClientPool<{ answer: number }>().use(prometheusMetrics({ registry }));
    pool.add({ answer: 1 }, { name: 'a' });
    pool.add({ answer: 1 }, { name: 'b' });
    pool.add({ answer: 666 }, { name: 'liar' });
    // The liar answers at once, the others a moment later: its answer is in, and outvoted, when they agree.
    const answer = (client: { answer: number }): number | Promise<number> => (client.answer === 1 ? new Promise((resolve) => setTimeout(() => resolve(1), 1)) : client.answer);
    for (let i = 0; i < 3; i++) await pool.quorum(answer, { of: 3, agree: 2 });
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_quorum_disagreements_total').map((sample) => [sample.labels['client'], sample.value])).toEqual([['liar', 3]]);
    await pool.close();
  });
});
