import { beforeAll, describe, expect, it } from 'vitest';
import { checkBlocks, type BlockDiagnostic } from './check-blocks.js';
import { blocksOf, codeBlocks, documentationFiles, TYPESCRIPT } from './markdown-blocks.js';
import { HANG_BOUND_MS } from '../helpers/hang-bound.js';

// Every ```ts block of the README and of docs/*.md compiles as a module of its own, against the sources
// as `clientpool` (and its subpaths) and the installed packages. Snippets that are not whole modules are
// fenced as ```text, ```sh or ```js-fragment instead.
const files = documentationFiles();

// Small Markdown files that show the checker itself works; checked in the same program as the docs,
// since one program (one parse of src/ and the packages' types) is what keeps this test fast.
const fixtures = {
  'type-error.md': ['# t', '', '```ts', "import { ClientPool } from 'clientpool';", "new ClientPool({ timeout: '1s' });", '```', ''],
  'separate.md': ['```ts', 'const shared = 1;', '```', '', '```ts', 'console.log(shared);', '```'],
  'indented.md': ['- item', '', '  ```ts', '  const n: number = 1;', '  console.log(n);', '  ```', '', '```sh', 'npm run demo', '```', '```text', 'not code', '```'],
  'javascript.md': ['```js', 'const x = ;', '```'],
  'subpaths.md': ['```ts', "import { prometheusMetrics } from 'clientpool/prometheus';", "import { RedisTokenBucket } from 'clientpool/redis';", 'console.log(prometheusMetrics, RedisTokenBucket);', '```'],
} satisfies Record<string, string[]>;
const fixtureBlocks = Object.fromEntries(Object.entries(fixtures).map(([file, lines]) => [file, codeBlocks(file, lines.join('\n'))]));

let problems: BlockDiagnostic[] = [];
const problemsIn = (file: string): string[] => problems.filter((problem) => problem.where.startsWith(`${file}:`)).map(({ where, message }) => `${where} ${message}`);

beforeAll(() => {
  problems = checkBlocks([...files.flatMap(blocksOf), ...Object.values(fixtureBlocks).flat()]);
}, HANG_BOUND_MS);

describe('code blocks in the documentation', () => {
  it('the README holds TypeScript blocks to check', () => {
    expect(blocksOf('README.md').filter((block) => TYPESCRIPT.has(block.lang)).length).toBeGreaterThan(5);
  });

  it.each(files)('every TypeScript block of %s type-checks', (file) => {
    expect(problemsIn(file)).toEqual([]);
  });

  it('the compiler options are accepted', () => {
    expect(problems.filter((problem) => problem.where === 'compiler options')).toEqual([]);
  });
});

describe('the block checker', () => {
  it('reports a type error at its Markdown file and line', () => {
    expect(problemsIn('type-error.md')).toEqual([expect.stringMatching(/^type-error\.md:5 TS2322: Type 'string' is not assignable to type 'number'/)]);
  });

  it('keeps blocks apart: a name declared in one block is unknown in the next', () => {
    expect(problemsIn('separate.md')).toEqual([expect.stringMatching(/^separate\.md:6 TS2304: Cannot find name 'shared'/)]);
  });

  it('reads a block indented under a list item, and leaves text and shell blocks alone', () => {
    expect(fixtureBlocks['indented.md']?.map(({ line, lang }) => [line, lang])).toEqual([[4, 'ts'], [9, 'sh'], [12, 'text']]);
    expect(problemsIn('indented.md')).toEqual([]);
  });

  it('parses JavaScript blocks and reports a syntax error in them', () => {
    expect(problemsIn('javascript.md')).toEqual([expect.stringMatching(/^javascript\.md:2 TS1109/)]);
  });

  it('resolves clientpool subpaths to the sources', () => {
    expect(problemsIn('subpaths.md')).toEqual([]);
  });
});
