import { describe, expect, it } from 'vitest';
import { BaseError, createPublicClient, http, RpcRequestError, type Transport } from 'viem';
import { mainnet } from 'viem/chains';
import { ClientPool, InvalidOptionError } from '../../src/index.js';
import { isNodeError, poolTransport } from '../../src/viem/index.js';
import type { Behaviour } from '../jsonrpc/rpc-server.js';
import { recordOutcomes } from '../helpers/outcomes.js';
import { rpcPools } from '../helpers/rpc-pools.js';

const node: Behaviour = ({ method }) => {
  switch (method) {
    case 'eth_blockNumber':
      return { result: '0x10' };
    case 'eth_chainId':
      return { result: '0x1' };
    default:
      return { error: { code: -32601, message: `the method ${method} does not exist` } };
  }
};
const unavailable: Behaviour = () => ({ status: 503 });
const silent: Behaviour = () => 'hang';
// Error(string) "nope", ABI-encoded: what a node sends as a revert's data.
const REVERT_DATA = '0x08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000046e6f706500000000000000000000000000000000000000000000000000000000';
const ADDRESS = '0x00000000000000000000000000000000000000aa';

const { start, poolOver, track } = rpcPools<Transport>(http, { isFailure: isNodeError, timeout: 500 });

const outcomes = (): ReturnType<typeof recordOutcomes<Transport>> => recordOutcomes<Transport>();

