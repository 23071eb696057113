import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { CodegenError } from './errors.js';
import { CODEGEN_COMPILER_OPTIONS, findUp, readProject } from './project.js';

/** What the generator needs from the compiler about `--source`. */
export interface LoadedSource {
  readonly program: ts.Program;
  readonly checker: ts.TypeChecker;
  /** The module `--source` names: a project file or a package's declaration entry. */
  readonly moduleSymbol: ts.Symbol;
  /**
   * An empty stand-in for the output file. Types are printed as seen from it, so the compiler
   * writes `import("…")` for everything the output must import, with specifiers relative to it.
   */
  readonly outputFile: ts.SourceFile;
  /** `--source` as errors name it: a cwd-relative POSIX path, or the module specifier. */
  readonly label: string;
  /**
   * `--source` as the header names it, the same from any directory: the path relative to the
   * source's package (nearest package.json), else to the output's directory; or the module specifier.
   */
  readonly headerLabel: string;
  /** How the output imports the `--source` module: the package specifier, or a path relative to the output (`../rpc.js`). */
  readonly specifier: string;
  /** Resolve a module specifier as the output file would, to the module's symbol. */
  resolveModule(specifier: string): ts.Symbol | undefined;
}

/** A file path rather than a package: `./x`, `../x`, `/abs/x`, or anything ending in a TS extension. */
export function isFileSource(source: string): boolean {
  return (
    path.isAbsolute(source) ||
    source.startsWith('./') ||
    source.startsWith('../') ||
    /\.[cm]?tsx?$/.test(source)
  );
}

/**
 * Create one program holding `source` and a placeholder for `outFile` (both absolute or cwd-relative),
 * with the compiler options of the source's project (see {@link readProject}).
 * @param tsconfig The project's tsconfig.json (absolute or cwd-relative); default: the nearest one above the source.
 */
