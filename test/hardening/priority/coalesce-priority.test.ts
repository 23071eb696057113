// Attack: coalesced calls of different priorities share one flight.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { deferred } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

describe('coalesce across priorities', () => {
  it('a high call joining a low call\'s flight is not shed with it', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 10_000 });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const low = pool.run(() => 'shared', { priority: 'low', coalesce: 'k' }).catch((e: unknown) => e);
    const high = pool.run(() => 'high-own', { priority: 'high', coalesce: 'k' }).catch((e: unknown) => e);
    gate.resolve();
    await held;
    expect(await low).toMatchObject({ code: 'ERR_SHED' });
    // A high call must never be shed: it waits for the client (or runs its own journey).
    expect(await high).not.toMatchObject({ code: 'ERR_SHED' });
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  it('a low call joining a high call\'s waiting flight waits with it and gets its value', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 10_000 });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const high = pool.run(() => 'shared', { priority: 'high', coalesce: 'k' });
    const low = pool.run(() => 'low-own', { priority: 'low', coalesce: 'k' });
    gate.resolve();
    await held;
    await expect(high).resolves.toBe('shared');
    await expect(low).resolves.toBe('shared');
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  // A high caller does not join a normal flight: it starts one of its own (which later callers join),
  // served ahead of the normal calls waiting; the normal flight keeps its place in line.
  it('a high caller of a normal flight\'s key runs its own journey, served ahead of normal calls that queued before it', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 10_000 });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    const order: string[] = [];
    const before = pool.run(() => order.push('normal-before'));
    const flight = pool.run(() => (order.push('flight'), 'v'), { coalesce: 'k' });
    const high = pool.run(() => (order.push('high'), 'own'), { coalesce: 'k', priority: 'high' });
    gate.resolve();
    await Promise.all([held, before, flight, high]);
    expect(order).toEqual(['high', 'normal-before', 'flight']);
    await expect(high).resolves.toBe('own');
  });
});
