import { ClientPool, strategies, type StrategyName } from '../src/index.js';
import { call, EchoClient } from './core.js';
import { measure, type Measurement } from './harness.js';

/** Per-call time of each balancer with 10, 1 000 and 100 000 clients: selection must not grow with n. */
export async function scaling(sizes: readonly number[], iterations: number, rounds: number): Promise<string> {
  const names = Object.keys(strategies) as StrategyName[];
  const results = new Map<StrategyName, Measurement[]>();
  for (const strategy of names) {
    const candidates = sizes.map((n) => {
      const pool = new ClientPool<EchoClient>({ strategy });
      for (let i = 0; i < n; i++) pool.add(new EchoClient(i), { name: `c${i}`, weight: 1 + (i % 5) });
      return { name: String(n), run: () => pool.run(call) };
    });
    results.set(strategy, await measure(candidates, { iterations, rounds }));
  }
  const head = ['strategy', ...sizes.map((n) => `${n} clients ns/call`), `x (${sizes.at(-1)} vs ${sizes[0]})`];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const [strategy, rows] of results) {
    lines.push(`| ${strategy} | ${rows.map((r) => r.nsPerCall.toFixed(0)).join(' | ')} | ${(rows.at(-1)!.nsPerCall / rows[0]!.nsPerCall).toFixed(2)} |`);
  }
  return lines.join('\n');
}
