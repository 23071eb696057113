// `maxWait: 0` means no wait: a call that finds no client free fails at once. Queued even for 0 ms, it
// would be served by a slot freed before the queue's timer ran, or on a stalled loop (whose late timers
// wait for I/O) by whatever ended first: a busy machine decided the outcome (found as a flaky test).
import { expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';

it('maxWait 0: a call finding every client at its cap fails at once with ERR_CONCURRENCY_LIMITED, even if a slot frees before any timer runs', async () => {
  const pool = new ClientPool<string>({ maxWait: 0 });
  pool.add('a', { name: 'a', maxInFlight: 1 });
  let release!: () => void;
  const held = pool.run(() => new Promise<void>((resolve) => (release = resolve)));
  const over = pool.run(() => 'over');
  const outcome = over.then(
    () => 'served',
    (error: { code?: string }) => error.code,
  );
  release();
  await held;
  expect(await outcome).toBe('ERR_CONCURRENCY_LIMITED');
  await pool.close();
});

it('maxWait 0 with every client out of tokens: RateLimitedError at once, with the wait it would have needed', async () => {
  const pool = new ClientPool<string>({ maxWait: 0 });
  pool.add('a', { name: 'a', limit: { rate: 1, burst: 1 } });
  await pool.run((c) => c);
  await expect(pool.run((c) => c)).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' });
  await pool.close();
});
