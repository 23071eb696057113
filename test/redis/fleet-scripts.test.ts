import { expect, it } from 'vitest';
import { runReport, runSync } from '../../src/redis/fleet-scripts.js';
import { describeWithRedis, useRedisServer } from './describe-with-redis.js';

// The fleet's two scripts on a real server, each rule alone: what RedisFleet relies on in every process.

let keys = 0;
const freshKey = (): string => `fleet-scripts:${process.pid}:${++keys}`;
const DAY = 86_400_000;
/** A report's arguments: kind, client, process, ms, trips, quorum, ttl. */
const report = (kind: string, client: string, proc: string, ms = 0, quorum = 1): (string | number)[] => [kind, client, proc, ms, 1, quorum, DAY];

describeWithRedis('the fleet scripts', () => {
  const redis = useRedisServer();

  it('a lease is refused while the opening still cools, with the wait until it ends; granted after; refused to another while held', async () => {
    const client = await redis.connect();
    const key = freshKey();
    await runReport(client, key, report('open', 'x', 'A', 5_000));
    const early = await runReport(client, key, report('lease', 'x', 'Q', 10_000));
    expect(early.granted).toBe(0);
    expect(early.waitMs).toBeGreaterThan(4_000);
    expect(early.waitMs).toBeLessThanOrEqual(5_000);
    await runReport(client, key, report('open', 'y', 'A', 0));
    expect(await runReport(client, key, report('lease', 'y', 'Q', 10_000))).toMatchObject({ granted: 1, waitMs: 10_000 });
    const other = await runReport(client, key, report('lease', 'y', 'R', 10_000));
    expect(other.granted).toBe(0);
    expect(other.waitMs).toBeGreaterThan(9_000);
    // Not open fleet-wide: probe as you like.
    expect((await runReport(client, key, report('lease', 'z', 'Q', 10_000))).granted).toBe(2);
    // Given back by its holder, granted to the next.
    await runReport(client, key, report('release', 'y', 'Q'));
    expect((await runReport(client, key, report('lease', 'y', 'R', 10_000))).granted).toBe(1);
  });

  it('quorum 2: one vote opens nothing, a second process opens it, and once open a single reopening needs no quorum', async () => {
    const client = await redis.connect();
    const key = freshKey();
    expect((await runReport(client, key, report('open', 'x', 'A', 5_000, 2))).value).toBe('');
    expect((await runReport(client, key, report('open', 'x', 'A', 5_000, 2))).value).toBe('');
    const opened = await runReport(client, key, report('open', 'x', 'B', 5_000, 2));
    expect(opened.value).toMatch(/^\d+\|1\|\d+$/);
    await runReport(client, key, report('close', 'x', 'B', 0, 2));
    const sync = await runSync(client, key, ['S', 'fp', 5_000, DAY, 3_600_000]);
    expect(sync.fields.has('o:x')).toBe(false);
  });

  it('a sync claims a prober lease only when asked to, per probe kind; a verdict is forgotten once nobody holds the health lease', async () => {
    const client = await redis.connect();
    const key = freshKey();
    const a = await runSync(client, key, ['A', 'fp', 5_000, DAY, 3_600_000, 'x', '', 0, 1]);
    expect([a.health, a.height]).toEqual([[], ['x']]);
    const b = await runSync(client, key, ['B', 'fp', 5_000, DAY, 3_600_000, 'x', '7', 1, 1]);
    expect([b.health, b.height]).toEqual([['x'], []]);
    expect(b.fields.get('ht:x')).toMatch(/^7\|\d+$/);
    await runReport(client, key, report('health', 'x', 'B', 1));
    expect((await runSync(client, key, ['A', 'fp', 5_000, DAY, 3_600_000])).fields.get('h:x')).toMatch(/^1\|/);
    // B's lease lapses (a 1 ms lease), and with it the verdict.
    await runSync(client, key, ['B', 'fp', 1, DAY, 3_600_000, 'x', '', 1, 0]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await runSync(client, key, ['A', 'fp', 5_000, DAY, 3_600_000])).fields.has('h:x')).toBe(false);
  });

  it('another fingerprint is answered by the sync, both ways', async () => {
    const client = await redis.connect();
    const key = freshKey();
    expect((await runSync(client, key, ['A', 'quorum=1', 5_000, DAY, 3_600_000])).theirs).toBe('');
    expect((await runSync(client, key, ['B', 'quorum=2', 5_000, DAY, 3_600_000])).theirs).toBe('quorum=1');
    expect((await runSync(client, key, ['A', 'quorum=1', 5_000, DAY, 3_600_000])).theirs).toBe('quorum=2');
  });
});
