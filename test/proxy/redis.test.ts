// pool.proxy() on ioredis (5 and 6) against a real redis-server: commands reach Redis with exactly the
// arguments the caller gave, lifecycle and connection-state methods are left out, and multi-step work
// stays on one client through pool.run().
import { Redis } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';
import { afterEach, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';
import { describeWithRedis } from '../redis/describe-with-redis.js';
import { startRedisServer, type RedisServer } from '../redis/redis-server.js';

// ioredis 6 keeps 5's command API: typed as 5's, so one suite runs on both.
const versions: [string, (port: number) => Redis][] = [
  ['ioredis 5', (port) => new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 })],
  ['ioredis 6', (port) => new Redis6(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 }) as unknown as Redis],
];

describeWithRedis('pool.proxy() on ioredis against redis-server', () => {
  const servers: RedisServer[] = [];
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  async function poolOn(connect: (port: number) => Redis): Promise<{ pool: ClientPool<Redis>; commands: string[] }> {
    const server = await startRedisServer();
    servers.push(server);
    const commands: string[] = [];
    const pool = new ClientPool<Redis>({ middleware: [{ name: 'labels', execute: (call, next) => (commands.push(`${call.method}@${call.clientName}`), next(call)) }] });
    for (const name of ['r1', 'r2']) {
      const client = connect(server.port);
      client.on('error', () => {});
      clients.push(client);
      await client.connect();
      pool.add(client, { name });
    }
    return { pool, commands };
  }

  it.each(versions)('%s: set, get, incr, hset/hgetall, mget and exists through the proxy', async (_version, connect) => {
    const { pool, commands } = await poolOn(connect);
    const redis = pool.proxy();
    await expect(redis.set('greeting', 'hello')).resolves.toBe('OK');
    await expect(redis.set('greeting', 'hi', 'EX', 60)).resolves.toBe('OK');
    await expect(redis.set('greeting', 'again', 'NX')).resolves.toBeNull();
    await expect(redis.get('greeting')).resolves.toBe('hi');
    await expect(redis.get('missing')).resolves.toBeNull();
    await expect(redis.incr('counter')).resolves.toBe(1);
    await expect(redis.incr('counter')).resolves.toBe(2);
    await expect(redis.hset('user:1', { name: 'ada', lang: 'en' })).resolves.toBe(2);
    await expect(redis.hset('user:1', 'age', '36')).resolves.toBe(1);
    await expect(redis.hgetall('user:1')).resolves.toEqual({ name: 'ada', lang: 'en', age: '36' });
    await expect(redis.mget('greeting', 'counter', 'missing')).resolves.toEqual(['hi', '2', null]);
    await expect(redis.mget(['greeting', 'counter'])).resolves.toEqual(['hi', '2']);
    await expect(redis.exists('greeting', 'counter', 'missing')).resolves.toBe(2);
    // Every call went through the pool, spread over both clients, with the command as its label.
    expect(commands.slice(0, 4)).toEqual(['set@r1', 'set@r2', 'set@r1', 'get@r2']);
    expect(pool.members().map((m) => m.failures)).toEqual([0, 0]);
  });

  it.each(versions)('%s: quit, multi, watch and subscribe are left out; a callback-style call is refused', async (_version, connect) => {
    const { pool } = await poolOn(connect);
    const redis = pool.proxy() as unknown as Record<string, unknown>;
    const leftOut = [
      ['quit', 'lifecycle'],
      ['disconnect', 'lifecycle'],
      ['duplicate', 'lifecycle'],
      ['multi', 'stream or connection state'],
      ['watch', 'stream or connection state'],
      ['subscribe', 'stream or connection state'],
      ['on', 'event emitter'],
    ] as const;
    for (const [method, reason] of leftOut) {
      expect(() => redis[method], method).toThrow(expect.objectContaining({ code: 'ERR_EXCLUDED_METHOD', reason }) as Error);
    }
    const typed = pool.proxy();
    await expect(typed.get('k', () => undefined)).rejects.toMatchObject({ reason: 'callback' });
    // Both clients are still connected and serving (round robin: the set on one, the get on the other; in
    // turn, since two connections give no order between concurrent commands).
    await expect(typed.set('k', '1')).resolves.toBe('OK');
    await expect(typed.get('k')).resolves.toBe('1');
    expect(clients.map((client) => client.status)).toEqual(['ready', 'ready']);
  });

  it.each(versions)('%s: select, defineCommand, blocking commands, scan streams and options are left out, so members stay alike', async (_version, connect) => {
    const { pool } = await poolOn(connect);
    const redis = pool.proxy() as unknown as Record<string, unknown>;
    const leftOut = ['select', 'auth', 'readonly', 'readwrite', 'reset', 'hello', 'client', 'clientBuffer', 'defineCommand', 'blpop', 'blpopBuffer', 'brpop', 'brpoplpush', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop', 'wait', 'xread', 'xreadgroup', 'scanStream', 'hscanStream', 'scanBufferStream'];
    for (const method of leftOut) {
      expect(() => redis[method], method).toThrow(expect.objectContaining({ code: 'ERR_EXCLUDED_METHOD', reason: 'stream or connection state' }) as Error);
    }
    expect(() => redis['blpop']).toThrow(/blocking command holds one connection/);
    // ioredis's `options` is a plain data object (a port, a retryStrategy function): not a resource.
    expect(() => redis['options']).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'proxy.options' }) as Error);
    // Both members are still on database 0 and serve every call alike.
    const typed = pool.proxy();
    await typed.set('sel', 'db0');
    const seen = new Set<string | null>();
    for (let i = 0; i < 4; i += 1) seen.add(await typed.get('sel'));
    expect([...seen]).toEqual(['db0']);
    // Included by name, blpop runs (with a key that has data, so it does not block).
    await typed.rpush('queue', 'job');
    await expect(pool.proxy({ include: ['blpop'] }).blpop('queue', 1)).resolves.toEqual(['queue', 'job']);
  });

  it.each(versions)('%s: WATCH/MULTI stays on one client through pool.run()', async (_version, connect) => {
    const { pool } = await poolOn(connect);
    await pool.proxy().set('balance', '10');
    const result = await pool.run(
      async (client) => {
        await client.watch('balance');
        const balance = Number(await client.get('balance'));
        return client.multi().set('balance', String(balance - 3)).get('balance').exec();
      },
      { method: 'debit' },
    );
    expect(result).toEqual([
      [null, 'OK'],
      [null, '7'],
    ]);
    await expect(pool.proxy().get('balance')).resolves.toBe('7');
  });
});
