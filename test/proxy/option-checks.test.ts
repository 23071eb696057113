// When pool.proxy() checks its options: all it can at pool.proxy(), the rest (does the client have a
// method at each key of `methods` and `signal`?) on a client, at pool.proxy() or, on an empty pool, at
// the first call once there is a client. Always InvalidOptionError, never a call counted against a client.
import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../src/index.js';

class Completions {
  create(body: { readonly model: string }, options?: { readonly signal?: AbortSignal }): Promise<string> {
    return Promise.resolve(`${body.model}${options?.signal === undefined ? '' : ' with a signal'}`);
  }
}

class Ai {
  readonly chat = { completions: new Completions() };
  readonly baseURL = 'https://ai.example';
  ping(): Promise<string> {
    return Promise.resolve('pong');
  }
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Options that the types refuse, as plain JavaScript (or a cast) would pass them. */
const untyped = (options: object): object => options;

describe('pool.proxy(): options are checked when the proxy is made', () => {
  it('a bad per-method option throws at pool.proxy(), before any call, naming the method path', () => {
    const pool = new ClientPool<Ai>();
    pool.add(new Ai(), { name: 'a' });
    const error = thrown(() => pool.proxy({ methods: { ping: { timeout: -5 } } }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ option: 'proxy options.methods.ping.timeout', value: -5 });
    expect(pool.members()[0]).toMatchObject({ successes: 0, failures: 0, refused: 0 });
  });

  it('so does one on an empty pool: what needs no client is checked at once', () => {
    const pool = new ClientPool<Ai>();
    expect(() => pool.proxy({ signal: { 'chat.completions.create': -1 as 1 } })).toThrow(expect.objectContaining({ option: 'proxy options.signal.chat.completions.create', value: -1 }) as Error);
    expect(() => pool.proxy({ methods: { ping: { retry: { attempts: 0 } } } })).toThrow(expect.objectContaining({ option: 'proxy options.methods.ping.retry.attempts' }) as Error);
    expect(() => pool.proxy(untyped({ methods: { quit: {} } }))).toThrow(expect.objectContaining({ option: 'proxy options.methods.quit' }) as Error);
  });

  it('a key that names no method of the client throws at pool.proxy() when the pool has a client', () => {
    const pool = new ClientPool<Ai>();
    pool.add(new Ai(), { name: 'a' });
    const cases: [object, string, RegExp][] = [
      [{ methods: { pnig: {} } }, 'proxy options.methods.pnig', /pnig is not a method of the client: misspelt\?/],
      [{ methods: { baseURL: {} } }, 'proxy options.methods.baseURL', /baseURL is not a method/],
      [{ signal: { chat: 0 } }, 'proxy options.signal.chat', /chat is not a method/],
      [{ signal: { 'chat.completion.create': 1 } }, 'proxy options.signal.chat.completion.create', /chat\.completion is not a resource holding methods/],
      [{ methods: { 'baseURL.length': {} } }, 'proxy options.methods.baseURL.length', /baseURL is not a resource/],
    ];
    for (const [options, option, message] of cases) {
      const error = thrown(() => pool.proxy(untyped(options)));
      expect(error, option).toBeInstanceOf(InvalidOptionError);
      expect(error, option).toMatchObject({ option });
      expect((error as Error).message, option).toMatch(message);
    }
    expect(() => pool.proxy({ methods: { ping: { timeout: 10 }, 'chat.completions.create': { timeout: 10 } }, signal: { 'chat.completions.create': 1 } })).not.toThrow();
  });

  it('on an empty pool, the first call after a client is added checks the keys: it rejects with InvalidOptionError and reaches no client', async () => {
    const pool = new ClientPool<Ai>();
    const ai = pool.proxy(untyped({ methods: { pnig: { timeout: 10 } } }));
    await expect(ai.ping()).rejects.toMatchObject({ code: 'ERR_NO_CLIENTS' });
    pool.add(new Ai(), { name: 'a' });
    const error: unknown = await ai.ping().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ option: 'proxy options.methods.pnig', value: 'pnig' });
    // Every call through that proxy fails the same way; the client was never used.
    await expect(ai.chat.completions.create({ model: 'm' })).rejects.toBeInstanceOf(InvalidOptionError);
    expect(pool.members()[0]).toMatchObject({ successes: 0, failures: 0, refused: 0 });
  });

  it('on an empty pool, good keys pass the check at the first call and work', async () => {
    const pool = new ClientPool<Ai>();
    const ai = pool.proxy({ signal: { 'chat.completions.create': 1 }, methods: { ping: { timeout: 1_000 } } });
    pool.add(new Ai(), { name: 'a' });
    await expect(ai.chat.completions.create({ model: 'm' })).resolves.toBe('m with a signal');
    await expect(ai.ping()).resolves.toBe('pong');
  });

  it('reads its options once: changing them after pool.proxy() changes nothing', async () => {
    const pool = new ClientPool<Ai>();
    pool.add(new Ai(), { name: 'a' });
    const signal: Record<string, number> = { 'chat.completions.create': 1 };
    const ai = pool.proxy({ signal });
    signal['chat.completions.create'] = 5;
    await expect(ai.chat.completions.create({ model: 'm' })).resolves.toBe('m with a signal');
  });
});
