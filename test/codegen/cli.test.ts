import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type CliIo, type GeneratorLoader } from '../../src/codegen/cli.js';
import { generateWrapper } from '../../src/codegen/generate.js';
import { FIXTURES, POOL_IMPORT, REPO } from './helpers.js';
import { HANG_BOUND_MS } from '../helpers/hang-bound.js';

/** Run main() with captured output. */
async function run(argv: readonly string[], load?: GeneratorLoader, cwd: string = REPO): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    cwd,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  };
  const code = await main(argv, io, load);
  return { code, stdout, stderr };
}

// Outputs go to a temporary directory; generate.test.ts checks their content against golden files.
const dir = mkdtempSync(path.join(tmpdir(), 'clientpool-codegen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flags = ['--source', `${FIXTURES}/rpc-client.ts`, '--type', 'RpcClient', '--wrapper', 'MultiRpcClient', '--import', POOL_IMPORT];

describe('clientpool-codegen main()', () => {
  it('writes the file, then --check finds it fresh, then stale once edited, then missing', async () => {
    const out = path.join(dir, 'nested', 'multi-rpc.ts');
    const args = [...flags, '--out', out];

    const written = await run(args);
    expect(written).toMatchObject({ code: 0, stderr: '', stdout: `wrote ${out}: wrapped 7 / skipped 0\n` });
    const content = readFileSync(out, 'utf8');
    expect(content).toBe(generateWrapper({ source: `${FIXTURES}/rpc-client.ts`, type: 'RpcClient', wrapper: 'MultiRpcClient', out, importFrom: POOL_IMPORT, cwd: REPO }));

    expect(await run([...args, '--check'])).toMatchObject({ code: 0, stdout: `${out} is up to date: wrapped 7 / skipped 0\n` });

    writeFileSync(out, content.replace('get_slot', 'getSlot'));
    const stale = await run([...args, '--check']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(new RegExp(`^${escape(out)} is stale \\(first difference at line \\d+\\); regenerate it with: clientpool-codegen --source`));
    expect(readFileSync(out, 'utf8')).toContain("'getSlot'"); // --check never writes

    rmSync(out);
    expect(await run([...args, '--check'])).toMatchObject({ code: 1, stderr: expect.stringContaining(`${out} is missing`) });
  });

  it('leaves an up-to-date file alone, so build tools watching it do not rebuild', async () => {
    const out = path.join(dir, 'same.ts');
    expect((await run([...flags, '--out', out])).code).toBe(0);
    const before = statSync(out).mtimeMs;
    expect(await run([...flags, '--out', out])).toMatchObject({ code: 0, stdout: `${out} is up to date: wrapped 7 / skipped 0\n` });
    expect(statSync(out).mtimeMs).toBe(before);
  });

  it.each([
    ['an unknown file', ['--source', 'nope.ts'], /--source nope\.ts: no such file/],
    ['an unknown type', ['--type', 'Nope'], /exports no type 'Nope'/],
    ['a type with no methods', ['--source', `${FIXTURES}/edge-cases.ts`, '--type', 'Settings'], /has no public methods to wrap/],
  ])('exits 2 on %s, with the reason on stderr', async (_, override, message) => {
    const args = [...flags, '--out', path.join(dir, 'never.ts')];
    for (let i = 0; i < override.length; i += 2) args[args.indexOf(override[i] ?? '') + 1] = override[i + 1] ?? '';
    const result = await run(args);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain('Usage:');
  });

  it('exits 2, not 1, when the file cannot be written', async () => {
    const blocker = path.join(dir, 'a-file');
    writeFileSync(blocker, '');
    const result = await run([...flags, '--out', path.join(blocker, 'multi-rpc.ts')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clientpool-codegen: .*(ENOTDIR|EEXIST)/);
  });

  it.each([
    ['a missing flag', ['--source', 'a.ts', '--type', 'A'], /missing --wrapper, --out/],
    ['an unknown flag', [...flags, '--out', 'x.ts', '--bogus'], /Unknown option '--bogus'/],
    ['a positional argument', [...flags, '--out', 'x.ts', 'extra'], /positional/],
    ['a bad --label', [...flags, '--out', 'x.ts', '--label', 'kebab'], /--label must be snake or as-is, got 'kebab'/],
    ['a flag without its value', [...flags, '--out'], /--out/],
  ])('exits 2 with usage on %s', async (_, argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: clientpool-codegen --source');
  });

  it('passes --include, --exclude and --command-methods on, and prints what was skipped and why', async () => {
    const out = path.join(dir, 'emitting.ts');
    const argv = ['--source', `${FIXTURES}/wrapping.ts`, '--type', 'Emitting', '--wrapper', 'MultiEmitting', '--import', POOL_IMPORT, '--out', out];
    const result = await run([...argv, '--include', 'fetch', '--include', 'on', '--exclude', 'o?', '--command-methods', '']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^wrote .*emitting\.ts: wrapped 1 \/ skipped 18 \(excluded by --exclude 1, not in --include 17\)\n$/);
    expect(readFileSync(out, 'utf8')).toContain('// - excluded by --exclude: on\n');
  });

  it('exits 2 with one line when the typescript package is missing', async () => {
    const missing: GeneratorLoader = () =>
      Promise.reject(Object.assign(new Error("Cannot find package 'typescript' imported from /app/dist/esm/codegen/generate.js"), { code: 'ERR_MODULE_NOT_FOUND' }));
    const result = await run([...flags, '--out', path.join(dir, 'never.ts')], missing);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: "clientpool-codegen: the generator needs the 'typescript' package (~6.0); install it with: npm install -D typescript@~6.0\n",
    });
    const commonJs: GeneratorLoader = () => Promise.reject(Object.assign(new Error("Cannot find module 'typescript'\nRequire stack:\n- x.js"), { code: 'MODULE_NOT_FOUND' }));
    expect((await run([...flags, '--out', path.join(dir, 'never.ts')], commonJs)).code).toBe(2);
  });

  it('exits 2 on type errors in the source, naming file, line and error', async () => {
    const broken = path.join(dir, 'broken.ts');
    writeFileSync(broken, 'export class Broken {\n  get(): number {\n    return "no";\n  }\n}\n');
    const result = await run(['--source', broken, '--type', 'Broken', '--wrapper', 'MultiBroken', '--out', path.join(dir, 'never.ts')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clientpool-codegen: --source .*broken\.ts: the source has 1 type error; fix it first:\n {2}.*broken\.ts:3:5 TS2322: Type 'string' is not assignable to type 'number'\.\n$/);
  });

  it('finds a file fresh under --check from another directory, the paths spelled relative to it', async () => {
    const out = path.join(dir, 'cwd', 'multi-rpc.ts');
    expect((await run([...flags, '--out', out])).code).toBe(0);
    const elsewhere = path.join(REPO, 'test');
    const relativeFlags = ['--source', path.relative(elsewhere, path.join(REPO, FIXTURES, 'rpc-client.ts')), '--type', 'RpcClient', '--wrapper', 'MultiRpcClient', '--import', POOL_IMPORT];
    expect(await run([...relativeFlags, '--out', path.relative(elsewhere, out), '--check'], undefined, elsewhere)).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(out, 'utf8')).toMatch(/^\/\/ Generated by clientpool-codegen from test\/codegen\/fixtures\/rpc-client\.ts#RpcClient\./);
  });

  it('exits 2 on an --import that is not a module specifier, so a quote cannot inject code', async () => {
    const out = path.join(dir, 'injected.ts');
    const result = await run([...flags.slice(0, -2), '--import', "x'; console.log('pwned'); //", '--out', out]);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining('--import must be a module specifier') });
    expect(() => statSync(out)).toThrow();
  });

  it.each([['Promise'], ['Omit'], ['Awaited'], ['AbortSignal'], ['combineSignals']])('exits 2 on --wrapper %s, which would shadow a name the output uses', async (name) => {
    const result = await run([...flags.slice(0, 4), '--import', POOL_IMPORT, '--wrapper', name, '--out', path.join(dir, `shadow-${name}.ts`)]);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining(`--wrapper ${name}: the name is taken by`) });
  });

  it.each([
    ['--command-methods with an empty name', ['--command-methods', 'send,,get'], '--command-methods must be method names'],
    ['--source given twice', ['--source', `${FIXTURES}/edge-cases.ts`], '--source given more than once'],
  ])('exits 2 on %s', async (_what, extra, message) => {
    const result = await run([...flags, '--out', path.join(dir, 'refused.ts'), ...extra]);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining(message) });
  });

  it('exits 2 on a .js --source, saying to give its declarations', async () => {
    const result = await run(['--source', 'dist/esm/index.js', ...flags.slice(2), '--out', path.join(dir, 'js.ts')]);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining('give a .ts or .d.ts file') });
  });

  it('warns on stderr about an --exclude pattern that matched nothing, and still writes the file', async () => {
    const result = await run([...flags, '--out', path.join(dir, 'typo.ts'), '--exclude', 'getSlott', '--exclude', 'getSlot']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('clientpool-codegen: warning: --exclude getSlott matched nothing\n');
  });

  it('prints usage on --help and exits 0', async () => {
    const result = await run(['--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('--check');
  });
});

describe('clientpool-codegen as a process', () => {
  it('runs from the command line with the exit codes of main()', async () => {
    const out = path.join(dir, 'smoke.ts');
    const cli = ['--import', 'tsx', path.join(REPO, 'src/codegen/cli.ts')];
    const exec = promisify(execFile);
    const wrote = await exec(process.execPath, [...cli, ...flags, '--out', out], { cwd: REPO });
    expect(wrote.stdout).toBe(`wrote ${out}: wrapped 7 / skipped 0\n`);
    writeFileSync(out, '// stale\n');
    const stale = await exec(process.execPath, [...cli, ...flags, '--out', out, '--check'], { cwd: REPO }).then(
      () => ({ code: 0 }),
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(stale).toMatchObject({ code: 1, stderr: expect.stringContaining(`${out} is stale`) });
  }, HANG_BOUND_MS);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
