import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { Client, Pool, type Dispatcher } from 'undici';
import { ClientPool } from '../src/index.js';
import { prometheusMetrics } from '../src/prometheus/index.js';
import { drive } from './concurrency.js';
import { median } from './harness.js';

export interface NetworkOptions {
  /** Requests per round, one after another. */
  readonly sequential: number;
  /** Requests per round with `inFlight` at a time. */
  readonly concurrent: number;
  readonly inFlight: number;
  readonly rounds: number;
  /**
   * clientpool's own ns per call from the micro table (candidate minus bare call), default and full stack:
   * set against the request time, it gives the pool's share without the network's noise.
   */
  readonly overheadNs?: { readonly default: number; readonly full: number };
}

export interface NetworkCandidate {
  readonly name: string;
  /** One GET of `/`, resolving with the body. */
  readonly run: () => Promise<string>;
}

/** What the loopback server answers. */
export const BODY = 'ok';
const GET = { method: 'get' } as const;

/** An HTTP server on 127.0.0.1 and a free port answering every request with `ok`. */
export async function startServer(): Promise<{ readonly origin: string; readonly close: () => Promise<void> }> {
  const server: Server = createServer((_request, response) => response.end(BODY));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

async function get(dispatcher: Dispatcher): Promise<string> {
  const { statusCode, body } = await dispatcher.request({ path: '/', method: 'GET' });
  const text = await body.text();
  if (statusCode !== 200) throw new Error(`HTTP ${statusCode}`);
  return text;
}

/**
 * The same GET through an undici `Pool` of 2 connections, and through clientpools over 2 undici `Client`s
 * (one connection each, so both sides hold 2 connections): default stack, and with limit + Prometheus.
 * `close()` closes every dispatcher.
 */
export function networkCandidates(origin: string): { readonly candidates: NetworkCandidate[]; readonly close: () => Promise<void> } {
  const bare = new Pool(origin, { connections: 2 });
  const pools = [false, true].map((full) => {
    const pool = new ClientPool<Client>(full ? { limit: { rate: 1e12, burst: 1e12 } } : {});
    for (const name of ['a', 'b']) pool.add(new Client(origin), { name, close: (client) => client.close() });
    if (full) pool.use(prometheusMetrics({ registry: new Registry() }));
    return pool;
  });
  const [basic, full] = pools as [ClientPool<Client>, ClientPool<Client>];
  return {
    candidates: [
      { name: 'undici Pool (2 connections)', run: () => get(bare) },
      { name: 'clientpool default over 2 undici Clients', run: () => basic.run(get, GET) },
      { name: 'clientpool full stack over 2 undici Clients', run: () => full.run(get, GET) },
    ],
    close: async () => {
      await Promise.all([bare.close(), basic.close(), full.close()]);
    },
  };
}

/** Loopback HTTP: µs per request and requests/s, sequential and concurrent, interleaved rounds; median round. */
export async function runNetwork(options: NetworkOptions): Promise<string> {
  const server = await startServer();
  const { candidates, close } = networkCandidates(server.origin);
  try {
    const modes = [
      { title: 'sequential', total: options.sequential, inFlight: 1 },
      { title: `${options.inFlight} in flight`, total: options.concurrent, inFlight: options.inFlight },
    ];
    const perRequest = candidates.map(() => modes.map(() => [] as number[]));
    for (const candidate of candidates) await drive(candidate.run, options.inFlight, 200);
    for (let round = 0; round < options.rounds; round++) {
      for (let m = 0; m < modes.length; m++) {
        const mode = modes[m]!;
        for (let k = 0; k < candidates.length; k++) {
          const i = (k + round) % candidates.length;
          perRequest[i]![m]!.push((await drive(candidates[i]!.run, mode.inFlight, mode.total)) / mode.total);
        }
      }
    }
    const overhead = [undefined, options.overheadNs?.default, options.overheadNs?.full];
    const head = [
      'candidate',
      ...modes.flatMap((mode) => [`${mode.title}: µs/request`, `${mode.title}: requests/s`, `${mode.title}: vs undici Pool`]),
      ...(options.overheadNs === undefined ? [] : ["clientpool's own ns/call (micro)", 'share of a sequential request']),
    ];
    const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '--:')).join('|')}|`];
    candidates.forEach((candidate, i) => {
      const cells = modes.flatMap((_, m) => {
        const ns = perRequest[i]![m]!;
        const bare = perRequest[0]![m]!;
        // Round by round: the share of this candidate's time that the bare Pool did not spend.
        const share = median(ns.map((value, r) => (value - bare[r]!) / value));
        return [(median(ns) / 1e3).toFixed(1), Math.round(1e9 / median(ns)).toLocaleString('en-US'), i === 0 ? '-' : `${share >= 0 ? '+' : ''}${(share * 100).toFixed(1)}%`];
      });
      if (options.overheadNs !== undefined) {
        const own = overhead[i];
        cells.push(own === undefined ? '-' : own.toFixed(0), own === undefined ? '-' : `${((own / median(perRequest[i]![0]!)) * 100).toFixed(2)}%`);
      }
      lines.push(`| ${candidate.name} | ${cells.join(' | ')} |`);
    });
    return [
      lines.join('\n'),
      '',
      `A \`node:http\` server on 127.0.0.1 in the same process answers \`${BODY}\`; each request is an undici \`request()\` whose body is read. ` +
        `Median of ${options.rounds} interleaved rounds of ${options.sequential} sequential and ${options.concurrent} concurrent requests. ` +
        `"vs undici Pool" = (candidate - undici Pool) / candidate, round by round (median): mostly noise, of either sign, as the two sides differ by less than the machine's jitter; ` +
        `the clientpools call undici \`Client\`s directly, skipping the \`Pool\`'s own dispatch. ` +
        (options.overheadNs === undefined ? '' : `The last two columns take clientpool's own cost from the per-call table (candidate - bare call) and set it against a sequential request: the pool's real share.`),
    ].join('\n');
  } finally {
    await close();
    await server.close();
  }
}
