// `node --import tsx --import ./bench/use-dist.mjs bench/index.ts`: the benchmarks on the built package (bench/dist-hooks.mjs).
import { register } from 'node:module';

register('./dist-hooks.mjs', import.meta.url);
// Child processes of the bench (bench/diagnostics.ts) load the same hooks.
process.env.CLIENTPOOL_BENCH_DIST = '1';
