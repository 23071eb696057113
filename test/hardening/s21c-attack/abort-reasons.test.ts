import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { gate, state, turns, errorOf } from '../../helpers/promise-state.js';
import { inFlight } from '../../helpers/watched-pool.js';

// Pins: a held call aborted with an odd reason (undefined, null, 0, a string, a plain object, an Error)
// rejects as a call aborted anywhere else does: AbortedError with the signal's reason as its `cause`,
// the same message and code whether the call was aborted before run(), held in its hook, waiting for a
// client, or in flight. README `signal`: "aborts the call: it rejects with `AbortedError` (the reason as `cause`)".

useUnhandledGuard({ time: 'real', quietWarnings: true });

type Where = 'before run' | 'held' | 'waiting for a client' | 'in flight';
const WHERE: Where[] = ['before run', 'held', 'waiting for a client', 'in flight'];

async function abortedAt(where: Where, abort: (ac: AbortController) => void): Promise<{ error: AbortedError; reason: unknown; fnRuns: number }> {
  const pool = new ClientPool<string>({});
  const hookGate = gate();
  pool.use({ name: 'hook', around: async (scope, next) => { if (where === 'held') await hookGate.promise; return next(); } });
  pool.add('a', { name: 'a', maxInFlight: 1 });
  const blocker = gate();
  let fnRuns = 0;
  let block: Promise<unknown> | undefined;
  if (where === 'waiting for a client') block = pool.run(() => blocker.promise.then(() => 'x'), { maxWait: 60_000 });
  const ac = new AbortController();
  if (where === 'before run') abort(ac);
  const seen = state(pool.run((_c, call) => { fnRuns++; return new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('stopped')))); }, { signal: ac.signal, maxWait: 60_000 }));
  await turns();
  if (where !== 'before run') abort(ac);
  await turns();
  hookGate.open();
  blocker.open();
  await block;
  await turns();
  expect(inFlight(pool)).toBe(0);
  await pool.close();
  return { error: errorOf(seen()) as AbortedError, reason: ac.signal.reason, fnRuns };
}

describe('odd abort reasons, held and elsewhere', () => {
  const reasons: [string, (ac: AbortController) => void][] = [
    ['abort()', (ac) => ac.abort()],
    ['abort(undefined)', (ac) => ac.abort(undefined)],
    ['abort(null)', (ac) => ac.abort(null)],
    ['abort(0)', (ac) => ac.abort(0)],
    ["abort('why')", (ac) => ac.abort('why')],
    ['abort({ plain })', (ac) => ac.abort({ plain: true })],
    ['abort(new Error)', (ac) => ac.abort(new Error('e'))],
  ];
  for (const [name, abort] of reasons) {
    it(`${name}: AbortedError, the reason as cause, same message and code wherever the call was`, async () => {
      const results = [];
      for (const where of WHERE) results.push({ where, ...(await abortedAt(where, abort)) });
      for (const r of results) {
        expect(r.error, r.where).toBeInstanceOf(AbortedError);
        expect(r.error.cause, r.where).toBe(r.reason);
        expect(r.error.code, r.where).toBe('ERR_ABORTED');
      }
      expect(new Set(results.map((r) => r.error.message)).size).toBe(1);
      expect(results.map((r) => r.fnRuns)).toEqual([0, 0, 0, 1]);
    });
  }
});
