// What the generated wrapper does at run time and what it leaves out, on the fixtures in
// fixtures/wrapping.ts: the generated source is compiled strictly, then loaded and called.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { generate, type GenerateOptions } from '../../src/codegen/generate.js';
import { AbortedError, ClientPool, type Call } from '../../src/index.js';
import { Ai, Counter, Emitting, GetObjectCommand, Http, Overloaded, ReceivedOptions, S3, Store, Thenable } from './fixtures/wrapping.js';
import { diagnosticsOf, FIXTURES, GOLDEN, POOL_IMPORT, REPO } from './helpers.js';

const base = { source: `${FIXTURES}/wrapping.ts`, importFrom: POOL_IMPORT, cwd: REPO } as const;
const options = (type: string, extra: Partial<GenerateOptions> = {}): GenerateOptions => ({
  ...base,
  type,
  wrapper: `Multi${type}`,
  out: `${GOLDEN}/multi-${type.toLowerCase()}.ts`,
  ...extra,
});

const generated = {
  counter: generate(options('Counter')),
  ai: generate(options('Ai')),
  emitting: generate(options('Emitting')),
  http: generate(options('Http')),
  s3: generate(options('S3')),
  store: generate(options('Store')),
  thenable: generate(options('Thenable')),
  overloaded: generate(options('Overloaded')),
};

