import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../src/codegen/cli.js';
import { generateWrapper } from '../../src/codegen/generate.js';
import { FIXTURES, POOL_IMPORT, REPO } from './helpers.js';

/** Run main() with captured output. */
function run(argv: readonly string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    cwd: REPO,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  };
  const code = main(argv, io);
  return { code, stdout, stderr };
}

// Outputs go to a temporary directory; generate.test.ts checks their content against golden files.
const dir = mkdtempSync(path.join(tmpdir(), 'clientpool-codegen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flags = ['--source', `${FIXTURES}/rpc-client.ts`, '--type', 'RpcClient', '--wrapper', 'MultiRpcClient', '--import', POOL_IMPORT];

describe('clientpool-codegen main()', () => {
  it('writes the file, then --check finds it fresh, then stale once edited, then missing', () => {
    const out = path.join(dir, 'nested', 'multi-rpc.ts');
    const args = [...flags, '--out', out];

    const written = run(args);
    expect(written).toMatchObject({ code: 0, stderr: '', stdout: `wrote ${out}\n` });
    const content = readFileSync(out, 'utf8');
    expect(content).toBe(generateWrapper({ source: `${FIXTURES}/rpc-client.ts`, type: 'RpcClient', wrapper: 'MultiRpcClient', out, importFrom: POOL_IMPORT, cwd: REPO }));

    expect(run([...args, '--check'])).toMatchObject({ code: 0, stdout: `${out} is up to date\n` });

    writeFileSync(out, content.replace('get_slot', 'getSlot'));
    const stale = run([...args, '--check']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(new RegExp(`^${escape(out)} is stale \\(first difference at line \\d+\\); regenerate it with: clientpool-codegen --source`));
    expect(readFileSync(out, 'utf8')).toContain("'getSlot'"); // --check never writes

    rmSync(out);
    expect(run([...args, '--check'])).toMatchObject({ code: 1, stderr: expect.stringContaining(`${out} is missing`) });
  });

  it('leaves an up-to-date file alone, so build tools watching it do not rebuild', () => {
    const out = path.join(dir, 'same.ts');
    expect(run([...flags, '--out', out]).code).toBe(0);
    const before = statSync(out).mtimeMs;
    expect(run([...flags, '--out', out])).toMatchObject({ code: 0, stdout: `${out} is up to date\n` });
    expect(statSync(out).mtimeMs).toBe(before);
  });

  it.each([
    ['an unknown file', ['--source', 'nope.ts'], /--source nope\.ts: no such file/],
    ['an unknown type', ['--type', 'Nope'], /exports no type 'Nope'/],
    ['a type with no methods', ['--source', `${FIXTURES}/edge-cases.ts`, '--type', 'Settings'], /has no public methods to wrap/],
  ])('exits 2 on %s, with the reason on stderr', (_, override, message) => {
    const args = [...flags, '--out', path.join(dir, 'never.ts')];
    for (let i = 0; i < override.length; i += 2) args[args.indexOf(override[i] ?? '') + 1] = override[i + 1] ?? '';
    const result = run(args);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain('Usage:');
  });

  it('exits 2, not 1, when the file cannot be written', () => {
    const blocker = path.join(dir, 'a-file');
    writeFileSync(blocker, '');
    const result = run([...flags, '--out', path.join(blocker, 'multi-rpc.ts')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clientpool-codegen: .*(ENOTDIR|EEXIST)/);
  });

  it.each([
    ['a missing flag', ['--source', 'a.ts', '--type', 'A'], /missing --wrapper, --out/],
    ['an unknown flag', [...flags, '--out', 'x.ts', '--bogus'], /Unknown option '--bogus'/],
    ['a positional argument', [...flags, '--out', 'x.ts', 'extra'], /positional/],
    ['a bad --label', [...flags, '--out', 'x.ts', '--label', 'kebab'], /--label must be snake or as-is, got 'kebab'/],
    ['a flag without its value', [...flags, '--out'], /--out/],
  ])('exits 2 with usage on %s', (_, argv, message) => {
    const result = run(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: clientpool-codegen --source');
  });

  it('prints usage on --help and exits 0', () => {
    const result = run(['--help']);
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
    expect(wrote.stdout).toBe(`wrote ${out}\n`);
    writeFileSync(out, '// stale\n');
    const stale = await exec(process.execPath, [...cli, ...flags, '--out', out, '--check'], { cwd: REPO }).then(
      () => ({ code: 0 }),
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(stale).toMatchObject({ code: 1, stderr: expect.stringContaining(`${out} is stale`) });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
