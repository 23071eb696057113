import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { coreCandidates } from './core.js';
import { measure, table } from './harness.js';
import { scaling } from './scaling.js';

// `npm run bench` runs everything; `npm run bench -- --quick` shortens it (used by CI smoke checks).
const quick = process.argv.includes('--quick');
const iterations = quick ? 20_000 : 200_000;
const rounds = quick ? 3 : 9;

const sections: string[] = [];
const header = `Machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; ${rounds} interleaved rounds of ${iterations} sequential calls, median round.`;
console.log(header);

const core = await measure(coreCandidates(), { iterations, rounds });
sections.push(`## Per-call overhead: default stack\n\n${table(core, ['bare await fn(client)', 'cockatiel breaker + RR'])}`);
console.log(sections.at(-1));

const sizes = quick ? [10, 1_000] : [10, 1_000, 100_000];
sections.push(`## Selection cost by number of clients\n\n${await scaling(sizes, quick ? 5_000 : 50_000, quick ? 3 : 5)}`);
console.log(sections.at(-1));

if (!quick) {
  writeFileSync(new URL('./RESULTS.md', import.meta.url), `# Benchmark results\n\n${header}\n\nCommand: \`npm run bench\`\n\n${sections.join('\n\n')}\n`);
  console.log('\nwritten to bench/RESULTS.md');
}
