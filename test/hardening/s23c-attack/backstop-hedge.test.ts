import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type MemberSnapshot } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { advance, codeOf, ending, hanging, StillClock } from '../s23b-attack/rig.js';

// A hedge's wait (pool limit that never answers for it) with the call's deadline nearly spent.
useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

const inFlight = (pool: ClientPool<string>): number => pool.members().reduce((s: number, m: MemberSnapshot) => s + m.inFlight, 0);

describe.each([
  // On a still clock the deadline is read on the pool clock, which says 2 000 are left when the hedge
  // starts waiting at 500: its backstop fires at 2 500 (docs/call-pipeline.md: "On a clock that does not
  // move, no deadline would ever pass"). Recorded as seen, not a fault.
  ['moving', (): { now(): number } => ({ now: () => Date.now() }), 2_000],
  ['still', (): { now(): number } => new StillClock(), 2_500],
] as const)('hedge at 500, deadline 2 000, clock %s', (_name, makeClock, at) => {
  it('the call ends by its deadline (on the pool clock) with DeadlineExceededError; inFlight 0 and nothing armed after', async () => {
    let takes = 0;
    const limit = { take: (): Promise<void> => (++takes === 1 ? Promise.resolve() : new Promise<void>(() => {})), tryTake: (): boolean => takes++ === 0 };
    const pool = new ClientPool<string>({ clock: makeClock(), maxWait: 1_000, limit, hedge: { delay: 500 } });
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    const h = hanging();
    const e = ending(pool.run(h.fn, { deadline: 2_000 }));
    await advance(3_000);
    const seen = { at: e.at, code: codeOf(e.value) };
    h.release();
    await advance(10);
    expect(seen).toEqual({ at, code: 'ERR_DEADLINE_EXCEEDED' });
    expect(inFlight(pool)).toBe(0);
    await pool.destroy();
    expect(vi.getTimerCount()).toBe(0);
  });
});
