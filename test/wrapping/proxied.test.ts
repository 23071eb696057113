// The types of pool.proxy() on the clients people pool, from the installed packages. These tests are
// checked by `tsc -p tsconfig.json` (strict, exactOptionalPropertyTypes); at run time they only make sure
// the files load. Each typed use sits in a function that is never called: no client is contacted.
import type { Redis } from 'ioredis';
import type OpenAI from 'openai';
import type { APIPromise } from 'openai/core/api-promise';
import type { Stream } from 'openai/streaming';
import type { Pool as UndiciPool, Dispatcher } from 'undici';
import { parseAbi, type PublicClient } from 'viem';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ClientPool, type Proxied } from '../../src/index.js';
import type { ProxiedPaths, SignalParameter } from '../../src/proxy.js';

const erc20 = parseAbi(['function balanceOf(address owner) view returns (uint256)', 'function symbol() view returns (string)']);

/** pg's `query` overloads, as `pg` declares them (not installed): generic rows, config object, callback. */
interface QueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number | null;
}
declare class PgLike {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  query<R = Record<string, unknown>>(config: { readonly text: string; readonly values?: unknown[] }): Promise<QueryResult<R>>;
  query<R = Record<string, unknown>>(text: string, callback: (error: Error | null, result: QueryResult<R>) => void): void;
}

/** The AWS SDK's `send(command)`: the result type comes from the command's type parameters. */
interface Command<Input, Output> {
  readonly input: Input;
  readonly __output?: Output;
}
declare class SdkLike {
  send<Input, Output>(command: Command<Input, Output>, options?: { readonly abortSignal?: AbortSignal }): Promise<Output>;
  send<Input, Output>(command: Command<Input, Output>, callback: (error: unknown, output?: Output) => void): void;
  get region(): string;
  describe(): string;
}

