import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importableSpecifiers, packageName } from '../../src/codegen/dependencies.js';

const project = mkdtempSync(path.join(tmpdir(), 'clientpool-codegen-deps-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));
writeFileSync(
  path.join(project, 'package.json'),
  JSON.stringify({ name: 'my-app', dependencies: { pg: '^8' }, devDependencies: { '@aws-sdk/client-s3': '^3' }, peerDependencies: { viem: '^2' } }),
);
mkdirSync(path.join(project, 'src', 'generated'), { recursive: true });

describe('importableSpecifiers', () => {
  const importable = importableSpecifiers(path.join(project, 'src', 'generated'));

  it.each([
    ['a relative path', '../rpc.js', true],
    ['a Node built-in', 'node:events', true],
    ['a bare Node built-in', 'events', true],
    ['a dependency', 'pg', true],
    ['a dev dependency with a scope', '@aws-sdk/client-s3', true],
    ['a peer dependency subpath', 'viem/chains', true],
    ['the project itself', 'my-app', true],
    ['a package only a dependency depends on', 'pg-protocol/dist/messages', false],
    ['a scoped package only a dependency depends on', '@smithy/types', false],
    ['a build directory inside a dependency', 'pg/lib/client', false],
    ['a path into node_modules', '../../node_modules/pg/lib/index.js', false],
    ['an absolute path', '/usr/lib/x.js', false],
  ])('%s: %s -> %s', (_, specifier, expected) => {
    expect(importable(specifier)).toBe(expected);
  });

  it('allows a build directory that the package names in its exports map, given the file it resolves to', () => {
    const pg = path.join(project, 'node_modules', 'pg');
    mkdirSync(path.join(pg, 'lib'), { recursive: true });
    writeFileSync(path.join(pg, 'package.json'), JSON.stringify({ name: 'pg', exports: { '.': './lib/index.js', './lib/*': './lib/*.js' } }));
    const declaration = path.join(pg, 'lib', 'client.d.ts');
    expect(importable('pg/lib/client', declaration)).toBe(true);
    expect(importable('pg/lib/client')).toBe(false);
    expect(importable('pg/dist/client', declaration)).toBe(false);
    expect(importable('pg-protocol/lib/client', declaration)).toBe(false);
  });

  it('allows every package that resolves when there is no package.json above cwd', () => {
    expect(importableSpecifiers(path.parse(project).root)('@smithy/types')).toBe(true);
  });

  it('splits package names from subpaths', () => {
    expect(packageName('@scope/name/sub/path')).toBe('@scope/name');
    expect(packageName('name/sub')).toBe('name');
  });
});
