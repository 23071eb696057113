// The ESM sources and a CommonJS copy (test/helpers/cjs-copy.ts) in one process, for what 2680441 and
// 80d4526 touched: a breaker of one build (its own CLOSED singleton) in the other's pool, timed calls of
// both pools interleaved on one event loop, and uncapped clients' snapshots in both builds.
import { describe, expect, it, vi } from 'vitest';
import * as Api from '../../../src/index.js';
import { useCjsCopy } from '../../helpers/cjs-copy.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

type Lib = typeof Api;
interface Fake {
  readonly id: string;
}

const cjsCopy = useCjsCopy();
const esm: Lib = Api;
/** The CommonJS copy, bundled before the tests run. */
const cjsLib = (): Lib => cjsCopy.current;

useUnhandledGuard({ time: 'fake', quietWarnings: true });

const BUILDS = [
  ['ESM pool', 'CJS breaker'],
  ['CJS pool', 'ESM breaker'],
] as const;

const code = async (call: Promise<unknown>): Promise<string> => {
  try {
    return `value ${String(await call)}`;
  } catch (error) {
    return `error ${(error as { code?: string }).code ?? String(error)}`;
  }
};

describe('a circuit of one build in the pool of the other', () => {
  for (const [poolBuild, breakerBuild] of BUILDS) {
    const poolLib = (): Lib => (poolBuild === 'ESM pool' ? esm : cjsLib());
    const breakerLib = (): Lib => (poolBuild === 'ESM pool' ? cjsLib() : esm);

    it(`${poolBuild} with a ${breakerBuild}: opens, probes and closes, with exactly those three transitions heard`, async () => {
      const clock = new ManualClock();
      const pool = new (poolLib().ClientPool)<Fake>({ clock, breaker: ({ clock: c }) => new (breakerLib().ConsecutiveBreaker)({ maxFailures: 1, cooldown: 10 }, c) });
      pool.add({ id: 'a' }, { name: 'a' });
      const changes: string[] = [];
      pool.onStateChange((change) => changes.push(`${change.from.kind}->${change.to.kind}`));
      expect(await code(pool.run(() => 'first'))).toBe('value first');
      expect(await code(pool.run(() => Promise.reject(new Error('down'))))).toBe('error ERR_CLIENT_CALL');
      expect(await code(pool.run(() => 'x'))).toBe('error ERR_ALL_CIRCUITS_OPEN');
      clock.advance(10);
      expect(await code(pool.run(() => 'probe'))).toBe('value probe');
      expect(pool.members()[0]!.state).toBe(breakerLib().CLOSED);
      expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
      await pool.close();
    });
  }
});

describe('timed calls of both builds on one loop', () => {
  it('an ESM and a CJS pool, each with calls of one timeout started from inside the other\'s: each times out or answers as its own', async () => {
    const clock = { now: (): number => Date.now() };
    const a = new esm.ClientPool<Fake>({ clock, breaker: false });
    const b = new (cjsLib().ClientPool)<Fake>({ clock, breaker: false });
    a.add({ id: 'a' }, { name: 'a' });
    b.add({ id: 'b' }, { name: 'b' });
    const never = (): Promise<never> => new Promise<never>(() => undefined);
    const inner: Promise<string>[] = [];
    const outer = [
      a.run(() => {
        inner.push(code(b.run(never, { timeout: 5 })), code(b.run(() => 'b-answer', { timeout: 5 })));
        return 'a-answer';
      }, { timeout: 5 }),
      b.run(() => {
        inner.push(code(a.run(never, { timeout: 5 })));
        return never();
      }, { timeout: 5 }),
    ].map(code);
    await vi.advanceTimersByTimeAsync(5);
    expect(await Promise.all(outer)).toEqual(['value a-answer', 'error ERR_TIMEOUT']);
    expect(await Promise.all(inner)).toEqual(['error ERR_TIMEOUT', 'value b-answer', 'error ERR_TIMEOUT']);
    expect([...a.members(), ...b.members()].map((m) => m.inFlight)).toEqual([0, 0]);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('uncapped clients in both builds', () => {
  for (const build of ['ESM', 'CJS'] as const) {
    it(`${build}: no cap is undefined, a cap of 2^31-1 is 2^31-1`, async () => {
      const lib = build === 'ESM' ? esm : cjsLib();
      const pool = new lib.ClientPool<Fake>();
      pool.add({ id: 'free' }, { name: 'free' });
      pool.add({ id: 'max' }, { name: 'max', maxInFlight: 2 ** 31 - 1 });
      expect(pool.members().map((m) => m.maxInFlight)).toEqual([undefined, 2 ** 31 - 1]);
      await pool.close();
    });
  }
});
