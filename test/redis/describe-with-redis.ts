import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { findRedisServer, REDIS_SERVER_MISSING, redisSuiteMode, startRedisServer, type RedisServer } from './redis-server.js';

const binary = findRedisServer();

/**
 * `describe` for suites that need a real server. Without `redis-server`: in CI (`CI` set) the suite fails,
 * so a broken CI image cannot pass silently; locally it is skipped with a message saying why.
 */
export function describeWithRedis(name: string, body: () => void): void {
  switch (redisSuiteMode(binary)) {
    case 'run':
      describe(name, body);
      return;
    case 'fail':
      describe(name, () => {
        it('needs redis-server in CI', () => {
          throw new Error(`${REDIS_SERVER_MISSING}; CI must run the Redis tests`);
        });
      });
      return;
    case 'skip':
      console.warn(`skipping "${name}": ${REDIS_SERVER_MISSING}`);
      describe.skip(name, body);
  }
}


/** Client options the docs recommend for the limiter's connection: fail fast while Redis is down. */
export const LIMITER_CLIENT_OPTIONS = { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => 20 } as const;

/** A server for the enclosing suite (started before its tests, stopped after) and ioredis clients on it. */
export interface RedisFixture {
  readonly server: RedisServer;
  /** A connected client with {@link LIMITER_CLIENT_OPTIONS} (or others); closed after the suite. */
  connect(options?: RedisOptions): Promise<Redis>;
}

/** Start a server for the enclosing `describe`; clients made with `connect()` are closed after it. */
export function useRedisServer(): RedisFixture {
  let server: RedisServer | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await server?.stop();
  });
  return {
    get server() {
      if (server === undefined) throw new Error('the Redis server is not started yet (use it inside a test)');
      return server;
    },
    async connect(options = LIMITER_CLIENT_OPTIONS) {
      const client = new Redis(this.server.port, '127.0.0.1', { ...options, lazyConnect: true });
      // The user owns the client and its 'error' events; a test must not print them as unhandled.
      client.on('error', () => {});
      clients.push(client);
      await client.connect();
      return client;
    },
  };
}
