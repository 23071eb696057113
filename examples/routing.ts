// Routing on what clients can do: a paid provider serves only while your own nodes cannot (priority
// tiers), a hundred callers asking for one block make one request (coalescing), and a price stays served
// for a second, and stale (said so) while the upstream is down. Run: npx tsx examples/routing.ts
import { ClientPool } from '../src/index.js';

interface Node {
  readonly name: string;
  isDown: boolean;
  requests: number;
}

const node = (name: string): Node => ({ name, isDown: false, requests: 0 });
const [own1, own2, paid] = [node('own-1'), node('own-2'), node('paid')];
await using pool = new ClientPool<Node>({ breaker: { maxFailures: 1, cooldown: 60_000 } });
pool.add(own1, { name: 'own-1' });
pool.add(own2, { name: 'own-2' });
pool.add(paid, { name: 'paid', tier: 1 });

const getBlock = (client: Node): Promise<string> => {
  client.requests++;
  return client.isDown ? Promise.reject(new Error(`${client.name} down`)) : Promise.resolve(`block from ${client.name}`);
};

// 1. Tiers: the paid provider gets nothing while an own node is ready.
for (let i = 0; i < 10; i++) await pool.run(getBlock);
console.log('tiers, own nodes up:', { 'own-1': own1.requests, 'own-2': own2.requests, paid: paid.requests });
own1.isDown = own2.isDown = true;
for (let i = 0; i < 4; i++) await pool.run(getBlock).catch(() => undefined);
console.log('tiers, own nodes down:', { paid: paid.requests }, pool.members().map((m) => `${m.name}: ${m.state.kind}`).join(', '));

// 2. Coalescing: 100 concurrent callers of one block, one request.
const before = paid.requests;
const blocks = await Promise.all(Array.from({ length: 100 }, () => pool.run(getBlock, { coalesce: 'block:7' })));
console.log(`coalescing: ${blocks.length} callers, ${paid.requests - before} request`);

// 3. A short cache, stale while the upstream is down (and said so).
const cache = { ttl: 1_000, staleIfError: 60_000, onStale: ({ ageMs, error }: { ageMs: number; error: { code: string } }) => console.log(`  stale price served (${ageMs.toFixed(0)} ms old): ${error.code}`) };
const price = (client: Node): Promise<number> => (client.isDown ? Promise.reject(new Error('down')) : Promise.resolve(42));
console.log('cache, fresh:', await pool.run(price, { coalesce: 'price', cache }));
paid.isDown = true;
await new Promise((resolve) => setTimeout(resolve, 1_100));
console.log('cache, every client down:', await pool.run(price, { coalesce: 'price', cache }));
