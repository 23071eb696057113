import { describe, expect, it } from 'vitest';
import { ClientPool, type Balancer, type Breaker, type PoolMember } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** Round robin that counts its picks and names what it picked. */
function countingBalancer(): Balancer<object> & { picks: number; picked: string[] } {
  let next = 0;
  const balancer = {
    picks: 0,
    picked: [] as string[],
    pick(ready: readonly PoolMember<object>[]): PoolMember<object> {
      balancer.picks++;
      const member = ready[next++ % ready.length]!;
      balancer.picked.push(member.name);
      return member;
    },
  };
  return balancer;
}

describe('the pick of a call with no options', () => {
  it('asks the balancer once per call when the client it picks has a limit of its own', async () => {
    const balancer = countingBalancer();
    const pool = new ClientPool<object>({ strategy: balancer });
    pool.add({}, { name: 'a', limit: { rate: 1_000, burst: 1_000 } });
    pool.add({}, { name: 'b', limit: { rate: 1_000, burst: 1_000 } });
    for (let i = 0; i < 10; i++) await pool.run(() => Promise.resolve(i));
    expect(balancer.picks).toBe(10);
    expect(balancer.picked).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    await pool.close();
  });

  it('goes to another client when the one picked is half-open with its probe already out', async () => {
    const clock = new ManualClock();
    const balancer = countingBalancer();
    const pool = new ClientPool<object>({ strategy: balancer, clock, breaker: { maxFailures: 1, cooldown: 1_000, halfOpenProbes: 1 } });
    pool.add({ id: 'a' }, { name: 'a' });
    pool.add({ id: 'b' }, { name: 'b' });
    await expect(pool.run((c) => ((c as { id: string }).id === 'a' ? Promise.reject(new Error('down')) : Promise.resolve('b')))).rejects.toMatchObject({ code: 'ERR_CLIENT_CALL' });
    clock.advance(1_000);
    // The probe of a: it never answers.
    const served: string[] = [];
    const probe = pool.run((c, call) => {
      served.push(call.clientName);
      return (c as { id: string }).id === 'a' ? new Promise(() => {}) : Promise.resolve('b');
    });
    void probe.catch(() => {});
    for (let i = 0; i < 6; i++) await pool.run((_c, call) => Promise.resolve(served.push(call.clientName)));
    // a is probed once; every other call goes to b, whoever the balancer picked first.
    expect(served.filter((name) => name === 'a')).toHaveLength(1);
    expect(served.slice(1)).toEqual(['b', 'b', 'b', 'b', 'b', 'b']);
    await pool.destroy();
  });

  it('closes a half-open circuit on its probe, as any call does', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<object>({ clock, breaker: { maxFailures: 1, cooldown: 1_000 } });
    pool.add({}, { name: 'a' });
    await expect(pool.run(() => Promise.reject(new Error('down')))).rejects.toMatchObject({ code: 'ERR_CLIENT_CALL' });
    expect(pool.members()[0]!.state.kind).toBe('open');
    clock.advance(1_000);
    await expect(pool.run(() => Promise.resolve('probe'))).resolves.toBe('probe');
    expect(pool.members()[0]!.state.kind).toBe('closed');
    expect(pool.members()[0]!.inFlight).toBe(0);
    await pool.close();
  });
  it('goes to another client when the breaker of the one picked refuses it while closed (a bulkhead of its own)', async () => {
    let made = 0;
    const refusing = (): Breaker => {
      const isFirst = made++ === 0;
      return {
        state: { kind: 'closed' },
        acquire: () => (isFirst ? false : 'call'),
        canAcquire: () => true,
        success: () => {},
        failure: () => {},
        release: () => {},
      };
    };
    const pool = new ClientPool<object>({ breaker: refusing });
    pool.add({}, { name: 'a' });
    pool.add({}, { name: 'b' });
    const served: string[] = [];
    for (let i = 0; i < 4; i++) await pool.run((_c, call) => Promise.resolve(served.push(call.clientName)));
    expect(served).toEqual(['b', 'b', 'b', 'b']);
    await pool.close();
  });
});
