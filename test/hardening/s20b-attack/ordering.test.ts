/**
 * The order of refusals (docs/call-pipeline.md): a closed pool, then a bad `fn`, then an aborted signal,
 * then bad option values; the same whatever watches the call (around, onCallEnd, a `clientpool:call`
 * trace, every combination), each watcher hearing the call exactly once, no around hook for a refused call.
 */
import { describe, expect, it } from 'vitest';
import { ALL_WATCHERS, NONE, inFlight, noUnhandled, run, shape, traced, watchName, watchedPool, type Settled, type Watchers } from './helpers.js';

type OptionsCase = [string, (signal: AbortSignal | undefined) => unknown];

const throwing = (signal: AbortSignal | undefined): unknown => {
  const o: Record<string, unknown> = { method: 'get' };
  if (signal !== undefined) o['signal'] = signal;
  Object.defineProperty(o, 'timeout', { enumerable: true, get: () => { throw new Error('getter broke'); } });
  return o;
};

const OPTIONS: OptionsCase[] = [
  ['valid { method }', (signal) => ({ method: 'get', signal })],
  ['valid, no options', () => undefined],
  ['timeout -1', (signal) => ({ method: 'get', signal, timeout: -1 })],
  ['maxWait -1 (checked as read)', (signal) => ({ method: 'get', signal, maxWait: -1 })],
  ['a getter that throws', throwing],
  ['unknown key', (signal) => ({ method: 'get', signal, timout: 5 })],
  ['retry null', (signal) => ({ method: 'get', signal, retry: null })],
  ['retry { attempts: null }', (signal) => ({ method: 'get', signal, retry: { attempts: null } })],
  ['hedge { delay: 5, maxHedges: null }', (signal) => ({ method: 'get', signal, hedge: { delay: 5, maxHedges: null } })],
  ['hedge { delay: { quantile: 0.5, min: null } }', (signal) => ({ method: 'get', signal, hedge: { delay: { quantile: 0.5, min: null } } })],
  ['coalesce with cache { ttl: -1 }', (signal) => ({ method: 'get', signal, coalesce: 'k', cache: { ttl: -1 } })],
  ['coalesce with timeout -1', (signal) => ({ method: 'get', signal, coalesce: 'k', timeout: -1 })],
  ['coalesce, valid', (signal) => ({ method: 'get', signal, coalesce: 'k' })],
  ['cost { tokens: null }', (signal) => ({ method: 'get', signal, cost: { tokens: null } })],
  ['strategy "bogus"', (signal) => ({ method: 'get', signal, strategy: 'bogus' })],
];

const abortedSignal = (): AbortSignal => AbortSignal.abort(new Error('gone'));

interface Case {
  readonly closed: boolean;
  readonly badFn: boolean;
  readonly aborted: boolean;
  readonly options: OptionsCase;
}

const CASES: Case[] = [];
for (const closed of [false, true]) for (const badFn of [false, true]) for (const aborted of [false, true]) for (const options of OPTIONS) CASES.push({ closed, badFn, aborted, options });

function caseName(c: Case): string {
  return `${c.closed ? 'closed pool' : 'open pool'}, ${c.badFn ? 'fn 42' : 'a function'}, ${c.aborted ? 'aborted signal' : 'no abort'}, ${c.options[0]}`;
}

async function attempt(w: Watchers, c: Case): Promise<{ got: Settled; fnRuns: number; scopes: number; ends: number; starts: number; asyncEnds: number; leftInFlight: number; ends0: unknown }> {
  const watched = watchedPool(w);
  let fnRuns = 0;
  const fn = c.badFn ? 42 : (client: string): string => {
    fnRuns++;
    return client;
  };
  if (c.closed) await watched.pool.close();
  // An options object without a signal for the no-abort cases (a given undefined signal is the same).
  const options = c.options[1](c.aborted ? abortedSignal() : undefined);
  if (c.aborted && options === undefined) return { got: { ok: true, value: 'skip' }, fnRuns: 0, scopes: 0, ends: 0, starts: 0, asyncEnds: 0, leftInFlight: 0, ends0: undefined };
  const got = await run(watched.pool, fn, options);
  const result = {
    got,
    fnRuns,
    scopes: watched.scopes.length,
    ends: watched.ends.length,
    ends0: watched.ends[0]?.error,
    starts: traced(watched, 'start'),
    asyncEnds: traced(watched, 'asyncEnd'),
    leftInFlight: inFlight(watched.pool),
  };
  await watched.done();
  return result;
}

describe('refusal order and watchers: every combination of closed, bad fn, aborted signal and options', () => {
  it.each(CASES.map((c) => [caseName(c), c] as const))('%s: the same answer under every watcher, each watcher hears it once, no around hook for a refused call', async (_name, c) => {
    const seen = await noUnhandled(async () => {
      const expected = await attempt(NONE, c);
      if (expected.got.value === 'skip') return;
      // The unwatched order: closed, fn, aborted, options.
      if (c.closed) expect(shape(expected.got)).toMatchObject({ code: 'ERR_POOL_CLOSED' });
      else if (c.badFn) expect(shape(expected.got)).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'fn' });
      for (const w of ALL_WATCHERS.slice(1)) {
        const got = await attempt(w, c);
        expect({ w: watchName(w), got: shape(got.got) }).toEqual({ w: watchName(w), got: shape(expected.got) });
        expect({ w: watchName(w), fnRuns: got.fnRuns }).toEqual({ w: watchName(w), fnRuns: expected.fnRuns });
        if (w.around) expect({ w: watchName(w), scopes: got.scopes }).toEqual({ w: watchName(w), scopes: got.got.ok ? 1 : got.scopes });
        if (w.around && !got.got.ok && expected.fnRuns === 0) expect({ w: watchName(w), scopes: got.scopes }).toEqual({ w: watchName(w), scopes: 0 });
        if (w.onCallEnd) {
          expect({ w: watchName(w), ends: got.ends }).toEqual({ w: watchName(w), ends: 1 });
          expect(got.ends0).toBe(got.got.ok ? undefined : got.got.value);
        }
        if (w.trace) {
          expect({ w: watchName(w), starts: got.starts, asyncEnds: got.asyncEnds }).toEqual({ w: watchName(w), starts: 1, asyncEnds: 1 });
        }
        expect(got.leftInFlight).toBe(0);
      }
    });
    expect(seen).toEqual([]);
  });
});
