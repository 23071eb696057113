// The program examples/runtimes.ts bundles and runs under Node, Bun and Deno: only `fetch` and the core,
// no runtime-specific API, so the same bundle would run in a browser too. UPSTREAMS is set at bundle time.
import { ClientPool, TRACE_ID, traceId } from '../../src/index.js';

declare const UPSTREAMS: readonly string[];

const runtime = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : 'node';

const pool = new ClientPool<string>({
  timeout: 2_000, // ms per attempt
  retry: { attempts: 2 }, // one more try, on another upstream
  breaker: { maxFailures: 2, cooldown: 60_000 },
  limit: { rate: 100, burst: 20 }, // pool-wide, calls per second
  middleware: [traceId()],
});
for (const url of UPSTREAMS) pool.add(url, { name: new URL(url).pathname.slice(1), limit: { rate: 50, burst: 10 } });

let ok = 0;
for (let i = 0; i < 6; i++) {
  const price = await pool.run(async (base, call) => {
    const response = await fetch(base, { headers: { 'x-trace-id': call.get(TRACE_ID)! }, signal: call.signal });
    if (!response.ok) throw new Error(`HTTP ${response.status} from ${call.clientName}`);
    return response.text();
  }, { method: 'get_price' });
  if (price === '42') ok++;
}
const circuits = pool.members().map((member) => `${member.name} ${member.state.kind}`).join(', ');
console.log(`${runtime}: ${ok}/6 calls ok; circuits: ${circuits}`);
await pool.close();
