// The process holding a client's half-open probe lease is SIGKILLed mid-probe: no other process probes
// while the lease lasts (never two probing at once), and another one probes once it has expired.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { describeWithRedis, useRedisServer } from '../../redis/describe-with-redis.js';
import { failOnUnhandled, freshKey, processPool, sleep, stateOf, until, upstream } from '../fleet/fleet-harness.js';

const CHILD = fileURLToPath(new URL('./lease-holder-child.ts', import.meta.url));
failOnUnhandled();

describeWithRedis('RedisFleet: the probe lease holder SIGKILLed', () => {
  const fixture = useRedisServer();
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('another process waits out the lease, then probes and closes the client', { timeout: 40_000 }, async () => {
    const key = freshKey();
    const probeLease = 1_500;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, String(fixture.server.port), key, String(probeLease)], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.kill('SIGKILL'));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
    await until(() => stdout.includes('PROBING'), 20_000, 'the child probing');

    const x = upstream('x');
    const b = processPool(await fixture.connect(), key, [x], { probeLease }, { breaker: { maxFailures: 1, cooldown: 200, halfOpenProbes: 1 } });
    cleanups.push(() => b.pool.close({ signal: AbortSignal.timeout(2_000) }));
    // b joins after the opening: before its first sync it cannot know of it, so it waits for one.
    await until(() => b.fleet.stats.syncs > 0, 8_000, 'b synced');
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        await b.call().catch(() => undefined);
        await sleep(10);
      }
    })();
    cleanups.push(async () => {
      stop = true;
      await traffic;
    });
    // The child holds the lease and is probing: b sends x nothing.
    await sleep(300);
    expect(x.calls).toBe(0);
    child.kill('SIGKILL');
    // Once the dead child's lease (1.5 s) expires, b takes it and probes: bounded by the wait, with room for a busy machine.
    await until(() => x.calls > 0, probeLease + 10_000, 'b probing x');
    await until(() => stateOf(b.pool, 'x') === 'closed', 8_000, 'x closed on b');
  });
});
