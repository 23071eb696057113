import { ClientPool, strategies, type StrategyName } from '../src/index.js';
import { call, EchoClient } from './core.js';
import { measure, type Measurement } from './harness.js';

/**
 * Balancers whose pick is O(n) by design, and documented so (most-headroom: for pools of a few keys): their
 * rounds make fewer calls as n grows (`iterations` x smallest size / n, at least 20), so that 100 000
 * clients take seconds, not the half hour that 450 000 picks of 3 ms each would.
 */
const LINEAR_PICK: ReadonlySet<string> = new Set(['most-headroom']);

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
    const rows: Measurement[] = [];
    if (LINEAR_PICK.has(strategy)) {
      for (const [i, candidate] of candidates.entries()) rows.push(...(await measure([candidate], { iterations: Math.max(20, Math.round((iterations * sizes[0]!) / sizes[i]!)), rounds })));
    } else rows.push(...(await measure(candidates, { iterations, rounds })));
    results.set(strategy, { rows, addMs });
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
      `The last column times \`new ClientPool()\` and ${largest.toLocaleString('en-US')} \`add()\` calls. ` +
      `${[...LINEAR_PICK].join(', ')}: O(n) per pick by design (for pools of a few keys), each size measured apart with ${iterations} x ${sizes[0]} / n calls per round (at least 20).`,
  ].join('\n');
}
