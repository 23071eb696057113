// Every user callback of poolTransport and pinned, broken every way, against local JSON-RPC servers: no
// crash, no unhandled rejection, no call left in flight.
import { describe, expect, it } from 'vitest';
import { createPublicClient, http, type Transport } from 'viem';
import { mainnet } from 'viem/chains';
import { InvalidOptionError } from '../../src/index.js';
import { isNodeError, pinned, poolTransport } from '../../src/viem/index.js';
import { brokenCallbacks, callbackWarning, falloutOf, inFlight, throwingGetter } from '../helpers/broken-callbacks.js';
import { recordOutcomes } from '../helpers/outcomes.js';
import { rpcPools } from '../helpers/rpc-pools.js';
import type { Behaviour } from '../jsonrpc/rpc-server.js';

const node: Behaviour = () => ({ result: '0x10' });
const { start, poolOver } = rpcPools<Transport>(http, { isFailure: isNodeError, timeout: 2_000 });

describe('poolTransport: a broken methodLabel', () => {
  it.each(brokenCallbacks)('one that %s labels the request "other", the request succeeds, and one warning says so', async (_how, methodLabel) => {
    const servers = await start(node);
    const { middleware, seen } = recordOutcomes<Transport>();
    const pool = poolOver([servers[0]!.url], { middleware: [middleware] });
    const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool, { methodLabel: methodLabel as never }) });
    const fallout = await falloutOf(async () => {
      expect(await client.getBlockNumber({ cacheTime: 0 })).toBe(16n);
      expect(await client.getChainId()).toBe(16);
    });
    expect(seen.map((s) => [s.method, s.kind])).toEqual([
      ['other', 'success'],
      ['other', 'success'],
    ]);
    expect(fallout).toEqual({ warnings: [callbackWarning('methodLabel')], unhandled: [] });
    expect(inFlight(pool)).toEqual([0]);
  });

  it.each(['key', 'methodLabel', 'maxPause', 'abortAttempts'])('an options object whose %s getter throws is refused naming options, with the throw as cause', (key) => {
    const { options, cause } = throwingGetter(key);
    expect(() => poolTransport(poolOver([]), options as never)).toThrow(expect.objectContaining({ code: InvalidOptionError.code, option: 'options', cause }));
  });
});

describe('pinned: a broken operation', () => {
  it.each([
    [
      'throws',
      (): never => {
        throw new Error('operation broke');
      },
    ],
    ['rejects', (): Promise<never> => Promise.reject(new Error('operation broke'))],
  ])('one that %s reaches the caller as it failed, and leaves nothing in flight', async (_how, fn) => {
    const servers = await start(node);
    const pool = poolOver([servers[0]!.url]);
    const fallout = await falloutOf(async () => {
      await expect(pinned(pool, fn)).rejects.toThrow('operation broke');
    });
    expect(fallout.unhandled).toEqual([]);
    expect(inFlight(pool)).toEqual([0]);
  });

  it.each(['maxPause', 'timeout', 'method'])('options whose %s getter throws are refused naming options, with the throw as cause', async (key) => {
    const { options, cause } = throwingGetter(key);
    await expect(pinned(poolOver([]), () => 1, options as never)).rejects.toMatchObject({ code: InvalidOptionError.code, option: 'options', cause });
  });
});

describe('poolTransport: a broken transport in the pool', () => {
  it.each([
    [
      'throws when instantiated',
      (): never => {
        throw new Error('factory broke');
      },
    ],
    ['instantiates to nothing', () => undefined],
  ])('one that %s counts against its node, and the request is served by another', async (_how, broken) => {
    const servers = await start(node);
    const pool = poolOver([]);
    pool.add(broken as unknown as Transport, { name: 'broken' });
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
