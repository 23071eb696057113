import { describe, expect, expectTypeOf, it } from 'vitest';
import { ClientPool } from '../../src/index.js';

/** A client that declares its own string and JSON conversions, as some SDK clients do. */
class Named {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  toString(): string {
    return `client ${this.name}`;
  }
  toJSON(): { readonly name: string } {
    return { name: this.name };
  }
  ping(): Promise<string> {
    return Promise.resolve(`pong from ${this.name}`);
  }
  then(): string {
    return 'not a promise';
  }
}

/** String conversion as a caller's code does it; the proxy's type declares no toString, hence `unknown`. */
const text = (value: unknown): string => String(value);

function poolOf(...names: string[]): ClientPool<Named> {
  const pool = new ClientPool<Named>();
  for (const name of names) pool.add(new Named(name), { name });
  return pool;
}

describe('pool.proxy(): Object.prototype members and toJSON are the proxy\'s own, not the client\'s', () => {
  it('converts to a string and to JSON without running a call', () => {
    const proxy = poolOf('a').proxy();
    expect(`<${proxy as unknown as string}>`).toBe('<[clientpool proxy]>');
    expect(text(proxy)).toBe('[clientpool proxy]');
    expect(JSON.stringify(proxy)).toBe('{}');
    expect(JSON.stringify({ proxy })).toBe('{"proxy":{}}');
    const members = proxy as unknown as Record<string, unknown>;
    expect(members['constructor']).toBe(Object);
    expect(Object.prototype.hasOwnProperty.call(proxy, 'ping')).toBe(false);
    expect((members['hasOwnProperty'] as (key: string) => boolean).call(proxy, 'ping')).toBe(false);
    expect((members['valueOf'] as () => unknown).call(proxy)).toBe(proxy);
  });

  it('a nested resource and a node made on an empty pool convert the same way', () => {
    const pool = new ClientPool<{ readonly chat: { create(): Promise<string> } }>();
    const chat = pool.proxy().chat;
    expect(text(chat)).toBe('[clientpool proxy]');
    expect(JSON.stringify(chat)).toBe('{}');
    pool.add({ chat: { create: () => Promise.resolve('ok') } });
    expect(text(pool.proxy().chat)).toBe('[clientpool proxy]');
  });

  it('include brings back the client\'s own member when it names it without a wildcard', async () => {
    const pool = poolOf('a');
    const proxy = pool.proxy({ include: ['toString', 'toJSON'] });
    await expect(proxy.toString()).resolves.toBe('client a');
    await expect(proxy.toJSON()).resolves.toEqual({ name: 'a' });
    expect(text(pool.proxy({ include: ['to*'] }))).toBe('[clientpool proxy]');
  });

  it('leaves string conversion, JSON and then out of the proxy\'s type unless included by name', async () => {
    const proxy = poolOf('a').proxy();
    expectTypeOf(proxy).not.toHaveProperty('toString');
    expectTypeOf(proxy).not.toHaveProperty('toJSON');
    expectTypeOf(proxy).not.toHaveProperty('then');
    expectTypeOf(proxy).toHaveProperty('ping');
    expect((proxy as unknown as { then?: unknown }).then).toBeUndefined();
    await expect(Promise.resolve(proxy)).resolves.toBe(proxy);
    const included = poolOf('a').proxy({ include: ['toJSON'] });
    expectTypeOf(included).toHaveProperty('toJSON');
    // then is never proxied: including it is refused rather than silently ignored.
    expect(() => poolOf('a').proxy({ include: ['toJSON', 'then'] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'proxy options.include[1]' }) as Error);
    expectTypeOf(poolOf('a').proxy({ include: ['to*'] })).not.toHaveProperty('toString');
  });
});
