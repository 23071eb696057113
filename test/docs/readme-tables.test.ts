import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO } from './markdown-blocks.js';

// The README's options and errors tables are complete and say what the sources say: one row per option
// of PoolOptions, AddOptions and RunOptions, with the default their docstrings give (`@default`), and one
// row per error class with its code. Read with the TypeScript parser alone (no type checker): fast.
const README = readFileSync(path.join(REPO, 'README.md'), 'utf8');

/** The rows of the first table after `heading`, as arrays of cells without backticks around names. */
function tableAfter(markdown: string, heading: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start < 0) throw new Error(`no heading ${heading}`);
  const rows: string[][] = [];
  let i = start + 1;
  while (i < lines.length && !lines[i]!.startsWith('|')) i++;
  for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    rows.push(splitRow(lines[i]!));
  }
  return rows;
}

/** Cells of a table row; an escaped `\|` stays inside its cell. */
function splitRow(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replaceAll('\\|', '|'));
}

const unquote = (cell: string): string => cell.replace(/^`(.*)`$/, '$1');

function sourceFile(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(path.join(REPO, file), 'utf8'), ts.ScriptTarget.ES2023, true);
}

/** Each property of an interface with its `@default` tag's text, if any. */
function interfaceOptions(file: string, name: string): Map<string, string | undefined> {
  const source = sourceFile(file);
  const declaration = source.statements.find((statement): statement is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(statement) && statement.name.text === name);
  if (declaration === undefined) throw new Error(`no interface ${name} in ${file}`);
  const options = new Map<string, string | undefined>();
  for (const member of declaration.members) {
    if (!ts.isPropertySignature(member) || !ts.isIdentifier(member.name)) continue;
    const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'default');
    const text = typeof tag?.comment === 'string' ? tag.comment : tag?.comment?.map((part) => part.text).join('');
    options.set(member.name.text, text?.replace(/\s+/g, ' ').trim());
  }
  return options;
}

/** Every exported, concrete class of src/ that extends ClientPoolError, with its static `code` if it has one. */
function errorClasses(): Map<string, string | undefined> {
  const files = readdirSync(path.join(REPO, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
  const classes = new Map<string, string | undefined>();
  for (const file of files) {
    for (const statement of sourceFile(path.join('src', file)).statements) {
      if (!ts.isClassDeclaration(statement) || statement.name === undefined) continue;
      const modifiers = ts.getModifiers(statement) ?? [];
      if (!modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) || modifiers.some((m) => m.kind === ts.SyntaxKind.AbstractKeyword)) continue;
      const base = statement.heritageClauses?.flatMap((clause) => clause.types.map((type) => type.expression.getText()));
      if (!base?.includes('ClientPoolError')) continue;
      const code = statement.members.find(
        (member): member is ts.PropertyDeclaration =>
          ts.isPropertyDeclaration(member) && member.name.getText() === 'code' && (ts.getModifiers(member) ?? []).some((m) => m.kind === ts.SyntaxKind.StaticKeyword),
      );
      classes.set(statement.name.text, code?.initializer !== undefined && ts.isStringLiteral(code.initializer) ? code.initializer.text : undefined);
    }
  }
  return classes;
}

describe.each([
  ['### `new ClientPool<T>(options)`', 'src/pool-options.ts', 'PoolOptions'],
  ['### `pool.add(client, options)`', 'src/pool-options.ts', 'AddOptions'],
  ['### `pool.run(fn, options)`', 'src/call.ts', 'RunOptions'],
])('README table %s', (heading, file, name) => {
  const rows = tableAfter(README, heading);
  const options = interfaceOptions(file, name);

  it(`has one row per option of ${name}, and no other`, () => {
    expect(rows.map((row) => unquote(row[0]!)).sort()).toEqual([...options.keys()].sort());
  });

  it(`gives the default that ${name}'s docstrings give`, () => {
    const documented = [...options].filter(([, fallback]) => fallback !== undefined);
    expect(documented.length).toBeGreaterThan(0);
    for (const [option, fallback] of documented) {
      const row = rows.find((cells) => unquote(cells[0]!) === option);
      expect(row?.[1]?.replaceAll('`', ''), option).toBe(fallback!.replaceAll('`', ''));
    }
  });
});

describe('README errors table', () => {
  const rows = tableAfter(README, '## Errors');
  const classes = errorClasses();

  it('lists every error class of the library, and no other', () => {
    expect(classes.size).toBeGreaterThanOrEqual(12);
    expect(rows.map((row) => unquote(row[0]!)).sort()).toEqual([...classes.keys()].sort());
  });

  it("gives each class's code", () => {
    for (const [name, code] of classes) {
      const cell = unquote(rows.find((row) => unquote(row[0]!) === name)?.[1] ?? '');
      if (code === undefined) expect(cell, name).toMatch(/^ERR_[A-Z_]+\*?$/);
      else expect(cell, name).toBe(code);
    }
  });
});
