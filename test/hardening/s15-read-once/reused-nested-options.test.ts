// One options object kept by the caller and changed between calls: a later call runs with the new
// values, the nested `retry` and `hedge` objects included (a call that started keeps what it read).
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type RunOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

interface Fake {
  readonly id: string;
}

useUnhandledGuard({ time: 'fake-timers' });

const clock = { now: (): number => Date.now() };

async function attemptsOf(pool: ClientPool<Fake>, options: RunOptions<Fake>): Promise<number> {
  let attempts = 0;
  const call = pool.run(() => {
    attempts++;
    throw new Error('upstream');
  }, options);
  call.catch(() => undefined);
  await vi.advanceTimersByTimeAsync(100);
  return attempts;
}

describe('a kept options object changed between calls', () => {
  it('a retry object swapped for a new one: the later call sees the new value', async () => {
    const pool = new ClientPool<Fake>({ clock });
    for (const name of ['a', 'b', 'c']) pool.add({ id: name }, { name });
    const options: { retry: { attempts: number; backoff: { initial: number; max: number; jitter: 'none' } } } = { retry: { attempts: 3, backoff: { initial: 1, max: 1, jitter: 'none' } } };
    expect(await attemptsOf(pool, options)).toBe(3);
    options.retry = { ...options.retry, attempts: 1 };
    expect(await attemptsOf(pool, options)).toBe(1);
  });

  it('a nested retry option changed in place: read once per object (docs/call-pipeline.md), a new object for a new policy', async () => {
    const pool = new ClientPool<Fake>({ clock });
    for (const name of ['a', 'b', 'c']) pool.add({ id: name }, { name });
    const retry = { attempts: 3, backoff: { initial: 1, max: 1, jitter: 'none' as const } };
    const options = { retry };
    expect(await attemptsOf(pool, options)).toBe(3);
    retry.attempts = 1;
    expect(await attemptsOf(pool, options)).toBe(3);
    expect(await attemptsOf(pool, { retry: { ...retry } })).toBe(1);
  });
});
