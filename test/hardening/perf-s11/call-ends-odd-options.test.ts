import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type CallEnd } from '../../../src/index.js';
import { dateClock, useFakeTime } from '../../helpers/fake-time.js';

useFakeTime();
vi.setConfig({ testTimeout: 5_000 });

type Client = { name: string };

function observed(): { pool: ClientPool<Client>; ends: CallEnd<Client>[] } {
  const ends: CallEnd<Client>[] = [];
  const pool = new ClientPool<Client>({ clock: dateClock, middleware: [{ name: 'ends', onCallEnd: (end) => void ends.push(end) }] });
  pool.add({ name: 'a' }, { name: 'a' });
  pool.add({ name: 'b' }, { name: 'b' });
  pool.add({ name: 'c' }, { name: 'c' });
  return { pool, ends };
}

const throwingMethod = {
  get method(): string {
    throw new Error('getter');
  },
};
const trap = new Proxy(
  {},
  {
    get: () => {
      throw new Error('trap');
    },
    has: () => {
      throw new Error('trap');
    },
    ownKeys: () => {
      throw new Error('trap');
    },
  },
);

describe('onCallEnd hears calls with odd options, which reject and never throw', () => {
  for (const [what, options] of [
    ['a number', 5],
    ['a string', 'x'],
    ['a method getter that throws', throwingMethod],
    ['a Proxy that throws on every trap', trap],
  ] as const) {
    it(`run(fn, ${what}) rejects with InvalidOptionError, heard once as method unknown`, async () => {
      const { pool, ends } = observed();
      let result: Promise<unknown> | undefined;
      expect(() => (result = pool.run(() => 1, options as never))).not.toThrow();
      await expect(result).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
      expect(ends).toHaveLength(1);
      expect(ends[0]).toMatchObject({ method: 'unknown' });
      expect(ends[0]!.error).toMatchObject({ code: 'ERR_INVALID_OPTION' });
      await pool.close();
    });

    it(`quorum(fn, ${what}) rejects with InvalidOptionError, never throws`, async () => {
      const { pool, ends } = observed();
      let result: Promise<unknown> | undefined;
      expect(() => (result = pool.quorum(() => 1, options as never))).not.toThrow();
      await expect(result).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
      expect(ends.length).toBeLessThanOrEqual(1);
      await pool.close();
    });
  }

  it('quorum(fn, null) rejects, never throws', async () => {
    const { pool } = observed();
    let result: Promise<unknown> | undefined;
    expect(() => (result = pool.quorum(() => 1, null as never))).not.toThrow();
    await expect(result).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await pool.close();
  });

  it('a quorum that fails is heard once with its error, its method and its duration', async () => {
    const { pool, ends } = observed();
    const result = pool.quorum((client) => new Promise((resolve) => setTimeout(() => resolve(client.name), 30)), { of: 3, agree: 2, method: 'head' });
    const seen = expect(result).rejects.toMatchObject({ code: 'ERR_QUORUM' });
    await vi.advanceTimersByTimeAsync(30);
    await seen;
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ method: 'head', durationMs: 30 });
    expect(ends[0]!.error).toMatchObject({ code: 'ERR_QUORUM' });
    await pool.close();
  });

  it('a plain call after use() of onCallEnd in a pool that had plain calls: heard, no options, method unknown', async () => {
    const pool = new ClientPool<Client>({ clock: dateClock });
    pool.add({ name: 'a' }, { name: 'a' });
    await pool.run(() => 1);
    const ends: CallEnd<Client>[] = [];
    pool.use({ name: 'ends', onCallEnd: (end) => void ends.push(end) });
    await expect(pool.run(() => Promise.reject(new Error('down')))).rejects.toMatchObject({ code: 'ERR_CLIENT_CALL' });
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ method: 'unknown', options: undefined });
    expect(ends[0]!.error).toMatchObject({ code: 'ERR_CLIENT_CALL' });
    await pool.close();
  });
});
