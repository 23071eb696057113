/**
 * Packaging: publint and attw are clean; the tarball holds the builds, their types, source maps that carry
 * their sources, the README and the LICENSE; and, installed into an app that already has the current
 * majors of every peer (ioredis 6, prom-client 15, @opentelemetry/api 1, TypeScript 6), it installs without
 * ERESOLVE, works as ESM and as CommonJS, and type-checks for a strict TypeScript consumer.
 *
 * Offline: the peers are packed from this repository's node_modules (with what they depend on) and
 * installed from those tarballs, with `npm install --offline`, so the test never needs the registry.
 *
 * dist/ comes from the build CI runs before the tests; when it is missing (or older than src/), the test
 * runs `npm run build` itself. About 20 s (plus about 6 s when it has to build).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const BIN = join(ROOT, 'node_modules/.bin');
/** A test's time limit: it stops a hang; tsc and attw on a busy machine need minutes, not seconds. */
const HANG_MS = 600_000;

function run(command: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    // A hang, not a speed limit.
    timeout: HANG_MS,
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

/**
 * The peers an app has today, as installed here (ioredis 6 under its alias `ioredis6`), and what they
 * depend on: packed from node_modules so that the app installs them offline.
 */
const PEERS = ['ioredis6', 'prom-client', '@opentelemetry/api', 'typescript'];

/** `dir` (a package in node_modules) and, recursively, the packages it depends on, as Node resolves them. */
function withDependencies(dir: string, found = new Map<string, string>()): Map<string, string> {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
  found.set(dir, manifest.name);
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    let at = dir;
    let resolved: string | undefined;
    for (;;) {
      const candidate = join(at, 'node_modules', name);
      if (existsSync(candidate)) {
        resolved = candidate;
        break;
      }
      const up = dirname(at);
      if (up === at) break;
      at = up;
    }
    if (resolved === undefined) throw new Error(`${manifest.name} needs ${name}, which is not installed`);
    if (!found.has(resolved)) withDependencies(resolved, found);
  }
  return found;
}

