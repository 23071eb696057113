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
  ['quorum', /outvoted: liar said 999999, the majority 1000[\s\S]*the liar's circuit after its penalty: open[\s\S]*ERR_QUORUM \(no-agreement\): answers 1, 2, 3/],
  ['undici', /POST +200 [abc] POST \/orders[\s\S]*after killing c: 20\/20 requests succeeded[\s\S]*global +[ab] GET \/global/],
  ['viem', /20\/20 getBlockNumber calls succeeded[\s\S]*requests for that revert: 1[\s\S]*pinned: sent/],
  ['solana', /10\/10 getSlot calls succeeded[\s\S]*request error reached the caller: -32602/],
  ['ai', /overloaded: 2 request\(s\), 2 failure\(s\), circuit open[\s\S]*limited: 1 request\(s\), 1 failure\(s\)[\s\S]*APICallError \(400\); other servers called: 0[\s\S]*streamText: "Hello from healthy"[\s\S]*cut stream: partial "Hello", then error "[^"]+"; healthy called 0 time\(s\)/],
  ['runtimes', /node: 6\/6 calls ok; circuits: flaky open, healthy closed[\s\S]*(\d+)\/\1 requests carried a W3C trace ID/],
  ['freshness', /1 000 reads: \{ a: 500, b: 500, slow: 0, liar: 0 \}[\s\S]*read at minHeight 101 served at height 101/],
  ['llm-keys', /100 chats in [\d.]+ windows: \{"key-small":\d+,"key-large":\d+\}[\s\S]*given back by call\.settle\(\)[\s\S]*429s from the provider: \d+; calls failed: \d+/],
  ['admission', /deadline: ERR_DEADLINE_EXCEEDED after \d attempts[\s\S]*6 calls: \d served[\s\S]*priority: low \{ served: 8, ERR_SHED: 22 \} high \{ served: 2 \}[\s\S]*adaptive: cap \d+ after 3 s/],
  ['proxy', /get_slot on a[\s\S]*250000032[\s\S]*get_version on b/],
  ['health-and-affinity', /alice while her replica is down -> r\d[\s\S]*alice once it is back -> r\d/],
  ['logging', /get_slot/],
  ['observability', /attempt 1 of get_slot on broken: failure[\s\S]*attempt 2 of get_slot on healthy: success[\s\S]*middleware_calls_total\{method="get_slot",code="OK"\} 4/],
  ['fleet', /B \(shares A's view\): 30 calls, 0 sent to dead b[\s\S]*C \(alone\): 30 calls, 3 sent to dead b[\s\S]*B while a is paused: 10 calls served by \{"c":10\}, 0 sent to a/],
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
