// Runs the pool scenario (scenario.mjs) against the BUILT package, under whichever runtime runs this file:
//   node scripts/runtimes/smoke.mjs
//   npx bun scripts/runtimes/smoke.mjs
//   npx deno run --no-lock scripts/runtimes/smoke.mjs   (no permission needed)
// `clientpool` resolves to dist/ through the package's own `exports` (a package may import itself by name;
// Node, Bun and Deno all allow it). Prints `clientpool smoke ok (<runtime>): <n> checks` and exits 0, or
// lists the checks that failed and exits 1. Build first: `npm run build`.
import * as diagnosticsChannel from 'node:diagnostics_channel';
import * as clientpool from 'clientpool';
import { runScenario } from './scenario.mjs';

const runtime = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : 'node';

/** Ends the process with `code`: `process.exit` exists on all three (Deno's Node compatibility included). */
function exit(code) {
  globalThis.process.exit(code);
}

// A hang is a failure too, not a test timeout: the scenario's waits are all well under a second.
const hang = setTimeout(() => {
  console.error(`clientpool smoke hung (${runtime}): no result after 30 s`);
  exit(2);
}, 30_000);

try {
  const report = await runScenario(clientpool, { diagnosticsChannel });
  clearTimeout(hang);
  if (report.failures.length > 0) {
    console.error(`clientpool smoke FAILED (${runtime}): ${report.failures.length} of ${report.failures.length + report.passed} checks`);
    for (const failure of report.failures) console.error(`  - ${failure}`);
    exit(1);
  }
  console.log(`clientpool smoke ok (${runtime}): ${report.passed} checks`);
  // The scenario leaves promises that never settle (its silent client) but no timer: the runtime exits.
} catch (error) {
  clearTimeout(hang);
  console.error(`clientpool smoke crashed (${runtime}):`, error);
  exit(1);
}
