import { describe, expect, it } from 'vitest';
import type { Balancer } from '../../src/balancers/balancer.js';
import { guardedHooks } from '../../src/balancers/guarded-hooks.js';
import type { PoolMember } from '../../src/member.js';

const member = { name: 'a', slot: 0 } as PoolMember;
const pick = (ready: readonly PoolMember[]): PoolMember => ready[0]!;

describe('guardedHooks', () => {
  it('has only the hooks the balancer has', () => {
    expect(Object.keys(guardedHooks({ pick }, () => undefined))).toEqual([]);
    expect(Object.keys(guardedHooks({ pick, onInFlight: () => undefined }, () => undefined))).toEqual(['onInFlight']);
    expect(Object.keys(guardedHooks({ pick, onReady: () => undefined, onUnready: () => undefined }, () => undefined))).toEqual(['onReady', 'onUnready']);
  });

  it('calls each hook with the member', () => {
    const seen: string[] = [];
    const balancer: Balancer = {
      pick,
      onReady: (m) => seen.push(`ready ${m.name}`),
      onUnready: (m) => seen.push(`unready ${m.name}`),
      onInFlight: (m) => seen.push(`inFlight ${m.name}`),
    };
    const hooks = guardedHooks(balancer, () => expect.unreachable());
    hooks.onReady!(member);
    hooks.onUnready!(member);
    hooks.onInFlight!(member);
    expect(seen).toEqual(['ready a', 'unready a', 'inFlight a']);
  });

  it('a hook the balancer has dropped since is skipped, not reported', () => {
    const balancer: Balancer = { pick, onReady: () => undefined };
    const hooks = guardedHooks(balancer, () => expect.unreachable());
    delete (balancer as { onReady?: unknown }).onReady;
    expect(() => hooks.onReady!(member)).not.toThrow();
  });

  it('a hook that throws is reported by name, and the pool goes on', () => {
    const error = new Error('broken index');
    const fail = (): never => {
      throw error;
    };
    const warnings: [string, unknown][] = [];
    const hooks = guardedHooks({ pick, onReady: fail, onUnready: fail, onInFlight: fail }, (name, e) => warnings.push([name, e]));
    expect(() => {
      hooks.onReady!(member);
      hooks.onUnready!(member);
      hooks.onInFlight!(member);
    }).not.toThrow();
    expect(warnings).toEqual([
      ["the balancer's onReady()", error],
      ["the balancer's onUnready()", error],
      ["the balancer's onInFlight()", error],
    ]);
  });
});