const dir = mkdtempSync(path.join(tmpdir(), 'clientpool-codegen-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Write a generated file and import it (it imports only types, so it runs from anywhere). */
async function load<M>(name: string, code: string): Promise<M> {
  const file = path.join(dir, `${name}.ts`);
  writeFileSync(file, code);
  return (await import(pathToFileURL(file).href)) as M;
}

/** A pool of one client that records each call's label. */
function poolOf<T extends object>(client: T): { pool: ClientPool<T>; labels: string[] } {
  const labels: string[] = [];
  const pool = new ClientPool<T>();
  pool.add(client, { name: 'only' });
  pool.use({ name: 'labels', execute: (call: Call<T>, next) => (labels.push(call.method), next(call)) });
  return { pool, labels };
}

type Wrapper<T> = new (pool: ClientPool<T>, options?: object) => Record<string, unknown>;

describe('generated wrappers on the fixtures', () => {
  it('compile under strict settings, and typed uses of them compile (generics kept where a type cannot be imported)', () => {
    const usage = [
      `import { MultiStore } from './multi-store.js';`,
      `import { MultiAi } from './multi-ai.js';`,
      `import { MultiCounter } from './multi-counter.js';`,
      `interface Foo { readonly foo: number }`,
      `import { MultiOverloaded } from './multi-overloaded.js';`,
      `export async function use(store: MultiStore, ai: MultiAi, counter: MultiCounter, overloaded: MultiOverloaded): Promise<number> {`,
      `  const streamed: readonly string[] = (await overloaded.create({ stream: true })).chunks;`,
      `  const completed: string = (await overloaded.create({})).text;`,
      `  const listed: number = (await overloaded.list({ limit: 1 }, {})).length + (await overloaded.list()).length;`,
      `  void [streamed, completed, listed];`,
      `  const found: Foo | undefined = await store.get<Foo>({ key: 'k' });`,
      `  const text: string = await ai.chat.completions.create({ model: 'm' });`,
      `  const n: number = await counter.page('k');`,
      `  const counted: number = await store.count({ key: 'k' }, 2);`,
      `  const read: string = await store.with({ timeout: 100 }).read({ key: 'k' }, { signal: AbortSignal.timeout(100) });`,
      `  return (found?.foo ?? 0) + text.length + n + counted + read.length + (await counter.with({ timeout: 100 }).count('k'));`,
      `}`,
    ].join('\n');
    const files = Object.fromEntries(Object.entries(generated).map(([name, result]) => [`${GOLDEN}/multi-${name}.ts`, result.code]));
    expect(diagnosticsOf({ ...files, [`${GOLDEN}/usage.ts`]: usage })).toEqual([]);
  });

  it('passes arguments on exactly as given: an omitted optional argument is not sent as undefined', async () => {
    const { MultiCounter } = await load<{ MultiCounter: Wrapper<Counter> }>('counter', generated.counter.code);
    const { pool } = poolOf(new Counter());
    const wrapper = new MultiCounter(pool) as unknown as { count(key: string): Promise<number>; page(key: string, limit?: number): Promise<number> };
    expect(await wrapper.count('k')).toBe(1);
    expect(await wrapper.page('k')).toBe(1);
    expect(await wrapper.page('k', 5)).toBe(2);
    expect(generated.counter.code).toContain('page(...args: [key: string, limit?: number, offset?: number]): Promise<number> {');
  });

  it('drops callbacks: an optional callback parameter disappears, a callback-only method is left out', () => {
    expect(generated.counter.code).toContain('count(key: string): Promise<number> {');
    expect(generated.counter.skipped).toEqual([{ path: 'legacy', reason: 'callback style' }]);
    expect(generated.counter.code).toContain('// - callback style: legacy');
  });

  it('wraps nested resources: wrapper.chat.completions.create runs through the pool labelled chat.completions.create', async () => {
    const { MultiAi } = await load<{ MultiAi: Wrapper<Ai> }>('ai', generated.ai.code);
    const { pool, labels } = poolOf(new Ai());
    const wrapper = new MultiAi(pool) as unknown as { chat: { completions: { create(body: { model: string }): Promise<string> } }; ping(): Promise<void> };
    expect(await wrapper.chat.completions.create({ model: 'gpt' })).toBe('completion from gpt');
    await wrapper.ping();
    expect(labels).toEqual(['chat.completions.create', 'ping']);
    expect(wrapper.chat).toBe(wrapper.chat); // made once, on first use
    expect(generated.ai.wrapped).toEqual(['ping', 'chat.completions.create']);
    expect(generated.ai.code).toContain('export class MultiAiChatCompletions {');
  });

  it('labels each nested segment in the label style', () => {
    const snake = generate(options('Ai', { source: `${FIXTURES}/wrapping.ts`, include: ['create'] }));
    expect(snake.code).toContain(", 'chat.completions.create');");
    expect(snake.wrapped).toEqual(['chat.completions.create']);
  });

  it('leaves out EventEmitter, lifecycle and stream methods by default, and says so in the header', () => {
    const { wrapped, skipped, code } = generated.emitting;
    expect(wrapped).toEqual(['fetch']);
    const reasons = Object.fromEntries(skipped.map((member) => [member.path, member.reason]));
    expect(reasons).toMatchObject({ close: 'lifecycle', on: 'event emitter', emit: 'event emitter', tail: 'returns a stream or event source', run: 'returns a stream or event source' });
    expect(code).toMatch(/^\/\/ Wraps 1 method; leaves out \d+:$/m);
    expect(code).toMatch(/^\/\/ - lifecycle: close$/m);
    expect(code).toMatch(/^\/\/ - event emitter: .*\bon\b/m);
  });

  it('keeps methods inherited from EventEmitter, with their parameter names, when included by name (Node types loaded)', () => {
    const { wrapped, code } = generate(options('Emitting', { include: ['on', 'fetch'] }));
    expect(wrapped).toEqual(['fetch', 'on']);
    expect(code).toMatch(/^ {2}on<K>\(eventName: string \| symbol, listener: \(\.\.\.args: any\[\]\) => void\): Promise<Emitting> \{$/m);
  });

  it('applies --include and --exclude globs, --exclude winning', () => {
    const { wrapped, skipped } = generate(options('Emitting', { include: ['*', 'on'], exclude: ['fe*'] }));
    expect(wrapped).toEqual(['on']);
    expect(skipped).toContainEqual({ path: 'fetch', reason: 'excluded by --exclude' });
  });

  it('puts the attempt signal into the options object, also when the caller gave one, and creates { signal } when absent', async () => {
    const { MultiHttp } = await load<{ MultiHttp: Wrapper<Http> }>('http', generated.http.code);
    const { pool } = poolOf(new Http());
    const wrapper = new MultiHttp(pool) as unknown as {
      request(options: { path: string; signal?: AbortSignal }): Promise<string>;
      status(path: string, options?: { signal?: AbortSignal }): Promise<boolean>;
    };
    expect(await wrapper.request({ path: '/' })).toBe('attempt');
    const caller = new AbortController();
    caller.abort('caller');
    const given = { path: '/', signal: caller.signal };
    // The caller's signal cancels the whole call: already aborted, the client is never called.
    await expect(wrapper.request(given)).rejects.toBeInstanceOf(AbortedError);
    expect(await wrapper.status('/')).toBe(true);
    expect(generated.http.code).toContain("client.request(...withSignal(args, 0, call.signal, false)), 'request', callerSignal(args, 0));");
  });

  it("cancels the request when the pool's call is cancelled though the caller gave its own signal, and a caller's abort is a cancellation, not a failure", async () => {
    const { MultiHttp } = await load<{ MultiHttp: Wrapper<Http> }>('http-caller-signal', generated.http.code);
    const http = new Http();
    const { pool } = poolOf(http);
    const shutdown = new AbortController();
    const wrapper = new MultiHttp(pool) as unknown as { with(options: object): { hang(options: { path: string; signal?: AbortSignal }): Promise<string> } };
    const caller = new AbortController();
    const pending = wrapper.with({ signal: shutdown.signal }).hang({ path: '/', signal: caller.signal });
    await Promise.resolve();
    expect(http.seen[0]).not.toBe(caller.signal); // the attempt's signal, which the pool aborts
    shutdown.abort(new Error('shutting down'));
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(http.seen[0]?.aborted).toBe(true);

    const mine = new AbortController();
    const cancelled = wrapper.with({}).hang({ path: '/', signal: mine.signal });
    await Promise.resolve();
    mine.abort(new Error('caller gave up'));
    await expect(cancelled).rejects.toBeInstanceOf(AbortedError);
    expect(http.seen[1]?.aborted).toBe(true);
    expect(pool.members()[0]).toMatchObject({ failures: 0 });
  });

  it('with({ signal }) adds to the signal already set: either one cancels the call, and no listener stays behind', async () => {
    const { MultiHttp } = await load<{ MultiHttp: Wrapper<Http> }>('http-with-signal', generated.http.code);
    const http = new Http();
    const { pool } = poolOf(http);
    type Hanging = { with(options: object): Hanging; hang(options: { path: string }): Promise<string>; request(options: { path: string }): Promise<string> };
    // The listeners on the long-lived signal, as a shutdown signal given to the wrapper would collect them.
    const listening = new Set<unknown>();
    const shutdown = new AbortController();
    const add = shutdown.signal.addEventListener.bind(shutdown.signal);
    const remove = shutdown.signal.removeEventListener.bind(shutdown.signal);
    shutdown.signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => {
      listening.add(args[1]);
      add(...args);
    };
    shutdown.signal.removeEventListener = (...args: Parameters<AbortSignal['removeEventListener']>) => {
      listening.delete(args[1]);
      remove(...args);
    };
    const wrapper = new MultiHttp(pool, { signal: shutdown.signal }) as unknown as Hanging;

    expect(await wrapper.with({ signal: new AbortController().signal }).request({ path: '/' })).toBe('attempt');
    expect(listening.size).toBe(0); // removed when the call settled

    const request = new AbortController();
    const first = wrapper.with({ signal: request.signal }).hang({ path: '/' });
    await Promise.resolve();
    request.abort(new Error('request gone'));
    await expect(first).rejects.toBeInstanceOf(AbortedError);
    expect(listening.size).toBe(0);

    const second = wrapper.with({ signal: new AbortController().signal }).hang({ path: '/' });
    await Promise.resolve();
    shutdown.abort(new Error('shutting down'));
    await expect(second).rejects.toBeInstanceOf(AbortedError);
    expect(http.seen.map((signal) => signal?.aborted)).toEqual([true, true]);
  });

  it('injects the attempt signal when the options argument is an explicit undefined or null, as pool.proxy() does', async () => {
    const { MultiHttp } = await load<{ MultiHttp: Wrapper<Http> }>('http-nullish', generated.http.code);
    const { pool } = poolOf(new Http());
    const wrapper = new MultiHttp(pool) as unknown as { received(options?: object | null): Promise<string> };
    expect(await wrapper.received()).toBe('Object:signal');
    expect(await wrapper.received(undefined)).toBe('Object:signal');
    expect(await wrapper.received(null)).toBe('Object:signal');
  });

  it('keeps the prototype of a class-instance options object it adds the signal to', async () => {
    const { MultiHttp } = await load<{ MultiHttp: Wrapper<Http> }>('http-instance', generated.http.code);
    const { pool } = poolOf(new Http());
    const wrapper = new MultiHttp(pool) as unknown as { received(options?: object): Promise<string> };
    const given = new ReceivedOptions();
    expect(await wrapper.received(given)).toBe('ReceivedOptions:signal');
    expect(Object.keys(given)).toEqual(['retries']); // the caller's object is not changed
  });

  it('never wraps a then method, so awaiting the wrapper does not hang, and says so in the header', async () => {
    const { wrapped, skipped, code } = generated.thenable;
    expect(wrapped).toEqual(['get']);
    expect(skipped).toEqual([{ path: 'then', reason: 'name taken by the wrapper' }]);
    expect(code).toMatch(/^\/\/ - name taken by the wrapper: then$/m);
    const { MultiThenable } = await load<{ MultiThenable: Wrapper<Thenable> }>('thenable', code);
    const wrapper = new MultiThenable(poolOf(new Thenable()).pool);
    expect(await Promise.resolve(wrapper)).toBe(wrapper); // resolving adopts a thenable: it would never settle
  });

  it('reaches per-call run options through with(): timeout, signal and strategy apply to every call of the copy', async () => {
    const { MultiCounter } = await load<{ MultiCounter: Wrapper<Counter> }>('counter-with', generated.counter.code);
    const { pool } = poolOf(new Counter());
    const seen: unknown[] = [];
    pool.use({ name: 'options', execute: (call: Call<Counter>, next) => (seen.push(call.options), next(call)) });
    interface Counting {
      with(options: object): Counting;
      count(key: string): Promise<number>;
    }
    const wrapper = new MultiCounter(pool) as unknown as Counting;
    await wrapper.with({ timeout: 1_000, key: 'a' }).with({ key: 'b' }).count('k');
    expect(seen).toEqual([{ timeout: 1_000, key: 'b', method: 'count' }]);
  });

  it('labels send(command) by the command class name', async () => {
    const { MultiS3 } = await load<{ MultiS3: Wrapper<S3> }>('s3', generated.s3.code);
    const { pool, labels } = poolOf(new S3());
    const wrapper = new MultiS3(pool) as unknown as { send(command: object): Promise<string> };
    expect(await wrapper.send(new GetObjectCommand('k'))).toBe('GetObjectCommand');
    await wrapper.send({});
    expect(labels).toEqual(['get_object_command', 'send']);
    const asIs = generate(options('S3', { label: 'as-is' }));
    expect(asIs.code).toContain('return prefix + name;');
    expect(generate(options('S3', { commandMethods: [] })).code).not.toContain('commandLabel');
  });

  it('types promise-returning methods with an unnameable parameter as the client\'s own, forwarding arguments as given with the label, run options and signal', async () => {
    const { code } = generated.store;
    expect(code).toContain("export interface MultiStore {\n  /** Generic. */\n  readonly get: Store['get'];\n");
    expect(code).toContain(
      "      read(...args) {\n        return this.#run((client, call) => (client.read as (...args: unknown[]) => unknown)(...withSignal(args, 1, call.signal, true)), 'read', callerSignal(args, 1));",
    );
    const { MultiStore } = await load<{ MultiStore: Wrapper<Store> }>('store', code);
    const { pool, labels } = poolOf(new Store());
    const seen: unknown[] = [];
    pool.use({ name: 'options', execute: (call: Call<Store>, next) => (seen.push(call.options.timeout), next(call)) });
    interface Stored {
      with(options: object): Stored;
      count(hidden: object, extra?: number): Promise<number>;
      read(hidden: object, options?: { signal?: AbortSignal }): Promise<string>;
    }
    const wrapper = new MultiStore(pool) as unknown as Stored;
    expect(await wrapper.count({ key: 'k' })).toBe(1);
    expect(await wrapper.with({ timeout: 1_000 }).count({ key: 'k' }, 2)).toBe(2);
    expect(await wrapper.read({ key: 'k' })).toBe('2:attempt');
    const caller = new AbortController();
    caller.abort('caller');
    await expect(wrapper.read({ key: 'k' }, { signal: caller.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(labels).toEqual(['count', 'count', 'read']);
    expect(seen).toEqual([undefined, 1_000, undefined]);
    // Prototype methods, like a class's own: not enumerable, nothing per instance.
    expect(Object.keys(wrapper)).toEqual(['pool']);
    expect(Object.getOwnPropertyDescriptor(MultiStore.prototype, 'count')).toMatchObject({ writable: true, enumerable: false, configurable: true });
    expect(Emitting).toBeDefined();
  });

  it("keeps every overload whose types cannot be imported, each typed by its position (Overloads3<M>[1]) and resolving to what the pool's promise gives", async () => {
    const { code, wrapped } = generated.overloaded;
    expect(wrapped).toEqual(['create', 'list']);
    expect(code).not.toMatch(/^\/\/ \d+ overloads? .*left out/m);
    expect(code).toContain("  create(body: { readonly stream: true; }): Promise<Awaited<Overloads3<Overloaded['create']>[1][1]>>;");
    expect(code).toMatch(/^type Overloads3<F> = /m);
    const { MultiOverloaded } = await load<{ MultiOverloaded: Wrapper<Overloaded> }>('overloaded', code);
    const wrapper = new MultiOverloaded(poolOf(new Overloaded()).pool) as unknown as { create(body: object): Promise<unknown>; list(...args: unknown[]): Promise<unknown> };
    expect(await wrapper.create({ stream: true })).toEqual({ chunks: ['a'] });
    expect(await wrapper.list({ limit: 1 }, {})).toEqual([{ text: '2' }]);
  });

  it.each([['chat.completions.create'], ['chat.**'], ['create'], ['chat']])(
    'lists a nested method or resource left out by --exclude %s in the header and the summary',
    (pattern) => {
      const { skipped, code, wrapped } = generate(options('Ai', { exclude: [pattern] }));
      expect(wrapped).toEqual(['ping']);
      const excluded = skipped.filter((member) => member.reason === 'excluded by --exclude').map((member) => member.path);
      expect(excluded).toHaveLength(1);
      expect(['chat.completions.create', 'chat.completions', 'chat']).toContain(excluded[0]);
      expect(code).toContain(`// - excluded by --exclude: ${excluded[0] ?? ''}\n`);
    },
  );
});

