import { tracingChannel } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, ClientPool, InvalidOptionError } from '../../src/index.js';

// A call checks its signal before the values of its other options (readRunOptions, CallPlanner): an
// already-aborted call is refused with AbortedError whichever option is bad, with or without around
// hooks, `onCallEnd` or a trace. Options that cannot be read at all (a throwing getter) are refused as such: the signal is not known.

const BAD: [string, Record<string, unknown>][] = [
  ['maxWait -1', { maxWait: -1 }],
  ['key 5', { key: 5 }],
  ['method ""', { method: '' }],
  ['traceId ""', { traceId: '' }],
  ['coalesce ""', { coalesce: '' }],
  ['minHeight -1', { minHeight: -1 }],
  ['cache without coalesce', { cache: { ttl: 5 } }],
  ['timeout -1', { timeout: -1 }],
  ['priority "bogus"', { priority: 'bogus' }],
  ['retry null', { retry: null }],
  ['hedge { delay: -1 }', { hedge: { delay: -1 } }],
  ['coalesce with cache { ttl: -1 }', { coalesce: 'k', cache: { ttl: -1 } }],
];

type Watcher = 'none' | 'around' | 'onCallEnd' | 'trace';

const noop = (): void => {};
const trace = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
afterEach(() => tracingChannel('clientpool:call').unsubscribe(trace));

function poolWith(watcher: Watcher): ClientPool<string> {
  const pool = new ClientPool<string>();
  if (watcher === 'around') pool.use({ name: 'around', around: (_scope, next) => next() });
  if (watcher === 'onCallEnd') pool.use({ name: 'ends', onCallEnd: noop });
  if (watcher === 'trace') tracingChannel('clientpool:call').subscribe(trace);
  pool.add('a');
  return pool;
}

describe.each(['none', 'around', 'onCallEnd', 'trace'] as const)('an already-aborted call, watched by %s', (watcher) => {
  it.each(BAD)('with %s: AbortedError, the signal\'s reason as cause', async (_name, bad) => {
    const pool = poolWith(watcher);
    const reason = new Error('gone');
    const got = await pool.run((c) => c, { signal: AbortSignal.abort(reason), ...bad }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(AbortedError);
    expect((got as AbortedError).cause).toBe(reason);
    await pool.close();
  });

  it('control: with a live signal, maxWait -1 is InvalidOptionError', async () => {
    const pool = poolWith(watcher);
    const got = await pool.run((c) => c, { signal: new AbortController().signal, maxWait: -1 }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('control: options with a throwing getter beside an aborted signal are InvalidOptionError', async () => {
    const pool = poolWith(watcher);
    const options = { signal: AbortSignal.abort(), get timeout(): number { throw new Error('no'); } };
    expect(await pool.run((c) => c, options).catch((e: unknown) => e)).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('control: a signal that is not an AbortSignal is InvalidOptionError', async () => {
    const pool = poolWith(watcher);
    const got = await pool.run((c) => c, { signal: { aborted: true } as never, maxWait: -1 }).catch((e: unknown) => e);
    expect(got).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });
});
