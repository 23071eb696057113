// Wrappers generated from the installed packages of the clients people pool (ioredis, viem, openai,
// undici): compiled strictly with typed uses, then run against a real redis-server and local HTTP
// servers. Slow (four large generations and two compiles of them), hence the `.slow` name.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { Pool } from 'undici';
import { createPublicClient, http as viemHttp, type PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, type GeneratedWrapper, type GenerateOptions } from '../../src/codegen/generate.js';
import { ClientPool, hasErrorCode, type Call } from '../../src/index.js';
import { describeWithRedis, useRedisServer } from '../redis/describe-with-redis.js';
import { diagnosticsOf, GOLDEN, POOL_IMPORT, REPO } from './helpers.js';

// A hang bound, not a speed check: one compile of the four wrappers took 2 min on a quiet 2-core machine and
// 9.5 min beside six busy processes (npm run test:busy), where 5 min was not enough.
const SLOW = 1_500_000;

const targets = {
  redis: { source: 'ioredis', type: 'Redis', wrapper: 'MultiRedis' },
  // Its class has a type parameter constrained by a type the package does not export.
  redis6: { source: 'ioredis6', type: 'Redis', wrapper: 'MultiRedis6' },
  viem: { source: 'viem', type: 'PublicClient', wrapper: 'MultiPublicClient' },
  openai: { source: 'openai', type: 'OpenAI', wrapper: 'MultiOpenAI' },
  undici: { source: 'undici', type: 'Pool', wrapper: 'MultiPool' },
} as const;
type Target = keyof typeof targets;

const outOf = (name: Target): string => `${GOLDEN}/multi-${name}.ts`;
const generated = {} as Record<Target, GeneratedWrapper>;
const dir = mkdtempSync(path.join(tmpdir(), 'clientpool-codegen-real-'));

beforeAll(() => {
  for (const name of Object.keys(targets) as Target[]) {
    const options: GenerateOptions = { ...targets[name], out: outOf(name), importFrom: POOL_IMPORT, cwd: REPO };
    generated[name] = generate(options);
  }
}, SLOW);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Write a generated file and import it (it imports only types, so it runs from anywhere). */
async function load<M>(name: Target): Promise<M> {
  const file = path.join(dir, `multi-${name}.ts`);
  writeFileSync(file, generated[name].code);
  return (await import(pathToFileURL(file).href)) as M;
}

const USAGE = `
import type { Dispatcher } from 'undici';
import type { Quantity } from 'viem';
import { MultiRedis } from './multi-redis.js';
import { MultiRedis6 } from './multi-redis6.js';
import { MultiPublicClient } from './multi-viem.js';
import { MultiOpenAI } from './multi-openai.js';
import { MultiPool } from './multi-undici.js';

const erc20 = [{ type: 'function', name: 'balanceOf', stateMutability: 'view', inputs: [{ name: 'owner', type: 'address' }], outputs: [{ name: '', type: 'uint256' }] }] as const;

export async function use(redis: MultiRedis, viem: MultiPublicClient, ai: MultiOpenAI, http: MultiPool, redis6: MultiRedis6): Promise<unknown[]> {
  // Every overload of an overloaded method is kept, typed by position where its types cannot be imported.
  const popped: unknown = await redis6.zpopmax('z');
  const poppedTwo: unknown = await redis6.zpopmax('z', 2);
  const stream = await ai.chat.completions.create({ model: 'm', messages: [], stream: true });
  for await (const chunk of stream) void chunk.choices;
  const jobs = await ai.fineTuning.jobs.list({ limit: 1 });
  const messages = await ai.chat.completions.messages.list('id', { limit: 1 });
  const ok: 'OK' = await redis.set('k', 'v');
  const withTtl: 'OK' | null = await redis.set('k', 'v', 'EX', 10);
  const value: string | null = await redis.get('k');
  const count: number = await redis.incr('n');
  const fields: number = await redis.hset('h', { a: '1' });
  const hash: Record<string, string> = await redis.hgetall('h');
  const many: (string | null)[] = await redis.mget('a', 'b');
  const exists: number = await redis.exists('k');
  const block: bigint = await viem.getBlockNumber();
  const chainId: number = await viem.with({ timeout: 1_000 }).getChainId();
  // Typed as PublicClient['request'] itself: the method's generics pick the result from the RPC schema.
  const raw = await viem.request({ method: 'eth_blockNumber' });
  const hex: Quantity = raw;
  const balance: bigint = await viem.readContract({ abi: erc20, address: '0x0000000000000000000000000000000000000001', functionName: 'balanceOf', args: ['0x0000000000000000000000000000000000000002'] });
  const viaTransport = await viem.transport.request({ method: 'eth_chainId' });
  const completion = await ai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  const text: string | null | undefined = completion.choices[0]?.message.content;
  const response: Dispatcher.ResponseData<null> = await http.request({ path: '/', method: 'GET' });
  const tagged: Dispatcher.ResponseData<{ id: number }> = await http.request({ path: '/', method: 'GET', opaque: { id: 1 } });
  return [popped, poppedTwo, jobs, messages, ok, withTtl, value, count, fields, hash, many, exists, block, chainId, hex, balance, viaTransport, text, response.statusCode, tagged.opaque.id];
}
`;

