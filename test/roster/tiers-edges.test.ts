import { describe, expect, it, vi } from 'vitest';
import { ClientPool, type Balancer, type PoolMember, type PoolOptions } from '../../src/index.js';
import { deferred } from '../helpers/manual-clock.js';
import { dateClock, useFakeTime } from '../helpers/fake-time.js';

const clock = dateClock;
useFakeTime();

interface Named {
  readonly name: string;
  isBad: boolean;
}

function client(name: string, isBad = false): Named {
  return { name, isBad };
}

/** One call: the name of the client it ran on (`name!` when it failed there), or the error code. */
async function callOn(pool: ClientPool<Named>): Promise<string> {
  let ran = '';
  try {
    await pool.run((c) => {
      ran = c.name;
      if (c.isBad) throw new Error(`${c.name} is bad`);
      return c.name;
    });
    return ran;
  } catch (error) {
    return ran === '' ? (error as { code: string }).code : `${ran}!`;
  }
}

async function calls(pool: ClientPool<Named>, n: number): Promise<string[]> {
  const ran: string[] = [];
  for (let i = 0; i < n; i++) ran.push(await callOn(pool));
  return ran;
}

function pool(options: PoolOptions<Named> = {}): ClientPool<Named> {
  return new ClientPool<Named>({ clock, breaker: { maxFailures: 1, cooldown: 1_000_000 }, ...options });
}

describe('tiers with panic routing (maxEjectedPercent)', () => {
  it('open tier-1 clients never get a call while a tier-0 client is ready, panic or not', async () => {
    // random 0: a panic pick starts from the first member added, deterministically.
    const p = pool({ maxEjectedPercent: 50, random: () => 0 });
    p.add(client('c1', true), { name: 'c1', tier: 1 });
    p.add(client('c2', true), { name: 'c2', tier: 1 });
    expect((await calls(p, 2)).sort()).toEqual(['c1!', 'c2!']); // both tier-1 circuits open
    p.add(client('a'), { name: 'a', tier: 0 });
    // Tier 0 is fully healthy: the rule is that tier 1 gets 0 calls while any tier-0 client is ready.
    expect(await calls(p, 20)).toEqual(Array(20).fill('a'));
    await p.close();
  });

  it('with every tier-0 client open and tier 1 healthy, tier 1 takes the calls: failover, not panic over the open ones', async () => {
    const p = pool({ maxEjectedPercent: 50, random: () => 0 });
    p.add(client('a', true), { name: 'a', tier: 0 });
    p.add(client('b', true), { name: 'b', tier: 0 });
    p.add(client('c'), { name: 'c', tier: 1 });
    expect((await calls(p, 2)).sort()).toEqual(['a!', 'b!']);
    // Envoy: when lower priorities have enough healthy hosts, panic thresholds are disregarded.
    expect(await calls(p, 20)).toEqual(Array(20).fill('c'));
    await p.close();
  });
});

/** A balancer that keeps its own view from the hooks and checks it against every pick's candidates. */
function ledgerBalancer(): Balancer<Named> & { readonly faults: string[]; readonly view: Set<string>; tierOf: Map<string, number> } {
  const view = new Set<string>();
  const faults: string[] = [];
  const tierOf = new Map<string, number>();
  let next = 0;
  return {
    view,
    faults,
    tierOf,
    onReady(member: PoolMember<Named>): void {
      if (view.has(member.name)) faults.push(`onReady twice: ${member.name}`);
      view.add(member.name);
      const tiers = new Set([...view].map((name) => tierOf.get(name)));
      if (tiers.size > 1) faults.push(`view mixes tiers after onReady(${member.name}): ${[...view].join(',')}`);
    },
    onUnready(member: PoolMember<Named>): void {
      if (!view.delete(member.name)) faults.push(`onUnready without onReady: ${member.name}`);
    },
    pick(ready: readonly PoolMember<Named>[]): PoolMember<Named> {
      const names = ready.map((m) => m.name).sort();
      if (names.join(',') !== [...view].sort().join(',')) faults.push(`pick got [${names.join(',')}], hooks say [${[...view].sort().join(',')}]`);
      return ready[next++ % ready.length]!;
    },
  };
}

