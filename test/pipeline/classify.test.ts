// Classifying an attempt's outcome: what counts against the client.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

interface Fake {
  readonly id: string;
}
const clock = { now: () => Date.now() };

describe('classifying an outcome', () => {
  it('a timeout opens the breaker whatever isFailure says of other errors', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<Fake>({ clock, timeout: 10, breaker: { maxFailures: 1 }, isFailure: (error) => error instanceof RangeError });
    pool.add({ id: 'a' });
    const call = pool.run(() => new Promise(() => undefined)).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(10);
    await call;
    expect(pool.members()[0]!.state.kind).toBe('open');
  });
});