describe('Proxied<T>: promise-returning methods keep their declared type', () => {
  it('ioredis Redis: every overload of set, and get/incr/hset/hgetall/mget/exists', () => {
    const uses = async (redis: Proxied<Redis>): Promise<void> => {
      expectTypeOf(redis.set).toEqualTypeOf<Redis['set']>();
      expectTypeOf(await redis.set('k', 'v')).toEqualTypeOf<'OK'>();
      expectTypeOf(await redis.set('k', 'v', 'EX', 10)).toEqualTypeOf<'OK'>();
      expectTypeOf(await redis.set('k', 'v', 'NX')).toEqualTypeOf<'OK' | null>();
      expectTypeOf(await redis.set('k', 'v', 'GET')).toEqualTypeOf<string | null>();
      expectTypeOf(await redis.get('k')).toEqualTypeOf<string | null>();
      expectTypeOf(await redis.incr('n')).toEqualTypeOf<number>();
      expectTypeOf(await redis.hset('h', { a: 1 })).toEqualTypeOf<number>();
      expectTypeOf(await redis.hset('h', 'a', '1', 'b', '2')).toEqualTypeOf<number>();
      expectTypeOf(await redis.hgetall('h')).toEqualTypeOf<Record<string, string>>();
      expectTypeOf(await redis.mget('a', 'b')).toEqualTypeOf<(string | null)[]>();
      expectTypeOf(await redis.mget(['a', 'b'])).toEqualTypeOf<(string | null)[]>();
      expectTypeOf(await redis.exists('a', 'b')).toEqualTypeOf<number>();
      // @ts-expect-error set takes a value
      await redis.set('k');
    };
    expect(uses).toBeTypeOf('function');
  });

  it('pg-style query: text, config and generic row overloads', () => {
    const uses = async (pg: Proxied<PgLike>): Promise<void> => {
      expectTypeOf(pg.query).toEqualTypeOf<PgLike['query']>();
      expectTypeOf(await pg.query('select 1')).toEqualTypeOf<QueryResult<Record<string, unknown>>>();
      expectTypeOf(await pg.query<{ n: number }>('select $1::int as n', [1])).toEqualTypeOf<QueryResult<{ n: number }>>();
      expectTypeOf(await pg.query<{ n: number }>({ text: 'select 1 as n' })).toEqualTypeOf<QueryResult<{ n: number }>>();
    };
    expect(uses).toBeTypeOf('function');
  });

  it('send(command): the generic result follows the command', () => {
    const uses = async (sdk: Proxied<SdkLike>, getObject: Command<{ Key: string }, { Body: string }>): Promise<void> => {
      expectTypeOf(await sdk.send(getObject)).toEqualTypeOf<{ Body: string }>();
      expectTypeOf(await sdk.send(getObject, { abortSignal: AbortSignal.timeout(1) })).toEqualTypeOf<{ Body: string }>();
      // A synchronous method is re-typed to return a promise; a getter is a property, left out.
      expectTypeOf(sdk.describe).toEqualTypeOf<() => Promise<string>>();
      expectTypeOf(sdk).not.toHaveProperty('region');
    };
    expect(uses).toBeTypeOf('function');
  });

  it('viem PublicClient: readContract keeps its generic result', () => {
    const uses = async (client: Proxied<PublicClient>): Promise<void> => {
      const owner = '0x0000000000000000000000000000000000000001';
      const balance = await client.readContract({ address: owner, abi: erc20, functionName: 'balanceOf', args: [owner] });
      expectTypeOf(balance).toEqualTypeOf<bigint>();
      const symbol = await client.readContract({ address: owner, abi: erc20, functionName: 'symbol' });
      expectTypeOf(symbol).toEqualTypeOf<string>();
      expectTypeOf(await client.getBlockNumber()).toEqualTypeOf<bigint>();
      expectTypeOf(client.readContract).toEqualTypeOf<PublicClient['readContract']>();
      // @ts-expect-error 'transfer' is not a view function of the ABI
      await client.readContract({ address: owner, abi: erc20, functionName: 'transfer' });
    };
    expect(uses).toBeTypeOf('function');
  });

  it('viem PublicClient: watchers, filters and extend are left out, and a glob include brings watchers back', () => {
    type Viem = Proxied<PublicClient>;
    expectTypeOf<Viem>().toHaveProperty('getBlock');
    expectTypeOf<Viem>().toHaveProperty('getLogs');
    expectTypeOf<Viem>().not.toHaveProperty('watchBlocks');
    expectTypeOf<Viem>().not.toHaveProperty('watchEvent');
    expectTypeOf<Viem>().not.toHaveProperty('watchContractEvent');
    expectTypeOf<Viem>().not.toHaveProperty('createBlockFilter');
    expectTypeOf<Viem>().not.toHaveProperty('createEventFilter');
    expectTypeOf<Viem>().not.toHaveProperty('getFilterChanges');
    expectTypeOf<Viem>().not.toHaveProperty('getFilterLogs');
    expectTypeOf<Viem>().not.toHaveProperty('uninstallFilter');
    expectTypeOf<Viem>().not.toHaveProperty('extend');
    expectTypeOf<Proxied<PublicClient, 'watch*'>>().toHaveProperty('watchBlocks');
    expectTypeOf<Proxied<PublicClient, never, 'get*'>>().not.toHaveProperty('getBlock');
    expectTypeOf<Proxied<PublicClient, never, 'get*'>>().toHaveProperty('readContract');
  });

  it('undici Pool: request keeps its generic opaque result', () => {
    const uses = async (http: Proxied<UndiciPool>): Promise<void> => {
      const response = await http.request({ path: '/', method: 'GET', opaque: { id: 7 } });
      expectTypeOf(response).toEqualTypeOf<Dispatcher.ResponseData<{ id: number }>>();
      expectTypeOf(response.opaque.id).toEqualTypeOf<number>();
      expectTypeOf((await http.request({ path: '/', method: 'GET' })).statusCode).toEqualTypeOf<number>();
    };
    expect(uses).toBeTypeOf('function');
  });

  it('openai OpenAI: nested resources; create keeps its streaming and non-streaming overloads, as plain promises', () => {
    const uses = async (ai: Proxied<OpenAI>): Promise<void> => {
      const completion = await ai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      expectTypeOf(completion).toEqualTypeOf<Awaited<APIPromise<OpenAI.Chat.ChatCompletion>>>();
      const stream = await ai.chat.completions.create({ model: 'gpt-4o-mini', messages: [], stream: true });
      expectTypeOf(stream).toEqualTypeOf<Awaited<APIPromise<Stream<OpenAI.Chat.ChatCompletionChunk>>>>();
      // The pool resolves with the result: APIPromise's own methods are not on what the proxy returns.
      expectTypeOf(ai.chat.completions.create({ model: 'm', messages: [] })).toEqualTypeOf<Promise<Awaited<APIPromise<OpenAI.Chat.ChatCompletion>>>>();
      // @ts-expect-error withResponse() belongs to APIPromise, which the proxy does not return
      await ai.chat.completions.create({ model: 'm', messages: [] }).withResponse(); // eslint-disable-line @typescript-eslint/no-unsafe-call
      expectTypeOf(ai.models.retrieve).parameters.toEqualTypeOf<Parameters<OpenAI['models']['retrieve']>>();
      expectTypeOf(ai).not.toHaveProperty('apiKey');
      expectTypeOf(ai).not.toHaveProperty('baseURL');
    };
    expect(uses).toBeTypeOf('function');
  });
});

