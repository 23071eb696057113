import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HANG_BOUND_MS } from './helpers/hang-bound.js';

// The small feature examples run as their READMEs say (`npx tsx examples/<name>.ts`), so they cannot rot.
const examples: [string, RegExp][] = [
  ['resilience', /20\/20 calls succeeded/],
  ['rate-limits', /12 calls in \d+ ms/],
  ['routing', /own nodes up: \{ 'own-1': 5, 'own-2': 5, paid: 0 \}[\s\S]*coalescing: 100 callers, 1 request[\s\S]*stale price served[\s\S]*every client down: 42/],
  // Real time: how many attempts fit and how many calls get a slot depend on the machine, not the shape.
  ['admission', /deadline: ERR_DEADLINE_EXCEEDED after \d attempts[\s\S]*6 calls: \d served/],
  ['proxy', /get_slot on a[\s\S]*250000032[\s\S]*get_version on b/],
  ['health-and-affinity', /alice while her replica is down -> r\d[\s\S]*alice once it is back -> r\d/],
  ['logging', /get_slot/],
  ['observability', /attempt 1 of get_slot on broken: failure[\s\S]*attempt 2 of get_slot on healthy: success[\s\S]*middleware_calls_total\{method="get_slot",code="OK"\} 4/],
  ['outcomes-and-shutdown', /calls: ok, ERR_CLIENT_CALL, ERR_POOL_CLOSED, closed[\s\S]*'stuck: cancelled': 1/],
];

describe('examples', () => {
  it.each(examples)('examples/%s.ts runs and prints what it promises', (name, expected) => {
    const script = fileURLToPath(new URL(`../examples/${name}.ts`, import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout).toMatch(expected);
  }, HANG_BOUND_MS);
});
