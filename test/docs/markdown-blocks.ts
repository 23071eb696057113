// The fenced code blocks of a Markdown file, with the line each starts on, for the docs tests.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** One fenced block. */
export interface CodeBlock {
  /** Repository-relative path of the Markdown file. */
  readonly file: string;
  /** 1-based line of the block's first code line (the line after the opening fence). */
  readonly line: number;
  /** The info string's first word (`ts`, `sh`, `text`), or '' for a bare fence. */
  readonly lang: string;
  /** The code, without the fence's own indentation (blocks inside list items are indented). */
  readonly code: string;
}

const OPENING = /^( *)(`{3,}|~{3,})\s*([^\s`]*)/;

/** Every fenced block of `markdown`, in order. An unclosed fence runs to the end, as CommonMark has it. */
export function codeBlocks(file: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const opening = OPENING.exec(lines[i]!);
    if (opening === null) continue;
    const [, indent = '', fence = '', lang = ''] = opening;
    const closing = new RegExp(`^ {0,${indent.length + 3}}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !closing.test(lines[j]!); j++) body.push(dedent(lines[j]!, indent.length));
    blocks.push({ file, line: i + 2, lang: lang.toLowerCase(), code: body.join('\n') + '\n' });
    i = j;
  }
  return blocks;
}

function dedent(line: string, width: number): string {
  let cut = 0;
  while (cut < width && line[cut] === ' ') cut++;
  return line.slice(cut);
}

/** README.md and every Markdown page under docs/, repository-relative. */
export function documentationFiles(): string[] {
  const docs = readdirSync(path.join(REPO, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** The blocks of a repository file. */
export function blocksOf(file: string): CodeBlock[] {
  return codeBlocks(file, readFileSync(path.join(REPO, file), 'utf8'));
}

/** Languages whose blocks are type-checked as TypeScript modules. */
export const TYPESCRIPT = new Set(['ts', 'typescript', 'mts']);
/** Languages whose blocks are parsed as JavaScript modules. */
export const JAVASCRIPT = new Set(['js', 'javascript', 'mjs']);
