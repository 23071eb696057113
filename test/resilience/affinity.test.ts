import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { HashRing } from '../../src/balancers/hash-ring.js';

interface Fake {
  readonly id: string;
}

function pool(n: number): ClientPool<Fake> {
  const p = new ClientPool<Fake>({ breaker: { maxFailures: 1, cooldown: 60_000 } });
  for (let i = 0; i < n; i++) p.add({ id: `c${i}` }, { name: `c${i}` });
  return p;
}

async function owners(p: ClientPool<Fake>, keys: readonly string[]): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const key of keys) map.set(key, await p.run((client) => client.id, { key }));
  return map;
}

const keys = Array.from({ length: 2_000 }, (_, i) => `user-${i}`);

describe('affinity (run with { key })', () => {
  it('routes the same key to the same client, and spreads keys over all clients', async () => {
    const p = pool(5);
    const first = await owners(p, keys);
    const second = await owners(p, keys);
    expect(second).toEqual(first);
    const perClient = new Map<string, number>();
    for (const owner of first.values()) perClient.set(owner, (perClient.get(owner) ?? 0) + 1);
    expect(perClient.size).toBe(5);
    for (const count of perClient.values()) expect(count).toBeGreaterThan(2_000 / 5 / 2);
  });

  it('adding a client moves about 1/n of the keys, all of them to the new client', async () => {
    const p = pool(4);
    const before = await owners(p, keys);
    p.add({ id: 'c4' }, { name: 'c4' });
    const after = await owners(p, keys);
    const moved = keys.filter((k) => before.get(k) !== after.get(k));
    expect(moved.length / keys.length).toBeGreaterThan(0.1);
    expect(moved.length / keys.length).toBeLessThan(0.3);
    for (const k of moved) expect(after.get(k)).toBe('c4');
  });

  it('removing a client moves only its keys', async () => {
    const p = pool(5);
    const before = await owners(p, keys);
    await p.remove('c2');
    const after = await owners(p, keys);
    for (const k of keys) if (before.get(k) !== 'c2') expect(after.get(k)).toBe(before.get(k));
  });

  it('while the key client is open, its keys go elsewhere and come back when it closes', async () => {
    const p = pool(3);
    const before = await owners(p, keys.slice(0, 50));
    const key = keys.find((k) => before.get(k) === 'c1')!;
    await p.run(() => Promise.reject(new Error('down')), { key }).catch(() => undefined);
    const during = await p.run((client) => client.id, { key });
    expect(during).not.toBe('c1');
  });

  it('the ring finds the next accepted owner clockwise', () => {
    const members = ['a', 'b', 'c'].map((name) => ({ name }));
    const ring = new HashRing(members, 10);
    const owner = ring.find('k', () => true)!;
    const next = ring.find('k', (m) => m !== owner)!;
    expect(next).not.toBe(owner);
    expect(ring.find('k', () => false)).toBeUndefined();
  });
});
