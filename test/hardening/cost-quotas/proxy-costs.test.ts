// Attack: costs through pool.proxy(): ProxyMethodOptions and ProxyRunOptions are RunOptions, which have cost.
import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { ManualClock } from '../../helpers/manual-clock.js';

class Llm {
  chat(prompt: string): Promise<string> {
    return Promise.resolve(`re: ${prompt}`);
  }
}

describe('pool.proxy() with costs', () => {
  it('a per-method cost (typed by ProxyMethodOptions) is taken by each call of that method', async () => {
    const pool = new ClientPool<Llm>({ clock: new ManualClock() });
    pool.add(new Llm(), { limit: { tokens: { rate: 10_000, per: 60_000 } } });
    const llm = pool.proxy({ methods: { chat: { cost: { tokens: 1_000 } } } });
    await expect(llm.chat('hi')).resolves.toBe('re: hi');
    expect(pool.members()[0]!.quota).toEqual({ tokens: 9_000 });
  });

  it('a run cost (typed by ProxyRunOptions) is taken by every call through the proxy', async () => {
    const pool = new ClientPool<Llm>({ clock: new ManualClock() });
    pool.add(new Llm(), { limit: { tokens: { rate: 10_000, per: 60_000 } } });
    const llm = pool.proxy({ run: { cost: { tokens: 500 } } });
    await expect(llm.chat('hi')).resolves.toBe('re: hi');
    expect(pool.members()[0]!.quota).toEqual({ tokens: 9_500 });
  });

  it('the pool\'s method cost applies to proxied calls of that label', async () => {
    const pool = new ClientPool<Llm>({ clock: new ManualClock(), methods: { chat: { cost: { tokens: 2_000 } } } });
    pool.add(new Llm(), { limit: { tokens: { rate: 10_000, per: 60_000 } } });
    await pool.proxy().chat('hi');
    expect(pool.members()[0]!.quota).toEqual({ tokens: 8_000 });
  });
});
