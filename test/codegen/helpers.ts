// Shared by the codegen tests: paths, golden files and a strict compile of generated sources.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ts from 'typescript';
import { expect } from 'vitest';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = 'test/codegen/fixtures';
export const GOLDEN = 'test/codegen/golden';
/** Generated files import the pool from the sources, as a golden file sits in test/codegen/golden. */
export const POOL_IMPORT = '../../../src/index.js';

/**
 * Compare `actual` with a golden file byte for byte; `UPDATE_GOLDEN=1` rewrites it instead.
 * @param file Repository-relative path of the golden file.
 */
export function expectGolden(file: string, actual: string): void {
  const absolute = path.join(REPO, file);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    writeFileSync(absolute, actual);
    return;
  }
  const expected = readFileSync(absolute, 'utf8');
  // toBe on strings prints a line diff on failure, which is what a reviewer needs.
  expect(actual, `${file} is out of date; run UPDATE_GOLDEN=1 npx vitest run test/codegen`).toBe(expected);
}

/**
 * The project's strictest settings plus unused-symbol checks, so a generated file that imports a
 * type it does not use fails too.
 */
export const STRICT_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2023,
  lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  noPropertyAccessFromIndexSignature: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  skipLibCheck: true,
  types: ['node'],
  noEmit: true,
};

/**
 * Type-check generated sources under {@link STRICT_OPTIONS} in one program and return the
 * diagnostics located in them, formatted. Sources that are not on disk are served from memory.
 * @param files Repository-relative path → source text.
 * @param overrides Options changed for this check (`{ skipLibCheck: false }`).
 */
export function diagnosticsOf(files: Readonly<Record<string, string>>, overrides: ts.CompilerOptions = {}): string[] {
  const options = { ...STRICT_OPTIONS, ...overrides };
  const virtual = new Map(Object.entries(files).map(([file, text]) => [path.join(REPO, file), text]));
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = virtual.get(path.resolve(fileName));
    return text === undefined
      ? getSourceFile(fileName, languageVersion, onError, shouldCreate)
      : ts.createSourceFile(fileName, text, languageVersion, true);
  };
  host.fileExists = (fileName) => virtual.has(path.resolve(fileName)) || fileExists(fileName);
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file !== undefined && virtual.has(path.resolve(diagnostic.file.fileName)))
    .map((diagnostic) => {
      const file = diagnostic.file;
      const where =
        file && diagnostic.start !== undefined
          ? `${path.relative(REPO, file.fileName)}:${file.getLineAndCharacterOfPosition(diagnostic.start).line + 1}`
          : '?';
      return `${where} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
}
