// Retry on another client, hedging and a timeout: one upstream fails fast, one never answers, one is
// fine. Every call succeeds; the pool shows which client did what. Run: npx tsx examples/resilience.ts
import { ClientPool } from '../src/index.js';

type Upstream = { readonly name: string; readonly get: (signal: AbortSignal) => Promise<string> };

const upstreams: Upstream[] = [
  { name: 'refuses', get: () => Promise.reject(new Error('connection refused')) },
  { name: 'black-hole', get: () => new Promise<string>(() => undefined) },
  { name: 'healthy', get: () => new Promise((resolve) => setTimeout(() => resolve('ok'), 5)) },
];

await using pool = new ClientPool<Upstream>({
  timeout: 200, // per attempt: a black hole cannot hang a call
  retry: { attempts: 3, backoff: { initial: 5 } }, // on a client not tried yet
  hedge: { delay: 50 }, // a second attempt elsewhere if the first is slow
  breaker: { maxFailures: 2, cooldown: 10_000 },
});
for (const upstream of upstreams) pool.add(upstream, { name: upstream.name });

let ok = 0;
for (let i = 0; i < 20; i++) if ((await pool.run((client, call) => client.get(call.signal), { method: 'get' })) === 'ok') ok++;

console.log(`${ok}/20 calls succeeded`);
console.table(pool.members().map(({ name, state, successes, failures, cancelled }) => ({ name, state: state.kind, successes, failures, cancelled })));
console.log('retry budget', pool.retryBudget);
