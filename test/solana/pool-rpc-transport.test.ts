import { describe, expect, it } from 'vitest';
import { address, createDefaultRpcTransport, createSolanaRpcFromTransport, isSolanaError, SOLANA_ERROR__JSON_RPC__INVALID_PARAMS, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SLOT_SKIPPED, SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR, type RpcTransport, type SolanaErrorCode } from '@solana/kit';
import { ClientPool, InvalidOptionError } from '../../src/index.js';
import { isSolanaNodeError, poolRpcTransport } from '../../src/solana/index.js';
import type { Behaviour } from '../jsonrpc/rpc-server.js';
import { recordOutcomes } from '../helpers/outcomes.js';
import { rpcPools } from '../helpers/rpc-pools.js';

const SLOT = 250_000_032;
const OWNER = address('11111111111111111111111111111111');
const node =
  (slot = SLOT): Behaviour =>
  ({ method }) => {
    switch (method) {
      case 'getSlot':
        return { result: slot };
      case 'getBalance':
        return { result: { context: { slot }, value: 1_000 } };
      case 'getLatestBlockhash':
        return { result: { context: { slot }, value: { blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', lastValidBlockHeight: 200 } } };
      default:
        return { error: { code: -32601, message: 'Method not found' } };
    }
  };
const unavailable: Behaviour = () => ({ status: 503 });
const reset: Behaviour = () => 'reset';

const { start, poolOver, track } = rpcPools<RpcTransport>((url) => createDefaultRpcTransport({ url }), { isFailure: isSolanaNodeError, timeout: 2_000 });

const outcomes = (): ReturnType<typeof recordOutcomes<RpcTransport>> => recordOutcomes<RpcTransport>();

describe('poolRpcTransport', () => {
  it.each([
    ['a 503', unavailable],
    ['a connection reset', reset],
  ])('getSlot and a batch of reads succeed while one node fails with %s', async (_what, failing) => {
    const servers = await start(failing, node(), node());
    const pool = poolOver(servers.map((s) => s.url));
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool));
    for (let i = 0; i < 6; i++) expect(await rpc.getSlot().send()).toBe(BigInt(SLOT));
    const [balance, blockhash, slot] = await Promise.all([rpc.getBalance(OWNER).send(), rpc.getLatestBlockhash().send(), rpc.getSlot().send()]);
    expect(balance.value).toBe(1_000n);
    expect(balance.context.slot).toBe(BigInt(SLOT));
    expect(blockhash.value.lastValidBlockHeight).toBe(200n);
    expect(slot).toBe(BigInt(SLOT));
    expect(servers[0]!.count()).toBeGreaterThan(0);
    expect(servers[1]!.count() + servers[2]!.count()).toBe(9);
  });

  it('a JSON-RPC batch goes to one node as one request, and the answers come back as the server gave them', async () => {
    const servers = await start(unavailable, node());
    const pool = poolOver(servers.map((s) => s.url));
    const transport = poolRpcTransport(pool);
    const payload = [
      { jsonrpc: '2.0', id: 1, method: 'getSlot', params: [] },
      { jsonrpc: '2.0', id: 2, method: 'getBalance', params: [OWNER] },
    ];
    const response = await transport<{ id: number; result: unknown }[]>({ payload });
    expect(response.map((r) => r.id)).toEqual([1, 2]);
    expect(servers[1]!.httpRequests).toBe(1);
  });

  it('a node error in a response (-32005 unhealthy) counts against the node and is retried on another', async () => {
    const servers = await start(() => ({ error: { code: -32005, message: 'Node is behind by 42 slots', data: { numSlotsBehind: 42 } } }), node());
    const { middleware, seen } = outcomes();
    const pool = poolOver(servers.map((s) => s.url), { middleware: [middleware] });
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool));
    expect(await rpc.getSlot().send()).toBe(BigInt(SLOT));
    expect(seen.map((s) => `${s.client}:${s.kind}`)).toEqual(['node-0:failure', 'node-1:success']);
  });

  it('when every node is unhealthy, the caller gets kit’s own error for the last response', async () => {
    const behind: Behaviour = () => ({ error: { code: -32005, message: 'Node is unhealthy' } });
    const servers = await start(behind, behind);
    const pool = poolOver(servers.map((s) => s.url), { retry: { attempts: 2, backoff: { initial: 0, max: 0 } } });
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool));
    const error = await rpc.getSlot().send().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSolanaError(error)).toBe(true);
    expect((error as { context: { __code: number } }).context.__code).toBe(-32005);
    expect(servers.map((s) => s.count())).toEqual([1, 1]);
  });

  it.each<[string, number, SolanaErrorCode]>([
    ['invalid params', -32602, SOLANA_ERROR__JSON_RPC__INVALID_PARAMS],
    ['a skipped slot', -32007, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SLOT_SKIPPED],
  ])('%s reaches the caller once, as kit’s error, unretried and not counted', async (_what, code, kitCode) => {
    const answering: Behaviour = () => ({ error: { code, message: 'no' } });
    const servers = await start(answering, answering, answering);
    const { middleware, seen } = outcomes();
    const pool = poolOver(servers.map((s) => s.url), { middleware: [middleware] });
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool));
    const error = await rpc.getBalance(OWNER).send().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSolanaError(error, kitCode)).toBe(true);
    expect(servers.reduce((n, s) => n + s.count(), 0)).toBe(1);
    expect(seen.map((s) => s.kind)).toEqual(['answered']);
  });

  it('an HTTP error reaches the caller as kit raised it, once every node failed', async () => {
    const servers = await start(unavailable);
    const pool = poolOver([servers[0]!.url], { retry: false });
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool));
    const error = await rpc.getSlot().send().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSolanaError(error, SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR)).toBe(true);
  });

  it('a 429 with Retry-After pauses that node while the others serve', async () => {
    const servers = await start(() => ({ status: 429, headers: { 'retry-after': '30' } }), node());
    const pool = poolOver(servers.map((s) => s.url));
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool));
    for (let i = 0; i < 8; i++) await rpc.getSlot().send();
    expect(servers.map((s) => s.count())).toEqual([1, 8]);
  });

  it('reports the slot each node answers with: getSlot results and response contexts, batches included', async () => {
    const servers = await start(node(100), node(90));
    const slots: [string, bigint, string][] = [];
    const pool = poolOver(servers.map((s) => s.url));
    const transport = poolRpcTransport(pool, { onSlot: (client, slot, method) => slots.push([client, slot, method]) });
    const rpc = createSolanaRpcFromTransport(transport);
    await rpc.getSlot().send();
    await rpc.getBalance(OWNER).send();
    await transport({ payload: [{ jsonrpc: '2.0', id: 7, method: 'getSlot', params: [] }] });
    expect(slots).toEqual([
      ['node-0', 100n, 'getSlot'],
      ['node-1', 90n, 'getBalance'],
      ['node-0', 100n, 'getSlot'],
    ]);
  });

  it('slots answered are heights: a node behind the head leaves the rotation (freshness)', async () => {
    const servers = await start(node(100), node(100), node(40));
    const pool = poolOver(servers.map((s) => s.url), { freshness: { maxLag: 10 } });
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool));
    for (let i = 0; i < 3; i++) await rpc.getSlot().send();
    expect(pool.members().map((m) => [m.height, m.freshness])).toEqual([
      [100, 'fresh'],
      [100, 'fresh'],
      [40, 'lagging'],
    ]);
    const before = servers[2]!.count();
    for (let i = 0; i < 20; i++) await rpc.getBalance(OWNER).send();
    expect(servers[2]!.count()).toBe(before);
    expect(await rpc.getSlot().send()).toBe(100n);
  });

  it('an onSlot that throws is reported once and the request goes on', async () => {
    const servers = await start(node());
    const pool = poolOver([servers[0]!.url]);
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const rpc = createSolanaRpcFromTransport(
        poolRpcTransport(pool, {
          onSlot: () => {
            throw new Error('listener broke');
          },
        }),
      );
      expect(await rpc.getSlot().send()).toBe(BigInt(SLOT));
      expect(await rpc.getSlot().send()).toBe(BigInt(SLOT));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.includes('onSlot'))).toHaveLength(1);
  });

  it('labels calls with their method, a batch as "batch", and a key keeps them on one node', async () => {
    const servers = await start(node(), node(), node());
    const { middleware, seen } = outcomes();
    const pool = poolOver(servers.map((s) => s.url), { middleware: [middleware] });
    const transport = poolRpcTransport(pool, { key: 'alice' });
    const rpc = createSolanaRpcFromTransport(transport);
    await rpc.getSlot().send();
    await rpc.getBalance(OWNER).send();
    await transport({ payload: [{ jsonrpc: '2.0', id: 1, method: 'getSlot', params: [] }] });
    await transport({ payload: { jsonrpc: '2.0', id: 2, method: 'acme_custom', params: [] } });
    expect(seen.map((s) => s.method)).toEqual(['getSlot', 'getBalance', 'batch', 'other']);
    expect(new Set(seen.map((s) => s.client)).size).toBe(1);
  });

  it('the pool timeout aborts the request itself; abortAttempts: false sends none', async () => {
    const servers = await start(() => 'hang');
    const signals: (AbortSignal | undefined)[] = [];
    const poolOf = (): ClientPool<RpcTransport> => {
      const inner = createDefaultRpcTransport({ url: servers[0]!.url });
      const recording: RpcTransport = (config) => (signals.push(config.signal), inner(config));
      const pool = new ClientPool<RpcTransport>({ isFailure: isSolanaNodeError, timeout: 100 });
      pool.add(recording);
      return track(pool);
    };
    await expect(createSolanaRpcFromTransport(poolRpcTransport(poolOf())).getSlot().send()).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(signals[0]?.aborted).toBe(true);
    await expect.poll(() => servers[0]!.hanging).toBe(0);
    await expect(createSolanaRpcFromTransport(poolRpcTransport(poolOf(), { abortAttempts: false })).getSlot().send()).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(signals[1]).toBeUndefined();
  });

  it('the caller’s signal ends the call', async () => {
    const servers = await start(() => 'hang');
    const pool = poolOver([servers[0]!.url], { timeout: 60_000 });
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool));
    const pending = rpc.getSlot().send({ abortSignal: AbortSignal.timeout(20) });
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' });
  });
});

