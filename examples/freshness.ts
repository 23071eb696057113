// Routing on heights: four RPC nodes at 100, 100, 95 and 10 000 000 (a node that lies about its height).
// The pool polls each node's height, follows the head two nodes agree on, keeps the lagging node and the
// liar out of the rotation, and a read-your-writes call waits for a node to reach the block it needs.
// Run: npx tsx examples/freshness.ts
import { ClientPool } from '../src/index.js';

interface Node {
  readonly name: string;
  height: number;
  calls: number;
}

const nodes: Node[] = [
  { name: 'a', height: 100, calls: 0 },
  { name: 'b', height: 100, calls: 0 },
  { name: 'slow', height: 95, calls: 0 },
  { name: 'liar', height: 10_000_000, calls: 0 },
];
await using pool = new ClientPool<Node>({
  freshness: { height: (node) => node.height, interval: 50, maxLag: 3 },
});
for (const node of nodes) pool.add(node, { name: node.name });
pool.onFreshnessChange(({ client, freshness, height, head }) => console.log(`  ${client} is ${freshness} (height ${height}, head ${head})`));
// Until the first poll has placed every node (poll timers are unref'd: they keep no process alive).
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
while (pool.members().some((m) => m.freshness === 'unknown')) await sleep(10);

const read = (node: Node): number => {
  node.calls++;
  return node.height;
};
for (let i = 0; i < 1_000; i++) await pool.run(read);
console.log('1 000 reads:', Object.fromEntries(nodes.map((n) => [n.name, n.calls])));

// Read-your-writes: a write landed in block 101; the read waits until a node in sync has it.
setTimeout(() => (nodes[0]!.height = 101), 20);
const height = await pool.run(read, { minHeight: 101, maxWait: 10_000 });
console.log(`read at minHeight 101 served at height ${height}`);
console.log(pool.members().map((m) => `${m.name}: ${m.freshness}, lag ${m.lag}`).join('; '));