describe('wrappers of real clients', () => {
  it('wraps what matters and leaves out lifecycle, events and streams', () => {
    expect(generated.redis.wrapped).toEqual(expect.arrayContaining(['get', 'set', 'incr', 'hset', 'hgetall', 'mget', 'exists']));
    expect(generated.redis.skipped).toEqual(expect.arrayContaining([{ path: 'quit', reason: 'lifecycle' }, { path: 'on', reason: 'event emitter' }, { path: 'subscribe', reason: 'stream or connection state' }]));
    expect(generated.openai.wrapped).toEqual(expect.arrayContaining(['chat.completions.create', 'responses.create', 'models.list']));
    expect(generated.viem.wrapped).toEqual(expect.arrayContaining(['getBlockNumber', 'readContract', 'getBalance']));
    expect(generated.undici.wrapped).toEqual(expect.arrayContaining(['request']));
    expect(generated.undici.skipped).toEqual(expect.arrayContaining([{ path: 'close', reason: 'lifecycle' }, { path: 'on', reason: 'event emitter' }]));
    // A promise-returning method whose types cannot be imported keeps the client's own type, and its signal.
    expect(generated.viem.code).toContain("  readonly request: PublicClient<transport, chain, accountOrAddress, rpcSchema, tokens>['request'];\n");
    expect(generated.viem.code).toContain("(client.request as (...args: unknown[]) => unknown)(...withSignal(args, 1, call.signal, true)), 'request', callerSignal(args, 1));");
    expect(generated.viem.code).not.toContain("Parameters<PublicClient<transport, chain, accountOrAddress, rpcSchema, tokens>['request']>");
    // No overload of openai is left out: the streaming ones' event types are imported by name.
    expect(generated.openai.code).not.toMatch(/^\/\/ \d+ overloads? .*left out/m);
    expect(generated.openai.code).toMatch(/^ {2}create\(body: ResponseCreateParamsStreaming\d*, options\?: OpenAI\.RequestOptions\): Promise<Stream<ResponseStreamEvent>/m);
    for (const result of Object.values(generated)) {
      // Imports only from packages the project depends on, never from a build directory inside one.
      expect(result.code).not.toMatch(/from '(pg-protocol|@smithy|undici-types)|\/dist\/|node_modules|\bimport\(/);
      expect(result.code.split('\n').every((line) => line.length < 3_000)).toBe(true);
    }
  });

  it('compile with typed uses under strict settings, exactOptionalPropertyTypes and noUnusedLocals, with skipLibCheck', () => {
    const files = Object.fromEntries((Object.keys(targets) as Target[]).map((name) => [outOf(name), generated[name].code]));
    expect(diagnosticsOf({ ...files, [`${GOLDEN}/usage.ts`]: USAGE })).toEqual([]);
  }, SLOW);

  it('compile without skipLibCheck too', () => {
    const files = Object.fromEntries((Object.keys(targets) as Target[]).map((name) => [outOf(name), generated[name].code]));
    expect(diagnosticsOf({ ...files, [`${GOLDEN}/usage.ts`]: USAGE }, { skipLibCheck: false })).toEqual([]);
  }, SLOW);
});

describeWithRedis('the generated ioredis wrapper against redis-server', () => {
  const redis = useRedisServer();

  it('runs set, get, incr, hset/hgetall, mget and exists through the pool', async () => {
    const { MultiRedis } = await load<{ MultiRedis: new (pool: ClientPool<Redis>) => Record<string, (...args: unknown[]) => Promise<unknown>> }>('redis');
    const pool = new ClientPool<Redis>();
    const clients = ['a', 'b'].map((name) => {
      const client = new Redis(redis.server.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      pool.add(client, { name });
      return client;
    });
    const labels: string[] = [];
    pool.use({ name: 'labels', execute: (call: Call<Redis>, next) => (labels.push(call.method), next(call)) });
    const w = new MultiRedis(pool);
    expect(await w['set']!('codegen:k', 'v')).toBe('OK');
    expect(await w['get']!('codegen:k')).toBe('v');
    expect(await w['get']!('codegen:missing')).toBeNull();
    expect(await w['incr']!('codegen:n')).toBe(1);
    expect(await w['incr']!('codegen:n')).toBe(2);
    expect(await w['hset']!('codegen:h', { a: '1', b: '2' })).toBe(2);
    expect(await w['hgetall']!('codegen:h')).toEqual({ a: '1', b: '2' });
    expect(await w['mget']!('codegen:k', 'codegen:missing')).toEqual(['v', null]);
    expect(await w['exists']!('codegen:k', 'codegen:missing')).toBe(1);
    expect(labels).toEqual(['set', 'get', 'get', 'incr', 'incr', 'hset', 'hgetall', 'mget', 'exists']);
    await pool.close();
    for (const client of clients) client.disconnect();
  }, SLOW);
});

describe('the generated undici and openai wrappers against a local HTTP server', () => {
  let server: Server;
  let base: string;
  const aborted: string[] = [];
  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response) => {
      request.on('close', () => {
        if (!response.writableEnded) aborted.push(request.url ?? '');
      });
      if (request.url?.endsWith('/hang') === true) return; // never answers: only the attempt's signal ends it
      if (request.url === '/rpc') {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          const { id, method } = JSON.parse(body) as { id: number; method: string };
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify({ jsonrpc: '2.0', id, result: method === 'eth_blockNumber' ? '0x10' : '0x1' }));
        });
        return;
      }
      if (request.url === '/v1/chat/completions') {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hello' } }] }));
        return;
      }
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('runs undici requests through the pool, and a timeout aborts the request itself', async () => {
    type Http = { request(options: { path: string; method: string }): Promise<{ statusCode: number; body: { text(): Promise<string> } }>; with(options: object): Http };
    const { MultiPool } = await load<{ MultiPool: new (pool: ClientPool<Pool>) => Http }>('undici');
    const pool = new ClientPool<Pool>();
    const client = new Pool(base);
    pool.add(client, { name: 'local' });
    const http = new MultiPool(pool);
    const response = await http.request({ path: '/', method: 'GET' });
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('ok');
    const hung = http.with({ timeout: 200 }).request({ path: '/hang', method: 'GET' });
    await expect(hung).rejects.toSatisfy((error: unknown) => hasErrorCode(error, 'ERR_TIMEOUT'));
    await expect.poll(() => aborted).toContain('/hang');
    await pool.close();
    await client.close();
  }, SLOW);

  it('runs viem calls through the pool, and a timeout aborts the JSON-RPC request itself through request(args, { signal })', async () => {
    type Viem = { getBlockNumber(): Promise<bigint>; request(args: { method: string }): Promise<unknown>; with(options: object): Viem };
    const { MultiPublicClient } = await load<{ MultiPublicClient: new (pool: ClientPool<PublicClient>) => Viem }>('viem');
    const poolOf = (url: string): { pool: ClientPool<PublicClient>; labels: string[] } => {
      const pool = new ClientPool<PublicClient>();
      pool.add(createPublicClient({ transport: viemHttp(url, { retryCount: 0, timeout: 60_000 }) }), { name: 'rpc' });
      const labels: string[] = [];
      pool.use({ name: 'labels', execute: (call: Call<PublicClient>, next) => (labels.push(call.method), next(call)) });
      return { pool, labels };
    };
    const answering = poolOf(`${base}/rpc`);
    const viem = new MultiPublicClient(answering.pool);
    expect(await viem.request({ method: 'eth_blockNumber' })).toBe('0x10');
    expect(await viem.getBlockNumber()).toBe(16n);
    expect(answering.labels).toEqual(['request', 'get_block_number']);
    const hanging = poolOf(`${base}/viem/hang`);
    const hung = new MultiPublicClient(hanging.pool).with({ timeout: 200 }).request({ method: 'eth_blockNumber' });
    await expect(hung).rejects.toSatisfy((error: unknown) => hasErrorCode(error, 'ERR_TIMEOUT'));
    await expect.poll(() => aborted).toContain('/viem/hang');
    await answering.pool.close();
    await hanging.pool.close();
  }, SLOW);

  it('runs openai chat.completions.create through the pool, labelled chat.completions.create', async () => {
    type Ai = { chat: { completions: { create(body: object): Promise<{ choices: { message: { content: string } }[] }> } } };
    const { MultiOpenAI } = await load<{ MultiOpenAI: new (pool: ClientPool<OpenAI>) => Ai }>('openai');
    const pool = new ClientPool<OpenAI>();
    pool.add(new OpenAI({ apiKey: 'test', baseURL: `${base}/v1`, maxRetries: 0 }), { name: 'local' });
    const labels: string[] = [];
    pool.use({ name: 'labels', execute: (call: Call<OpenAI>, next) => (labels.push(call.method), next(call)) });
    const completion = await new MultiOpenAI(pool).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBe('hello');
    expect(labels).toEqual(['chat.completions.create']);
    await pool.close();
  }, SLOW);
});
