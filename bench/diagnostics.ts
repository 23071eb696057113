// The cost of clientpool's diagnostics_channel publish points, in a process of its own: subscribing
// changes the prototype of Node's channel objects (Channel <-> ActiveChannel), which would make every
// other candidate of the main table slower after it. Run by bench/index.ts as a child process; alone:
// `npx tsx bench/diagnostics.ts [--quick]` prints the section.
import { execFile } from 'node:child_process';
import { subscribe, tracingChannel } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { CHANNELS } from '../src/index.js';
import { call, defaultPool } from './core.js';
import { measure, type Measurement } from './harness.js';

const UNOBSERVED = 'clientpool default, no subscriber (never subscribed)';
const OBSERVED = 'clientpool default, a subscriber on every clientpool channel';

/** The section's Markdown, measured in a child process. */
export function runDiagnostics(quick: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    // On the built package when the bench is (bench/use-dist.mjs), as every other candidate.
    const dist = process.env['CLIENTPOOL_BENCH_DIST'] === '1' ? ['--import', fileURLToPath(new URL('./use-dist.mjs', import.meta.url))] : [];
    execFile(process.execPath, ['--import', 'tsx', ...dist, fileURLToPath(import.meta.url), ...(quick ? ['--quick'] : [])], { maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`bench/diagnostics.ts failed: ${stderr}`, { cause: error }));
      else resolve(stdout.trim());
    });
  });
}

/**
 * First the default call with no subscriber ever made (what every app without a tracer runs), then the
 * same pool with a no-op subscriber on the `clientpool:call` TracingChannel and the attempt, circuit and
 * rate-limit channels. Not interleaved, since subscribing is the change measured: compare the rows'
 * medians, with their spread.
 */
async function main(quick: boolean): Promise<void> {
  const options = quick ? { iterations: 10_000, rounds: 3 } : { iterations: 100_000, rounds: 11 };
  const pool = defaultPool();
  const [unobserved] = await measure([{ name: UNOBSERVED, run: () => pool.run(call) }], options);
  const noop = (): void => {};
  tracingChannel(CHANNELS.call).subscribe({ start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop });
  for (const name of [CHANNELS.attemptStart, CHANNELS.attemptEnd, CHANNELS.circuit, CHANNELS.rateLimit]) subscribe(name, noop);
  const [observed] = await measure([{ name: OBSERVED, run: () => pool.run(call) }], options);
  await pool.close();
  console.log(section(unobserved!, observed!, options.rounds, options.iterations));
}

function section(unobserved: Measurement, observed: Measurement, rounds: number, iterations: number): string {
  const row = (m: Measurement): string => `| ${m.name} | ${m.nsPerCall.toFixed(0)} | ${(m.spread * 100).toFixed(0)}% |`;
  return [
    '| candidate | ns/call | spread |',
    '|---|--:|--:|',
    row(unobserved),
    row(observed),
    '',
    `Median of ${rounds} rounds of ${iterations} sequential calls each, in a process of its own (bench/diagnostics.ts). ` +
      'With no subscriber the publish points are `hasSubscribers` reads and `run()` takes its untraced path: the first row is ' +
      'the `clientpool default` of the main table, measured the same way (compare it there with the bare call and the floor). ' +
      `Being observed costs ${(observed.nsPerCall / unobserved.nsPerCall).toFixed(2)}x the unobserved call, most of it Node's TracingChannel.`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.includes('--quick'));