describe('tiers with a custom balancer\'s hooks', () => {
  it('the hooks follow the serving tier exactly through opens, recovery, removal, joins and health checks', async () => {
    const balancer = ledgerBalancer();
    const healthy = new Map<string, boolean>();
    const p = pool({
      strategy: balancer,
      breaker: { maxFailures: 1, cooldown: 1_000 },
      healthCheck: { check: (c) => (healthy.get(c.name) === false ? Promise.reject(new Error('down')) : Promise.resolve()), interval: 10_000, unhealthyThreshold: 1, healthyThreshold: 1 },
    });
    const a = client('a');
    const b = client('b');
    for (const [c, tier] of [[a, 0], [b, 0], [client('c'), 1], [client('d'), 1]] as const) {
      balancer.tierOf.set(c.name, tier);
      p.add(c, { name: c.name, tier });
    }
    expect(new Set(await calls(p, 4))).toEqual(new Set(['a', 'b']));
    a.isBad = b.isBad = true;
    await calls(p, 2);
    expect(new Set(await calls(p, 4))).toEqual(new Set(['c', 'd']));
    a.isBad = false;
    await vi.advanceTimersByTimeAsync(1_000);
    await calls(p, 4);
    expect(await callOn(p)).toBe('a');
    await p.remove('a');
    expect(['c', 'd']).toContain(await callOn(p));
    balancer.tierOf.set('e', 0);
    p.add(client('e'), { name: 'e', tier: 0 });
    expect(await callOn(p)).toBe('e');
    healthy.set('e', false);
    await p.checkHealth();
    expect(['c', 'd']).toContain(await callOn(p));
    healthy.set('e', true);
    await p.checkHealth();
    expect(await callOn(p)).toBe('e');
    expect(balancer.faults).toEqual([]);
    await p.close();
  });

  it('a state-change listener that swaps the failing tier-0 client for a new one mid-transition leaves the hooks consistent', async () => {
    const balancer = ledgerBalancer();
    const p = pool({ strategy: balancer });
    balancer.tierOf.set('a', 0).set('c', 1).set('fresh', 0);
    p.add(client('a', true), { name: 'a', tier: 0 });
    p.add(client('c'), { name: 'c', tier: 1 });
    p.onStateChange((change) => {
      if (change.to.kind !== 'open' || change.client !== 'a') return;
      void p.remove('a');
      p.add(client('fresh'), { name: 'fresh', tier: 0 });
    });
    expect(await callOn(p)).toBe('a!');
    expect(await calls(p, 3)).toEqual(['fresh', 'fresh', 'fresh']);
    expect(balancer.faults).toEqual([]);
    await p.close();
  });
});

describe('tiers and the ways a tier-0 client leaves and returns', () => {
  it('removing the last ready tier-0 client hands the next call to tier 1; adding one back takes it back', async () => {
    const p = pool();
    p.add(client('a'), { name: 'a' });
    p.add(client('c'), { name: 'c', tier: 1 });
    expect(await callOn(p)).toBe('a');
    await p.remove('a');
    expect(await callOn(p)).toBe('c');
    p.add(client('b'), { name: 'b' });
    expect(await callOn(p)).toBe('b');
    await p.close();
  });

  it('a tier-0 client paused by pauseClient() spills to tier 1 until the pause ends', async () => {
    const p = pool();
    p.add(client('a'), { name: 'a' });
    p.add(client('c'), { name: 'c', tier: 1 });
    await p.run((_c, call) => call.pauseClient(1_000));
    expect(await callOn(p)).toBe('c');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await callOn(p)).toBe('a');
    await p.close();
  });

  it('while a half-open tier-0 client runs its one probe, other calls go to tier 1 instead of failing', async () => {
    const p = pool({ breaker: { maxFailures: 1, cooldown: 1_000, halfOpenProbes: 1 } });
    const a = client('a', true);
    p.add(a, { name: 'a' });
    p.add(client('c'), { name: 'c', tier: 1 });
    expect(await callOn(p)).toBe('a!');
    await vi.advanceTimersByTimeAsync(1_000);
    a.isBad = false;
    const gate = deferred<string>();
    const probe = p.run((c) => (c.name === 'a' ? gate.promise : c.name));
    expect(await callOn(p)).toBe('c');
    gate.resolve('a');
    await expect(probe).resolves.toBe('a');
    expect(await callOn(p)).toBe('a');
    await p.close();
  });

  it('a slow-starting tier-0 client that returns takes the calls back from tier 1 at once (no tier-1 traffic while it is ready)', async () => {
    const p = pool({ breaker: { maxFailures: 1, cooldown: 1_000 }, slowStart: { window: 10_000 } });
    const a = client('a', true);
    p.add(a, { name: 'a' });
    p.add(client('c'), { name: 'c', tier: 1 });
    await callOn(p);
    await vi.advanceTimersByTimeAsync(1_000);
    a.isBad = false;
    expect(await calls(p, 20)).toEqual(Array(20).fill('a'));
    await p.close();
  });
});

describe('tiers and maxInFlight caps', () => {
  it('with tier 0 and tier 1 both at their caps a call waits, and takes the first slot freed, in tier 0', async () => {
    const p = pool({ maxWait: 10_000 });
    p.add(client('a'), { name: 'a', maxInFlight: 1 });
    p.add(client('c'), { name: 'c', tier: 1, maxInFlight: 1 });
    const gates = new Map<string, ReturnType<typeof deferred<string>>>();
    const hold = (): Promise<string> =>
      p.run((c) => {
        const gate = deferred<string>();
        gates.set(c.name, gate);
        return gate.promise;
      });
    const first = hold();
    const second = hold();
    await vi.advanceTimersByTimeAsync(0);
    expect([...gates.keys()]).toEqual(['a', 'c']);
    const waiting = p.run((c) => c.name);
    await vi.advanceTimersByTimeAsync(0);
    gates.get('a')!.resolve('a');
    await vi.advanceTimersByTimeAsync(0);
    await expect(waiting).resolves.toBe('a');
    gates.get('c')!.resolve('c');
    await Promise.all([first, second]);
    await p.close();
  });
});

describe('tiers at scale', () => {
  it('1000 tiers, added highest first: each call goes to the lowest tier left, as clients are removed one by one', async () => {
    const p = pool();
    for (let tier = 999; tier >= 0; tier--) p.add(client(`t${tier}`), { name: `t${tier}`, tier });
    for (let tier = 0; tier < 999; tier += 111) {
      expect(await callOn(p)).toBe(`t${tier}`);
      for (let t = tier; t < tier + 111; t++) await p.remove(`t${t}`);
    }
    expect(p.size).toBe(1);
    expect(await callOn(p)).toBe('t999');
    await p.close();
  });
});
