import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError, type PoolOptions } from '../../../src/index.js';

// Was a fault (s22 #6, fixed in session 22): several pool-level options took `null` as "not given"
// (`options.x ?? default`) and ran with their default, while `timeout: null`, `deadline: null`, `retry.backoff.*: null` and run()'s
// `maxWait: null` are refused. README Options: "Durations are milliseconds, at most 2^31-1; a bad value
// throws InvalidOptionError at once"; docs/call-pipeline.md: "`null` is a value, never 'not given' ...
// as `undefined` alone means the default". A JSON config with `"maxWait": null` silently waits 1 s.
// The whole kind is fixed (`givenOr` wherever a default is put in before a check): the non-duration
// options with the same `??` are pinned below too.

const refusedNull: Record<string, PoolOptions<string>> = {
  maxWait: { maxWait: null as unknown as number },
  'breaker.cooldown': { breaker: { cooldown: null as unknown as number } },
  'healthCheck.interval': { healthCheck: { check: () => Promise.resolve(), interval: null as unknown as number } },
  'healthCheck.timeout': { healthCheck: { check: () => Promise.resolve(), timeout: null as unknown as number } },
  'freshness.interval': { freshness: { height: () => Promise.resolve(1), interval: null as unknown as number } },
  'freshness.timeout': { freshness: { height: () => Promise.resolve(1), timeout: null as unknown as number } },
  'breaker.maxFailures': { breaker: { maxFailures: null as unknown as number } },
  'breaker.halfOpenProbes': { breaker: { halfOpenProbes: null as unknown as number } },
  maxEjectedPercent: { maxEjectedPercent: null as unknown as number },
  'retryBudget.ratio': { retryBudget: { ratio: null as unknown as number } },
  'retryBudget.reserve': { retryBudget: { reserve: null as unknown as number } },
  'slowStart.minShare': { slowStart: { minShare: null as unknown as number } } as PoolOptions<string>,
  'limit.burst': { limit: { rate: 10, burst: null as unknown as number } },
  'healthCheck.unhealthyThreshold': { healthCheck: { check: () => Promise.resolve(), unhealthyThreshold: null as unknown as number } },
  'freshness.corroboration': { freshness: { height: () => Promise.resolve(1), corroboration: null as unknown as number } },
  measureLatency: { measureLatency: null as unknown as boolean },
  strategy: { strategy: null as unknown as 'round-robin' },
};

describe('null given for a pool duration', () => {
  for (const [option, options] of Object.entries(refusedNull)) {
    it(`${option}: null is refused with InvalidOptionError`, async () => {
      let thrown: unknown;
      try {
        await new ClientPool<string>(options).close(); // were it accepted: closed, so no probe timer is left
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidOptionError);
    });
  }

  it('control: pool timeout / deadline / retry.backoff.initial null, and run() maxWait null, are refused', async () => {
    for (const options of [{ timeout: null }, { deadline: null }, { retry: { attempts: 2, backoff: { initial: null } } }] as unknown as PoolOptions<string>[]) {
      expect(() => new ClientPool<string>(options)).toThrow(InvalidOptionError);
    }
    const pool = new ClientPool<string>();
    pool.add('a');
    await expect(pool.run(() => 'v', { maxWait: null as unknown as number })).rejects.toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it("add()'s weight: null is refused with InvalidOptionError", async () => {
    const pool = new ClientPool<string>();
    expect(() => pool.add('a', { weight: null as unknown as number })).toThrow(InvalidOptionError);
    await pool.close();
  });
});
