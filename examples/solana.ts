// clientpool/solana: one @solana/kit transport over three JSON-RPC nodes: one down (503), one behind
// (-32005 "node is unhealthy"), one healthy. Starts its own local nodes; run with
// `npx tsx examples/solana.ts`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { address, createDefaultRpcTransport, createSolanaRpcFromTransport, isSolanaError, type RpcTransport } from '@solana/kit';
import { ClientPool } from '../src/index.js';
import { isSolanaNodeError, poolRpcTransport } from '../src/solana/index.js';

type Answer = (method: string) => { status: number; body: object };

async function startNode(answer: Answer): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const { id, method } = JSON.parse(text) as { id: unknown; method: string };
      const reply = answer(method);
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id, ...reply.body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

const SLOT = 250_000_032;
const healthy: Answer = (method) => {
  switch (method) {
    case 'getSlot':
      return { status: 200, body: { result: SLOT } };
    case 'getBalance':
      return { status: 200, body: { result: { context: { slot: SLOT }, value: 5_000_000_000 } } };
    case 'getLatestBlockhash':
      return { status: 200, body: { result: { context: { slot: SLOT }, value: { blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', lastValidBlockHeight: SLOT + 150 } } } };
    default:
      return { status: 200, body: { error: { code: -32602, message: `Invalid params for ${method}` } } };
  }
};
const nodes = [
  await startNode(() => ({ status: 503, body: { error: { code: -32603, message: 'down' } } })),
  await startNode(() => ({ status: 200, body: { error: { code: -32005, message: 'Node is behind by 1200 slots' } } })),
  await startNode(healthy),
];

const pool = new ClientPool<RpcTransport>({ isFailure: isSolanaNodeError, retry: { attempts: 3, backoff: { initial: 0, max: 10 } }, timeout: 2_000 });
nodes.forEach((node, i) => pool.add(createDefaultRpcTransport({ url: node.url }), { name: ['down', 'behind', 'healthy'][i]! }));

// The seam for slot-aware routing: the freshest slot each node told.
const slots = new Map<string, bigint>();
const rpc = createSolanaRpcFromTransport(poolRpcTransport(pool, { onSlot: (client, slot) => slots.set(client, slot) }));

let ok = 0;
for (let i = 0; i < 10; i++) if ((await rpc.getSlot().send()) === BigInt(SLOT)) ok++;
console.log(`${ok}/10 getSlot calls succeeded`);
const owner = address('11111111111111111111111111111111');
const [balance, blockhash] = await Promise.all([rpc.getBalance(owner).send(), rpc.getLatestBlockhash().send()]);
console.log(`balance ${balance.value} lamports, blockhash valid until ${blockhash.value.lastValidBlockHeight}`);
console.log('slots seen:', Object.fromEntries(slots));
console.log('circuits:', Object.fromEntries(pool.members().map((m) => [m.name, m.state.kind])));

// A request error is answered once, as kit's own error.
await rpc.getTransactionCount().send().catch((error: unknown) => {
  console.log(`request error reached the caller: ${isSolanaError(error) ? error.context.__code : String(error)}`);
});

await pool.close();
await Promise.all(nodes.map((n) => n.close()));
