// Quorum reads against three local JSON-RPC servers: one honest and fast, one that lies, one honest but
// slow. A quorum of 2 of 3 resolves with the honest answer once the slow node has answered (the liar is
// outvoted, counted and charged on its breaker); with a second honest fast node, it resolves at the speed
// of the two fast ones and the slow one is cancelled. Run: node --import tsx examples/quorum.ts
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientPool, QuorumError } from '../src/index.js';

/** A JSON-RPC node that answers `eth_blockNumber` with `height` after `delayMs`, and counts aborted requests. */
interface NodeServer {
  readonly url: string;
  readonly server: Server;
  aborted: number;
}

async function startNode(height: number, delayMs: number): Promise<NodeServer> {
  const node = { url: '', server: createServer(), aborted: 0 };
  node.server.on('request', (request, response) => {
    const timer = setTimeout(() => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: `0x${height.toString(16)}` }));
    }, delayMs);
    // The pool cancels a loser through its signal: the client aborts the request, and the server sees it.
    response.on('close', () => {
      if (!response.writableFinished) {
        clearTimeout(timer);
        node.aborted++;
      }
    });
  });
  await new Promise<void>((resolve) => node.server.listen(0, '127.0.0.1', resolve));
  node.url = `http://127.0.0.1:${(node.server.address() as AddressInfo).port}`;
  return node;
}

/** The smallest RPC client: `blockNumber()` over fetch, abortable. */
class Rpc {
  constructor(readonly url: string) {}
  async blockNumber(signal: AbortSignal): Promise<bigint> {
    const response = await fetch(this.url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }), signal });
    const { result } = (await response.json()) as { result: string };
    return BigInt(result);
  }
}

const honest = await startNode(1_000, 10);
const liar = await startNode(999_999, 5);
const slow = await startNode(1_000, 300);
const second = await startNode(1_000, 20);

const pool = new ClientPool<Rpc>({ timeout: 2_000, breaker: { maxFailures: 1, cooldown: 60_000 } });
pool.add(new Rpc(honest.url), { name: 'honest' });
pool.add(new Rpc(liar.url), { name: 'liar' });
pool.add(new Rpc(slow.url), { name: 'slow' });

let started = performance.now();
const height = await pool.quorum((rpc, call) => rpc.blockNumber(call.signal), {
  of: 3,
  agree: 2,
  method: 'eth_blockNumber',
  penalty: true,
  onDisagree: ({ client, value, majority }) => console.log(`outvoted: ${client} said ${value}, the majority ${majority}`),
});
console.log(`quorum of 2/3: height ${height} in ${Math.round(performance.now() - started)} ms (waited for the slow honest node)`);
console.log(`the liar's circuit after its penalty: ${pool.members().find((m) => m.name === 'liar')?.state.kind}`);

// The liar is open now; a second fast honest node joins: the quorum resolves at the speed of the two fast ones.
pool.add(new Rpc(second.url), { name: 'second' });
started = performance.now();
const again = await pool.quorum((rpc, call) => rpc.blockNumber(call.signal), { of: 3, agree: 2, method: 'eth_blockNumber' });
const tookMs = Math.round(performance.now() - started);
await new Promise((resolve) => setTimeout(resolve, 50));
console.log(`quorum of 2/3 again: height ${again} in ${tookMs} ms; the slow node's request was aborted: ${slow.aborted === 1}`);

// Three clients that all disagree: no value can reach 2, and the caller sees every answer.
const split = new ClientPool<{ readonly answer: number }>();
for (const answer of [1, 2, 3]) split.add({ answer });
try {
  await split.quorum((client) => client.answer, { of: 3, agree: 2 });
} catch (error) {
  if (!(error instanceof QuorumError)) throw error;
  console.log(`${error.code} (${error.reason}): answers ${error.answers.map((a) => a.value).join(', ')}`);
}

await pool.close();
await split.close();
for (const node of [honest, liar, slow, second]) {
  node.server.closeAllConnections();
  await new Promise((resolve) => node.server.close(resolve));
}
