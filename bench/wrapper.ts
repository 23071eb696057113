import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The `clientpool-codegen` flags that produce bench/generated/multi-echo-client.ts, run from the
 * repository root: `npx tsx src/codegen/cli.ts <these>`.
 */
export const WRAPPER_ARGS = [
  '--source', 'bench/echo-client.ts',
  '--type', 'EchoClient',
  '--wrapper', 'MultiEchoClient',
  '--out', 'bench/generated/multi-echo-client.ts',
  '--import', '../../src/index.js',
] as const;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Regenerate the wrapper with the CLI in a child process (the TypeScript compiler stays out of the
 * benchmark's heap). The CLI leaves an up-to-date file untouched. Returns its message, e.g.
 * `bench/generated/multi-echo-client.ts is up to date`.
 * @throws when the generator fails
 */
export function regenerateWrapper(): string {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/codegen/cli.ts', ...WRAPPER_ARGS], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`clientpool-codegen failed (${result.status ?? result.signal}): ${result.stderr}`);
  return result.stdout.trim();
}
