// Active health checks take a failing client out; key affinity keeps a session on one client while it
// is healthy. Run: npx tsx examples/health-and-affinity.ts
import { ClientPool } from '../src/index.js';

type Replica = { readonly name: string; isHealthy: boolean };
const replicas: Replica[] = ['r1', 'r2', 'r3'].map((name) => ({ name, isHealthy: true }));

await using pool = new ClientPool<Replica>({
  healthCheck: {
    check: (replica) => {
      if (!replica.isHealthy) throw new Error(`${replica.name} is unhealthy`);
    },
    interval: 1_000,
    unhealthyThreshold: 1,
    healthyThreshold: 1,
  },
});
for (const replica of replicas) pool.add(replica, { name: replica.name });
pool.onHealthChange(({ client, isDown }) => console.log(`  ${client} is ${isDown ? 'down' : 'up again'}`));

const sessionOf = (user: string): Promise<string> => pool.run((replica) => replica.name, { key: user });
console.log('alice ->', await sessionOf('alice'), await sessionOf('alice'), await sessionOf('alice'));

const home = await sessionOf('alice');
replicas.find((r) => r.name === home)!.isHealthy = false;
await pool.checkHealth();
console.log('alice while her replica is down ->', await sessionOf('alice'));
replicas.find((r) => r.name === home)!.isHealthy = true;
await pool.checkHealth();
console.log('alice once it is back ->', await sessionOf('alice'));
