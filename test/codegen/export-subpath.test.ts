// Deep imports in generated files: the extensionless subpath a package's `exports` map offers, so
// that the output resolves under `require` as well as `import` (issue 12, F3).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { extensionlessSubpath, isNamedByExports } from '../../src/codegen/export-subpath.js';

const root = mkdtempSync(path.join(tmpdir(), 'clientpool-export-subpath-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A package `name` with `exports`, and the path of a declaration file inside it. */
function packageWith(name: string, exports: unknown): string {
  const dir = path.join(root, 'node_modules', name);
  mkdirSync(path.join(dir, 'resources'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, exports }));
  return path.join(dir, 'resources', 'chat.d.mts');
}

describe('extensionlessSubpath', () => {
  it('drops the extension when a * pattern of the exports map covers the subpath', () => {
    const file = packageWith('patterned', { '.': './index.mjs', './resources/*': { import: './resources/*.mjs', require: './resources/*.js' } });
    expect(extensionlessSubpath('patterned/resources/chat.mjs', file)).toBe('patterned/resources/chat');
  });

  it('drops the extension for an exact exports key, scoped package included', () => {
    const file = packageWith('@scope/exact', { './resources/chat': './resources/chat.js' });
    expect(extensionlessSubpath('@scope/exact/resources/chat.js', file)).toBe('@scope/exact/resources/chat');
  });

  it('keeps the specifier when the exports map offers only the file with its extension, blocks it, or is missing', () => {
    expect(extensionlessSubpath('onlymjs/resources/chat.mjs', packageWith('onlymjs', { './resources/*.mjs': './resources/*.mjs' }))).toBe('onlymjs/resources/chat.mjs');
    expect(extensionlessSubpath('blocked/resources/chat.mjs', packageWith('blocked', { './resources/*': null }))).toBe('blocked/resources/chat.mjs');
    expect(extensionlessSubpath('noexports/resources/chat.mjs', packageWith('noexports', undefined))).toBe('noexports/resources/chat.mjs');
  });

  it('keeps relative, extensionless and package-root specifiers', () => {
    const file = packageWith('plain', { './*': './*.js' });
    expect(extensionlessSubpath('./local.js', file)).toBe('./local.js');
    expect(extensionlessSubpath('plain/resources/chat', file)).toBe('plain/resources/chat');
    expect(extensionlessSubpath('plain', file)).toBe('plain');
    expect(extensionlessSubpath('plain/resources/chat.mjs', undefined)).toBe('plain/resources/chat.mjs');
  });

  it("writes openai's deep imports without .mjs, as its exports map offers ./resources/*", () => {
    const file = path.resolve('node_modules/openai/resources/chat/completions/completions.d.mts');
    expect(extensionlessSubpath('openai/resources/chat/completions/completions.mjs', file)).toBe('openai/resources/chat/completions/completions');
  });
});

describe('isNamedByExports', () => {
  it('is true when an exports key of its own names the directory, with or without the extension', () => {
    const file = packageWith('libbed', { '.': './index.mjs', './lib/*': { import: './lib/*.mjs', require: './lib/*.js' } });
    expect(isNamedByExports('libbed/lib/agents/stream.mjs', file)).toBe(true);
    expect(isNamedByExports('libbed/lib/agents/stream', file)).toBe(true);
    expect(isNamedByExports('libbed/dist/agents/stream.mjs', file)).toBe(false);
  });

  it('is false for a catch-all ./* key, a blocked key, no exports map, or a package root', () => {
    expect(isNamedByExports('catchall/lib/x.mjs', packageWith('catchall', { './*': './*.mjs' }))).toBe(false);
    expect(isNamedByExports('nulled/lib/x.mjs', packageWith('nulled', { './lib/*': null }))).toBe(false);
    expect(isNamedByExports('bare/lib/x.mjs', packageWith('bare', undefined))).toBe(false);
    expect(isNamedByExports('rooted', packageWith('rooted', { '.': './index.mjs' }))).toBe(false);
  });

  it("accepts openai's lib/ types, as its exports map offers ./lib/*", () => {
    const file = path.resolve('node_modules/openai/lib/beta/agents/agent-session-create-stream.d.mts');
    expect(isNamedByExports('openai/lib/beta/agents/agent-session-create-stream.mjs', file)).toBe(true);
  });
});
