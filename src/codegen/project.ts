import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { CodegenError } from './errors.js';

/**
 * Compiler options for reading the source when its project has no tsconfig.json. NodeNext resolution
 * is what lets `--source ioredis` find the package's declarations the way Node would. `types: ['*']`
 * loads every `@types` package above the project, as TypeScript before 6.0 did by default: without
 * `@types/node` a class extending `EventEmitter` would silently lose its inherited methods.
 */
export const CODEGEN_COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  skipLibCheck: true,
  types: ['*'],
  noEmit: true,
};

/** Options that only matter for emitting, which the generator never does; some conflict with `noEmit`. */
const EMIT_OPTIONS: readonly string[] = ['outDir', 'outFile', 'declaration', 'declarationDir', 'declarationMap', 'emitDeclarationOnly', 'composite', 'incremental', 'tsBuildInfoFile', 'sourceMap', 'inlineSourceMap', 'rootDir'];

/** The project the source belongs to, as the compiler should see it. */
export interface Project {
  readonly options: ts.CompilerOptions;
  /** Where `@types` are looked up from: the tsconfig's directory, else the source's, else `cwd`. */
  readonly directory: string;
  /** Declaration files the tsconfig includes (global augmentations the source may rely on). */
  readonly ambientFiles: readonly string[];
}

/**
 * The compiler options of the source's project: those of `tsconfig` when given, else of the nearest
 * `tsconfig.json` above `from` (paths, baseUrl, experimentalDecorators, types, lib…), without emit
 * options; {@link CODEGEN_COMPILER_OPTIONS} when there is none. `types` defaults to `['*']`.
 * @param from The source file, or for a package `--source`, the directory it is resolved from.
 * @throws {CodegenError} `ERR_CODEGEN_INVALID_OPTION` when `tsconfig` is missing or cannot be parsed.
 */
export function readProject(from: string, tsconfig: string | undefined): Project {
  const configPath = tsconfig ?? findUp(from, 'tsconfig.json');
  if (configPath === undefined) return { options: CODEGEN_COMPILER_OPTIONS, directory: directoryOf(from), ambientFiles: [] };
  if (!existsSync(configPath)) throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `--tsconfig ${configPath}: no such file`);
  const read = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file));
  if (read.error !== undefined) {
    throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `${configPath}: ${ts.flattenDiagnosticMessageText(read.error.messageText, ' ')}`);
  }
  const directory = path.dirname(configPath);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, directory, undefined, configPath);
  // "No inputs were found" only means the include list matched nothing; the source is given anyway.
  const errors = parsed.errors.filter((error) => error.category === ts.DiagnosticCategory.Error && error.code !== 18003);
  if (errors.length > 0) {
    throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `${configPath}: ${errors.map((error) => ts.flattenDiagnosticMessageText(error.messageText, ' ')).join('; ')}`);
  }
  const options: ts.CompilerOptions = { ...Object.fromEntries(Object.entries(parsed.options).filter(([name]) => !EMIT_OPTIONS.includes(name))), noEmit: true };
  options.types ??= ['*'];
  options.module ??= ts.ModuleKind.NodeNext;
  if (options.moduleResolution === undefined && options.module === ts.ModuleKind.NodeNext) options.moduleResolution = ts.ModuleResolutionKind.NodeNext;
  return { options, directory, ambientFiles: parsed.fileNames.filter((file) => file.endsWith('.d.ts')) };
}

/** The nearest `name` in `from`'s directory or above it. */
export function findUp(from: string, name: string): string | undefined {
  let directory = directoryOf(from);
  for (;;) {
    const candidate = path.join(directory, name);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

function directoryOf(from: string): string {
  try {
    return statSync(from).isDirectory() ? from : path.dirname(from);
  } catch {
    return path.dirname(from);
  }
}
