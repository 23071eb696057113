import { ClientPool, strategies, type StrategyName } from '../src/index.js';
import { call, EchoClient } from './core.js';
import { measure, type Measurement } from './harness.js';

/**
 * Per-call time of each balancer with 10, 1 000 and 100 000 clients (selection must not grow with n),
 * and the time to add the largest number of clients one by one.
 */
export async function scaling(sizes: readonly number[], iterations: number, rounds: number): Promise<string> {
  const names = Object.keys(strategies) as StrategyName[];
  const results = new Map<StrategyName, { rows: Measurement[]; addMs: number }>();
  const largest = sizes.at(-1)!;
  for (const strategy of names) {
    let addMs = 0;
    const candidates = sizes.map((n) => {
      const start = performance.now();
      const pool = new ClientPool<EchoClient>({ strategy });
      for (let i = 0; i < n; i++) pool.add(new EchoClient(i), { name: `c${i}`, weight: 1 + (i % 5) });
      if (n === largest) addMs = performance.now() - start;
      return { name: String(n), run: () => pool.run(call) };
    });
    results.set(strategy, { rows: await measure(candidates, { iterations, rounds }), addMs });
  }
  const head = ['strategy', ...sizes.map((n) => `${n.toLocaleString('en-US')} clients ns/call`), `x (${largest.toLocaleString('en-US')} vs ${sizes[0]})`, `add ${largest.toLocaleString('en-US')} clients (ms)`];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '--:')).join('|')}|`];
  for (const [strategy, { rows, addMs }] of results) {
    lines.push(`| ${strategy} | ${rows.map((r) => r.nsPerCall.toFixed(0)).join(' | ')} | ${(rows.at(-1)!.nsPerCall / rows[0]!.nsPerCall).toFixed(2)} | ${addMs.toFixed(0)} |`);
  }
  return [
    lines.join('\n'),
    '',
    `A whole \`pool.run()\` over echo clients with weights 1-5, so the growth with n is the selection's; median of ${rounds} interleaved rounds of ${iterations} calls. ` +
      `The last column times \`new ClientPool()\` and ${largest.toLocaleString('en-US')} \`add()\` calls.`,
  ].join('\n');
}
