import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** A JavaScript runtime the built package is tried under, and how to run a script with it. */
export interface Runtime {
  readonly name: 'node' | 'bun' | 'deno';
  readonly command: string;
  /** Arguments before the script's path, for the core. */
  readonly args: readonly string[];
  /**
   * Arguments before the script's path, for the adapters: on Deno, the permissions their libraries ask
   * for (local servers and their fetches; `ws`, `@vercel/oidc` and undici read the environment and the host name).
   */
  readonly adapterArgs: readonly string[];
  /**
   * The adapters that run there. Not clientpool/undici on Bun: Bun answers `import 'undici'` with a
   * partial module of its own whose dispatchers have no `dispatch()`.
   */
  readonly adapters: readonly Adapter[];
}

/** The adapters scripts/runtimes/adapters.mjs checks. */
export type Adapter = 'viem' | 'solana' | 'ai' | 'prometheus' | 'otel' | 'undici';

/**
 * Node (this process's), and Bun and Deno from their npm packages (devDependencies `bun`, `deno`), whose
 * binaries npm links into node_modules/.bin. Deno runs with no permission at all (the core needs none:
 * loading modules is not a read), and without writing a deno.lock into the repository.
 */
export function runtimes(root: string): readonly Runtime[] {
  const bin = join(root, 'node_modules/.bin');
  return [
    { name: 'node', command: process.execPath, args: [], adapterArgs: [], adapters: ['viem', 'solana', 'ai', 'prometheus', 'otel', 'undici'] },
    { name: 'bun', command: join(bin, 'bun'), args: [], adapterArgs: [], adapters: ['viem', 'solana', 'ai', 'prometheus', 'otel'] },
    {
      name: 'deno',
      command: join(bin, 'deno'),
      args: ['run', '--no-lock'],
      adapterArgs: ['run', '--no-lock', '--allow-net=127.0.0.1', '--allow-env', '--allow-read', '--allow-sys'],
      adapters: ['viem', 'solana', 'ai', 'prometheus', 'otel', 'undici'],
    },
  ];
}

/** Why the runtime cannot run here (no binary, or one that does not start), or undefined when it can. */
export function missingReason(runtime: Pick<Runtime, 'name' | 'command'>): string | undefined {
  if (!existsSync(runtime.command)) return `${runtime.name} not found at ${runtime.command} (npm ci installs it from the ${runtime.name} devDependency)`;
  const probe = spawnSync(runtime.command, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.status !== 0) return `${runtime.command} --version failed (${probe.error?.message ?? `exit ${String(probe.status)}`}): ${probe.stderr.trim()}`;
  return undefined;
}

/**
 * What a runtime test does on this machine: run; fail when the runtime is missing in CI (`CI` set), so that
 * a broken CI image cannot pass silently; or skip, saying why, when it is missing on a developer's machine.
 */
export function runtimeTestMode(reason: string | undefined, env: NodeJS.ProcessEnv = process.env): 'run' | 'fail' | 'skip' {
  if (reason === undefined) return 'run';
  const ci = env['CI'];
  return ci === undefined || ci === '' || ci === '0' || ci === 'false' ? 'skip' : 'fail';
}
