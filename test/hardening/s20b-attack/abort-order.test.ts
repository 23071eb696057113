/**
 * The order of refusals: a closed pool, then a bad fn, then an already-aborted signal, then bad option
 * values (CallPlanner.scope: "Refused as aborted whatever else it holds (the call checks its signal
 * first)"). Holds for values checked by the plan and policies (timeout -1, priority 'bogus', retry null:
 * AbortedError), but not for values checked while the options are read (readRunOptions: maxWait, key,
 * method, traceId, coalesce, minHeight, cache without coalesce): those win over the aborted signal, so
 * which error an aborted call gets depends on which option is bad. Same with and without watchers.
 *
 * Fixed since (session 21): readRunOptions refuses such a call with AbortedError too.
 */
import { describe, expect, it } from 'vitest';
import { ALL_WATCHERS, run, shape, watchName, watchedPool } from './helpers.js';

const READ_CHECKED: [string, Record<string, unknown>][] = [
  ['maxWait -1', { maxWait: -1 }],
  ['key 5', { key: 5 }],
  ['method ""', { method: '' }],
  ['traceId ""', { traceId: '' }],
  ['coalesce ""', { coalesce: '' }],
  ['minHeight -1', { minHeight: -1 }],
  ['cache { ttl: 5 } without coalesce', { cache: { ttl: 5 } }],
];

const PLAN_CHECKED: [string, Record<string, unknown>][] = [
  ['timeout -1', { timeout: -1 }],
  ['priority "bogus"', { priority: 'bogus' }],
  ['retry null', { retry: null }],
  ['hedge { delay: -1 }', { hedge: { delay: -1 } }],
  ['coalesce "k" with cache { ttl: -1 }', { coalesce: 'k', cache: { ttl: -1 } }],
];

describe('an already-aborted signal is reported before bad option values', () => {
  it.each(READ_CHECKED)('an aborted signal with %s: AbortedError under every watcher, as with timeout -1', async (_name, bad) => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w);
      const got = await run(watched.pool, (c: string) => c, { signal: AbortSignal.abort(), ...bad });
      expect({ w: watchName(w), got: shape(got) }).toMatchObject({ w: watchName(w), got: { code: 'ERR_ABORTED' } });
      await watched.done();
    }
  });

  it.each(PLAN_CHECKED)('control: an aborted signal with %s: AbortedError under every watcher', async (_name, bad) => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w);
      const got = await run(watched.pool, (c: string) => c, { signal: AbortSignal.abort(), ...bad });
      expect({ w: watchName(w), got: shape(got) }).toMatchObject({ w: watchName(w), got: { code: 'ERR_ABORTED' } });
      await watched.done();
    }
  });

  it('control: options that cannot be read (a getter that throws) with an aborted signal: InvalidOptionError (cannot know the signal)', async () => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w);
      const options = { signal: AbortSignal.abort(), get timeout(): number { throw new Error('no'); } };
      const got = await run(watched.pool, (c: string) => c, options);
      expect({ w: watchName(w), got: shape(got) }).toMatchObject({ w: watchName(w), got: { code: 'ERR_INVALID_OPTION' } });
      await watched.done();
    }
  });
});
