// A process whose pool shares through a RedisFleet over a client that hangs or fails, then exits by
// itself: the fleet's timers must not keep it alive. argv[2]: 'hang' | 'down' | 'open' (pool left open).
import { ClientPool } from '../../../src/index.js';
import { RedisFleet, type RedisScriptClient } from '../../../src/redis/index.js';

const mode = process.argv[2] ?? 'hang';
const send = (): Promise<unknown> => (mode === 'down' ? Promise.reject(new Error('Connection is closed.')) : new Promise(() => {}));
const redis: RedisScriptClient = { evalsha: send, eval: send };
const fleet = new RedisFleet({ redis, key: 'exit-child', syncInterval: 10, timeout: 50, recheckInterval: 20 });
const pool = new ClientPool<string>({ fleet, breaker: { maxFailures: 1, cooldown: 100_000 } });
pool.add('x', { name: 'x' });
process.on('unhandledRejection', (reason) => {
  console.error('unhandled', reason);
  process.exitCode = 3;
});
await pool.run((c) => c);
await pool.run(() => Promise.reject(new Error('fail'))).catch(() => undefined);
await new Promise((resolve) => setTimeout(resolve, 200));
if (mode !== 'open') await pool.close();
console.log(`done ${fleet.state.mode}`);
