// The core pool at work: three upstreams, one of which dies for a while. Watch its circuit open, the
// traffic move to the others, and the circuit close again once it recovers.
import { ClientPool, hasErrorCode } from '../src/index.js';

class Upstream {
  readonly name: string;
  isDown = false;
  constructor(name: string) {
    this.name = name;
  }
  async get(path: string): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    if (this.isDown) throw new Error(`${this.name} is down`);
    return `${this.name}${path}`;
  }
}

const upstreams = ['alpha', 'beta', 'gamma'].map((name) => new Upstream(name));
await using pool = new ClientPool<Upstream>({ strategy: 'round-robin', breaker: { maxFailures: 3, cooldown: 300 } });
for (const upstream of upstreams) pool.add(upstream, { name: upstream.name });
pool.onStateChange(({ client, from, to }) => console.log(`  circuit ${client}: ${from.kind} -> ${to.kind}`));

async function traffic(label: string, calls: number): Promise<void> {
  const served = new Map<string, number>();
  let failed = 0;
  for (let i = 0; i < calls; i++) {
    try {
      const body = await pool.run((client, call) => client.get(`/item/${i}?trace=${call.method}`), { method: 'get_item' });
      const by = body.split('/')[0]!;
      served.set(by, (served.get(by) ?? 0) + 1);
    } catch (error) {
      failed++;
      if (!hasErrorCode(error, 'ERR_CLIENT_CALL')) throw error;
    }
  }
  console.log(`${label}: ${JSON.stringify(Object.fromEntries(served))}, failed ${failed}`);
}

await traffic('all healthy', 30);
upstreams[1]!.isDown = true;
console.log('beta goes down');
await traffic('beta down  ', 30);
upstreams[1]!.isDown = false;
console.log('beta recovers; waiting out the cooldown');
await new Promise((resolve) => setTimeout(resolve, 350));
await traffic('recovered  ', 30);
console.table(pool.members().map(({ name, state, successes, failures }) => ({ name, state: state.kind, successes, failures })));
