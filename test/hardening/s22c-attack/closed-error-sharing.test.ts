import { describe, expect, it } from 'vitest';
import { ClientPool, PoolClosedError } from '../../../src/index.js';
import { gate, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Probe (passes; pins what 87e546c's PoolCore.closedError() does): one destroy(reason) gives ONE PoolClosedError
// instance to the calls it ends (held in a hook, waiting for a slot, waiting for a pool token) and to calls
// refused after it (quorum; run(fn) without hooks); onCallEnd hears the very object its caller got. The sharing is by
// design (WaiterQueue.close: "one instance for all"); a caller that mutates it (adds a request id to its
// message) changes what the other callers and later callers see - recorded in NOTES.md as an observation.

useUnhandledGuard({ time: 'real', quietWarnings: true });

describe('the PoolClosedError of one destroy(reason)', () => {
  it('is one instance for held, slot-waiting, token-waiting and later quorum calls; onCallEnd sees the same object', async () => {
    const reason = new Error('bye');
    const ends: unknown[] = [];
    const hold = gate();
    const pool = new ClientPool<string>({ maxWait: 60_000, limit: { tryTake: () => false, take: () => new Promise(() => {}) } as never });
    const slotPool = new ClientPool<string>({ maxWait: 60_000 });
    pool.use({ name: 'h', around: async (s, next) => (s.options?.method === 'held' ? (await hold.promise, next()) : next()), onCallEnd: (e) => void ends.push(e.error) });
    pool.add('a', { name: 'a' });
    slotPool.add('b', { name: 'b', maxInFlight: 1 });
    const errors: unknown[] = [];
    const catchInto = (p: Promise<unknown>): Promise<void> => p.then(() => void errors.push('resolved'), (e: unknown) => void errors.push(e));
    const held = catchInto(pool.run(() => 'v', { method: 'held' }));
    const token = catchInto(pool.run(() => 'v', { method: 'token' }));
    await turns(3);
    await pool.destroy(reason);
    await Promise.all([held, token]);
    // (run(fn) on this hooked pool would get a fresh PoolClosedError with no cause: faults-new-run-after-destroy.)
    const afterQuorum = pool.quorum(() => 'v', { of: 1 }).catch((e: unknown) => e);
    errors.push(await afterQuorum);
    for (const e of errors) {
      expect(e).toBeInstanceOf(PoolClosedError);
      expect((e as Error).cause).toBe(reason);
    }
    // Observed: one instance shared by all three.
    expect(new Set(errors).size).toBe(1);
    // onCallEnd: the very object each caller got.
    for (const e of ends) expect(errors).toContain(e);
    // A caller mutating it changes what the next caller reads.
    (errors[0] as Error).message += ' [req 17]';
    const later = (await pool.quorum(() => 'v', { of: 1 }).catch((e: unknown) => e)) as Error;
    expect(later.message).toContain('[req 17]');
    // A separate pool's waits are not involved.
    const busy = slotPool.run((_c, call) => new Promise((_r, rej) => call.signal.addEventListener('abort', () => rej(new Error('aborted'))))).catch((e: unknown) => e);
    const waiting = slotPool.run(() => 'v').catch((e: unknown) => e);
    await turns(2);
    await slotPool.destroy(reason);
    const [b, w] = await Promise.all([busy, waiting]);
    expect(b).toBeInstanceOf(PoolClosedError);
    expect(w).toBeInstanceOf(PoolClosedError);
    expect((w as Error).cause).toBe(reason);
    expect(w).not.toBe(errors[0]);
  });
});
