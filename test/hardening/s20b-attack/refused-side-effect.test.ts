/**
 * A refused call leaves the pool as it was. A coalesced call is checked before its flight
 * (CallPlanner.checked), `cache` first, as runCached refuses it without hooks: a call refused for its
 * `cache` builds no policy, so its valid quantile hedge does not turn latency timing (and the hedge-delay
 * recording) on for the rest of the pool's life. (helper-91's fault 5, a regression of 98ed2b9, fixed.)
 */
import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';
import { settle } from './helpers.js';

const QUANTILE = { delay: { quantile: 0.5 } };

async function timedAfter(refused: Record<string, unknown>, withHook: boolean): Promise<boolean> {
  const clock = { t: 0 };
  const pool = new ClientPool<string>({ clock: { now: () => clock.t } });
  if (withHook) pool.use({ name: 'around', around: (_s, next) => next() });
  pool.add('a', { name: 'a' });
  const got = await settle(pool.run((c) => c, refused));
  expect(got.value).toBeInstanceOf(InvalidOptionError);
  await pool.run((c) => {
    clock.t += 5;
    return c;
  });
  const timed = (pool.members()[0]!.latencyMs ?? 0) > 0;
  await pool.close();
  return timed;
}

describe('a refused call with a valid quantile hedge leaves latency timing off', () => {
  it.each([false, true])('refused for its cache { ttl: -1 } (around hook: %s): timing stays off', async (withHook) => {
    expect(await timedAfter({ coalesce: 'k', cache: { ttl: -1 }, hedge: QUANTILE }, withHook)).toBe(false);
  });

  it.each([false, true])('refused for cache staleIfError without onStale (around hook: %s): timing stays off', async (withHook) => {
    expect(await timedAfter({ coalesce: 'k', cache: { ttl: 5, staleIfError: 5 }, hedge: QUANTILE }, withHook)).toBe(false);
  });

  it.each([false, true])('control: refused for timeout -1 (around hook: %s): timing stays off', async (withHook) => {
    expect(await timedAfter({ coalesce: 'k', timeout: -1, hedge: QUANTILE }, withHook)).toBe(false);
  });

  it.each([false, true])('control: refused for retry { attempts: null } (around hook: %s): timing stays off', async (withHook) => {
    expect(await timedAfter({ retry: { attempts: null }, hedge: QUANTILE }, withHook)).toBe(false);
  });
});
