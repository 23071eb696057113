/**
 * Nested option objects of a coalesced call are read more than once per call since 98ed2b9 (the check
 * before the flight, `CallPlanner.checked`, then the flight's own plan, then `runCached`), even with no
 * watcher: docs/call-pipeline.md says run() reads each option once, so that "a getter or a Proxy cannot
 * answer one way when checked and another ... when a stage reads it again". Not the known open part of
 * s20's fault 3 (a valid `cost` read twice *with an around hook*): these happen unwatched.
 *
 * Fixed since (session 21): a coalesced call is checked once, and the flight it starts runs on that check
 * (CallPlanner.runChecked), as a call with hooks runs on what scope() checked (CallPlanner.handOver).
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../src/index.js';
import { NONE, deferred, run, shape, watchedPool, type Watchers } from './helpers.js';

const AROUND: Watchers = { around: true, onCallEnd: false, trace: false };

describe('a coalesced call reads its nested options once', () => {
  it('a cache object with a ttl getter, no watcher: the getter is read once per call', async () => {
    const w = watchedPool(NONE);
    let reads = 0;
    const cache = { get ttl() { reads++; return 1_000; } };
    expect(shape(await run(w.pool, (c: string) => c, { coalesce: 'k', cache }))).toEqual({ resolved: 'a' });
    expect(reads).toBe(1);
    await w.done();
  });

  it('a cache object with a ttl getter, with an around hook: the getter is read once per call, as without', async () => {
    const w = watchedPool(AROUND);
    let reads = 0;
    const cache = { get ttl() { reads++; return 1_000; } };
    expect(shape(await run(w.pool, (c: string) => c, { coalesce: 'k', cache }))).toEqual({ resolved: 'a' });
    expect(reads).toBe(1);
    await w.done();
  });

  it('a cost object with a getter on a coalesced call, no watcher: read once per call, as on a call without coalesce', async () => {
    const w = watchedPool(NONE);
    let reads = 0;
    const cost = { get requests() { reads++; return 1; } };
    await run(w.pool, (c: string) => c, { cost });
    const plain = reads;
    reads = 0;
    await run(w.pool, (c: string) => c, { coalesce: 'k', cost });
    expect(plain).toBe(1);
    expect(reads).toBe(1);
    await w.done();
  });

  it('a per-call Balancer with a usesLatency getter, no watcher: read as often on a coalesced call as on a call without coalesce', async () => {
    const w = watchedPool(NONE);
    let reads = 0;
    const strategy = { pick: (ready: readonly unknown[]) => ready[0], get usesLatency() { reads++; return false; } };
    await run(w.pool, (c: string) => c, { strategy });
    const plain = reads;
    reads = 0;
    await run(w.pool, (c: string) => c, { coalesce: 'k', strategy });
    expect(reads).toBe(plain);
    await w.done();
  });

  it('a cache ttl getter answering 1000 then -1, with an around hook: the hook does not run for a call that is then refused', async () => {
    const w = watchedPool(AROUND);
    let reads = 0;
    const cache = { get ttl() { return reads++ === 0 ? 1_000 : -1; } };
    const got = await run(w.pool, (c: string) => c, { coalesce: 'k', cache });
    // Either the call runs with ttl 1000 (read once), or it is refused without its hook.
    if (!got.ok) expect(w.scopes).toHaveLength(0);
    else expect(reads).toBe(1);
    await w.done();
  });

  it.each([
    ['no watcher', NONE],
    ['an around hook', AROUND],
  ] as const)('with %s: a caller with good options that joins a flight is not refused for the starter\'s cost (a getter answering 1, then -1)', async (_name, watchers) => {
    const w = watchedPool(watchers);
    let reads = 0;
    // Valid at the check before the flight; -1 from the next read on.
    const checks = watchers.around ? 2 : 1;
    const cost = { get requests() { return reads++ < checks ? 1 : -1; } };
    const flight = deferred<string>();
    const starter = run(w.pool, () => flight.promise, { coalesce: 'k', cost });
    const joiner = run(w.pool, () => 'own', { coalesce: 'k' });
    flight.resolve('v');
    const [, j] = await Promise.all([starter, joiner]);
    // The starter was checked valid and joined by a caller whose own options are fine: that caller is not
    // refused with an InvalidOptionError about cost.requests, an option it never gave.
    expect(j.value).not.toBeInstanceOf(InvalidOptionError);
    await w.done();
  });
});

describe('controls (passing): values, not getters', () => {
  it('a coalesced call with a plain cache and cost objects resolves and serves the second caller from the cache', async () => {
    const w = watchedPool({ around: true, onCallEnd: true, trace: true });
    let runs = 0;
    const options = { coalesce: 'k', cache: { ttl: 1_000 }, cost: { requests: 1 } };
    expect(shape(await run(w.pool, () => (runs++, 'v'), options))).toEqual({ resolved: 'v' });
    expect(shape(await run(w.pool, () => (runs++, 'w'), options))).toEqual({ resolved: 'v' });
    expect(runs).toBe(1);
    expect(w.ends.map((e) => e.source)).toEqual(['upstream', 'cache']);
    await w.done();
  });
});