export function loadSource(source: string, outFile: string, cwd: string, tsconfig?: string): LoadedSource {
  const outputPath = path.resolve(cwd, outFile);
  const fileSource = isFileSource(source);
  const project = readProject(fileSource ? path.resolve(cwd, source) : cwd, tsconfig === undefined ? undefined : path.resolve(cwd, tsconfig));
  const options = project.options;
  const host = ts.createCompilerHost(options, true);
  // `@types` packages are looked up from the current directory: the project's, not the process's.
  host.getCurrentDirectory = () => project.directory;
  const baseGetSourceFile = host.getSourceFile.bind(host);
  const baseFileExists = host.fileExists.bind(host);
  const baseReadFile = host.readFile.bind(host);

  let rootFile: string;
  let label: string;
  let headerLabel: string;
  let entryText: string | undefined;
  if (/\.(c|m)?js$|\.json$/.test(source)) {
    throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `--source ${source}: give a .ts or .d.ts file (the declarations of a .js file) or a package name`);
  }
  if (fileSource) {
    rootFile = path.resolve(cwd, source);
    if (!existsSync(rootFile)) {
      throw new CodegenError('ERR_CODEGEN_SOURCE_NOT_FOUND', `--source ${source}: no such file ${rootFile}`);
    }
    if (rootFile === outputPath) {
      throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `--out must differ from --source, got ${source}`);
    }
    label = toPosix(path.relative(cwd, rootFile));
    const packageJson = findUp(rootFile, 'package.json');
    headerLabel = toPosix(path.relative(packageJson === undefined ? path.dirname(outputPath) : path.dirname(packageJson), rootFile));
  } else {
    // The package enters the program through an import rather than as a root file, so the
    // compiler sees the path it was found by: under pnpm that is a symlink, and printing
    // `import("ioredis")` instead of a path into `.pnpm/` depends on knowing it.
    const probe = path.join(cwd, ENTRY_NAME);
    const mode = (
      [
        [ts.ModuleKind.ESNext, '.mts'],
        [ts.ModuleKind.CommonJS, '.cts'],
      ] as const
    ).find(([kind]) => resolveFrom(source, probe, options, host, kind) !== undefined);
    if (mode === undefined) {
      throw new CodegenError(
        'ERR_CODEGEN_SOURCE_NOT_FOUND',
        `--source ${source}: cannot resolve module '${source}' from ${cwd} (is it installed, with type declarations?)`,
      );
    }
    rootFile = path.join(cwd, `${ENTRY_NAME}${mode[1]}`);
    entryText = `import type * as source from ${JSON.stringify(source)};\nexport type { source };\n`;
    label = source;
    headerLabel = source;
  }
  const virtual = new Map([[outputPath, 'export {};\n']]);
  if (entryText !== undefined) virtual.set(rootFile, entryText);
  // The output may not exist yet, and a stale one on disk must not influence what is generated.
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = virtual.get(path.resolve(fileName));
    if (text !== undefined) return ts.createSourceFile(fileName, text, languageVersion);
    if (!isSharedFile(fileName)) return baseGetSourceFile(fileName, languageVersion, onError, shouldCreate);
    const key = `${fileName}\0${JSON.stringify(languageVersion)}`;
    const modified = modifiedTime(fileName);
    const cached = sharedFiles.get(key);
    if (cached !== undefined && cached.modified === modified) return cached.file;
    const file = baseGetSourceFile(fileName, languageVersion, onError, shouldCreate);
    if (file !== undefined) sharedFiles.set(key, { file, modified });
    return file;
  };
  host.fileExists = (fileName) => virtual.has(path.resolve(fileName)) || baseFileExists(fileName);
  host.readFile = (fileName) => virtual.get(path.resolve(fileName)) ?? baseReadFile(fileName);

  const program = ts.createProgram({ rootNames: [...project.ambientFiles.filter((file) => path.resolve(file) !== outputPath), rootFile, outputPath], options, host });
  const checker = program.getTypeChecker();
  const rootSourceFile = program.getSourceFile(rootFile);
  const outputFile = program.getSourceFile(outputPath);
  if (rootSourceFile === undefined || outputFile === undefined) {
    throw new CodegenError('ERR_CODEGEN_SOURCE_NOT_FOUND', `--source ${source}: the compiler could not load ${rootFile}`);
  }
  reportSourceErrors(program, rootSourceFile, outputFile, source, cwd);
  const moduleSymbol = entryText === undefined ? checker.getSymbolAtLocation(rootSourceFile) : importedModule(checker, rootSourceFile);
  if (moduleSymbol === undefined) {
    throw new CodegenError('ERR_CODEGEN_TYPE_NOT_FOUND', `--source ${source}: ${label} is not a module (it has no exports)`);
  }

  const ambient = new Map(checker.getAmbientModules().map((symbol) => [symbol.name.replace(/^"|"$/g, ''), symbol]));
  const resolveModule = (specifier: string): ts.Symbol | undefined => {
    const ambientModule = ambient.get(specifier);
    if (ambientModule !== undefined) return ambientModule;
    const fileName =
      resolveFrom(specifier, outputPath, options, host, ts.ModuleKind.ESNext) ??
      resolveFrom(specifier, outputPath, options, host, ts.ModuleKind.CommonJS);
    const file = fileName === undefined ? undefined : program.getSourceFile(fileName);
    return file && checker.getSymbolAtLocation(file);
  };

  const specifier = entryText === undefined ? relativeSpecifier(outputPath, rootFile) : source;
  return { program, checker, moduleSymbol, outputFile, label, headerLabel, specifier, resolveModule };
}

/**
 * Refuse to generate from a program with type errors in the user's own files (or, for a package, in
 * the import of it): the checker would turn what it cannot type into `any` and the output would be
 * silently wrong. Declaration files of packages are not checked (`skipLibCheck`), as in most projects.
 */
