// Every user callback of poolRpcTransport, broken every way, against local JSON-RPC servers: no crash,
// no unhandled rejection, no call left in flight.
import { describe, expect, it } from 'vitest';
import { createDefaultRpcTransport, createSolanaRpcFromTransport, type RpcTransport } from '@solana/kit';
import { InvalidOptionError } from '../../src/index.js';
import { isSolanaNodeError, poolRpcTransport } from '../../src/solana/index.js';
import { brokenCallbacks, callbackWarning, falloutOf, inFlight, throwingGetter } from '../helpers/broken-callbacks.js';
import { recordOutcomes } from '../helpers/outcomes.js';
import { rpcPools } from '../helpers/rpc-pools.js';
import type { Behaviour } from '../jsonrpc/rpc-server.js';

const SLOT = 1_234;
const node: Behaviour = () => ({ result: SLOT });
const { start, poolOver } = rpcPools<RpcTransport>((url) => createDefaultRpcTransport({ url }), { isFailure: isSolanaNodeError, timeout: 2_000 });

describe('poolRpcTransport: a broken methodLabel', () => {
  it.each(brokenCallbacks)('one that %s labels the request "other", the request succeeds, and one warning says so', async (_how, methodLabel) => {
    const servers = await start(node);
    const { middleware, seen } = recordOutcomes<RpcTransport>();
    const pool = poolOver([servers[0]!.url], { middleware: [middleware] });
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool, { methodLabel: methodLabel as never }));
    const fallout = await falloutOf(async () => {
      expect(await rpc.getSlot().send()).toBe(BigInt(SLOT));
      expect(await rpc.getBlockHeight().send()).toBe(BigInt(SLOT));
    });
    expect(seen.map((s) => [s.method, s.kind])).toEqual([
      ['other', 'success'],
      ['other', 'success'],
    ]);
    expect(fallout).toEqual({ warnings: [callbackWarning('methodLabel')], unhandled: [] });
    expect(inFlight(pool)).toEqual([0]);
  });
});

describe('poolRpcTransport: a broken onSlot', () => {
  it.each(brokenCallbacks)('one that %s lets every request succeed, with at most one warning', async (how, onSlot) => {
    const servers = await start(node);
    const pool = poolOver([servers[0]!.url]);
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool, { onSlot: onSlot }));
    const fallout = await falloutOf(async () => {
      for (let i = 0; i < 3; i++) expect(await rpc.getSlot().send()).toBe(BigInt(SLOT));
    });
    // A listener's return value means nothing, unless it is a rejection.
    const isFailure = how === 'throws' || how === 'returns a promise that rejects';
    expect(fallout).toEqual({ warnings: isFailure ? [callbackWarning('onSlot')] : [], unhandled: [] });
    expect(inFlight(pool)).toEqual([0]);
  });
});

describe('poolRpcTransport: options whose getters throw', () => {
  it.each(['key', 'methodLabel', 'maxPause', 'abortAttempts', 'onSlot'])('the %s getter throwing is refused naming options, with the throw as cause', (key) => {
    const { options, cause } = throwingGetter(key);
    expect(() => poolRpcTransport(poolOver([]), options as never)).toThrow(expect.objectContaining({ code: InvalidOptionError.code, option: 'options', cause }));
  });
});

describe('poolRpcTransport: a broken transport in the pool', () => {
  it.each([
    [
      'throws',
      (): never => {
        throw new Error('transport broke');
      },
    ],
    ['resolves with nothing', () => Promise.resolve(undefined)],
  ])('one that %s never crashes the caller, and leaves nothing in flight', async (how, broken) => {
    const servers = await start(node);
    const pool = poolOver([]);
    pool.add(broken as unknown as RpcTransport, { name: 'broken' });
    pool.add(createDefaultRpcTransport({ url: servers[0]!.url }), { name: 'good' });
    const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool));
    let outcome: unknown;
    const fallout = await falloutOf(async () => {
      outcome = await rpc
        .getSlot()
        .send()
        .then(
          (slot) => ({ slot }),
          (error: unknown) => ({ error }),
        );
    });
    // A throw counts against its node and the next serves; an empty answer is the node's answer, for kit to judge.
    if (how === 'throws') expect(outcome).toEqual({ slot: BigInt(SLOT) });
    else expect(outcome).toHaveProperty('error');
    expect(fallout.unhandled).toEqual([]);
    expect(inFlight(pool)).toEqual([0, 0]);
    expect(pool.members()[0]!.failures).toBe(how === 'throws' ? 1 : 0);
  });
});
