// Pool clocks that step back (a wall clock corrected) or stand still (a manual clock not advanced, a clock
// whose reads fail) while timed calls are queued. The deadline queue
// moves queued deadlines back by the step it sees: the clock's drop since its last reading. Time that
// passed between that reading and the step is counted as step too, so the queue's idea of when its timer
// fires runs ahead of the clock, and "the timer has the last word" then expires calls early.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

useUnhandledGuard({ time: 'fake', quietWarnings: true });

interface Fake {
  readonly id: string;
}

const never = (): Promise<never> => new Promise<never>(() => undefined);
const after = <V>(ms: number, value: V): Promise<V> => new Promise<V>((resolve) => setTimeout(() => resolve(value), ms));

/** A pool on a clock that reads fake time plus an offset the test moves (a step back is `offset -= ms`). */
function steppingPool(): { pool: ClientPool<Fake>; step: (ms: number) => void } {
  let offset = 0;
  const pool = new ClientPool<Fake>({ clock: { now: () => Date.now() + offset }, breaker: false });
  pool.add({ id: 'a' }, { name: 'a' });
  return { pool, step: (ms) => (offset += ms) };
}

function track(promise: Promise<unknown>): { text: string | undefined } {
  const ending: { text: string | undefined } = { text: undefined };
  promise.then(
    (value) => (ending.text = `value ${String(value)}`),
    (error: unknown) => (ending.text = `error ${(error as { code?: string }).code ?? String(error)}`),
  );
  return ending;
}

describe('a step back with no timed call in between (read at once)', () => {
  it('a call queued before the step and one added right after it both time out after their own timeout', async () => {
    const { pool, step } = steppingPool();
    step(10_000);
    const before = track(pool.run(never, { timeout: 100 }));
    step(-5_000);
    const afterStep = track(pool.run(never, { timeout: 100 }));
    await vi.advanceTimersByTimeAsync(99);
    expect([before.text, afterStep.text]).toEqual([undefined, undefined]);
    await vi.advanceTimersByTimeAsync(1);
    expect([before.text, afterStep.text]).toEqual(['error ERR_TIMEOUT', 'error ERR_TIMEOUT']);
    await pool.close();
  });

  it('a deadline started after the step is measured on time that never goes back', async () => {
    const { pool, step } = steppingPool();
    step(10_000);
    const first = track(pool.run(() => after(1, 'x'), { timeout: 100 }));
    await vi.advanceTimersByTimeAsync(1);
    step(-5_000);
    const deadlined = track(pool.run(never, { deadline: 30 }));
    await vi.advanceTimersByTimeAsync(29);
    expect(deadlined.text).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect([first.text, deadlined.text]).toEqual(['value x', 'error ERR_DEADLINE_EXCEEDED']);
    await pool.close();
  });
});
// The limits below are documented (docs/call-pipeline.md, "A clock that steps back"): the queue reads the
// pool's clock only when a deadline is added or its one timer fires, and Node does not expose the timers'
// own time, so time the clock cannot show is time the queue cannot count. One timer per delay (Node's
// design) would fix the second and third, at the price of a timer per call with a `deadline`. Each test
// pins where the call ends today: a change that fixes it must say so here.
describe('LIMIT: a step back seen only some time after the last reading counts that time as step', () => {
  it('a call added 10 ms after the step ends with the call queued before it: 10 ms early', async () => {
    const { pool, step } = steppingPool();
    step(5_000);
    // Queued at 0 (clock 5000): the queue's timer is set for 50 ms, its last reading 5000.
    const queued = track(pool.run(never, { timeout: 50 }));
    // Stepped back 4 s; 10 ms later (clock 1010) a second call: the queue takes the step for 3 990 ms.
    step(-4_000);
    await vi.advanceTimersByTimeAsync(10);
    const added = track(pool.run(never, { timeout: 50 }));
    await vi.advanceTimersByTimeAsync(39);
    expect([queued.text, added.text]).toEqual([undefined, undefined]);
    await vi.advanceTimersByTimeAsync(1);
    expect([queued.text, added.text]).toEqual(['error ERR_TIMEOUT', 'error ERR_TIMEOUT']);
    await pool.close();
  });

  it('a call queued before the step, once a shorter timeout re-arms the timer, gets its whole timeout again from the step', async () => {
    const { pool, step } = steppingPool();
    step(10_000);
    const queued = track(pool.run(never, { timeout: 100 }));
    await vi.advanceTimersByTimeAsync(40);
    step(-10_000);
    const short = track(pool.run(never, { timeout: 10 }));
    await vi.advanceTimersByTimeAsync(10);
    expect(short.text).toBe('error ERR_TIMEOUT');
    await vi.advanceTimersByTimeAsync(89);
    expect(queued.text).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    // 140 ms after it started: the 40 ms before the step were counted as step.
    expect(queued.text).toBe('error ERR_TIMEOUT');
    await pool.close();
  });
});

describe('LIMIT: a clock that stands still while the timers run', () => {
  it('a queued 100 ms timeout ends at 140 ms when a shorter timeout added at 40 ms re-arms the one timer', async () => {
    const clock = new ManualClock(); // never advanced: only the timers move
    const pool = new ClientPool<Fake>({ clock, breaker: false });
    pool.add({ id: 'a' }, { name: 'a' });
    const long = track(pool.run(never, { timeout: 100 }));
    await vi.advanceTimersByTimeAsync(40);
    const short = track(pool.run(never, { timeout: 10 }));
    await vi.advanceTimersByTimeAsync(10);
    expect(short.text).toBe('error ERR_TIMEOUT');
    await vi.advanceTimersByTimeAsync(89);
    expect(long.text).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(long.text).toBe('error ERR_TIMEOUT');
    await pool.close();
  });

  it('advanced with the timers, the same clock gives each call its own timeout', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Fake>({ clock, breaker: false });
    pool.add({ id: 'a' }, { name: 'a' });
    const long = track(pool.run(never, { timeout: 100 }));
    clock.advance(40);
    await vi.advanceTimersByTimeAsync(40);
    const short = track(pool.run(never, { timeout: 10 }));
    clock.advance(10);
    await vi.advanceTimersByTimeAsync(10);
    expect(short.text).toBe('error ERR_TIMEOUT');
    clock.advance(50);
    await vi.advanceTimersByTimeAsync(50);
    expect(long.text).toBe('error ERR_TIMEOUT');
    await pool.close();
  });
});
