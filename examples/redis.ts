// One quota for a fleet of processes: 100 calls per second to "provider A", whatever the number of
// processes. This example starts nothing itself; point it at a Redis with REDIS_URL:
//
//   redis-server --port 6379 --save '' --appendonly no &
//   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/redis.ts
//
// Run it in two terminals at once: together they still get 100 calls per second, so each takes about
// twice as long. Stop Redis midway: calls go on at the local share, and come back to Redis once it is up.
import { Redis } from 'ioredis';
import { ClientPool } from '../src/index.js';
import { RedisTokenBucket } from '../src/redis/index.js';

const url = process.env['REDIS_URL'];
if (url === undefined) {
  console.error('set REDIS_URL, e.g. REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/redis.ts');
  process.exit(2);
}

// A connection for the limiter: fail fast while Redis is down instead of queueing commands.
const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
redis.on('error', (error: Error) => console.warn(`  redis: ${error.message}`));
await redis.connect();

const limit = new RedisTokenBucket({ redis, key: 'example:provider-a', rate: 100, burst: 100, processes: 2 });
limit.onFallback(({ cause }) => console.warn(`  limit: Redis unavailable (${cause.message}); using this process's share`));
limit.onRecover(({ downMs }) => console.warn(`  limit: back on Redis after ${Math.round(downMs)} ms`));

const provider = { call: (i: number): Promise<number> => Promise.resolve(i) };
const pool = new ClientPool<typeof provider>({ limit, maxWait: 5_000 });
pool.add(provider, { name: 'provider-a' });

const start = performance.now();
for (let i = 1; i <= 500; i++) {
  await pool.run((client) => client.call(i));
  if (i % 100 === 0) console.log(`${i} calls after ${Math.round(performance.now() - start)} ms`);
}
console.log(limit.stats);
await pool.close();
redis.disconnect();
