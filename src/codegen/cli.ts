#!/usr/bin/env node
// clientpool-codegen: a thin shell around generateWrapper(). Parses flags, writes or checks the file.
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { LabelStyle } from '../label.js';
import { CodegenError } from './errors.js';
import type * as Generate from './generate.js';

/** The program name, also in `generate.ts`; repeated so that printing usage needs no TypeScript. */
const GENERATOR_NAME = 'clientpool-codegen';

/** The one option schema: flags, types and defaults. */
const OPTIONS = {
  source: { type: 'string' },
  type: { type: 'string' },
  wrapper: { type: 'string' },
  out: { type: 'string' },
  label: { type: 'string', default: 'snake' },
  import: { type: 'string', default: 'clientpool' },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  'command-methods': { type: 'string', default: 'send' },
  tsconfig: { type: 'string' },
  check: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

const USAGE = `Usage: ${GENERATOR_NAME} --source <file|module> --type <Name> --wrapper <Name> --out <file.ts> [options]

Generate a class that runs every method of a client type through a ClientPool.

  --source <file|module>  .ts/.d.ts file, or a package resolved from the current directory (ioredis)
  --type <Name>           exported class, interface or type alias to wrap (RpcClient)
  --wrapper <Name>        name of the generated class (MultiRpcClient)
  --out <file.ts>         file to write; imports in it are relative to it
  --label <snake|as-is>   method labels: getSlot -> get_slot (snake) or getSlot (as-is)  [default: snake]
  --import <specifier>    module to import ClientPool from  [default: clientpool]
  --include <pattern>     wrap only matching methods (repeatable; get, get*, chat.**); a name without
                          wildcards also brings back a method left out by default (quit)
  --exclude <pattern>     leave out matching methods and nested resources (repeatable); wins over --include
  --command-methods <a,b> label calls of these methods by their command's class name
                          (send(new GetObjectCommand()) -> get_object_command); '' for none  [default: send]
  --tsconfig <file>       the project's tsconfig.json, whose compilerOptions (paths, decorators, types)
                          the source is read with  [default: the nearest one above --source]
  --check                 write nothing; exit 1 if --out is missing or differs from what would be generated
  -h, --help              show this help

Left out by default, and listed in the output's header: lifecycle methods (close, quit, connect, ...),
EventEmitter and stream methods, and callbacks (a trailing callback parameter or overload).

Exit codes: 0 done or up to date, 1 --check found a stale file, 2 bad flags, a generation error or no
TypeScript installed.
`;

/** Where the CLI writes; `process` by default, injected by tests. */
export interface CliIo {
  readonly cwd: string;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** Exit codes: 0 success or up to date, 1 stale under `--check`, 2 usage or generation error. */
export type ExitCode = 0 | 1 | 2;

/** Loads the generator, which needs the `typescript` package; injected by tests to simulate its absence. */
export type GeneratorLoader = () => Promise<Pick<typeof Generate, 'generate' | 'summarize'>>;

// Imported lazily so that a missing `typescript` is one clear line, not a stack trace.
const loadGenerator: GeneratorLoader = () => import('./generate.js');

/**
 * Run the CLI with `argv` (without the node and script paths) and resolve with the exit code.
 * @example
 * process.exitCode = await main(['--source', 'src/rpc.ts', '--type', 'RpcClient', '--wrapper', 'MultiRpcClient', '--out', 'src/generated/multi-rpc.ts']);
 */
export async function main(
  argv: readonly string[],
  io: CliIo = { cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr },
  load: GeneratorLoader = loadGenerator,
): Promise<ExitCode> {
  let values: ReturnType<typeof parse>['values'];
  let tokens: ReturnType<typeof parse>['tokens'];
  try {
    ({ values, tokens } = parse(argv));
  } catch (error) {
    return usageError(io, error instanceof Error ? error.message : String(error));
  }
  // parseArgs keeps the last of a repeated flag: a second --source is more likely a mistake than a choice.
  const repeated = Object.entries(OPTIONS).find(([name, option]) => !('multiple' in option) && tokens.filter((token) => token.kind === 'option' && token.name === name).length > 1);
  if (repeated !== undefined) return usageError(io, `--${repeated[0]} given more than once`);
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const { source, type, wrapper, out } = values;
  const missing = (['source', 'type', 'wrapper', 'out'] as const).filter((name) => values[name] === undefined);
  if (source === undefined || type === undefined || wrapper === undefined || out === undefined) {
    return usageError(io, `missing ${missing.map((name) => `--${name}`).join(', ')}`);
  }
  if (values.label !== 'snake' && values.label !== 'as-is') {
    return usageError(io, `--label must be snake or as-is, got '${values.label}'`);
  }
  const label: LabelStyle = values.label;
  const commandValue = values['command-methods'].trim();
  const commandMethods = commandValue === '' ? [] : commandValue.split(',').map((name) => name.trim());
  if (commandMethods.some((name) => name.length === 0)) return usageError(io, `--command-methods must be method names separated by commas, got '${values['command-methods']}'`);

  let generator: Awaited<ReturnType<GeneratorLoader>>;
  try {
    generator = await load();
  } catch (error) {
    if (!isMissingTypeScript(error)) throw error;
    io.stderr.write(`${GENERATOR_NAME}: the generator needs the 'typescript' package (~6.0); install it with: npm install -D typescript@~6.0\n`);
    return 2;
  }
  try {
    const result = generator.generate({
      source,
      type,
      wrapper,
      out,
      label,
      importFrom: values.import,
      cwd: io.cwd,
      include: values.include ?? [],
      exclude: values.exclude ?? [],
      commandMethods,
      ...(values.tsconfig === undefined ? {} : { tsconfig: values.tsconfig }),
    });
    for (const warning of result.warnings) io.stderr.write(`${GENERATOR_NAME}: warning: ${warning}\n`);
    const skipped = result.skipped.length === 0 ? '' : ` (${generator.summarize(result.skipped)})`;
    const summary = `wrapped ${result.wrapped.length} / skipped ${result.skipped.length}${skipped}`;
    return values.check ? check(out, result.code, argv, io, summary) : write(out, result.code, io, summary);
  } catch (error) {
    // Exit 2 for everything else too: under --check, 1 must mean "stale" and nothing more.
    io.stderr.write(`${GENERATOR_NAME}: ${error instanceof CodegenError ? error.message : describeError(error)}\n`);
    return 2;
  }
}

/** Node's error for an import of `typescript` that is not installed (ESM or CommonJS build). */
function isMissingTypeScript(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /['"]typescript['"]/.test(error.message);
}

function check(out: string, code: string, argv: readonly string[], io: CliIo, summary: string): ExitCode {
  const current = readIfExists(path.resolve(io.cwd, out));
  if (current === code) {
    io.stdout.write(`${out} is up to date: ${summary}\n`);
    return 0;
  }
  const why = current === undefined ? 'is missing' : `is stale (first difference at line ${firstDifferentLine(current, code)})`;
  io.stderr.write(`${out} ${why}; regenerate it with: ${GENERATOR_NAME} ${argv.filter((arg) => arg !== '--check').join(' ')}\n`);
  return 1;
}

function write(out: string, code: string, io: CliIo, summary: string): ExitCode {
  const outPath = path.resolve(io.cwd, out);
  // Leave an up-to-date file untouched so watchers and incremental builds do not fire.
  if (readIfExists(outPath) === code) {
    io.stdout.write(`${out} is up to date: ${summary}\n`);
    return 0;
  }
  mkdirSync(path.dirname(outPath), { recursive: true });
  writeFileSync(outPath, code);
  io.stdout.write(`wrote ${out}: ${summary}\n`);
  return 0;
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false, tokens: true });
}

function usageError(io: CliIo, message: string): ExitCode {
  io.stderr.write(`${GENERATOR_NAME}: ${message}\n\n${USAGE}`);
  return 2;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return undefined;
    throw error;
  }
}

function isErrnoException(value: unknown): value is NodeJS.ErrnoException {
  return value instanceof Error && 'code' in value;
}

function firstDifferentLine(a: string, b: string): number {
  const left = a.split('\n');
  const right = b.split('\n');
  let line = 0;
  while (line < left.length && line < right.length && left[line] === right[line]) line++;
  return line + 1;
}

/**
 * True when this file is the program being run (`node dist/esm/codegen/cli.js`, `tsx src/codegen/cli.ts`
 * or the npm bin link). Decided from argv rather than `import.meta`, which the CommonJS build lacks.
 */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return /[\\/]codegen[\\/]cli\.[cm]?[jt]s$/.test(realpathSync(entry));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${GENERATOR_NAME}: ${describeError(error)}\n`);
      process.exitCode = 2;
    },
  );
}
