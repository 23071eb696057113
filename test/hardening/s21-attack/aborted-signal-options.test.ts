import { describe, expect, it } from 'vitest';
import { AbortedError, ClientPool, InvalidOptionError, type RunOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Pins 4ed6f2c's third change: beside an already-aborted signal, a bad option value is reported as
// AbortedError (the reason as cause), with or without around hooks and onCallEnd; no hook runs for it.
// What is not a value stays InvalidOptionError: a misspelt key, a signal that is not an AbortSignal.

useUnhandledGuard({ time: 'real', quietWarnings: true });

const reason = new Error('gone');
const aborted = (): AbortSignal => AbortSignal.abort(reason);

const BAD: Record<string, RunOptions<string>> = {
  'method: ""': { method: '' },
  'key: 1': { key: 1 as never },
  'traceId: ""': { traceId: '' },
  'coalesce: ""': { coalesce: '' },
  'minHeight with coalesce': { coalesce: 'k', minHeight: 1 },
  'cache without coalesce': { cache: { ttl: 1 } },
  'maxWait: -1': { maxWait: -1 },
  'timeout: -1': { timeout: -1 },
  'timeout: null': { timeout: null as never },
  'deadline: 0': { deadline: 0 },
  'strategy: "nope"': { strategy: 'nope' as never },
  'cost: -1': { cost: -1 as never },
  'priority: "urgent"': { priority: 'urgent' as never },
  'retry: { attempts: -1 }': { retry: { attempts: -1 } },
  'hedge: { maxHedges: null }': { hedge: { maxHedges: null } as never },
  'cache: { ttl: -1 }': { coalesce: 'k', cache: { ttl: -1 } },
};

function pools(): Record<string, { pool: ClientPool<string>; hooks: () => number }> {
  let hookRuns = 0;
  const plain = new ClientPool<string>();
  plain.add('a');
  const hooked = new ClientPool<string>();
  hooked.use({ name: 'h', around: (_s, next) => (hookRuns++, next()), onCallEnd: () => undefined });
  hooked.add('a');
  return { plain: { pool: plain, hooks: () => 0 }, hooked: { pool: hooked, hooks: () => hookRuns } };
}

describe('a bad option value beside an already-aborted signal', () => {
  for (const [name, options] of Object.entries(BAD)) {
    it(`${name}: AbortedError (reason as cause), no hook, no fn, with and without hooks`, async () => {
      for (const { pool, hooks } of Object.values(pools())) {
        let runs = 0;
        const error = await pool.run((c) => (runs++, c), { ...options, signal: aborted() }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AbortedError);
        expect((error as AbortedError).cause).toBe(reason);
        expect(runs).toBe(0);
        expect(hooks()).toBe(0);
        await pool.close();
      }
    });
  }

  it('without the aborted signal the same values are InvalidOptionError', async () => {
    const { pool } = pools()['plain']!;
    for (const options of Object.values(BAD)) await expect(pool.run((c) => c, options)).rejects.toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('a misspelt key beside an aborted signal stays InvalidOptionError (a key, not a value)', async () => {
    const { pool } = pools()['plain']!;
    await expect(pool.run((c) => c, { signal: aborted(), timout: 5 } as never)).rejects.toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('a getter of a later option that aborts the signal and returns a bad value: AbortedError', async () => {
    const { pool } = pools()['hooked']!;
    const ac = new AbortController();
    const options = { signal: ac.signal, get method() { ac.abort(reason); return ''; } };
    const error = await pool.run((c) => c, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    await pool.close();
  });
});