describe('Proxied<T>: thenables that are not plain promises', () => {
  /** A query builder that is awaited for its rows (knex, mongoose): the pool awaits it, so a plain promise comes back. */
  interface QueryBuilder<R> extends PromiseLike<R[]> {
    where(column: string, value: unknown): QueryBuilder<R>;
  }
  interface Db {
    from(table: 'users'): QueryBuilder<{ id: number }>;
    from(table: 'orders'): QueryBuilder<{ total: number }>;
  }

  it('each overload returns a plain promise of what awaiting it gives', () => {
    const uses = async (db: Proxied<Db>): Promise<void> => {
      expectTypeOf(db.from('users')).toEqualTypeOf<Promise<{ id: number }[]>>();
      expectTypeOf(await db.from('orders')).toEqualTypeOf<{ total: number }[]>();
      // @ts-expect-error where() belongs to the builder, which the proxy does not return
      await db.from('users').where('id', 1); // eslint-disable-line @typescript-eslint/no-unsafe-call
    };
    expect(uses).toBeTypeOf('function');
  });
});

describe('Proxied<T>: what is left out, and the include and exclude options', () => {
  interface Conn {
    get(key: string): Promise<string>;
    quit(): Promise<'OK'>;
    on(event: string, listener: () => void): this;
    subscribe(channel: string): Promise<number>;
    readonly admin: { flush(): Promise<void>; close(): Promise<void> };
    readonly url: string;
    readonly tags: readonly string[];
    readonly maybe?: { ping(): Promise<void> };
  }

  it('leaves out lifecycle, event and stream methods, data, and nullable objects by default', () => {
    expectTypeOf<keyof Proxied<Conn>>().toEqualTypeOf<'get' | 'admin'>();
    expectTypeOf<keyof Proxied<Conn>['admin']>().toEqualTypeOf<'flush'>();
    expectTypeOf<ProxiedPaths<Proxied<Conn>>>().toEqualTypeOf<'get' | 'admin.flush'>();
  });

  it('include adds a default exclusion back, by name or path; exclude removes, by name or path', () => {
    expectTypeOf<keyof Proxied<Conn, 'quit' | 'admin.close'>>().toEqualTypeOf<'get' | 'admin' | 'quit'>();
    expectTypeOf<keyof Proxied<Conn, 'quit' | 'admin.close'>['admin']>().toEqualTypeOf<'flush' | 'close'>();
    expectTypeOf<keyof Proxied<Conn, never, 'get' | 'admin.flush'>>().toEqualTypeOf<'admin'>();
    expectTypeOf<keyof Proxied<Conn, 'quit', 'quit'>>().toEqualTypeOf<'get' | 'admin'>();
  });

  it('pool.proxy() infers include and exclude from its options', () => {
    const uses = async (pool: ClientPool<Conn>): Promise<void> => {
      expectTypeOf(pool.proxy()).toEqualTypeOf<Proxied<Conn>>();
      expectTypeOf(pool.proxy({ include: ['quit'] })).toEqualTypeOf<Proxied<Conn, 'quit'>>();
      expectTypeOf(pool.proxy({ include: ['quit'] }).quit).toEqualTypeOf<() => Promise<'OK'>>();
      expectTypeOf(pool.proxy({ exclude: ['admin'] })).not.toHaveProperty('admin');
      // @ts-expect-error quit is left out unless included
      await pool.proxy().quit(); // eslint-disable-line @typescript-eslint/no-unsafe-call
      pool.proxy({ methods: { get: { timeout: 1 }, 'admin.flush': { timeout: 2 } } });
      // @ts-expect-error per-method options name a proxied method
      pool.proxy({ methods: { quit: { timeout: 1 } } });
      pool.proxy({ include: ['quit'], methods: { quit: { timeout: 1 } } });
    };
    expect(uses).toBeTypeOf('function');
  });

  it('a widened string[] include or exclude (read from a config) leaves the type as without it', () => {
    const uses = async (pool: ClientPool<Redis>, exclude: string[], include: string[]): Promise<void> => {
      const a: string | null = await pool.proxy({ exclude }).get('k');
      const b: string | null = await pool.proxy({ include }).get('k');
      expectTypeOf(pool.proxy({ exclude })).toEqualTypeOf<Proxied<Redis>>();
      expectTypeOf(pool.proxy({ include })).toEqualTypeOf<Proxied<Redis>>();
      expect([a, b]).toHaveLength(2);
    };
    expect(uses).toBeTypeOf('function');
  });

  it('leaves out connection-state, blocking, handler-style and stream-returning methods', () => {
    type Kept = Extract<keyof Proxied<Redis>, string>;
    expectTypeOf<Extract<Kept, 'select' | 'defineCommand' | 'client' | 'blpop' | 'blpopBuffer' | 'xread' | 'scanStream' | 'hscanBufferStream'>>().toEqualTypeOf<never>();
    expectTypeOf<Extract<keyof Proxied<UndiciPool>, 'dispatch'>>().toEqualTypeOf<never>();
    // An object holding data (ioredis's options: a port, and a retryStrategy function) is a value, not a resource.
    expectTypeOf<Extract<Kept, 'options'>>().toEqualTypeOf<never>();
    expectTypeOf<keyof Proxied<{ readonly config: { port: number; retry(): number }; readonly api: { list(): Promise<string[]> } }>>().toEqualTypeOf<'api'>();
    expectTypeOf<Extract<Kept, 'get' | 'lpop' | 'xadd'>>().toEqualTypeOf<'get' | 'lpop' | 'xadd'>();
  });
});

