import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeBlocks, documentationFiles, REPO } from './markdown-blocks.js';

// Every relative link of the README and of docs/*.md reaches a file of the repository, and every
// `#anchor` a heading of its target, as GitHub renders them: moving a section must not leave dead links.

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings (outside code blocks), duplicates numbered as GitHub does. */
function anchorsOf(markdown: string): Set<string> {
  const inCode = new Set<number>();
  for (const block of codeBlocks('', markdown)) {
    const lines = block.code.split('\n').length;
    for (let line = block.line - 1; line < block.line + lines; line++) inCode.add(line);
  }
  const anchors = new Set<string>();
  markdown.split('\n').forEach((line, index) => {
    const heading = /^#{1,6} (.*)$/.exec(line);
    if (heading === null || inCode.has(index + 1)) return;
    const base = slug(heading[1]!);
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  });
  return anchors;
}

/** Relative links `[text](target)` of a Markdown file, outside code blocks and code spans. */
function linksOf(markdown: string): string[] {
  const prose = codeBlocks('', markdown).reduce((text, block) => text.replace(block.code.trimEnd(), ''), markdown).replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!).filter((target) => !/^[a-z]+:/i.test(target));
}

describe.each(documentationFiles())('links in %s', (file) => {
  const markdown = readFileSync(path.join(REPO, file), 'utf8');

  it('reach an existing file and heading', () => {
    const dead: string[] = [];
    for (const link of linksOf(markdown)) {
      const [target = '', anchor] = link.split('#');
      const resolved = target === '' ? path.join(REPO, file) : path.resolve(path.dirname(path.join(REPO, file)), target);
      if (!existsSync(resolved)) dead.push(`${link}: no file ${path.relative(REPO, resolved)}`);
      else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) dead.push(`${link}: no heading #${anchor}`);
    }
    expect(dead).toEqual([]);
  });
});

describe('slug', () => {
  it.each([
    ['Production checklist', 'production-checklist'],
    ['`new ClientPool<T>(options)`', 'new-clientpooltoptions'],
    ['When the budget caps `attempts`', 'when-the-budget-caps-attempts'],
    ['Shared rate limits across processes (`clientpool/redis`)', 'shared-rate-limits-across-processes-clientpoolredis'],
  ])('%s -> #%s', (heading, anchor) => {
    expect(slug(heading)).toBe(anchor);
  });
});
