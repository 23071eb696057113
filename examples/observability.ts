// What an operator sees of a pool: Prometheus metrics of calls as callers saw them (and of each attempt),
// and the pool's diagnostics_channel events, here a subscriber that logs each attempt's end.
// Every metric, channel and alert: docs/observability.md.
// Run: npx tsx examples/observability.ts
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Registry } from 'prom-client';
import { ClientPool, CHANNELS, type AttemptEndMessage } from '../src/index.js';
import { prometheusMetrics } from '../src/prometheus/index.js';

/** An in-process stand-in for an RPC client: answers at once, and fails while `isDown`. */
class FakeRpc {
  isDown = false;
  getSlot(): Promise<number> {
    return this.isDown ? Promise.reject(new Error('unavailable')) : Promise.resolve(250_000_000);
  }
}

const registry = new Registry();
const pool = new ClientPool<FakeRpc>({ retry: { attempts: 2 } }).use(prometheusMetrics({ registry }));
const healthy = new FakeRpc();
const broken = new FakeRpc();
broken.isDown = true;
pool.add(healthy, { name: 'healthy' });
pool.add(broken, { name: 'broken' });

// A subscriber sees every attempt of every pool in the process; it costs nothing while there is none.
const onAttemptEnd = (message: unknown): void => {
  const { call, outcome } = message as AttemptEndMessage<FakeRpc>;
  console.log(`attempt ${call.attempt} of ${call.method} on ${call.clientName}: ${outcome.kind}`);
};
subscribe(CHANNELS.attemptEnd, onAttemptEnd);
for (let i = 0; i < 4; i++) await pool.run((rpc) => rpc.getSlot(), { method: 'get_slot' });
unsubscribe(CHANNELS.attemptEnd, onAttemptEnd);

// Calls as their callers saw them: four calls, all OK, however many attempts each took.
const exposition = await registry.metrics();
console.log(exposition.split('\n').filter((line) => line.startsWith('middleware_calls_total')).join('\n'));
await pool.close();
