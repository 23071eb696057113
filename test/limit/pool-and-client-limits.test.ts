// A pool-wide limit and a client's own limit together: a call waiting for a client token neither spins nor
// pays twice at the pool. (Found by the token-bucket property in test/hardening/properties.test.ts.)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ClientPool, TokenBucket } from '../../src/index.js';

interface Fake {
  readonly id: number;
}

describe('a pool-wide limit and a client limit together', () => {
  // TokenBucket.waitTime(1) can say 0 while tryTake(1) refuses (the 1000/7 ms interval rounds); the pick
  // must not then loop for ever (throttle until now, back to ready, pick, refuse...). A spinning pool blocks
  // its event loop, so the check runs in a child process; its time limit only catches the hang, and is far
  // above what a busy machine needs to start tsx.
  it('a client bucket whose waitTime(1) rounds to 0 while tryTake(1) refuses does not hang the pool (child process)', () => {
    const script = fileURLToPath(new URL('fixtures/bucket-spin.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: child.status, stdout: child.stdout.trim() }).toEqual({ status: 0, stdout: 'done' });
  }, 90_000);

  // The call takes the pool-wide token on the fast path, finds every client out of its own tokens, and
  // queues: the queue must not take a second pool-wide token for it.
  it('a call that must wait for a client token takes one pool-wide token, not two', async () => {
    const clock = { now: () => 0 };
    const poolBucket = new TokenBucket({ rate: 10, burst: 10, clock });
    const pool = new ClientPool<Fake>({ clock, limit: poolBucket, maxWait: 0 });
    pool.add({ id: 0 }, { name: 'c0', limit: { rate: 1, burst: 1 } });
    await pool.run(() => 'first');
    expect(poolBucket.available).toBe(9);
    // c0 has no token left and maxWait is 0: the call fails with RateLimitedError...
    await expect(pool.run(() => 'second')).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
    // ...having taken one pool-wide token, not two, and given it back since it reached no client: 9.
    expect(poolBucket.available).toBe(9);
  });
});
