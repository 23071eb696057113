// The pick stage's lane is one function over V8's inlining limit on purpose (src/pipeline/pick-client.ts,
// `pickStep`): compiled on its own, it inlines the pick, the breaker, the user's function and the promise
// checks; smaller, V8 inlined it into the small function that calls `run()` and left those as calls (about
// 9 % slower per default call). Nothing else would notice an edit that shrinks it under the limit, so this
// reads the built package's bytecode (dist/esm, what users run; `.ci/run` builds before it tests) and the
// limit of the V8 that runs it.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ESM_ENTRY = fileURLToPath(new URL('../../dist/esm/index.js', import.meta.url));

/** V8's default `--max-inlined-bytecode-size`: a function with more bytecode is never inlined. */
function inliningLimit(): number {
  const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
  const match = /--max-inlined-bytecode-size=(\d+)/.exec(options);
  if (match === null) throw new Error('this V8 lists no --max-inlined-bytecode-size');
  return Number(match[1]);
}

/** The bytecode length of the built `pickStep`, after a few default calls compiled it. */
function pickStepBytecodeLength(): number {
  const script = `
    const { ClientPool } = await import(${JSON.stringify(ESM_ENTRY)});
    const pool = new ClientPool();
    pool.add({ get: async (v) => v }, { name: 'a' });
    for (let i = 0; i < 10; i++) await pool.run((client) => client.get(i));
    await pool.close();
  `;
  const out = execFileSync(process.execPath, ['--print-bytecode', '--print-bytecode-filter=pickStep', '--input-type=module', '-e', script], { encoding: 'utf8' });
  const lengths = [...out.matchAll(/Bytecode length: (\d+)/g)].map((m) => Number(m[1]));
  if (lengths.length !== 1) throw new Error(`expected the bytecode of one pickStep, found ${lengths.length}:\n${out.slice(0, 2_000)}`);
  return lengths[0]!;
}

describe('pick stage lane: never inlined into run()s caller', () => {
  it('has more bytecode than V8 inlines, so it is compiled on its own', () => {
    const limit = inliningLimit();
    expect(limit).toBeGreaterThan(0);
    expect(pickStepBytecodeLength()).toBeGreaterThan(limit);
  }, 60_000);
});
