// pool.proxy(): an object typed as the client, each method (nested ones too) running through the pool
// with its path as the label. Run: npx tsx examples/proxy.ts
import { ClientPool, type Middleware } from '../src/index.js';
import { ExcludedMethodError } from '../src/proxy.js';

class Blocks {
  readonly #url: string;
  constructor(url: string) {
    this.#url = url;
  }
  async latest(options?: { readonly signal?: AbortSignal }): Promise<string> {
    return `block 250000032 from ${this.#url}${options?.signal === undefined ? '' : ' (cancellable)'}`;
  }
}

class RpcClient {
  readonly url: string;
  readonly blocks: Blocks;
  constructor(url: string) {
    this.url = url;
    this.blocks = new Blocks(url);
  }
  async getSlot(commitment: 'finalized' | 'confirmed' = 'finalized'): Promise<number> {
    return commitment === 'finalized' ? 250_000_000 : 250_000_032;
  }
  getVersion(): string {
    return `1.18 at ${this.url}`;
  }
  close(): void {}
}

const labels: Middleware = { name: 'labels', execute: (call, next) => (console.log(`  ${call.method} on ${call.clientName}`), next(call)) };
await using pool = new ClientPool<RpcClient>({ middleware: [labels] });
pool.add(new RpcClient('https://a.example'), { name: 'a' });
pool.add(new RpcClient('https://b.example'), { name: 'b' });

const rpc = pool.proxy({ methods: { getSlot: { timeout: 1_000 } }, signal: { 'blocks.latest': 0 } });
console.log(await rpc.getSlot('confirmed')); // Promise<number>, labelled get_slot
console.log(await rpc.getVersion()); // a synchronous method becomes asynchronous
console.log(await rpc.blocks.latest()); // a nested resource, labelled blocks.latest, given the attempt's signal
// close() would shut one member down while the pool keeps routing to it: left out, in the type too.
const close = (): unknown => (rpc as unknown as Record<string, unknown>)['close'];
try {
  close();
} catch (error) {
  if (error instanceof ExcludedMethodError) console.log(`${error.code}: ${error.reason}`);
}
