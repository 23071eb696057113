// Attack on clientpool/solana: slots reported as garbage by real local servers, an onSlot that calls back
// into the pool.
import { createDefaultRpcTransport, createSolanaRpcFromTransport, type RpcTransport } from '@solana/kit';
import { describe, expect, it } from 'vitest';
import { isSolanaNodeError, poolRpcTransport } from '../../../src/solana/index.js';
import { falloutOf, inFlight } from '../../helpers/broken-callbacks.js';
import { rpcPools } from '../../helpers/rpc-pools.js';
import type { Behaviour } from '../../jsonrpc/rpc-server.js';

const { start, poolOver } = rpcPools<RpcTransport>((url) => createDefaultRpcTransport({ url }), { isFailure: isSolanaNodeError, timeout: 2_000 });

const ADDRESS = '11111111111111111111111111111111';

/** A server whose getBalance answers `{ context: { slot }, value: 1 }` with the garbage slot given. */
const balanceWithSlot = (slot: unknown): Behaviour => ({ method }) => (method === 'getBalance' ? { result: { context: { slot }, value: 1 } } : { result: slot });

describe('poolRpcTransport: garbage slots', () => {
  it.each([
    ['negative', -5],
    ['a fraction', 12.5],
    ['a string', 'abc'],
    ['null', null],
    ['an object', { slot: 3 }],
    ['an array', [1, 2]],
  ])('a context.slot that is %s: the request resolves, no height is recorded, onSlot is not told', async (_what, slot) => {
    const servers = await start(balanceWithSlot(slot));
    const pool = poolOver([servers[0]!.url]);
    const told: bigint[] = [];
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool, { onSlot: (_client, s) => void told.push(s) }));
    const fallout = await falloutOf(async () => {
      const balance = await rpc.getBalance(ADDRESS as never).send();
      expect(balance.value).toBe(1n);
    });
    expect(fallout).toEqual({ warnings: [], unhandled: [] });
    expect(told).toEqual([]);
    expect(pool.members().map((m) => [m.height, m.inFlight, m.failures])).toEqual([[undefined, 0, 0]]);
  });

  it('a slot past 2^53-1 is told to onSlot exactly but kept as no height', async () => {
    const servers = await start(() => ({ result: 1 }));
    // The server's JSON: a number literal kit parses as a bigint.
    servers[0]!.behave(() => ({ result: Number.MAX_SAFE_INTEGER }));
    const pool = poolOver([servers[0]!.url]);
    const told: bigint[] = [];
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool, { onSlot: (_client, s) => void told.push(s) }));
    expect(await rpc.getSlot().send()).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(told).toEqual([BigInt(Number.MAX_SAFE_INTEGER)]);
    expect(pool.members()[0]!.height).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('a slot above 2^64-1 (no u64, so no slot) is not told to onSlot', async () => {
    const servers = await start(balanceWithSlot(1e30));
    const pool = poolOver([servers[0]!.url]);
    const told: bigint[] = [];
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool, { onSlot: (_client, s) => void told.push(s) }));
    await rpc.getBalance(ADDRESS as never).send();
    expect(told).toEqual([]);
  });

  it('a finalized read after a processed one does not lower the node\'s height (32 slots behind its own head)', async () => {
    // The same node answers each commitment with its own slot: processed 1 000, finalized 968.
    const servers = await start(({ params }) => ({ result: JSON.stringify(params).includes('finalized') ? 968 : 1_000 }));
    const pool = poolOver([servers[0]!.url]);
    const transport = poolRpcTransport(pool);
    const getSlot = (commitment: string): Promise<unknown> => transport({ payload: { jsonrpc: '2.0', id: 1, method: 'getSlot', params: [{ commitment }] } });
    expect(await getSlot('processed')).toMatchObject({ result: 1_000n });
    expect(await getSlot('finalized')).toMatchObject({ result: 968n });
    expect(pool.members()[0]!.height).toBe(1_000);
  });

  it('garbage in one batch item leaves the good items\' slots reported', async () => {
    const servers = await start(({ method, params }) => {
      if (method === 'getSlot' && params !== undefined) return { result: 'garbage' };
      return { result: { context: { slot: 77 }, value: 1 } };
    });
    const pool = poolOver([servers[0]!.url]);
    const told: [bigint, string][] = [];
    const transport = poolRpcTransport(pool, { onSlot: (_client, s, method) => void told.push([s, method]) });
    const response = await transport<unknown[]>({
      payload: [
        { jsonrpc: '2.0', id: 1, method: 'getSlot', params: [] },
        { jsonrpc: '2.0', id: 2, method: 'getBalance', params: [ADDRESS] },
      ],
    });
    expect(response).toHaveLength(2);
    expect(told).toEqual([[77n, 'getBalance']]);
    expect(pool.members()[0]!.height).toBe(77);
  });
});

describe('poolRpcTransport: an onSlot that calls back into the pool', () => {
  it('one that removes the node that answered: the request resolves, remove() resolves', async () => {
    const servers = await start(() => ({ result: 42 }), () => ({ result: 42 }));
    const pool = poolOver(servers.map((s) => s.url));
    const removals: Promise<void>[] = [];
    const rpc = createSolanaRpcFromTransport(
      poolRpcTransport(pool, {
        onSlot: (client) => {
          if (removals.length === 0) removals.push(pool.remove(client));
        },
      }),
    );
    const fallout = await falloutOf(async () => {
      expect(await rpc.getSlot().send()).toBe(42n);
      await Promise.all(removals);
    });
    expect(fallout).toEqual({ warnings: [], unhandled: [] });
    expect(inFlight(pool)).toEqual([0]);
  });

  it('one that closes the pool: the request that told it resolves, the next is refused with PoolClosedError', async () => {
    const servers = await start(() => ({ result: 42 }));
    const pool = poolOver([servers[0]!.url]);
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool, { onSlot: () => void pool.close() }));
    expect(await rpc.getSlot().send()).toBe(42n);
    await expect(rpc.getSlot().send()).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
  });
});
