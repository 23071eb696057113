// The proxy's type tests (proxied.test.ts: ioredis, viem, openai, undici and pg-style clients) compiled
// as a user would compile them, strictest: strict, exactOptionalPropertyTypes, noUnusedLocals, with and
// without skipLibCheck. Slow tier: each program parses the four packages' types.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ts from 'typescript';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TYPE_TESTS = path.join(REPO, 'test/wrapping/proxied.test.ts');

function diagnostics(skipLibCheck: boolean): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    // DOM: viem's dependency `ox` names WebCrypto and WebAuthn types, which a full lib check needs.
    lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts', 'lib.dom.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    exactOptionalPropertyTypes: true,
    noUnusedLocals: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck,
    types: ['node'],
    noEmit: true,
  };
  const program = ts.createProgram([TYPE_TESTS], options);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file === undefined ? '' : `${path.relative(REPO, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1} `;
    return `${where}TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n').slice(0, 300)}`;
  });
}

describe('Proxied<T> type tests under the strictest settings', () => {
  it.each([true, false])('compile with skipLibCheck: %s', (skipLibCheck) => {
    expect(diagnostics(skipLibCheck)).toEqual([]);
  }, 1_500_000);
});
