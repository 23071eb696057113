// Per-client quotas (two API keys) and a 429 answered with Retry-After: the pool routes around an
// exhausted key and waits only when both are out. Run: npx tsx examples/rate-limits.ts
import { ClientPool } from '../src/index.js';

type ApiKey = { readonly key: string };

await using pool = new ClientPool<ApiKey>({ maxWait: 2_000 });
pool.add({ key: 'free' }, { name: 'free', limit: { rate: 5, burst: 2 } });
pool.add({ key: 'paid' }, { name: 'paid', limit: { rate: 20, burst: 5 } });
pool.onRateLimit(({ client, waitedMs, rejected }) => console.log(`  waited ${waitedMs.toFixed(0)} ms for ${client ?? 'any key'}${rejected ? ' (refused)' : ''}`));

const started = performance.now();
const served = new Map<string, number>();
let freeCalls = 0;
for (let i = 0; i < 12; i++) {
  const key = await pool.run((client, call) => {
    // The upstream answers the free key's second call with "429, retry after 1 s": drained and paused.
    if (client.key === 'free' && ++freeCalls === 2) call.pauseClient(1_000);
    return client.key;
  });
  served.set(key, (served.get(key) ?? 0) + 1);
}
console.log(`12 calls in ${(performance.now() - started).toFixed(0)} ms:`, Object.fromEntries(served));
console.table(pool.members().map(({ name, tokens }) => ({ name, tokensLeft: tokens?.toFixed(2) })));
