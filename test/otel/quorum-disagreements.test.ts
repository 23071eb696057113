import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { ATTR_CLIENT, METRIC_QUORUM_DISAGREEMENTS, otelMetrics } from '../../src/otel/index.js';
import { collect, points, testMeterProvider, valueAt } from './metric-reader.js';

describe('clientpool.quorum.disagreements: quorum reads each client was outvoted in, observed at collection', () => {
  it('observes the liar\'s count, and nothing for clients never outvoted', async () => {
    const { provider, reader } = testMeterProvider();
    const pool = new ClientPool<{ answer: number }>().use(otelMetrics({ meterProvider: provider }));
    for (const [name, answer] of [['a', 1], ['b', 1], ['liar', 7]] as const) pool.add({ answer }, { name });
    // The liar answers at once, the others a moment later: its answer is in, and outvoted, when they agree.
    const answer = (client: { answer: number }): number | Promise<number> => (client.answer === 1 ? new Promise((resolve) => setTimeout(() => resolve(1), 1)) : client.answer);
    for (let i = 0; i < 2; i++) await pool.quorum(answer, { of: 3, agree: 2 });
    const collected = await collect(reader);
    expect(valueAt(collected, METRIC_QUORUM_DISAGREEMENTS, { [ATTR_CLIENT]: 'liar' })).toBe(2);
    expect(points(collected, METRIC_QUORUM_DISAGREEMENTS)).toHaveLength(1);
    await pool.close();
  });
});
