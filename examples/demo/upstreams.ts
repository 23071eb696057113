// The cast: four upstreams, each with its own behaviour and its own quota (as API keys with different
// plans). Their randomness is seeded, so that a run with the same --seed fails the same requests.
import { seededRandom } from '../../src/index.js';
import { UpstreamServer, type Behaviour } from './upstream-server.js';

/** One upstream of the demo: its server, and the rate limit of the client that calls it. */
export interface UpstreamSpec {
  readonly name: string;
  readonly behaviour: Behaviour;
  /** The per-client token bucket: `rate` requests per second, `burst` at once. */
  readonly quota: { readonly rate: number; readonly burst: number };
}

/** Name of the upstream that is killed and restarted during the demo. */
export const OUTAGE = 'outage';

export const SPECS: readonly UpstreamSpec[] = [
  {
    name: 'healthy',
    behaviour: { summary: '2-8 ms', latencyMs: (random) => 2 + 6 * random() },
    quota: { rate: 150, burst: 150 },
  },
  {
    name: 'slow',
    // A long tail: 5 % of answers take 300-600 ms, which is what hedging is for.
    behaviour: { summary: '40-100 ms, 5% 300-600 ms', latencyMs: (random) => (random() < 0.05 ? 300 + 300 * random() : 40 + 60 * random()) },
    quota: { rate: 60, burst: 60 },
  },
  {
    name: 'flaky',
    behaviour: { summary: '3-13 ms, 15% HTTP 503', latencyMs: (random) => 3 + 10 * random(), failureRate: 0.15 },
    quota: { rate: 100, burst: 100 },
  },
  {
    name: OUTAGE,
    behaviour: { summary: '2-8 ms', latencyMs: (random) => 2 + 6 * random() },
    quota: { rate: 100, burst: 100 },
  },
];

/** Start every upstream on its own free loopback port. */
export async function startUpstreams(seed: number): Promise<UpstreamServer[]> {
  const servers = SPECS.map((spec, index) => new UpstreamServer(spec.name, spec.behaviour, seededRandom(seed + index)));
  await Promise.all(servers.map((server) => server.start()));
  return servers;
}
