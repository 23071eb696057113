// Per-request overhead of clientpool/viem's poolTransport against viem's own multi-endpoint transport,
// fallback([http(a), http(b)]), in the same run: two local JSON-RPC servers on 127.0.0.1, eth_blockNumber
// one request after another, candidates interleaved round by round (harness.ts), median round reported.
// `npx tsx bench/viem.ts [--quick]` prints the table; `viemBench({ quick })` returns it for `npm run bench`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { custom, fallback, http, type Transport } from 'viem';
import { mainnet } from 'viem/chains';
import { ClientPool } from '../src/index.js';
import { isNodeError, poolTransport } from '../src/viem/index.js';
import { measure, paired, table, type Candidate } from './harness.js';

/** A JSON-RPC server answering every request with block 0x10, echoing its id. */
async function startNode(): Promise<{ readonly url: string; readonly close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: unknown };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":"0x10"}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const BLOCK_NUMBER = { method: 'eth_blockNumber' } as const;

/**
 * Two tables in Markdown: over loopback HTTP (two local servers), and over in-memory `custom()`
 * transports that answer at once (each side's own cost, without the network's noise).
 */
export async function viemBench({ quick }: { readonly quick: boolean }): Promise<string> {
  const nodes = await Promise.all([startNode(), startNode()]);
  const [a, b] = nodes.map((n) => n.url) as [string, string];
  try {
    const network = await compare(http(a), http(b), quick ? { iterations: 200, rounds: 5, warmup: 200 } : { iterations: 1_000, rounds: 15, warmup: 1_000 });
    // Transports that answer at once from memory: what is left is each side's own cost per request.
    const answer = { request: () => Promise.resolve('0x10') };
    const memory = await compare(custom(answer), custom(answer), quick ? { iterations: 5_000, rounds: 5, warmup: 5_000 } : { iterations: 50_000, rounds: 15, warmup: 20_000 });
    return [
      `Per request, eth_blockNumber one at a time, candidates interleaved by round (${quick ? '5 rounds' : '15 rounds'}, median):`,
      '',
      'Over loopback HTTP (two local JSON-RPC servers):',
      '',
      network.table,
      '',
      `poolTransport - fallback, paired by round: ${network.overheadUs.toFixed(1)} µs per request.`,
      '',
      'Over in-memory transports (custom(), answering at once): each side\'s own cost.',
      '',
      memory.table,
      '',
      `poolTransport - fallback, paired by round: ${memory.overheadUs.toFixed(2)} µs per request.`,
    ].join('\n');
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
}

/**
 * One table: ns per request of the first transport alone (the floor), viem's `fallback([first, second])`
 * and `poolTransport` over a pool of both (round robin, `isFailure: isNodeError`, retry and timeout on),
 * with and without a signal per attempt (`abortAttempts`), each one's ratio to `fallback`, and the paired
 * difference pool - fallback in µs.
 */
async function compare(first: Transport, second: Transport, options: { iterations: number; rounds: number; warmup: number }): Promise<{ table: string; overheadUs: number }> {
  const pool = new ClientPool<Transport>({ isFailure: isNodeError, retry: { attempts: 2 }, timeout: 5_000 });
  pool.add(first, { name: 'a' });
  pool.add(second, { name: 'b' });
  const instances = {
    bare: first({ chain: mainnet }),
    fallback: fallback([first, second])({ chain: mainnet }),
    pool: poolTransport(pool)({ chain: mainnet }),
    unaborted: poolTransport(pool, { abortAttempts: false })({ chain: mainnet }),
  };
  const candidates: Candidate[] = [
    { name: 'one transport', run: () => instances.bare.request(BLOCK_NUMBER) },
    { name: 'viem fallback', run: () => instances.fallback.request(BLOCK_NUMBER) },
    { name: 'poolTransport', run: () => instances.pool.request(BLOCK_NUMBER) },
    { name: 'poolTransport, abortAttempts: false', run: () => instances.unaborted.request(BLOCK_NUMBER) },
  ];
  try {
    const rows = await measure(candidates, options);
    return { table: table(rows, ['viem fallback']), overheadUs: paired(rows, ['poolTransport', 'viem fallback'], (own, theirs) => (own - theirs) / 1_000) };
  } finally {
    await pool.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await viemBench({ quick: process.argv.includes('--quick') }));
}
