// A process that trips client x, takes the fleet's probe lease for it and then hangs in its half-open
// probe, printing PROBING: its parent SIGKILLs it there. argv: Redis port, fleet key, probeLease ms.
import { Redis } from 'ioredis';
import { ClientPool } from '../../../src/index.js';
import { RedisFleet } from '../../../src/redis/index.js';

const [port, key, lease] = process.argv.slice(2);
const redis = new Redis(Number(port), '127.0.0.1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
redis.on('error', () => {});
await redis.connect();
const fleet = new RedisFleet({ redis, key: key!, syncInterval: 20, timeout: 2_000, probeLease: Number(lease) });
const pool = new ClientPool<string>({ fleet, breaker: { maxFailures: 1, cooldown: 200, halfOpenProbes: 1 }, retryBudget: false });
pool.add('x', { name: 'x' });
let calls = 0;
setInterval(() => {
  void pool.run(() => {
    calls++;
    if (calls === 1) return Promise.reject(new Error('x is down'));
    console.log('PROBING');
    return new Promise<string>(() => {});
  }).catch(() => undefined);
}, 20);
