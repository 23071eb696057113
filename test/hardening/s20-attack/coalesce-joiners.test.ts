import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';
import { describe_, settle } from './helpers.js';

// #run joins a coalesce flight before it checks the call's plan, retry and hedge (src/pool.ts, core.coalesce
// ahead of planner.plan): a caller whose own options are bad joins a flight and resolves, and a caller with
// good options that joins a flight started by bad options gets their InvalidOptionError. With an around hook,
// CallPlanner.scope() refuses the joiner's bad options, so its hooks are skipped for a call that then resolves.

function make(withHook: boolean): { pool: ClientPool<string>; scopes: unknown[] } {
  const pool = new ClientPool<string>();
  const scopes: unknown[] = [];
  if (withHook) pool.use({ name: 'around', around: (scope, next) => { scopes.push(scope.options); return next(); } });
  pool.add('a', { name: 'a' });
  return { pool, scopes };
}

const BAD_JOINERS: [string, Record<string, unknown>][] = [
  ['timeout -1', { timeout: -1 }],
  ['deadline 0', { deadline: 0 }],
  ['priority "bogus"', { priority: 'bogus' }],
  ['strategy "bogus"', { strategy: 'bogus' }],
  ['retry { attempts: 0 }', { retry: { attempts: 0 } }],
  ['hedge { delay: -1 }', { hedge: { delay: -1 } }],
];

describe.each([false, true])('with an around hook: %s', (withHook) => {
  it.each(BAD_JOINERS)('a caller with %s joining a coalesce flight in progress is refused with InvalidOptionError', async (_name, bad) => {
    const { pool } = make(withHook);
    let release!: (v: string) => void;
    const first = pool.run(() => new Promise<string>((r) => (release = r)), { coalesce: 'k' });
    await new Promise((r) => setImmediate(r));
    const joiner = settle(pool.run((c) => c, { coalesce: 'k', ...bad }));
    release('shared');
    expect(await first).toBe('shared');
    const got = await joiner;
    expect(got.ok).toBe(false);
    expect(got.value).toBeInstanceOf(InvalidOptionError);
    await pool.close();
  });

  it('a caller with good options, joining (in the same tick) a flight started by a call with timeout -1, is not refused for the other call\'s timeout', async () => {
    const { pool } = make(withHook);
    const bad = settle(pool.run((c) => c, { coalesce: 'k', timeout: -1 }));
    const good = settle(pool.run((c) => c, { coalesce: 'k' }));
    expect((await bad).value).toBeInstanceOf(InvalidOptionError);
    expect(await good).toEqual({ ok: true, value: 'a' });
    await pool.close();
  });
});

describe('a coalesce joiner whatever watches it', () => {
  it('a joiner with timeout -1 gets the same answer with and without an around hook, and its hook is skipped only when it is refused (it ran when the joiner resolved)', async () => {
    const outcomes: unknown[] = [];
    for (const withHook of [false, true]) {
      const { pool, scopes } = make(withHook);
      let release!: (v: string) => void;
      const first = pool.run(() => new Promise<string>((r) => (release = r)), { coalesce: 'k' });
      await new Promise((r) => setImmediate(r));
      const joiner = settle(pool.run((c) => c, { coalesce: 'k', timeout: -1 }));
      release('shared');
      await first;
      const got = await joiner;
      outcomes.push(describe_(got));
      // The first caller's hook ran once; the joiner's, once if it resolved, never if refused.
      if (withHook) expect(scopes.length - 1).toBe(got.ok ? 1 : 0);
      await pool.close();
    }
    expect(outcomes[1]).toEqual(outcomes[0]);
  });
});
