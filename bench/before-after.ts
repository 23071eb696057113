/**
 * The plain call (`pool.run(fn)` with the defaults) on two or more builds of the library, each build in
 * processes of its own, the processes alternating: whether a feature that is off costs nothing, across
 * the commit that added it. Two builds cannot share one process fairly: loading the very same build twice
 * in one process and timing both copies, the second ran about 1.25x the first (two runs), so the order of
 * loading, not the code, would be measured.
 *
 * `node --import tsx bench/before-after.ts --build before=/tmp/cp-before/dist/esm --build after=/tmp/cp-head/dist/esm
 * [--pairs 7] [--write]`: each `--build label=dir` names an ESM build of src/ (bench/README.md shows how to
 * make one from a commit; `src` times the sources through tsx); `--write` writes its section of bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, median } from './harness.js';
import { writeSection } from './simulation/report.js';

export const BEFORE_AFTER_HEADING = '## Admission control: the plain call before and after issue 15';
/** The plain call costs what it did when the median ratio is within this of 1. */
const TOLERANCE = 0.05;

/** Within ±5 %, or pairs on both sides of 1: no difference shown; else slower or faster. */
function verdict(r: { readonly ratio: number; readonly min: number; readonly max: number }): string {
  if (Math.abs(r.ratio - 1) <= TOLERANCE) return `within ±${TOLERANCE * 100} %: the plain call costs what it did.`;
  const by = `${(Math.abs(r.ratio - 1) * 100).toFixed(0)} %`;
  if (r.min <= 1 && r.max >= 1) return `${r.ratio > 1 ? 'slower' : 'faster'} by ${by} in the median, but the pairs fall on both sides of 1: no difference beyond the noise.`;
  return `the plain call is ${r.ratio > 1 ? 'slower' : 'faster'} by ${by} in every pair.`;
}

/** What one child process measured on its build: the plain call on two identical pools, ns per call. */
interface ChildResult {
  readonly plain: number;
  readonly again: number;
}

/** In a child: time the plain call on the build bench/use-dist.mjs loads, and print it as JSON. */
async function child(iterations: number, rounds: number): Promise<void> {
  const { call, defaultPool } = await import('./core.js');
  const plain = defaultPool();
  const again = defaultPool();
  const rows = await measure(
    [
      { name: 'plain', run: () => plain.run(call) },
      { name: 'again', run: () => again.run(call) },
    ],
    { iterations, rounds },
  );
  await Promise.all([plain.close(), again.close()]);
  const result: ChildResult = { plain: rows[0]!.nsPerCall, again: rows[1]!.nsPerCall };
  console.log(JSON.stringify(result));
}

/** The build `dir` that is not one: the sources as tsx runs them (for the tests). */
export const SOURCES = 'src';

