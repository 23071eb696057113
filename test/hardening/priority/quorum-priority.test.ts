// Attack: quorum reads with priorities.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { deferred } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

describe('quorum with priority', () => {
  it('a low quorum that cannot get all its clients outside the reserve is shed and leaves no client held', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 0, reserve: 0.5 });
    for (const id of ['a', 'b', 'c']) pool.add({ id }, { name: id, maxInFlight: 2 });
    const gate = deferred();
    // One low call on a: a is at its low share (floor(2 x 0.5) = 1).
    const held = pool.run(() => gate.promise, { priority: 'low', key: 'x' });
    const quorum = pool.quorum(() => 1, { of: 3, agree: 2, priority: 'low' }).catch((e: unknown) => e);
    const result = await quorum;
    // Two clients are enough to agree: either it agrees on b and c, or it fails; it must not hang or leak.
    expect(result === 1 || (result as { code?: string }).code !== undefined).toBe(true);
    gate.resolve();
    await held;
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0, 0]);
  });

  it('a high quorum waiting for a client goes ahead of normal calls in line', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 10_000 });
    for (const id of ['a', 'b']) pool.add({ id }, { name: id, maxInFlight: 1 });
    const gate = deferred();
    const held = [pool.run(() => gate.promise), pool.run(() => gate.promise)];
    const order: string[] = [];
    const normal = pool.run(() => order.push('normal'));
    const quorum = pool.quorum((b) => (order.push(`q-${b.id}`), 1), { of: 2, agree: 2, priority: 'high' });
    gate.resolve();
    await Promise.all([...held, normal]);
    await expect(quorum).resolves.toBe(1);
    expect(order.indexOf('normal')).toBeGreaterThan(0);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
  });
});
