// clientpool/undici against undici's own multi-origin dispatcher, BalancedPool: the same request() to
// the same two loopback origins, in the same run, rounds interleaved.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BalancedPool, request, type Dispatcher } from 'undici';
import { poolDispatcher } from '../src/undici/index.js';
import { median } from './harness.js';

interface Candidate {
  readonly name: string;
  readonly dispatcher: Dispatcher;
}

async function startOrigin(): Promise<{ readonly server: Server; readonly url: string }> {
  const server = createServer((_request, response) => response.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function get(dispatcher: Dispatcher): Promise<void> {
  const { statusCode, body } = await request('http://service.invalid/', { dispatcher });
  await body.text();
  if (statusCode !== 200) throw new Error(`HTTP ${statusCode}`);
}

/** Run `total` requests, `inFlight` at a time; the elapsed ns. */
function drive(dispatcher: Dispatcher, inFlight: number, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let started = 0;
    let finished = 0;
    const launch = (): void => {
      started++;
      get(dispatcher).then(() => {
        finished++;
        if (started < total) launch();
        else if (finished === total) resolve(Number(process.hrtime.bigint() - start));
      }, reject);
    };
    for (let i = 0; i < Math.min(inFlight, total); i++) launch();
  });
}

/**
 * µs per `request()` through `poolDispatcher` (default options, and with a hedge and a limit) and
 * through undici's `BalancedPool`, over the same two loopback origins: sequential and 16 in flight,
 * median of interleaved rounds, and the ratio to BalancedPool taken round by round.
 */
export async function undiciBench({ quick }: { readonly quick: boolean }): Promise<string> {
  const origins = await Promise.all([startOrigin(), startOrigin()]);
  const urls = origins.map((o) => o.url);
  const candidates: Candidate[] = [
    { name: 'undici BalancedPool', dispatcher: new BalancedPool(urls) },
    { name: 'poolDispatcher (defaults: breaker, retry)', dispatcher: poolDispatcher({ origins: urls }) },
    { name: 'poolDispatcher + hedge + limit', dispatcher: poolDispatcher({ origins: urls, pool: { hedge: { delay: 1_000 }, limit: { rate: 1e9, burst: 1e9 } } }) },
  ];
  const rounds = quick ? 5 : 15;
  const modes = [
    { title: 'sequential', inFlight: 1, total: quick ? 300 : 2_000 },
    { title: '16 in flight', inFlight: 16, total: quick ? 1_000 : 8_000 },
  ];
  try {
    for (const candidate of candidates) await drive(candidate.dispatcher, 16, quick ? 200 : 1_000);
    const perRequest = candidates.map(() => modes.map(() => [] as number[]));
    for (let round = 0; round < rounds; round++) {
      for (let m = 0; m < modes.length; m++) {
        const mode = modes[m]!;
        for (let k = 0; k < candidates.length; k++) {
          const i = (k + round) % candidates.length;
          perRequest[i]![m]!.push((await drive(candidates[i]!.dispatcher, mode.inFlight, mode.total)) / mode.total);
        }
      }
    }
    const head = ['candidate', ...modes.flatMap((mode) => [`${mode.title}: µs/request`, `${mode.title}: x BalancedPool`])];
    const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '--:')).join('|')}|`];
    candidates.forEach((candidate, i) => {
      const cells = modes.flatMap((_, m) => {
        const ns = perRequest[i]![m]!;
        const base = perRequest[0]![m]!;
        return [(median(ns) / 1e3).toFixed(1), i === 0 ? '1.00' : median(ns.map((value, r) => value / base[r]!)).toFixed(2)];
      });
      lines.push(`| ${candidate.name} | ${cells.join(' | ')} |`);
    });
    return [
      lines.join('\n'),
      '',
      `Two \`node:http\` origins on 127.0.0.1 in the same process answer \`ok\`; each request is an undici \`request()\` whose body is read. ` +
        `Median of ${rounds} interleaved rounds of ${modes[0]!.total} sequential and ${modes[1]!.total} concurrent requests; "x BalancedPool" is the ratio taken round by round (median). ` +
        'Both sides keep an undici `Pool` per origin; poolDispatcher adds the pool\'s pick, breaker, retry policy and the exchange that decides which attempt\'s response the caller gets.',
    ].join('\n');
  } finally {
    await Promise.allSettled(candidates.map((c) => c.dispatcher.close()));
    for (const { server } of origins) {
      server.closeAllConnections();
      server.close();
    }
  }
}

// Run on its own: `npx tsx bench/undici.ts [--quick]`.
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  console.log(await undiciBench({ quick: process.argv.includes('--quick') }));
}
