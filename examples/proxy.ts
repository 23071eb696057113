// pool.proxy(): an object typed as the client, each method running through the pool with its name as
// the label. Run: npx tsx examples/proxy.ts
import { ClientPool, type Middleware } from '../src/index.js';

class RpcClient {
  readonly url: string;
  constructor(url: string) {
    this.url = url;
  }
  async getSlot(commitment: 'finalized' | 'confirmed' = 'finalized'): Promise<number> {
    return commitment === 'finalized' ? 250_000_000 : 250_000_032;
  }
  getVersion(): string {
    return `1.18 at ${this.url}`;
  }
}

const labels: Middleware = { name: 'labels', execute: (call, next) => (console.log(`  ${call.method} on ${call.clientName}`), next(call)) };
await using pool = new ClientPool<RpcClient>({ middleware: [labels] });
pool.add(new RpcClient('https://a.example'), { name: 'a' });
pool.add(new RpcClient('https://b.example'), { name: 'b' });

const rpc = pool.proxy({ methods: { getSlot: { timeout: 1_000 } } });
console.log(await rpc.getSlot('confirmed')); // Promise<number>, labelled get_slot
console.log(await rpc.getVersion()); // a synchronous method becomes asynchronous
