import { Redis as Redis5, type RedisOptions } from 'ioredis';
import { Redis as Redis6, type RedisOptions as Redis6Options } from 'ioredis6';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import type { RedisScriptClient } from '../../src/redis/index.js';
import { findRedisServer, REDIS_SERVER_MISSING, redisSuiteMode, startRedisServer, type RedisServer } from './redis-server.js';

const binary = findRedisServer();

/** What the Redis suites use of a client; ioredis 5 and 6 both have it. */
export interface TestRedis extends RedisScriptClient {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  connect(): Promise<void>;
  disconnect(): void;
}

/** An ioredis major the peer range accepts (`^5.0.0 || ^6.0.0`): the suites that talk to a real server run on each. */
export interface IoredisMajor {
  /** `ioredis`, or `ioredis6` (ioredis 6 installed under an alias): a module `import()` can load. */
  readonly module: 'ioredis' | 'ioredis6';
  readonly label: string;
  create(port: number, host: string, options?: RedisOptions): TestRedis;
}

export const IOREDIS_MAJORS: readonly IoredisMajor[] = [
  { module: 'ioredis', label: 'ioredis 5', create: (port, host, options = {}) => new Redis5(port, host, options) },
  // ioredis 6 reads every option these tests set as 5 does.
  { module: 'ioredis6', label: 'ioredis 6', create: (port, host, options = {}) => new Redis6(port, host, options as Omit<Redis6Options, 'replyMapping'>) },
];

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

/** {@link describeWithRedis} once per ioredis major, the major's label appended to the name. */
export function describeWithEachIoredis(name: string, body: (ioredis: IoredisMajor) => void): void {
  for (const ioredis of IOREDIS_MAJORS) describeWithRedis(`${name} (${ioredis.label})`, () => body(ioredis));
}

/** Client options the docs recommend for the limiter's connection: fail fast while Redis is down. */
export const LIMITER_CLIENT_OPTIONS = { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => 20 } as const;

/** A server for the enclosing suite (started before its tests, stopped after) and ioredis clients on it. */
export interface RedisFixture {
  readonly server: RedisServer;
  /** A connected client with {@link LIMITER_CLIENT_OPTIONS} (or others); closed after the suite. */
  connect(options?: RedisOptions): Promise<TestRedis>;
}

/** Start a server for the enclosing `describe`; clients made with `connect()` (ioredis 5 unless told) are closed after it. */
export function useRedisServer(ioredis: IoredisMajor = IOREDIS_MAJORS[0]!): RedisFixture {
  let server: RedisServer | undefined;
  const clients: TestRedis[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
  });
  // A test that killed or stopped the server and failed before it restarted it leaves it down: the next
  // test gets it back, so that one failure is reported once, not again by every later test of the suite.
  afterEach(async () => {
    if (server !== undefined && !server.isRunning) await server.restart();
  });
  afterAll(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await server?.stop();
  });
  const fixture: RedisFixture = {
    get server() {
      if (server === undefined) throw new Error('the Redis server is not started yet (use it inside a test)');
      return server;
    },
    async connect(options = LIMITER_CLIENT_OPTIONS) {
      const client = ioredis.create(fixture.server.port, '127.0.0.1', { ...options, lazyConnect: true });
      // The user owns the client and its 'error' events; a test must not print them as unhandled.
      client.on('error', () => {});
      clients.push(client);
      await client.connect();
      return client;
    },
  };
  return fixture;
}
