import { expect, it } from 'vitest';
import { FLEET_HEADING, runFleetBench, TABLE_HEADER } from '../../bench/fleet.js';
import { describeWithRedis } from '../redis/describe-with-redis.js';

// The fleet bench of issue 17 at a tiny size: 2 processes, about a second of calls each, a short cooldown
// so that probing shows. Counts, not times: what must hold on any machine is that sharing circuits never
// sends the dead upstream more than learning alone; the exact numbers move with timing and are not checked.

describeWithRedis('bench: calls to a dead upstream across processes, alone and with a RedisFleet', () => {
  it('writes one table row per run, and the fleet run sends the dead upstream no more requests than the run without sharing', { timeout: 120_000 }, async () => {
    const result = await runFleetBench({ processes: 2, rate: 50, calls: 60, cooldown: 300, scenarios: ['503'], sharings: ['alone', 'fleet'], command: 'test' });

    expect(result.rows.map((r) => [r.scenario, r.sharing])).toEqual([
      ['503', 'alone'],
      ['503', 'fleet'],
    ]);
    const [alone, fleet] = result.rows;
    for (const row of result.rows) {
      expect(row.calls).toBe(120);
      // The breakers opened, and every request to the dead upstream failed a call (no retries).
      expect(row.firstOpeningMs).toBeDefined();
      expect(row.dead).toBeGreaterThan(0);
      expect(row.failed).toBe(row.dead);
      expect(row.unhandled).toEqual([]);
    }
    expect(fleet!.dead).toBeLessThanOrEqual(alone!.dead);

    const lines = result.markdown.split('\n');
    expect(lines[0]).toBe(FLEET_HEADING);
    expect(result.markdown).toContain('Command: `test`');
    const header = lines.indexOf(TABLE_HEADER);
    expect(header).toBeGreaterThan(0);
    const columns = TABLE_HEADER.split('|').length;
    const body = lines.slice(header + 2, header + 2 + result.rows.length);
    expect(body).toHaveLength(2);
    for (const line of body) expect(line.split('|')).toHaveLength(columns);
    expect(lines[header + 2 + result.rows.length]).toBe('');
    expect(result.markdown).toMatch(/- \*\*b2 answers 503 at once\*\*: \d+ requests to b2 without sharing \(\d+ probes?\), \d+ with RedisFleet, defaults \(\d+ probes?\)\./);
  });
});
