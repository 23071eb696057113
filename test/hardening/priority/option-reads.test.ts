// Attack: how priority is read: a cached answer, a getter that throws, a method default overridden.
import { describe, expect, it } from 'vitest';
import { ClientPool, type RunOptions } from '../../../src/index.js';
import { deferred } from '../../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

describe('priority option reads', () => {
  it('a low call with a fresh cached answer gets it even when every slot is taken', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 0 });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    await pool.run(() => 'cached', { coalesce: 'k', cache: { ttl: 60_000 } });
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    await expect(pool.run(() => 'fresh', { coalesce: 'k', cache: { ttl: 60_000 }, priority: 'low' })).resolves.toBe('cached');
    gate.resolve();
    await held;
  });

  it('a priority getter that throws rejects the call (never a synchronous throw from run)', async () => {
    const pool = new ClientPool<Backend>();
    pool.add({ id: 'a' });
    const options = Object.defineProperty({}, 'priority', {
      get() {
        throw new Error('getter');
      },
      enumerable: true,
    }) as RunOptions<Backend>;
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = pool.run(() => 'x', options);
    }).not.toThrow();
    await expect(promise).rejects.toBeInstanceOf(Error);
  });

  it.each(['constructor', '__proto__', 'toString', 'HIGH', ' low'])('refuses priority %j by name', async (priority) => {
    const pool = new ClientPool<Backend>();
    pool.add({ id: 'a' });
    await expect(pool.run(() => 'x', { priority: priority as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'priority' });
  });

  it('a call\'s priority: undefined keeps its method\'s low priority', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 0, methods: { bg: { priority: 'low' } } });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const gate = deferred();
    const held = pool.run(() => gate.promise);
    await expect(pool.run(() => 'x', { method: 'bg', priority: undefined } as never)).rejects.toMatchObject({ code: 'ERR_SHED' });
    gate.resolve();
    await held;
  });

  it.each([[0.9999999999999999], [-0], [0]])('accepts reserve %d', (reserve) => {
    expect(() => new ClientPool<Backend>({ reserve })).not.toThrow();
  });

  it.each([[Infinity], [-Infinity], [null], [true], [{}]])('refuses reserve %j naming it', (reserve) => {
    expect(() => new ClientPool<Backend>({ reserve: reserve as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'reserve' }));
  });
});

describe('priority refused by name outside run()', () => {
  it('a quorum\'s bad priority is refused naming priority', async () => {
    const pool = new ClientPool<Backend>();
    pool.add({ id: 'a' });
    pool.add({ id: 'b' });
    await expect(pool.quorum(() => 1, { of: 2, agree: 2, priority: 'urgent' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'priority' });
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
  });

  it('a method\'s priority given as a getter that throws is refused when the pool is made, naming it', () => {
    const methods = { m: Object.defineProperty({}, 'priority', { get: () => { throw new Error('getter'); }, enumerable: true }) };
    expect(() => new ClientPool<Backend>({ methods: methods })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });
});
