import { describe, expect, it } from 'vitest';
import { createPublicClient, http, type Transport } from 'viem';
import { mainnet } from 'viem/chains';
import { ClientPool, InvalidOptionError } from '../../src/index.js';
import { isNodeError, pinned, PinnedTransportClosedError } from '../../src/viem/index.js';
import type { Behaviour } from '../jsonrpc/rpc-server.js';
import { rpcPools } from '../helpers/rpc-pools.js';

const ADDRESS = '0x00000000000000000000000000000000000000aa';
const HASH = `0x${'ab'.repeat(32)}` as const;
const wallet: Behaviour = ({ method }) => {
  switch (method) {
    case 'eth_getTransactionCount':
      return { result: '0x5' };
    case 'eth_estimateGas':
      return { result: '0x5208' };
    case 'eth_sendRawTransaction':
      return { result: HASH };
    case 'eth_blockNumber':
      return { result: '0x10' };
    default:
      return { error: { code: -32601, message: `the method ${method} does not exist` } };
  }
};

const { start, poolOver } = rpcPools<Transport>(http, { isFailure: isNodeError, timeout: 2_000 });

/** Nonce, gas, send: the operation that must not mix providers. */
async function sendSequence(transport: Transport): Promise<string> {
  const client = createPublicClient({ chain: mainnet, transport });
  const nonce = await client.getTransactionCount({ address: ADDRESS });
  const gas = await client.estimateGas({ account: ADDRESS, to: ADDRESS, value: 1n });
  expect([nonce, gas]).toEqual([5, 21_000n]);
  return client.sendRawTransaction({ serializedTransaction: '0x02f86b0180843b9aca00850c92a69c0082520894' });
}

describe('pinned', () => {
  it('a pinned sequence (nonce, estimateGas, sendRawTransaction) lands on one node', async () => {
    const servers = await start(wallet, wallet, wallet);
    const pool = poolOver(servers.map((s) => s.url));
    await expect(pinned(pool, sendSequence)).resolves.toBe(HASH);
    const counts = servers.map((s) => s.count());
    expect(counts.filter((n) => n > 0)).toEqual([3]);
    const used = servers[counts.indexOf(3)]!;
    expect(used.requests.map((r) => r.method)).toEqual(['eth_getTransactionCount', 'eth_estimateGas', 'eth_sendRawTransaction']);
  });

  it('each operation is balanced as one call: three operations over three nodes, one each', async () => {
    const servers = await start(wallet, wallet, wallet);
    const pool = poolOver(servers.map((s) => s.url));
    for (let i = 0; i < 3; i++) await pinned(pool, sendSequence);
    expect(servers.map((s) => s.count())).toEqual([3, 3, 3]);
    expect(pool.members().map((m) => m.successes)).toEqual([1, 1, 1]);
  });

  it('is not retried by default: a node error fails the whole operation once', async () => {
    const servers = await start(() => ({ status: 503 }), wallet);
    const pool = poolOver(servers.map((s) => s.url));
    await expect(pinned(pool, sendSequence)).rejects.toMatchObject({ name: 'HttpRequestError', status: 503 });
    expect(servers.map((s) => s.count())).toEqual([1, 0]);
  });

  it('is not hedged by default, even when the pool hedges: the operation runs once', async () => {
    const servers = await start(wallet, wallet);
    const pool = poolOver(servers.map((s) => s.url), { hedge: { delay: 1 } });
    await expect(
      pinned(pool, async (transport) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return sendSequence(transport);
      }),
    ).resolves.toBe(HASH);
    expect(servers.map((s) => s.count('eth_sendRawTransaction')).sort()).toEqual([0, 1]);
  });

  it('with retry, a node error reruns the operation on another node', async () => {
    const servers = await start(() => ({ status: 503 }), wallet);
    const pool = poolOver(servers.map((s) => s.url));
    await expect(pinned(pool, sendSequence, { retry: { attempts: 2, backoff: { initial: 0, max: 0 } } })).resolves.toBe(HASH);
    expect(servers.map((s) => s.count())).toEqual([1, 3]);
  });

  it('carries the run options: the label and the timeout cover the whole operation', async () => {
    const servers = await start(wallet);
    const labels: string[] = [];
    const pool = poolOver([servers[0]!.url], { middleware: [{ name: 'labels', onOutcome: (call) => labels.push(call.method) }] });
    await pinned(pool, sendSequence, { method: 'send_transfer' });
    expect(labels).toEqual(['send_transfer']);
    servers[0]!.behave(({ method }) => (method === 'eth_estimateGas' ? 'hang' : wallet({ method, id: 0, params: [] })));
    await expect(pinned(pool, sendSequence, { timeout: 100 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  it('a transport kept past its operation refuses to send, rather than bypass the pool', async () => {
    const servers = await start(wallet);
    const pool = poolOver([servers[0]!.url]);
    const kept = await pinned(pool, (transport) => createPublicClient({ chain: mainnet, transport }));
    await expect(kept.getBlockNumber({ cacheTime: 0 })).rejects.toBeInstanceOf(PinnedTransportClosedError);
    expect(servers[0]!.count()).toBe(0);
  });

  it.each([
    ['a pool that is not one', () => pinned({} as unknown as ClientPool<Transport>, sendSequence), 'pool'],
    ['a function that is not one', () => pinned(new ClientPool<Transport>(), 'go' as never), 'fn'],
    ['a negative maxPause', () => pinned(new ClientPool<Transport>(), sendSequence, { maxPause: -5 }), 'maxPause'],
  ])('refuses %s, naming the option', async (_what, make, option) => {
    await expect(make()).rejects.toThrow(InvalidOptionError);
    await expect(make()).rejects.toMatchObject({ option });
  });
});