/** Pack each package (from its installed directory) into `into`; the tarballs' paths, by package name. */
function packAll(dirs: readonly string[], into: string): Record<string, string> {
  const packed = JSON.parse(expectSuccess(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', into, ...dirs], ROOT))) as { name: string; filename: string }[];
  return Object.fromEntries(packed.map((p) => [p.name, `file:${join(into, p.filename)}`]));
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

describe('packaging', () => {
  let work: string;
  let app: string;
  let tarballFiles: string[];
  let tarball: string;
  let install: SpawnSyncReturns<string>;

  beforeAll(() => {
    const dist = join(ROOT, 'dist/esm/index.js');
    if (!existsSync(dist) || !existsSync(join(ROOT, 'dist/cjs/index.js')) || statSync(dist).mtimeMs < newestIn(join(ROOT, 'src'))) {
      console.info('package test: dist/ is missing or older than src/, running npm run build');
      expectSuccess(run('npm', ['run', 'build'], ROOT));
    }
    work = mkdtempSync(join(tmpdir(), 'clientpool-package-'));
    const packed = JSON.parse(expectSuccess(run('npm', ['pack', '--json', '--pack-destination', work], ROOT))) as { filename: string; files: { path: string }[] }[];
    tarballFiles = packed[0]!.files.map((f) => f.path);
    tarball = join(work, packed[0]!.filename);
    // An app that already has the current peers...
    const peers = join(work, 'peers');
    expectSuccess(run('mkdir', [peers, join(work, 'app')], work));
    const dependencies = packAll([...new Set(PEERS.flatMap((peer) => [...withDependencies(join(ROOT, 'node_modules', peer)).keys()]))], peers);
    app = join(work, 'app');
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, dependencies }));
    expectSuccess(run('npm', ['install', '--offline', '--no-audit', '--no-fund'], app));
    // ...installs clientpool: its only dependencies are the (optional) peers, which are there.
    install = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], app);
  }, 2 * HANG_MS);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('installs without ERESOLVE into an app that has ioredis 6, prom-client 15, @opentelemetry/api 1 and TypeScript 6', () => {
    expect(install.stderr).not.toMatch(/ERESOLVE/);
    expectSuccess(install);
    const versions = Object.fromEntries(
      ['ioredis', 'prom-client', '@opentelemetry/api', 'typescript', 'clientpool'].map((name) => [name, (JSON.parse(readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version.split('.')[0]]),
    );
    expect(versions).toEqual({ ioredis: '6', 'prom-client': '15', '@opentelemetry/api': '1', typescript: '6', clientpool: '0' });
  });

  it('publint is clean, warnings included', () => {
    const output = expectSuccess(run(join(BIN, 'publint'), ['--strict'], ROOT));
    expect(output).toContain('All good!');
  }, HANG_MS);

  it('attw --pack . --profile node16 is clean', () => {
    expectSuccess(run(join(BIN, 'attw'), ['--pack', '.', '--profile', 'node16'], ROOT));
  }, HANG_MS);

  it('the tarball holds the ESM and CJS builds, their types, the README, the LICENSE and the ops files (dashboard, alert rules), and no sources or tests', () => {
    const ops = ['ops/grafana-dashboard.json', 'ops/prometheus-alerts.yml'];
    expect(tarballFiles).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json', ...ops]));
    expect(tarballFiles.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE', ...ops].includes(f))).toEqual([]);
    expect(tarballFiles.filter((f) => /\.test\.|(^|\/)test\//.test(f))).toEqual([]);
  });

  it('every source map in the tarball carries the sources it maps (src/ is not shipped); no declaration maps', () => {
    const maps = tarballFiles.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    expect(maps.filter((f) => f.endsWith('.d.ts.map'))).toEqual([]);
    const incomplete = maps.filter((f) => {
      const map = JSON.parse(readFileSync(join(app, 'node_modules/clientpool', f), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      return map.sourcesContent?.length !== map.sources.length || map.sourcesContent.some((content) => typeof content !== 'string' || content.length === 0);
    });
    expect(incomplete).toEqual([]);
    // And every .js file that names a map has it.
    const js = tarballFiles.filter((f) => f.endsWith('.js') && !f.endsWith('.d.ts'));
    expect(js.filter((f) => readFileSync(join(app, 'node_modules/clientpool', f), 'utf8').includes('sourceMappingURL=') && !tarballFiles.includes(`${f}.map`))).toEqual([]);
  });

  it('package.json links to the repository, its home page and its issues, and names the MIT licence', () => {
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules/clientpool/package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      license: 'MIT',
      repository: { type: 'git', url: 'git+https://github.com/clientpool/clientpool.git' },
      homepage: 'https://github.com/clientpool/clientpool#readme',
      bugs: { url: 'https://github.com/clientpool/clientpool/issues' },
    });
    expect(readFileSync(join(app, 'node_modules/clientpool/LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the clientpool authors\n/);
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

  it("a CJS TokenBucket in an ESM pool's limits by name is an in-memory limit: routed around, its tokens in members().quota, settled by call.settle()", () => {
    const script = `import { createRequire } from 'node:module';
      import { ClientPool } from 'clientpool';
      const cjs = createRequire(import.meta.url)('clientpool');
      const tokens = new cjs.TokenBucket({ rate: 1000, per: 60000, clock: { now: () => 0 } });
      const pool = new ClientPool({ clock: { now: () => 0 } });
      pool.add({}, { name: 'k', limit: { tokens } });
      await pool.run((_c, call) => call.settle({ tokens: 100 }), { cost: { tokens: 400 } });
      console.log(JSON.stringify(pool.members()[0].quota), tokens.available);`;
    expect(expectSuccess(run(process.execPath, ['--input-type=module', '-e', script], app)).trim()).toBe('{"tokens":900} 900');
  });

  it('a strict consumer type-checks against the installed types, as ESM and as CommonJS (tsc --strict --module nodenext, with @types/node)', () => {
    writeFileSync(join(app, 'consumer.mts'), CONSUMER_ESM);
    writeFileSync(join(app, 'consumer.cts'), CONSUMER_CJS);
    // A Node project has @types/node; the repository's copy stands in for the consumer's.
    const args = [TSC, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'consumer.mts', 'consumer.cts'];
    expectSuccess(run(process.execPath, args, app));
  }, HANG_MS);

  // The declarations use Node's AbortSignal and AsyncDisposable (for `await using`): a consumer needs
  // @types/node, as any Node project has (README "Install"). Without it they do not compile.
  it('without @types/node the types do not compile (the documented requirement)', () => {
    writeFileSync(join(app, 'bare.mts'), "import { ClientPool } from 'clientpool';\nexport const pool = new ClientPool<{ readonly id: number }>();\n");
    const result = run(process.execPath, [TSC, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', 'bare.mts'], app);
    expect(result.stdout).toMatch(/AbortSignal|AsyncDisposable/);
  }, HANG_MS);
});
