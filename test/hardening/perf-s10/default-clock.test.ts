import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, systemClock, type Clock } from '../../../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

async function openCircuit(pool: ClientPool<{ id: number }>): Promise<void> {
  await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
  await pool.run(() => Promise.resolve(1)).catch(() => undefined);
}

// docs/runtimes.md: "Globals are looked up when used, not captured at load, so fake timers and spies
// installed later (Vitest's vi.useFakeTimers() ...) see every call." A pool's default clock now captures
// globalThis.performance when the pool is made.
describe('a pool\'s default clock and fake timers', () => {
  it('a circuit opened under fake timers half-opens once fake time passes its cooldown, fakes installed before the pool', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<{ id: number }>({ breaker: { maxFailures: 1, cooldown: 10_000 } });
    pool.add({ id: 1 });
    await openCircuit(pool);
    expect(pool.members()[0]!.state.kind).toBe('open');
    vi.advanceTimersByTime(10_001);
    await expect(pool.run((client) => Promise.resolve(client.id))).resolves.toBe(1);
    await pool.close();
  });

  it('with the exported systemClock passed as its clock, a pool made before the fakes follows fake time (the documented behaviour)', async () => {
    const clock: Clock = systemClock;
    const pool = new ClientPool<{ id: number }>({ breaker: { maxFailures: 1, cooldown: 10_000 }, clock });
    pool.add({ id: 1 });
    vi.useFakeTimers();
    await openCircuit(pool);
    vi.advanceTimersByTime(10_001);
    await expect(pool.run((client) => Promise.resolve(client.id))).resolves.toBe(1);
    await pool.close();
  });

  // Found in 8cdf75c and fixed (the default clock reads the global performance at each reading): the pool made first keeps the real performance; fake time does not reach its
  // breakers, so the circuit stays open however far fake time moves, against docs/runtimes.md.
  it('a circuit opened under fake timers half-opens once fake time passes its cooldown, pool made before the fakes', async () => {
    const pool = new ClientPool<{ id: number }>({ breaker: { maxFailures: 1, cooldown: 10_000 } });
    pool.add({ id: 1 });
    vi.useFakeTimers();
    await openCircuit(pool);
    expect(pool.members()[0]!.state.kind).toBe('open');
    vi.advanceTimersByTime(10_001);
    await expect(pool.run((client) => Promise.resolve(client.id))).resolves.toBe(1);
    await pool.close();
  });

  // Found in 8cdf75c and fixed (the default clock reads the global performance at each reading): a pool made while fake timers were installed keeps reading the fake performance
  // after they are uninstalled: its clock stands still for good, and an open circuit never half-opens.
  it('a pool made under fake timers follows real time once they are uninstalled', async () => {
    vi.useFakeTimers();
    const pool = new ClientPool<{ id: number }>({ breaker: { maxFailures: 1, cooldown: 20 } });
    pool.add({ id: 1 });
    vi.useRealTimers();
    await openCircuit(pool);
    expect(pool.members()[0]!.state.kind).toBe('open');
    await new Promise((resolve) => setTimeout(resolve, 60));
    await expect(pool.run((client) => Promise.resolve(client.id))).resolves.toBe(1);
    await pool.close();
  });

  // Found in 8cdf75c and fixed (the default clock reads the global performance at each reading): the same standing clock stretches a call's `deadline`: each retry is given the
  // whole deadline again, so a call bounded to 100 ms makes every attempt it may instead of ending once the
  // deadline passed (with a clock that moves, the first attempt's end is the deadline's and no retry starts).
  it('a call\'s deadline bounds its retries in a pool made under fake timers that were then uninstalled', async () => {
    expect(await attemptsWithinDeadline(undefined)).toEqual({ code: 'ERR_DEADLINE_EXCEEDED', attempts: 1 });
  });

  it('with the exported systemClock as its clock, the same call ends at its deadline after one attempt (the behaviour before)', async () => {
    expect(await attemptsWithinDeadline(systemClock)).toEqual({ code: 'ERR_DEADLINE_EXCEEDED', attempts: 1 });
  });
});

/** A pool made under fake timers, used after they are uninstalled: a call with a 100 ms deadline whose attempts never answer. */
async function attemptsWithinDeadline(clock: Clock | undefined): Promise<{ code: unknown; attempts: number }> {
  vi.useFakeTimers();
  const pool = new ClientPool<{ id: number }>({ retryBudget: false, breaker: false, ...(clock === undefined ? {} : { clock }) });
  pool.add({ id: 1 }, { name: 'a' });
  pool.add({ id: 2 }, { name: 'b' });
  pool.add({ id: 3 }, { name: 'c' });
  vi.useRealTimers();
  let attempts = 0;
  const error = await pool
    .run(
      () => {
        attempts++;
        return new Promise(() => {});
      },
      { deadline: 100, retry: { attempts: 3, backoff: { initial: 1, max: 1, jitter: 'none' }, retryOn: () => true } },
    )
    .catch((e: unknown) => e);
  await pool.close();
  return { code: (error as { code?: unknown }).code, attempts };
}
