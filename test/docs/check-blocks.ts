// Type-checks documentation code blocks with the TypeScript compiler API: every block is a module of
// its own, all of them in ONE program (one parse of src/ and of the packages' types, so it stays fast).
import * as path from 'node:path';
import * as ts from 'typescript';
import { JAVASCRIPT, REPO, TYPESCRIPT, type CodeBlock } from './markdown-blocks.js';

/** A problem in a block, located in its Markdown file. */
export interface BlockDiagnostic {
  /** `README.md:123`: the Markdown file and line. */
  readonly where: string;
  readonly message: string;
}

/**
 * The project's strict settings; `clientpool` and its subpaths resolve to the sources, as an installed
 * package would resolve to their build. Every block is a module (`moduleDetection: force`), so blocks
 * never see each other's top-level names, and top-level await is allowed (the repository is ESM).
 */
export const BLOCK_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2023,
  lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  moduleDetection: ts.ModuleDetectionKind.Force,
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  skipLibCheck: true,
  allowJs: true,
  checkJs: false,
  types: ['node'],
  noEmit: true,
  paths: {
    clientpool: [path.join(REPO, 'src/index.ts')],
    'clientpool/*': [path.join(REPO, 'src/*/index.ts')],
  },
};

/** Where a block lives in the program: a file that does not exist, beside the repository's package.json. */
function virtualPath(block: CodeBlock, index: number): string {
  const extension = TYPESCRIPT.has(block.lang) ? 'ts' : 'mjs';
  return path.join(REPO, '.doc-blocks', `${block.file.replaceAll('/', '_')}-${block.line}-${index}.${extension}`);
}

/**
 * Type-check the TypeScript blocks and parse the JavaScript ones; other languages are left alone.
 * @returns the problems found, each with its Markdown file and line; empty when every block compiles.
 */
export function checkBlocks(blocks: readonly CodeBlock[]): BlockDiagnostic[] {
  const virtual = new Map<string, CodeBlock>();
  blocks.forEach((block, index) => {
    if (TYPESCRIPT.has(block.lang) || JAVASCRIPT.has(block.lang)) virtual.set(virtualPath(block, index), block);
  });
  const host = ts.createCompilerHost(BLOCK_OPTIONS, true);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const block = virtual.get(path.resolve(fileName));
    return block === undefined ? getSourceFile(fileName, languageVersion, onError, shouldCreate) : ts.createSourceFile(fileName, block.code, languageVersion, true);
  };
  host.fileExists = (fileName) => virtual.has(path.resolve(fileName)) || fileExists(fileName);
  host.readFile = (fileName) => virtual.get(path.resolve(fileName))?.code ?? readFile(fileName);
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options: BLOCK_OPTIONS, host });

  const found: BlockDiagnostic[] = [];
  for (const diagnostic of program.getOptionsDiagnostics()) found.push({ where: 'compiler options', message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n') });
  for (const [fileName, block] of virtual) {
    const sourceFile = program.getSourceFile(fileName);
    if (sourceFile === undefined) {
      found.push({ where: `${block.file}:${block.line}`, message: 'the block was not part of the program' });
      continue;
    }
    const diagnostics = [...program.getSyntacticDiagnostics(sourceFile), ...(TYPESCRIPT.has(block.lang) ? program.getSemanticDiagnostics(sourceFile) : [])];
    for (const diagnostic of diagnostics) {
      const line = diagnostic.start === undefined ? 0 : sourceFile.getLineAndCharacterOfPosition(diagnostic.start).line;
      found.push({ where: `${block.file}:${block.line + line}`, message: `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}` });
    }
  }
  return found;
}
