/**
 * How a candidate's calls run right after its process idled: after a warm-up, eight cycles of an idle
 * pause then `--chunks` chunks of `--chunk` sequential calls, each chunk timed; prints the median ns per
 * call of each chunk over the cycles. It showed why the per-call table warms each round first
 * (bench/README.md, "Warm rounds").
 *
 * `node --import tsx --import ./bench/use-dist.mjs bench/idle-recovery.ts "clientpool default" [--chunk 1000] [--chunks 30] [--idle 1000]`
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loop, median } from './harness.js';
import { microCandidates } from './micro.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { chunk: { type: 'string', default: '1000' }, chunks: { type: 'string', default: '30' }, idle: { type: 'string', default: '1000' } },
});
const [chunk, chunks, idle] = [Number(values.chunk), Number(values.chunks), Number(values.idle)];
const all = microCandidates();
const candidate = all.find((c) => c.name === positionals[0]);
await Promise.all(all.filter((c) => c !== candidate).map((c) => c.close?.()));
if (candidate === undefined) throw new Error(`no candidate named ${JSON.stringify(positionals[0])}: one of ${all.map((c) => JSON.stringify(c.name)).join(', ')}`);
await loop(candidate, 50_000);
const times = Array.from({ length: chunks }, () => [] as number[]);
for (let cycle = 0; cycle < 8; cycle++) {
  await sleep(idle);
  for (const samples of times) {
    const start = process.hrtime.bigint();
    await loop(candidate, chunk);
    samples.push(Number(process.hrtime.bigint() - start) / chunk);
  }
}
console.log(`${candidate.name}: ns/call of each chunk of ${chunk} calls after ${idle} ms idle (median of 8 cycles)`);
console.log(times.map((samples) => median(samples).toFixed(0)).join(' '));
await candidate.close?.();
