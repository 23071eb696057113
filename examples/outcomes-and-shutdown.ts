// Every attempt's verdict, as the breaker hears it (an onOutcome observer), and a bounded shutdown:
// close({ signal }) waits for calls in flight, then destroys what is still running when the signal fires.
// Run: npx tsx examples/outcomes-and-shutdown.ts
import { ClientPool, type Middleware } from '../src/index.js';

type Upstream = { readonly name: string; readonly get: (signal: AbortSignal) => Promise<string> };

const upstreams: Upstream[] = [
  { name: 'fine', get: () => Promise.resolve('ok') },
  { name: 'broken', get: () => Promise.reject(new Error('500 internal error')) },
  { name: 'stuck', get: () => new Promise<string>(() => undefined) },
];

const pool = new ClientPool<Upstream>({ strategy: 'round-robin', breaker: false });
for (const upstream of upstreams) pool.add(upstream, { name: upstream.name });

// One count per client and verdict: success, failure, answered, refused or cancelled.
const verdicts = new Map<string, number>();
pool.use({
  name: 'verdicts',
  onOutcome(call, outcome) {
    const key = `${call.clientName}: ${outcome.kind}`;
    verdicts.set(key, (verdicts.get(key) ?? 0) + 1);
  },
} satisfies Middleware);

const settled = await Promise.all([
  pool.run((client, call) => client.get(call.signal)),
  pool.run((client, call) => client.get(call.signal)).catch((error: { code: string }) => error.code),
  // The stuck client never answers: the call is still in flight when the pool closes.
  pool.run((client, call) => client.get(call.signal), { timeout: 60_000 }).catch((error: { code: string }) => error.code),
  (async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Wait at most 50 ms for calls in flight, then end them: destroy(reason).
    await pool.close({ signal: AbortSignal.timeout(50) });
    return 'closed';
  })(),
]);

console.log('calls:', settled.join(', '));
console.log('verdicts:', Object.fromEntries(verdicts));
