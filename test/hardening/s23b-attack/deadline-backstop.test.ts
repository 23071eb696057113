import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type Limiter, type TakeOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { advance, codeOf, ending, hanging, OVERDUE_MS, StillClock } from './rig.js';

// Status: fails at HEAD 76e003a; passes against uncommitted src/ changes by someone else seen in the
// working tree at 06:02 UTC (see NOTES.md).
// Was a fault (S23B-1, fixed in session 23: `overdueOf` gives up a wait at what is left of the deadline, with DeadlineExceededError). A call whose `deadline` falls between `maxWait` and `maxWait` + 5 s outlives its deadline
// while it waits (for a pool `limit` token or for a client), on a clock that does not move, and for a custom
// limiter that does not answer even on a clock that moves: the wait is not "cut" (what is left of the
// deadline >= maxWait), so its backstop is set at maxWait + 5 s (src/pipeline/pool-token.ts `overdueMs`),
// past the deadline, and nothing else ends a waiting call at its deadline. The caller gets RateLimitedError /
// ConcurrencyLimitedError at maxWait + 5 s instead of DeadlineExceededError at the deadline.
// Expected (docs/call-pipeline.md): "the pool also gives up every wait by a timer of its own, `maxWait` + 5 s
// after it began (none past the call's deadline)"; README options: `deadline` "ms for the whole call from
// `run()`, every attempt, backoff, hedge and wait included; past it, `DeadlineExceededError`".
// Controls: a deadline shorter than maxWait (the wait is cut: ends at the deadline), and one longer than
// maxWait + 5 s (the backstop at maxWait + 5 s, RateLimitedError) behave as documented.
// Suspected cause: `overdueMs(attempt, maxWait)` returns `maxWait + OVERDUE_MS` whenever `!isWaitCut`; it
// should be `min(maxWait + OVERDUE_MS, what is left of the deadline)` (and the refusal then mapped to
// DeadlineExceededError as `waitFailure` does for a cut wait).
useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

const never: Limiter = { take: (_n: number, o?: TakeOptions) => new Promise<void>((_r, reject) => o?.signal?.addEventListener('abort', () => reject(o.signal!.reason as Error))) };

type Where = 'pool limit, still clock' | 'pool limit (never answers), moving clock' | 'slot wait, still clock';

async function waitWithDeadline(where: Where, deadline: number): Promise<{ code: string | undefined; at: number | undefined; timers: number }> {
  const clock = where === 'pool limit (never answers), moving clock' ? { now: () => Date.now() } : new StillClock();
  const isSlot = where === 'slot wait, still clock';
  const pool = new ClientPool<string>({ clock, maxWait: 1_000, ...(isSlot ? {} : { limit: never }) });
  pool.add('a', { name: 'a', ...(isSlot ? { maxInFlight: 1 } : {}) });
  const h = hanging();
  const first = isSlot ? pool.run(h.fn) : Promise.resolve('');
  const call = ending(pool.run(() => 'v', { deadline }));
  for (let t = 0; t < 1_000 + OVERDUE_MS + 1_000 && call.ok === undefined; t += 100) await advance(100);
  h.release();
  await first;
  await pool.close();
  return { code: codeOf(call.value), at: call.at, timers: vi.getTimerCount() };
}

const WHERE: readonly Where[] = ['pool limit, still clock', 'pool limit (never answers), moving clock', 'slot wait, still clock'];

describe('S23B-1: a deadline between maxWait (1 000) and maxWait + 5 s', () => {
  for (const where of WHERE) {
    it(`${where}, deadline 3 000: DeadlineExceededError at 3 000 (observed: refused at 6 000 with the wait's own error)`, async () => {
      expect(await waitWithDeadline(where, 3_000)).toEqual({ code: 'ERR_DEADLINE_EXCEEDED', at: 3_000, timers: 0 });
    });
  }
});

describe('controls', () => {
  for (const where of WHERE) {
    it(`${where}, deadline 500 (< maxWait, the wait cut): DeadlineExceededError at 500`, async () => {
      expect(await waitWithDeadline(where, 500)).toEqual({ code: 'ERR_DEADLINE_EXCEEDED', at: 500, timers: 0 });
    });
    it(`${where}, deadline 60 000 (> maxWait + 5 s): the backstop's refusal at 6 000`, async () => {
      expect(await waitWithDeadline(where, 60_000)).toEqual({ code: where === 'slot wait, still clock' ? 'ERR_CONCURRENCY_LIMITED' : 'ERR_RATE_LIMITED', at: 6_000, timers: 0 });
    });
  }
});