function reportSourceErrors(program: ts.Program, root: ts.SourceFile, output: ts.SourceFile, source: string, cwd: string): void {
  const files = program.getSourceFiles().filter((file) => file !== output && (file === root || !file.isDeclarationFile) && !program.isSourceFileFromExternalLibrary(file));
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...files.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
  ].filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error);
  if (diagnostics.length === 0) return;
  const shown = diagnostics.slice(0, MAX_REPORTED_ERRORS).map((diagnostic) => formatDiagnostic(diagnostic, cwd));
  const more = diagnostics.length > shown.length ? `\n  … and ${diagnostics.length - shown.length} more` : '';
  throw new CodegenError(
    'ERR_CODEGEN_SOURCE_ERRORS',
    `--source ${source}: the source has ${diagnostics.length} type error${diagnostics.length === 1 ? '' : 's'}; fix ${diagnostics.length === 1 ? 'it' : 'them'} first:\n  ${shown.join('\n  ')}${more}`,
  );
}

/** Enough to see the problem without flooding the terminal. */
const MAX_REPORTED_ERRORS = 10;

function formatDiagnostic(diagnostic: ts.Diagnostic, cwd: string): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
  const { file, start } = diagnostic;
  if (file === undefined || start === undefined) return `TS${diagnostic.code}: ${message}`;
  const { line, character } = file.getLineAndCharacterOfPosition(start);
  return `${toPosix(path.relative(cwd, file.fileName))}:${line + 1}:${character + 1} TS${diagnostic.code}: ${message}`;
}

/**
 * Declaration files of the standard library and of packages, parsed once per process and shared
 * by every program, as the language service's document registry does: generating several wrappers
 * in one process (a build script, the tests) then parses `lib.*.d.ts` and `@types/node` once.
 */
const sharedFiles = new Map<string, { readonly file: ts.SourceFile; readonly modified: number }>();

/** Checked on every reuse, so a reinstalled package is parsed again. */
function modifiedTime(fileName: string): number {
  try {
    return statSync(fileName).mtimeMs;
  } catch {
    return Number.NaN;
  }
}

function isSharedFile(fileName: string): boolean {
  return fileName.endsWith('.d.ts') && (fileName.includes('/node_modules/') || path.dirname(fileName) === LIB_DIR);
}

const LIB_DIR = path.dirname(ts.getDefaultLibFilePath(CODEGEN_COMPILER_OPTIONS));

/** Name of the in-memory file that imports a package `--source`; never written. */
const ENTRY_NAME = '__clientpool_codegen_entry__';

function importedModule(checker: ts.TypeChecker, entry: ts.SourceFile): ts.Symbol | undefined {
  const [statement] = entry.statements;
  return statement !== undefined && ts.isImportDeclaration(statement)
    ? checker.getSymbolAtLocation(statement.moduleSpecifier)
    : undefined;
}

/** Resolve `specifier` from `containingFile` to a declaration or source file, in the given mode. */
function resolveFrom(
  specifier: string,
  containingFile: string,
  options: ts.CompilerOptions,
  host: ts.ModuleResolutionHost,
  mode: ts.ResolutionMode,
): string | undefined {
  const { resolvedModule } = ts.resolveModuleName(specifier, containingFile, options, host, undefined, undefined, mode);
  return resolvedModule !== undefined && isTypeScriptExtension(resolvedModule.extension)
    ? resolvedModule.resolvedFileName
    : undefined;
}

function isTypeScriptExtension(extension: string): boolean {
  return /^\.(d\.)?[cm]?tsx?$/.test(extension);
}

/** `./rpc.js` for `src/rpc.ts` seen from `src/generated/x.ts`: the specifier Node resolves after compiling. */
function relativeSpecifier(outFile: string, sourceFile: string): string {
  const relative = toPosix(path.relative(path.dirname(outFile), sourceFile)).replace(/(\.d)?\.([cm]?)tsx?$/, (_match, _declaration, kind: string) => `.${kind}js`);
  return relative.startsWith('.') ? relative : `./${relative}`;
}

/** Forward slashes, so headers and specifiers are the same on Windows. */
export function toPosix(filePath: string): string {
  return filePath.split(path.sep).join('/');
}