describe('SignalParameter<F> and the signal option', () => {
  it('finds options parameters that take signal?: AbortSignal', () => {
    expectTypeOf<SignalParameter<UndiciPool['request']>>().toEqualTypeOf<0>();
    expectTypeOf<SignalParameter<OpenAI['chat']['completions']['create']>>().toEqualTypeOf<1>();
    expectTypeOf<SignalParameter<(key: string, value: object) => Promise<void>>>().toEqualTypeOf<never>();
  });

  it("reads every overload: openai's paginated list(query, options) also has list(options)", () => {
    expectTypeOf<SignalParameter<OpenAI['files']['list']>>().toEqualTypeOf<0 | 1>();
    const uses = (ai: ClientPool<OpenAI>): void => {
      ai.proxy({ signal: { 'files.list': 1, 'models.list': 0, 'chat.completions.create': 1 } });
      // @ts-expect-error create's body is not an options object with a signal
      ai.proxy({ signal: { 'chat.completions.create': 0 } });
    };
    expect(uses).toBeTypeOf('function');
  });

  it('a record that merely admits a signal key, or any, is not an options parameter', () => {
    expectTypeOf<SignalParameter<(data: Record<string, unknown>) => Promise<void>>>().toEqualTypeOf<never>();
    expectTypeOf<SignalParameter<(options: any) => Promise<void>>>().toEqualTypeOf<never>(); // eslint-disable-line @typescript-eslint/no-explicit-any
    expectTypeOf<SignalParameter<(options: { signal?: AbortSignal; [key: string]: unknown }) => Promise<void>>>().toEqualTypeOf<0>();
  });

  it('types the signal option by method path', () => {
    const uses = (http: ClientPool<UndiciPool>, ai: ClientPool<OpenAI>, redis: ClientPool<Redis>): void => {
      http.proxy({ signal: { request: 0 } });
      ai.proxy({ signal: { 'chat.completions.create': 1 } });
      // @ts-expect-error request's options are parameter 0
      http.proxy({ signal: { request: 1 } });
      // @ts-expect-error hset takes no options object with a signal
      redis.proxy({ signal: { hset: 1 } });
    };
    expect(uses).toBeTypeOf('function');
  });
});

describe('Proxied<T>: synchronous methods', () => {
  interface Sync {
    version(): string;
    parse(text: string): number;
    parse(bytes: Uint8Array, encoding: 'utf8' | 'latin1'): bigint;
    echo<V>(value: V): V;
  }

  it('return a promise of their result; an overloaded one keeps its last overload, a generic one loses its type parameters', () => {
    const uses = async (sync: Proxied<Sync>): Promise<void> => {
      expectTypeOf(sync.version).toEqualTypeOf<() => Promise<string>>();
      expectTypeOf(await sync.parse(new Uint8Array(), 'utf8')).toEqualTypeOf<bigint>();
      // @ts-expect-error only the last overload of a synchronous method is kept
      await sync.parse('1');
      expectTypeOf(sync.echo(1)).toEqualTypeOf<Promise<unknown>>();
    };
    expect(uses).toBeTypeOf('function');
  });
});