describe('poolTransport', () => {
  it('getBlockNumber succeeds every time over a healthy node, one answering 503 and one never answering', async () => {
    const servers = await start(node, unavailable, silent);
    const pool = poolOver(servers.map((s) => s.url));
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    // One after another: viem itself shares a getBlockNumber among concurrent callers.
    const results: bigint[] = [];
    for (let i = 0; i < 50; i++) results.push(await client.getBlockNumber({ cacheTime: 0 }));
    expect(results).toHaveLength(50);
    expect(results.every((n) => n === 16n)).toBe(true);
    expect(servers[0]!.count('eth_blockNumber')).toBe(50);
    // The failing nodes were tried, and their breakers opened after a few failures each.
    expect(servers[1]!.count()).toBeGreaterThan(0);
    expect(pool.members().find((m) => m.name === 'node-1')!.state.kind).toBe('open');
    expect(pool.members().find((m) => m.name === 'node-2')!.state.kind).toBe('open');
  });

  it('a revert (code 3 with data) reaches the caller once, unretried, and does not count against the node', async () => {
    const reverting: Behaviour = ({ method }) => (method === 'eth_call' ? { error: { code: 3, message: 'execution reverted: nope', data: REVERT_DATA } } : node({ method, id: 0, params: [] }));
    const servers = await start(reverting, reverting, reverting);
    const { middleware, seen } = outcomes();
    const pool = poolOver(servers.map((s) => s.url), { middleware: [middleware] });
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    const error = await client.call({ to: ADDRESS, data: '0x12345678' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BaseError);
    // viem decoded the revert from the node's own error, as it does without the pool.
    expect((error as BaseError).walk((e) => e instanceof RpcRequestError)).toBeInstanceOf(RpcRequestError);
    expect((error as BaseError).shortMessage).toMatch(/nope/);
    expect(servers.reduce((n, s) => n + s.count('eth_call'), 0)).toBe(1);
    expect(seen).toEqual([{ method: 'eth_call', client: expect.any(String) as string, kind: 'answered' }]);
  });

  it('invalid params (-32602) are answered once, while an internal error (-32603) is retried on another node', async () => {
    let internal = true;
    const flaky: Behaviour = ({ method }) => {
      if (method === 'eth_getBalance') return { error: { code: -32602, message: 'invalid argument 0' } };
      if (method === 'eth_blockNumber' && internal) return { error: { code: -32603, message: 'internal error' } };
      return node({ method, id: 0, params: [] });
    };
    const servers = await start(flaky, node);
    const { middleware, seen } = outcomes();
    const pool = poolOver(servers.map((s) => s.url), { middleware: [middleware] });
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    // Round robin: the first call goes to node-0, which fails internally; the retry lands on node-1.
    await expect(client.getBlockNumber({ cacheTime: 0 })).resolves.toBe(16n);
    expect(seen.map((s) => `${s.client}:${s.kind}`)).toEqual(['node-0:failure', 'node-1:success']);
    internal = false;
    servers[1]!.behave(flaky);
    seen.length = 0;
    await expect(client.getBalance({ address: ADDRESS })).rejects.toThrow(/invalid argument 0/);
    expect(servers.reduce((n, s) => n + s.count('eth_getBalance'), 0)).toBe(1);
    expect(seen.map((s) => s.kind)).toEqual(['answered']);
  });

  it('a 429 with Retry-After pauses that node while the others serve', async () => {
    const limited: Behaviour = () => ({ status: 429, headers: { 'retry-after': '30' }, body: 'slow down' });
    const servers = await start(limited, node);
    const pool = poolOver(servers.map((s) => s.url));
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    for (let i = 0; i < 10; i++) await expect(client.getBlockNumber({ cacheTime: 0 })).resolves.toBe(16n);
    expect(servers[0]!.count()).toBe(1);
    expect(servers[1]!.count()).toBe(10);
  });

  it('maxPause: 0 turns pausing off: the limited node keeps its turn', async () => {
    const limited: Behaviour = () => ({ status: 429, headers: { 'retry-after': '30' }, body: 'slow down' });
    const servers = await start(limited, node);
    const pool = poolOver(servers.map((s) => s.url), { breaker: false });
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool, { maxPause: 0 }) });
    for (let i = 0; i < 6; i++) await expect(client.getBlockNumber({ cacheTime: 0 })).resolves.toBe(16n);
    expect(servers[0]!.count()).toBeGreaterThan(1);
  });

  it('a send viem asks not to retry (retryCount: 0) is neither retried nor hedged, whatever the pool says', async () => {
    const servers = await start(unavailable, node);
    const pool = poolOver(servers.map((s) => s.url), { hedge: { delay: 1 } });
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    await expect(client.sendRawTransaction({ serializedTransaction: '0x02f86b01' })).rejects.toMatchObject({ name: 'HttpRequestError', status: 503 });
    expect(servers.map((s) => s.count('eth_sendRawTransaction'))).toEqual([1, 0]);
    // A read in the same pool is retried as usual.
    await expect(client.getBlockNumber({ cacheTime: 0 })).resolves.toBe(16n);
  });

  it('labels each call with its JSON-RPC method, and any method outside the known set as "other"', async () => {
    const servers = await start(({ method }) => (method === 'acme_custom' ? { result: 'ok' } : node({ method, id: 0, params: [] })));
    const { middleware, seen } = outcomes();
    const pool = poolOver([servers[0]!.url], { middleware: [middleware] });
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    await client.getBlockNumber({ cacheTime: 0 });
    await client.request({ method: 'acme_custom' as never });
    expect(seen.map((s) => s.method)).toEqual(['eth_blockNumber', 'other']);
  });

  it('methodLabel replaces the labels; one that throws gives "other"', async () => {
    const servers = await start(node);
    const { middleware, seen } = outcomes();
    const pool = poolOver([servers[0]!.url], { middleware: [middleware] });
    const labelled = createPublicClient({ chain: mainnet, transport: poolTransport(pool, { methodLabel: (m) => m.replace(/^eth_/, '') }) });
    await labelled.getBlockNumber({ cacheTime: 0 });
    const throwing = createPublicClient({
      chain: mainnet,
      transport: poolTransport(pool, {
        methodLabel: () => {
          throw new Error('no label');
        },
      }),
    });
    await throwing.getBlockNumber({ cacheTime: 0 });
    expect(seen.map((s) => s.method)).toEqual(['blockNumber', 'other']);
  });

  it('a key sends every request of the transport to one node', async () => {
    const servers = await start(node, node, node);
    const pool = poolOver(servers.map((s) => s.url));
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool, { key: ADDRESS }) });
    for (let i = 0; i < 12; i++) await client.getBlockNumber({ cacheTime: 0 });
    expect(servers.map((s) => s.count()).sort((a, b) => a - b)).toEqual([0, 0, 12]);
  });

  it('filter methods stick to one node without a key, other methods are balanced', async () => {
    const filters: Behaviour = ({ method }) => (method === 'eth_newBlockFilter' ? { result: '0x1' } : method === 'eth_getFilterChanges' ? { result: [] } : node({ method, id: 0, params: [] }));
    const servers = await start(filters, filters, filters);
    const pool = poolOver(servers.map((s) => s.url));
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    const filter = await client.createBlockFilter();
    for (let i = 0; i < 5; i++) await client.getFilterChanges({ filter });
    for (let i = 0; i < 6; i++) await client.getBlockNumber({ cacheTime: 0 });
    const filterCounts = servers.map((s) => s.count('eth_newBlockFilter') + s.count('eth_getFilterChanges'));
    expect(filterCounts.sort((a, b) => a - b)).toEqual([0, 0, 6]);
    expect(servers.map((s) => s.count('eth_blockNumber'))).toEqual([2, 2, 2]);
  });

  it('the caller aborting ends the call with the pool error for an abort, and the node is not blamed', async () => {
    const servers = await start(silent);
    const pool = poolOver([servers[0]!.url], { timeout: 60_000 });
    const transport = poolTransport(pool)({ chain: mainnet });
    const controller = new AbortController();
    const pending = transport.request({ method: 'eth_blockNumber' }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user left')), 20);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(pool.members()[0]!.state.kind).toBe('closed');
  });

  it('a node that never answers fails with the pool timeout when no other node can serve', async () => {
    const servers = await start(silent);
    const pool = poolOver([servers[0]!.url], { timeout: 100, retry: false });
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    await expect(client.getBlockNumber({ cacheTime: 0 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  it('the pool timeout aborts the request itself; abortAttempts: false leaves it to the transport', async () => {
    const servers = await start(silent);
    // The signal each fetch got (viem's own, which follows the one it was given and its own 10 s timeout).
    const fetched: AbortSignal[] = [];
    const recording = (): Transport => http(servers[0]!.url, { fetchFn: (url, init) => (fetched.push(init!.signal!), fetch(url, init)) });
    const poolOf = (): ClientPool<Transport> => {
      const pool = new ClientPool<Transport>({ isFailure: isNodeError, timeout: 100 });
      pool.add(recording());
      return track(pool);
    };
    await expect(createPublicClient({ chain: mainnet, transport: poolTransport(poolOf()) }).getBlockNumber({ cacheTime: 0 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(fetched[0]!.aborted).toBe(true);
    await expect.poll(() => servers[0]!.hanging).toBe(0);
    await expect(createPublicClient({ chain: mainnet, transport: poolTransport(poolOf(), { abortAttempts: false }) }).getBlockNumber({ cacheTime: 0 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(fetched[1]!.aborted).toBe(false);
  });

  it('a hedge answers a read from another node, and the slow node’s request is aborted', async () => {
    const servers = await start(silent, node);
    const pool = poolOver(servers.map((s) => s.url), { timeout: 5_000, hedge: { delay: 50 } });
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    await expect(client.getBlockNumber({ cacheTime: 0 })).resolves.toBe(16n);
    expect(servers.map((s) => s.count())).toEqual([1, 1]);
    await expect.poll(() => servers[0]!.hanging).toBe(0);
  });

  it('viem dedupe becomes the pool coalescing: concurrent identical reads make one request', async () => {
    const servers = await start(node);
    const pool = poolOver([servers[0]!.url]);
    const transport = poolTransport(pool)({ chain: mainnet });
    const reads = await Promise.all(Array.from({ length: 5 }, () => transport.request({ method: 'eth_chainId' }, { dedupe: true })));
    expect(reads).toEqual(['0x1', '0x1', '0x1', '0x1', '0x1']);
    expect(servers[0]!.count('eth_chainId')).toBe(1);
  });
});

describe('poolTransport options', () => {
  const pool = new ClientPool<Transport>();
  it.each([
    ['a pool that is not one', () => poolTransport({} as unknown as ClientPool<Transport>), 'pool'],
    ['an empty key', () => poolTransport(pool, { key: '' }), 'key'],
    ['a key that is not a string', () => poolTransport(pool, { key: 42 as unknown as string }), 'key'],
    ['a negative maxPause', () => poolTransport(pool, { maxPause: -1 }), 'maxPause'],
    ['a maxPause past the longest timer', () => poolTransport(pool, { maxPause: 2 ** 31 }), 'maxPause'],
    ['a methodLabel that is not a function', () => poolTransport(pool, { methodLabel: 'eth' as unknown as (m: string) => string }), 'methodLabel'],
    ['a misspelt option', () => poolTransport(pool, { maxPuase: 1 } as never), 'options.maxPuase'],
    ['an abortAttempts that is not a boolean', () => poolTransport(pool, { abortAttempts: 'yes' as never }), 'abortAttempts'],
    ['options that are not an object', () => poolTransport(pool, 5 as never), 'options'],
  ])('refuses %s, naming the option', (_what, make, option) => {
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(expect.objectContaining({ option }) as Error);
  });
});
