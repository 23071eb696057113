/**
 * Issue 8, packaging: publint and attw are clean, and the packed tarball, installed offline into a
 * fresh project, works as ESM and as CommonJS and type-checks for a strict TypeScript consumer.
 *
 * dist/ comes from the build CI runs before the tests; when it is missing (or older than src/), the test
 * runs `npm run build` itself. About 10 s (plus about 6 s when it has to build).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const BIN = join(ROOT, 'node_modules/.bin');

function run(command: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
  });
}

/** Assert a zero exit status, showing the output when it is not. */
function expectSuccess(result: SpawnSyncReturns<string>): string {
  expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const CONSUMER_ESM = `
import { ClientPool, hasErrorCode, TokenBucket, type MemberSnapshot } from 'clientpool';

interface Api {
  readonly url: string;
  get(path: string): Promise<number>;
}

export async function main(): Promise<number> {
  await using pool = new ClientPool<Api>({ strategy: 'weighted-random', breaker: { maxFailures: 3 }, retry: { attempts: 2 }, limit: new TokenBucket({ rate: 100 }) });
  pool.add({ url: 'a', get: async () => 1 }, { name: 'a', weight: 2, close: () => undefined });
  const n: number = await pool.run((client, call) => client.get(\`/x?\${call.method}\`), { method: 'get', timeout: 100 });
  const members: readonly MemberSnapshot[] = pool.members();
  const rpc = pool.proxy();
  const m: number = await rpc.get('/y');
  try {
    await pool.run(() => {
      throw new Error('x');
    });
  } catch (error) {
    if (hasErrorCode(error, 'ERR_CLIENT_CALL')) {
      const client: string = error.clientName;
      void client;
    }
  }
  pool.onStateChange(({ client, to }) => void \`\${client} \${to.kind}\`).dispose();
  // @ts-expect-error weight is a number
  pool.add({ url: 'b', get: async () => 2 }, { weight: 'heavy' });
  return n + m + members.length;
}
`;

const CONSUMER_CJS = `
import { ClientPool, type RunOptions } from 'clientpool';

const options: RunOptions<{ readonly id: number }> = { method: 'get', timeout: 1_000 };
const pool = new ClientPool<{ readonly id: number }>();
pool.add({ id: 1 });
export const result: Promise<number> = pool.run((client) => client.id, options);
// @ts-expect-error the strategy name is checked
void pool.run((client) => client.id, { strategy: 'fastest' });
`;

describe('packaging (issue 8)', () => {
  let work: string;
  let app: string;
  let tarballFiles: string[];

  beforeAll(() => {
    const dist = join(ROOT, 'dist/esm/index.js');
    if (!existsSync(dist) || !existsSync(join(ROOT, 'dist/cjs/index.js')) || statSync(dist).mtimeMs < newestIn(join(ROOT, 'src'))) {
      console.info('package test: dist/ is missing or older than src/, running npm run build');
      expectSuccess(run('npm', ['run', 'build'], ROOT));
    }
    work = mkdtempSync(join(tmpdir(), 'clientpool-package-'));
    const packed = JSON.parse(expectSuccess(run('npm', ['pack', '--json', '--pack-destination', work], ROOT))) as { filename: string; files: { path: string }[] }[];
    tarballFiles = packed[0]!.files.map((f) => f.path);
    app = join(work, 'app');
    expectSuccess(run('mkdir', [app], work));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    // The package has no runtime dependency (its peers are optional): nothing to fetch.
    expectSuccess(run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, packed[0]!.filename)], app));
  }, 60_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('publint is clean, warnings included', () => {
    const output = expectSuccess(run(join(BIN, 'publint'), ['--strict'], ROOT));
    expect(output).toContain('All good!');
  }, 30_000);

  it('attw --pack . --profile node16 is clean', () => {
    expectSuccess(run(join(BIN, 'attw'), ['--pack', '.', '--profile', 'node16'], ROOT));
  }, 30_000);

  it('the tarball holds the ESM and CJS builds, their types and the README, and no sources or tests', () => {
    expect(tarballFiles).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json']));
    expect(tarballFiles.filter((f) => !f.startsWith('dist/') && f !== 'package.json' && f !== 'README.md' && f !== 'LICENSE')).toEqual([]);
    expect(tarballFiles.filter((f) => /\.test\.|(^|\/)test\//.test(f))).toEqual([]);
  });

  it('installed offline, it imports as ESM: a pool runs a call', () => {
    const script = `import { ClientPool } from 'clientpool';
      const pool = new ClientPool({ breaker: { maxFailures: 2 } });
      pool.add({ id: 41 }, { name: 'a' });
      console.log(await pool.run((client) => client.id + 1, { method: 'answer' }));
      await pool.close();`;
    expect(expectSuccess(run(process.execPath, ['--input-type=module', '-e', script], app)).trim()).toBe('42');
  });

  it('installed offline, it requires as CommonJS: a pool runs a call', () => {
    const script = `const { ClientPool } = require('clientpool');
      const pool = new ClientPool({ breaker: { maxFailures: 2 } });
      pool.add({ id: 41 }, { name: 'a' });
      pool.run((client) => client.id + 1, { method: 'answer' }).then(async (value) => { console.log(value); await pool.close(); });`;
    expect(expectSuccess(run(process.execPath, ['-e', script], app)).trim()).toBe('42');
  });

  it("the ESM and CJS copies loaded together recognise each other's errors", () => {
    const script = `import { createRequire } from 'node:module';
      import { ClientPool, hasErrorCode } from 'clientpool';
      const cjs = createRequire(import.meta.url)('clientpool');
      const pool = new cjs.ClientPool();
      pool.add({});
      const error = await pool.run(() => { throw new Error('down'); }).catch((e) => e);
      console.log(ClientPool === cjs.ClientPool, hasErrorCode(error, 'ERR_CLIENT_CALL'), error.cause.message);`;
    expect(expectSuccess(run(process.execPath, ['--input-type=module', '-e', script], app)).trim()).toBe('false true down');
  });

  it('a strict consumer type-checks against the installed types, as ESM and as CommonJS (tsc --strict --module nodenext, with @types/node)', () => {
    writeFileSync(join(app, 'consumer.mts'), CONSUMER_ESM);
    writeFileSync(join(app, 'consumer.cts'), CONSUMER_CJS);
    // A Node project has @types/node; the repository's copy stands in for the consumer's.
    const args = [TSC, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'consumer.mts', 'consumer.cts'];
    expectSuccess(run(process.execPath, args, app));
  }, 30_000);

  // The declarations use Node's AbortSignal and AsyncDisposable (for `await using`): a consumer needs
  // @types/node, as any Node project has (README "Install"). Without it they do not compile.
  it('without @types/node the types do not compile (the documented requirement)', () => {
    writeFileSync(join(app, 'bare.mts'), "import { ClientPool } from 'clientpool';\nexport const pool = new ClientPool<{ readonly id: number }>();\n");
    const result = run(process.execPath, [TSC, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', 'bare.mts'], app);
    expect(result.stdout).toMatch(/AbortSignal|AsyncDisposable/);
  }, 30_000);
});
