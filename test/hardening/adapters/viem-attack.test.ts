// Attack on clientpool/viem: a pinned node that dies between the requests of its operation, callbacks
// that call back into the pool; local JSON-RPC servers.
import { getEventListeners } from 'node:events';
import { createPublicClient, http, type Transport } from 'viem';
import { mainnet } from 'viem/chains';
import { describe, expect, it } from 'vitest';
import { isNodeError, pinned, poolTransport } from '../../../src/viem/index.js';
import { falloutOf, inFlight } from '../../helpers/broken-callbacks.js';
import { rpcPools } from '../../helpers/rpc-pools.js';
import type { Behaviour } from '../../jsonrpc/rpc-server.js';

const ADDRESS = '0x00000000000000000000000000000000000000aa';
const node: Behaviour = ({ method }) => {
  switch (method) {
    case 'eth_getTransactionCount':
      return { result: '0x5' };
    case 'eth_estimateGas':
      return { result: '0x5208' };
    case 'eth_blockNumber':
      return { result: '0x10' };
    default:
      return { error: { code: -32601, message: `the method ${method} does not exist` } };
  }
};

const { start, poolOver } = rpcPools<Transport>((url) => http(url), { isFailure: isNodeError, timeout: 2_000 });

describe('pinned: the pinned node dies between calls', () => {
  it('the operation fails once with viem\'s own error, counted once against that node, nothing left in flight', async () => {
    const servers = await start(node, node);
    const pool = poolOver(servers.map((s) => s.url), { strategy: 'round-robin' });
    const fallout = await falloutOf(async () => {
      const error = await pinned(pool, async (transport, call) => {
        const client = createPublicClient({ chain: mainnet, transport });
        expect(await client.getTransactionCount({ address: ADDRESS })).toBe(5);
        await servers[Number(call.clientName.slice(-1))]!.close();
        return client.estimateGas({ account: ADDRESS, to: ADDRESS, value: 1n });
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      // viem's error, not the pool's ClientCallError around it.
      expect((error as { code?: unknown }).code).not.toBe('ERR_CLIENT_CALL');
      expect((error as Error).name).not.toBe('ClientCallError');
    });
    expect(fallout.unhandled).toEqual([]);
    expect(pool.members().map((m) => m.failures).sort()).toEqual([0, 1]);
    expect(inFlight(pool)).toEqual([0, 0]);
  });

  it('with retry, the rerun of the operation lands every request on the other node, none on the dead one', async () => {
    const servers = await start(node, node);
    const pool = poolOver(servers.map((s) => s.url), { strategy: 'round-robin' });
    const ran: string[] = [];
    let killed = false;
    const gas = await pinned(
      pool,
      async (transport, call) => {
        ran.push(call.clientName);
        const client = createPublicClient({ chain: mainnet, transport });
        await client.getTransactionCount({ address: ADDRESS });
        if (!killed) {
          killed = true;
          await servers[Number(call.clientName.slice(-1))]!.close();
        }
        return client.estimateGas({ account: ADDRESS, to: ADDRESS, value: 1n });
      },
      { retry: { attempts: 2, backoff: { initial: 0, max: 0 } } },
    );
    expect(gas).toBe(21_000n);
    expect(ran).toHaveLength(2);
    expect(new Set(ran).size).toBe(2);
    const survivor = servers[Number(ran[1]!.slice(-1))]!;
    expect(survivor.requests.map((r) => r.method)).toEqual(['eth_getTransactionCount', 'eth_estimateGas']);
  });

  it('a pinned operation whose node is removed from the pool mid-operation still ends, and remove() resolves', async () => {
    const servers = await start(node, node);
    const pool = poolOver(servers.map((s) => s.url));
    let removing: Promise<void> | undefined;
    const count = await pinned(pool, async (transport, call) => {
      removing = pool.remove(call.clientName);
      const client = createPublicClient({ chain: mainnet, transport });
      return client.getTransactionCount({ address: ADDRESS });
    });
    expect(count).toBe(5);
    await removing;
    expect(pool.members()).toHaveLength(1);
  });
});

describe('poolTransport: a methodLabel that calls back into the pool', () => {
  it('one that closes the pool: the request fails with PoolClosedError, no unhandled rejection', async () => {
    const servers = await start(node);
    const pool = poolOver([servers[0]!.url]);
    const client = createPublicClient({
      chain: mainnet,
      transport: poolTransport(pool, {
        methodLabel: (method) => {
          void pool.close();
          return method;
        },
      }),
    });
    const fallout = await falloutOf(async () => {
      await expect(client.getBlockNumber({ cacheTime: 0 })).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
    });
    expect(fallout.unhandled).toEqual([]);
  });

  it('one that sends another request through the pool from inside: both resolve', async () => {
    const servers = await start(node);
    const pool = poolOver([servers[0]!.url]);
    let nested: Promise<unknown> | undefined;
    const client = createPublicClient({
      chain: mainnet,
      transport: poolTransport(pool, {
        methodLabel: (method) => {
          if (method === 'eth_blockNumber' && nested === undefined) {
            nested = Promise.resolve();
            nested = client.getTransactionCount({ address: ADDRESS });
          }
          return method;
        },
      }),
    });
    expect(await client.getBlockNumber({ cacheTime: 0 })).toBe(16n);
    expect(await nested).toBe(5);
  });
});

describe('poolTransport: sends are never retried nor hedged', () => {
  const unavailable: Behaviour = () => ({ status: 503, body: 'down' });
  const slowSend: Behaviour = () => ({ result: `0x${'ab'.repeat(32)}` });

  it('sendRawTransaction through a public client, first node 503: sent once, not retried on the second', async () => {
    const servers = await start(unavailable, slowSend);
    const pool = poolOver(servers.map((s) => s.url), { strategy: 'round-robin' });
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    await client.sendRawTransaction({ serializedTransaction: '0x02f86b01' }).catch(() => undefined);
    await client.sendRawTransaction({ serializedTransaction: '0x02f86b01' }).catch(() => undefined);
    // Two sends, round-robin: one per node, neither repeated on the other.
    expect(servers.map((s) => s.count('eth_sendRawTransaction'))).toEqual([1, 1]);
  });

  it('eth_sendRawTransaction sent with client.request (viem passes no retryCount to the transport) is not retried either', async () => {
    const servers = await start(unavailable, slowSend);
    const pool = poolOver(servers.map((s) => s.url), { strategy: 'round-robin' });
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    await client.request({ method: 'eth_sendRawTransaction', params: ['0x02f86b01'] }, { retryCount: 0 }).catch(() => undefined);
    expect(servers.map((s) => s.count('eth_sendRawTransaction'))).toEqual([1, 0]);
  });
});

describe('pinned: the caller aborts mid-operation', () => {
  it('rejects with the pool AbortedError (reason as cause), not counted against the node, the hanging request aborted', async () => {
    const servers = await start(({ method }) => (method === 'eth_estimateGas' ? 'hang' : node({ method, id: 0, params: [] })));
    const pool = poolOver([servers[0]!.url]);
    const controller = new AbortController();
    const reason = new Error('user left');
    const pending = pinned(
      pool,
      async (transport) => {
        const client = createPublicClient({ chain: mainnet, transport });
        await client.getTransactionCount({ address: ADDRESS });
        setTimeout(() => controller.abort(reason), 20);
        return client.estimateGas({ account: ADDRESS, to: ADDRESS, value: 1n });
      },
      { signal: controller.signal },
    ).catch((e: unknown) => e);
    expect(await pending).toMatchObject({ code: 'ERR_ABORTED', cause: reason });
    expect(pool.members().map((m) => [m.failures, m.inFlight])).toEqual([[0, 0]]);
    const deadline = Date.now() + 5_000;
    while (servers[0]!.hanging > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(servers[0]!.hanging).toBe(0);
  });
});

describe('poolTransport and pinned: one long-lived caller signal', () => {
  it('50 concurrent requests on one signal leave it with its listeners, and no warning', async () => {
    const servers = await start(node, node);
    const pool = poolOver(servers.map((s) => s.url));
    const shutdown = new AbortController();
    const before = getEventListeners(shutdown.signal, 'abort').length;
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    const fallout = await falloutOf(async () => {
      await Promise.all(Array.from({ length: 50 }, () => client.request({ method: 'eth_blockNumber' }, { signal: shutdown.signal })));
      await new Promise((resolve) => setImmediate(resolve));
    });
    expect(fallout).toEqual({ warnings: [], unhandled: [] });
    expect(getEventListeners(shutdown.signal, 'abort').length).toBe(before);
    expect(inFlight(pool)).toEqual([0, 0]);
  });

  it('20 concurrent pinned operations whose requests carry the same signal raise no MaxListenersExceededWarning', async () => {
    const servers = await start(node, node);
    const pool = poolOver(servers.map((s) => s.url));
    const shutdown = new AbortController();
    const before = getEventListeners(shutdown.signal, 'abort').length;
    const fallout = await falloutOf(async () => {
      await Promise.all(
        Array.from({ length: 20 }, () =>
          pinned(pool, (transport) => createPublicClient({ chain: mainnet, transport }).request({ method: 'eth_blockNumber' }, { signal: shutdown.signal }), { signal: shutdown.signal }),
        ),
      );
      await new Promise((resolve) => setImmediate(resolve));
    });
    expect(fallout).toEqual({ warnings: [], unhandled: [] });
    expect(getEventListeners(shutdown.signal, 'abort').length).toBe(before);
    expect(inFlight(pool)).toEqual([0, 0]);
  });
});

describe('poolTransport: a transport factory that breaks its contract', () => {
  it('an async factory that rejects is a failure of its node: the next serves, no unhandled rejection', async () => {
    const servers = await start(node);
    const pool = poolOver([], { strategy: 'round-robin' });
    const broken = (() => Promise.reject(new Error('factory broke'))) as unknown as Transport;
    pool.add(broken, { name: 'broken' });
    pool.add(http(servers[0]!.url), { name: 'good' });
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });
    const fallout = await falloutOf(async () => {
      expect(await client.getBlockNumber({ cacheTime: 0 })).toBe(16n);
    });
    expect(fallout.unhandled).toEqual([]);
    expect(pool.members().map((m) => [m.name, m.failures, m.inFlight])).toEqual([
      ['broken', 1, 0],
      ['good', 0, 0],
    ]);
  });
});
