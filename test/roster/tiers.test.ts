import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ClientPool, seededRandom, type AddOptions, type Strategy } from '../../src/index.js';
import { dateClock, useFakeTime } from '../helpers/fake-time.js';

const clock = dateClock;
useFakeTime();

interface Named {
  readonly name: string;
  isDown: boolean;
}

function client(name: string): Named {
  return { name, isDown: false };
}

/** One call; the name of the client it ran on, or its error code. */
async function callOn(pool: ClientPool<Named>, options: Parameters<ClientPool<Named>['run']>[1] = {}): Promise<string> {
  let ran = '';
  try {
    await pool.run((c) => {
      ran = c.name;
      if (c.isDown) throw new Error(`${c.name} down`);
      return c.name;
    }, options);
    return ran;
  } catch (error) {
    return ran === '' ? (error as { code: string }).code : `${ran}!`;
  }
}

describe('priority tiers: a tier serves only while no client of a lower tier is ready', () => {
  it.each<Strategy<Named>>(['round-robin', 'least-in-flight', 'weighted-random', 'p2c-ewma', 'random'])(
    'with %s: tier 1 gets no call while a tier-0 client is ready, takes over when both tier-0 circuits open, and gives back once one closes',
    async (strategy) => {
      // Seeded: with Math.random, a random pick may leave b's half-open probe to the last of the 10 calls below (~1 in 1 000).
      const pool = new ClientPool<Named>({ clock, strategy, random: seededRandom(1), breaker: { maxFailures: 1, cooldown: 1_000 } });
      const [a, b, c] = [client('a'), client('b'), client('c')];
      pool.add(a, { name: 'a', tier: 0 });
      pool.add(b, { name: 'b', tier: 0 });
      pool.add(c, { name: 'c', tier: 1 });
      const first: string[] = [];
      for (let i = 0; i < 1_000; i++) first.push(await callOn(pool));
      expect(first.filter((name) => name === 'c')).toHaveLength(0);
      expect(new Set(first)).toEqual(new Set(['a', 'b']));

      a.isDown = b.isDown = true;
      // Each failure opens its client's circuit: at most two calls fail before tier 1 serves.
      const failing = [await callOn(pool), await callOn(pool)];
      expect(failing.sort()).toEqual(['a!', 'b!']);
      expect(await callOn(pool)).toBe('c');

      a.isDown = false;
      await vi.advanceTimersByTimeAsync(1_000);
      // a's cooldown is over: half-open, it takes the probe (b's probe fails and reopens it).
      const back: string[] = [];
      for (let i = 0; i < 10; i++) back.push(await callOn(pool));
      expect(back.filter((name) => name === 'c')).toHaveLength(0);
      expect(back.at(-1)).toBe('a');
      await pool.close();
    },
  );

  it('a tier-0 client out of tokens spills its calls to tier 1 until its tokens return', async () => {
    const pool = new ClientPool<Named>({ clock, maxWait: 0 });
    pool.add(client('a'), { name: 'a', limit: { rate: 1, burst: 2 } });
    pool.add(client('c'), { name: 'c', tier: 1 });
    const ran = [await callOn(pool), await callOn(pool), await callOn(pool), await callOn(pool)];
    expect(ran).toEqual(['a', 'a', 'c', 'c']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await callOn(pool)).toBe('a');
    await pool.close();
  });

  it('a tier-0 client at its maxInFlight spills to tier 1', async () => {
    const pool = new ClientPool<Named>({ clock });
    pool.add(client('a'), { name: 'a', maxInFlight: 1 });
    pool.add(client('c'), { name: 'c', tier: 2 });
    const names: string[] = [];
    let release!: () => void;
    const held = pool.run((c) => {
      names.push(c.name);
      return new Promise<void>((resolve) => (release = resolve));
    });
    await pool.run((c) => names.push(c.name));
    release();
    await held;
    await pool.run((c) => names.push(c.name));
    expect(names).toEqual(['a', 'c', 'a']);
    await pool.close();
  });

  it('an affinity key whose client is in a higher tier is served by the tier serving', async () => {
    const pool = new ClientPool<Named>({ clock });
    pool.add(client('a'), { name: 'a' });
    pool.add(client('c'), { name: 'c', tier: 1 });
    const names = new Set<string>();
    for (let i = 0; i < 200; i++) names.add(await callOn(pool, { key: `user-${i}` }));
    expect(names).toEqual(new Set(['a']));
    await pool.close();
  });

  it('members() shows each client\'s tier', () => {
    const pool = new ClientPool<Named>();
    pool.add(client('a'), { name: 'a' });
    pool.add(client('c'), { name: 'c', tier: 7 });
    expect(pool.members().map((m) => [m.name, m.tier])).toEqual([
      ['a', 0],
      ['c', 7],
    ]);
  });

  it.each([-1, 1.5, Number.NaN, Infinity, 2 ** 31, '0'])('add(client, { tier: %s }) throws InvalidOptionError naming tier', (tier) => {
    const pool = new ClientPool<Named>();
    expect(() => pool.add(client('a'), { tier } as unknown as AddOptions<Named>)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'tier' }) as Error);
    expect(pool.size).toBe(0);
  });
});

describe('priority tiers, as a property', () => {
  it('every call goes to a client of the lowest tier that has a closed circuit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ tier: fc.integer({ min: 0, max: 3 }), downAt: fc.option(fc.nat({ max: 30 }), { nil: undefined }) }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom<Strategy<Named>>('round-robin', 'least-in-flight', 'weighted-random', 'random'),
        async (specs, strategy) => {
          const pool = new ClientPool<Named>({ clock, strategy, breaker: { maxFailures: 1, cooldown: 1_000_000 } });
          const clients = specs.map((spec, i) => {
            const c = client(`c${i}`);
            pool.add(c, { name: c.name, tier: spec.tier });
            return c;
          });
          for (let step = 0; step < 30; step++) {
            specs.forEach((spec, i) => {
              if (spec.downAt === step) clients[i]!.isDown = true;
            });
            const closed = pool.members().filter((m) => m.state.kind === 'closed');
            const ran = await callOn(pool);
            if (closed.length === 0) continue;
            const lowest = Math.min(...closed.map((m) => m.tier));
            const name = ran.replace('!', '');
            expect(closed.find((m) => m.name === name)?.tier).toBe(lowest);
          }
          await pool.close();
        },
      ),
      { numRuns: 80 },
    );
  });
});

// Not tiers, but the roster's snapshots: kept here with the roster's other fake-time tests.
describe('members() as of now', () => {
  it('an idle pool reports a circuit past its cooldown as half-open, not open', async () => {
    const pool = new ClientPool<Named>({ clock, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.add(client('a'), { name: 'a' });
    await pool.run(() => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(pool.members()[0]!.state.kind).toBe('open');
    await vi.advanceTimersByTimeAsync(999);
    expect(pool.members()[0]!.state.kind).toBe('open');
    await vi.advanceTimersByTimeAsync(1);
    expect(pool.members()[0]!.state.kind).toBe('half-open');
    await pool.close();
  });
});
