// Pool clocks that step back (a wall clock corrected) or stand still (a manual clock not advanced, a clock
// whose reads fail) while timed calls are queued. The deadline queue
// moves queued deadlines back by the step it sees: the clock's drop since its last reading. Time that
// passed between that reading and the step is counted as step too, so the queue's idea of when its timer
// fires runs ahead of the clock, and "the timer has the last word" then expires calls early.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
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