function runChild(dir: string, iterations: number, rounds: number): ChildResult {
  const script = fileURLToPath(import.meta.url);
  const hooks = dir === SOURCES ? [] : ['--import', new URL('./use-dist.mjs', import.meta.url).href];
  const out = execFileSync(process.execPath, ['--import', 'tsx', ...hooks, script, '--child', '--iterations', String(iterations), '--rounds', String(rounds)], {
    env: { ...process.env, CLIENTPOOL_BENCH_DIST_DIR: dir === SOURCES ? '' : dir },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
}

export interface Build {
  readonly label: string;
  readonly dir: string;
}

export interface BeforeAfterResult {
  /** Per build, in the order given: ns per call of each of its processes. */
  readonly builds: readonly { readonly label: string; readonly ns: readonly number[]; readonly drift: readonly number[] }[];
  /** Per later build: the median over pairs of (that build / the first build), the pairs run one after the other. */
  readonly ratios: readonly { readonly label: string; readonly ratio: number; readonly min: number; readonly max: number }[];
  readonly markdown: string;
}

/** Alternate one process per build, `pairs` times (the order rotates each time), and compare each build with the first. */
export function beforeAfter(builds: readonly Build[], options: { readonly pairs: number; readonly iterations: number; readonly rounds: number; readonly command: string }): BeforeAfterResult {
  const results = builds.map(() => [] as ChildResult[]);
  for (let pair = 0; pair < options.pairs; pair++) {
    for (let k = 0; k < builds.length; k++) {
      const i = (k + pair) % builds.length;
      results[i]!.push(runChild(builds[i]!.dir, options.iterations, options.rounds));
    }
  }
  const summary = builds.map((b, i) => ({ label: b.label, ns: results[i]!.map((r) => r.plain), drift: results[i]!.map((r) => r.again / r.plain - 1) }));
  const ratios = summary.slice(1).map((s) => {
    const perPair = s.ns.map((ns, p) => ns / summary[0]!.ns[p]!);
    return { label: s.label, ratio: median(perPair), min: Math.min(...perPair), max: Math.max(...perPair) };
  });
  const out = [
    `<!-- Generated by bench/before-after.ts (\`${options.command}\`); edit the generator, not this section. -->`,
    '',
    `Command: \`${options.command}\`. The plain call (\`pool.run(fn)\`, defaults, 4 echo clients) on each build, each in a process of its own that runs nothing else ` +
      `(${options.rounds} interleaved rounds of ${options.iterations} calls on two identical pools; the second shows the drift within a process); ` +
      `${options.pairs} processes per build, alternating, the order rotating. The ratio is taken per pair of processes run one after the other.`,
    '',
    '| build | dir | ns/call per process | median | A/A drift in a process (median) |',
    '|---|---|---|--:|--:|',
    ...summary.map((s, i) => `| ${s.label} | \`${builds[i]!.dir}\` | ${s.ns.map((n) => n.toFixed(0)).join(', ')} | ${median(s.ns).toFixed(0)} | ${(median(s.drift) * 100).toFixed(1)} % |`),
    '',
    ...ratios.map(
      (r) =>
        `- **${r.label} / ${summary[0]!.label}**: ${r.ratio.toFixed(2)}x (pairs ${r.min.toFixed(2)}–${r.max.toFixed(2)}): ` +
        verdict(r),
    ),
  ];
  return { builds: summary, ratios, markdown: out.join('\n') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'boolean', default: false },
      build: { type: 'string', multiple: true, default: [] },
      pairs: { type: 'string', default: '7' },
      iterations: { type: 'string', default: '100000' },
      rounds: { type: 'string', default: '15' },
      write: { type: 'boolean', default: false },
    },
  });
  const count = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`--${name} must be an integer >= 1, got ${text}`);
    return value;
  };
  const iterations = count('iterations', values.iterations);
  const rounds = count('rounds', values.rounds);
  if (values.child) {
    await child(iterations, rounds);
    return;
  }
  const builds = values.build.map((text) => {
    const at = text.indexOf('=');
    if (at < 1) throw new RangeError(`--build must be label=dir, got ${text}`);
    return { label: text.slice(0, at), dir: text.slice(at + 1) };
  });
  if (builds.length < 2) throw new RangeError('give at least two --build label=dir');
  const pairs = count('pairs', values.pairs);
  const command = ['node --import tsx bench/before-after.ts', ...builds.map((b) => `--build ${b.label}=${b.dir}`), `--pairs ${pairs}`, `--iterations ${iterations}`, `--rounds ${rounds}`, ...(values.write ? ['--write'] : [])].join(' ');
  const result = beforeAfter(builds, { pairs, iterations, rounds, command });
  console.log(result.markdown);
  if (values.write) {
    writeSection(new URL('./README.md', import.meta.url), `${BEFORE_AFTER_HEADING}\n\n${result.markdown}\n`, BEFORE_AFTER_HEADING);
    console.log(`\nwritten to bench/README.md (${BEFORE_AFTER_HEADING})`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