describe('poolRpcTransport options', () => {
  const pool = new ClientPool<RpcTransport>();
  it.each([
    ['a pool that is not one', () => poolRpcTransport(null as unknown as ClientPool<RpcTransport>), 'pool'],
    ['an onSlot that is not a function', () => poolRpcTransport(pool, { onSlot: 1 as never }), 'onSlot'],
    ['an empty key', () => poolRpcTransport(pool, { key: '' }), 'key'],
    ['a maxPause that is not a number', () => poolRpcTransport(pool, { maxPause: '1s' as never }), 'maxPause'],
    ['a misspelt option', () => poolRpcTransport(pool, { onslot: () => {} } as never), 'options.onslot'],
  ])('refuses %s, naming the option', (_what, make, option) => {
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(expect.objectContaining({ option }) as Error);
  });
});

describe('slots a node answers with that are odd', () => {
  it('an async onSlot that rejects is reported once as a warning, never an unhandled rejection', async () => {
    const servers = await start(node());
    const pool = poolOver([servers[0]!.url]);
    const warnings: string[] = [];
    const unhandled: unknown[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('warning', onWarning);
    process.on('unhandledRejection', onUnhandled);
    try {
      const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool, { onSlot: () => Promise.reject(new Error('listener broke')) }));
      for (let i = 0; i < 3; i++) await rpc.getSlot().send();
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('warning', onWarning);
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(warnings.filter((w) => w.includes('onSlot'))).toHaveLength(1);
  });

  it('a slot too big for a height is skipped by the pool and still told to onSlot', async () => {
    // 10^18 on the wire: kit reads it as a bigint, past the 2^53 - 1 a height may be.
    const huge = 10n ** 18n;
    const servers = await start(() => ({ result: 1e18 }));
    const pool = poolOver([servers[0]!.url]);
    const slots: bigint[] = [];
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool, { onSlot: (_client, slot) => void slots.push(slot) }));
    await rpc.getSlot().send();
    expect(slots).toEqual([huge]);
    expect(pool.members()[0]!.height).toBeUndefined();
  });
});
