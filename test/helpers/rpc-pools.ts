// Pools of JSON-RPC transports over local servers, for the viem and Solana adapters' tests: what a test
// starts is closed after it.
import { afterEach } from 'vitest';
import { ClientPool, type PoolOptions } from '../../src/index.js';
import { closeAll, startRpcServers, type Behaviour, type RpcServer } from '../jsonrpc/rpc-server.js';

export interface RpcPools<C> {
  /** Start one local JSON-RPC server per behaviour; closed after the test. */
  readonly start: (...behaviours: Behaviour[]) => Promise<RpcServer[]>;
  /**
   * A pool over `urls` (clients `node-0`, `node-1`... made by `client`), with the file's defaults and
   * retries at once (no backoff); `options` override them. Closed after the test.
   */
  readonly poolOver: (urls: readonly string[], options?: PoolOptions<C>) => ClientPool<C>;
  /** Close `pool`, made by the test itself, after the test. */
  readonly track: (pool: ClientPool<C>) => ClientPool<C>;
}

/** Call once at the top of a test file: registers the `afterEach` that closes pools, then servers. */
export function rpcPools<C>(client: (url: string) => C, defaults: PoolOptions<C>): RpcPools<C> {
  const servers: RpcServer[] = [];
  const pools: ClientPool<C>[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
    await closeAll(servers.splice(0));
  });
  return {
    async start(...behaviours) {
      const started = await startRpcServers(...behaviours);
      servers.push(...started);
      return started;
    },
    poolOver(urls, options = {}) {
      const pool = new ClientPool<C>({ retry: { attempts: 3, backoff: { initial: 0, max: 0 } }, ...defaults, ...options });
      urls.forEach((url, i) => pool.add(client(url), { name: `node-${i}` }));
      pools.push(pool);
      return pool;
    },
    track(pool) {
      pools.push(pool);
      return pool;
    },
  };
}
