// Attack: a low call whose caller already gave up: its own end comes before shedding.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { deferred } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

describe('a low call already over', () => {
  it('with an aborted signal fails with ERR_ABORTED, busy pool or not', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 0 });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const signal = AbortSignal.abort(new Error('gone'));
    await expect(pool.run(() => 'x', { priority: 'low', signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    await expect(pool.run(() => 'x', { priority: 'low', signal })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    gate.resolve();
    await held;
  });

  it('a high call with an aborted signal fails with ERR_ABORTED and takes no slot', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 0 });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const ran: string[] = [];
    await expect(pool.run(() => ran.push('x'), { priority: 'high', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(ran).toEqual([]);
    expect(pool.members()[0]!.inFlight).toBe(0);
  });
});
