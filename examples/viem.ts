// clientpool/viem: one viem transport over three JSON-RPC nodes, one of them down (503) and one that
// never answers. Starts its own local nodes; run with `npx tsx examples/viem.ts`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicClient, http, type Transport } from 'viem';
import { mainnet } from 'viem/chains';
import { ClientPool } from '../src/index.js';
import { isNodeError, pinned, poolTransport } from '../src/viem/index.js';

type Answer = (method: string) => { status: number; body?: unknown } | 'hang';

/** A tiny JSON-RPC node on 127.0.0.1, counting the requests it gets. */
async function startNode(answer: Answer): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      requests++;
      const { id, method } = JSON.parse(text) as { id: number; method: string };
      const reply = answer(method);
      if (reply === 'hang') return;
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id, ...(reply.body as object) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const healthy: Answer = (method) => {
  if (method === 'eth_call') return { status: 200, body: { error: { code: 3, message: 'execution reverted: not the owner', data: '0x' } } };
  const results: Record<string, string> = { eth_blockNumber: '0x1234', eth_getTransactionCount: '0x7', eth_estimateGas: '0x5208', eth_sendRawTransaction: `0x${'ab'.repeat(32)}` };
  return { status: 200, body: { result: results[method] ?? null } };
};
const nodes = [await startNode(healthy), await startNode(() => ({ status: 503, body: { error: { code: -32603, message: 'down' } } })), await startNode(() => 'hang')];

// Node errors (5xx, timeouts, -32005...) count and are retried on another node; request errors (reverts,
// invalid params) are answered once. viem's own retries are off: the pool retries.
const pool = new ClientPool<Transport>({ isFailure: isNodeError, retry: { attempts: 3, backoff: { initial: 0, max: 10 } }, timeout: 250 });
nodes.forEach((node, i) => pool.add(http(node.url), { name: ['healthy', 'down', 'silent'][i]! }));
const client = createPublicClient({ chain: mainnet, transport: poolTransport(pool) });

let ok = 0;
for (let i = 0; i < 20; i++) if ((await client.getBlockNumber({ cacheTime: 0 })) === 0x1234n) ok++;
console.log(`${ok}/20 getBlockNumber calls succeeded`);
console.log('circuits:', Object.fromEntries(pool.members().map((m) => [m.name, m.state.kind])));

const before = nodes[0]!.requests();
await client.call({ to: '0x00000000000000000000000000000000000000aa', data: '0x8da5cb5b' }).catch((error: unknown) => {
  console.log(`revert reached the caller: ${(error as { shortMessage?: string }).shortMessage ?? String(error)}`);
});
console.log(`requests for that revert: ${nodes[0]!.requests() - before}`);

// Nonce, gas and send on one node.
const hash = await pinned(pool, async (transport) => {
  const pinnedClient = createPublicClient({ chain: mainnet, transport });
  const nonce = await pinnedClient.getTransactionCount({ address: '0x00000000000000000000000000000000000000aa' });
  const gas = await pinnedClient.estimateGas({ account: '0x00000000000000000000000000000000000000aa', to: '0x00000000000000000000000000000000000000bb', value: 1n });
  console.log(`pinned: nonce ${nonce}, gas ${gas}`);
  return pinnedClient.sendRawTransaction({ serializedTransaction: '0x02f86b01' });
});
console.log(`pinned: sent ${hash.slice(0, 10)}…`);

await pool.close();
await Promise.all(nodes.map((n) => n.close()));
