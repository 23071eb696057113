// `npm run bench` runs everything and writes bench/RESULTS.md and bench/results.svg;
// `npm run bench -- --quick` is a short run that only prints (used as a smoke check).
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { machine, resultsMarkdown, type Section } from './report.js';
import { regenerateWrapper } from './wrapper.js';

const quick = process.argv.includes('--quick');
const started = performance.now();
const date = new Date().toISOString().slice(0, 10);
const machineBefore = machine();
console.log(`${machineBefore}${quick ? ' (quick run)' : ''}`);

// Before the candidates are imported: the generated wrapper they use is brought up to date first.
let wrapper: string;
try {
  wrapper = regenerateWrapper();
} catch (error) {
  wrapper = `NOT regenerated, the committed file was used: ${error instanceof Error ? error.message : String(error)}`;
}
console.log(wrapper);

const { runMicro, familyOf } = await import('./micro.js');
const { BARE, DEFAULT } = await import('./core.js');
const { FULL_STACK } = await import('./variants.js');
const { scaling } = await import('./scaling.js');
const { runConcurrency } = await import('./concurrency.js');
const { runNetwork } = await import('./network.js');
const { OPTIONAL_BENCHES, runOptional } = await import('./optional.js');
const { barChart } = await import('./svg.js');

const sections: Section[] = [];
/** Run one part, print its section with how long it took, and keep the section for RESULTS.md. */
const part = async <R>(title: string, run: () => Promise<R>, markdown: (result: R) => string): Promise<R> => {
  const start = performance.now();
  const result = await run();
  const text = markdown(result);
  sections.push({ title, markdown: text });
  console.log(`\n## ${title}\n\n${text}\n\n(${((performance.now() - start) / 1000).toFixed(1)} s)`);
  return result;
};

const micro = await part(
  'Per call: clientpool and what you would use instead',
  () =>
    runMicro(
      quick
        ? { iterations: 10_000, rounds: 5, allocationIterations: 10_000, allocationRounds: 1, processes: 1, roundWarmupMs: 0 }
        : { iterations: 100_000, rounds: 31, allocationIterations: 100_000, allocationRounds: 3, processes: 3, roundWarmupMs: 20 },
    ),
  (result) => result.markdown,
);

const sizes = quick ? [10, 1_000] : [10, 1_000, 100_000];
await part('Selection cost by number of clients', () => scaling(sizes, quick ? 5_000 : 50_000, quick ? 3 : 9), (markdown) => markdown);

await part(
  'Throughput with N calls in flight',
  () =>
    runConcurrency(
      quick
        ? { levels: [1, 100, 10_000], total: (n) => (n === 1 ? 5_000 : 20_000), rounds: 2 }
        : { levels: [1, 100, 10_000], total: (n) => (n === 1 ? 20_000 : 100_000), rounds: 7 },
    ),
  (markdown) => markdown,
);

const ns = (name: string): number => micro.rows.find((row) => row.name === name)!.nsPerCall;
const overheadNs = { default: ns(DEFAULT) - ns(BARE), full: ns(FULL_STACK) - ns(BARE) };
await part(
  'Real network: loopback HTTP',
  () =>
    runNetwork(
      quick ? { sequential: 300, concurrent: 600, inFlight: 16, rounds: 1, overheadNs } : { sequential: 2_000, concurrent: 4_000, inFlight: 16, rounds: 7, overheadNs },
    ),
  (markdown) => markdown,
);

// The adapters against each library's own multi-endpoint option, in the same run.
await part('viem: poolTransport against viem fallback', async () => (await import('./viem.js')).viemBench({ quick }), (markdown) => markdown);
await part('undici: poolDispatcher against BalancedPool', async () => (await import('./undici.js')).undiciBench({ quick }), (markdown) => markdown);

// Issue 15's admission-control stages, each against the plain call of the same rounds; a full run also
// writes its section of bench/README.md (as the fault simulation does).
await part(
  'Admission control: per-call cost of each stage',
  async () => {
    const { ADMISSION_HEADING, runAdmissionBench } = await import('./admission.js');
    const { writeSection } = await import('./simulation/report.js');
    const before = process.env['CLIENTPOOL_BENCH_BEFORE'];
    const result = await runAdmissionBench({
      ...(quick ? { iterations: 10_000, rounds: 5, allocationIterations: 10_000, allocationRounds: 1 } : { iterations: 100_000, rounds: 31, allocationIterations: 100_000, allocationRounds: 3 }),
      ...(before === undefined || before === '' ? {} : { beforePath: before }),
      command: quick ? 'npm run bench -- --quick' : 'npm run bench',
    });
    if (!quick) writeSection(new URL('./README.md', import.meta.url), `${ADMISSION_HEADING}\n\n${result.markdown}\n`, ADMISSION_HEADING);
    return result.markdown;
  },
  (markdown) => markdown,
);

await part('diagnostics_channel: unobserved and observed', () => (async () => (await import('./diagnostics.js')).runDiagnostics(quick))(), (markdown) => markdown);

// Hooks for the benches other engineers own (bench/optional.ts); each says so when it is not there yet.
for (const bench of OPTIONAL_BENCHES) await part(bench.title, () => runOptional(bench, { quick }), (result) => result.markdown);

const seconds = (performance.now() - started) / 1000;
console.log(`\n${micro.goals.map((g) => `${g.isMet ? 'PASS' : 'FAIL'} ${g.title}: ${g.value.toFixed(2)}x`).join('\n')}`);
console.log(`\ndone in ${seconds.toFixed(0)} s`);

if (!quick) {
  const subtitle = `${machineBefore.split(';')[0]!}, ${date}; median of interleaved rounds of sequential awaited calls`;
  writeFileSync(new URL('./results.svg', import.meta.url), barChart(micro.rows, familyOf, subtitle));
  writeFileSync(
    new URL('./RESULTS.md', import.meta.url),
    resultsMarkdown({ date, command: 'npm run bench', seconds, machineBefore, loadAfter: `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`, wrapper, sections }),
  );
  console.log('written to bench/RESULTS.md and bench/results.svg');
}
