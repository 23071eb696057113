// The source is read as its own project compiles it: its tsconfig.json, its default exports.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CodegenError } from '../../src/codegen/errors.js';
import { generate } from '../../src/codegen/generate.js';

// A project of its own, outside the repository: the repository's tsconfig must not apply to it.
const dir = mkdtempSync(path.join(tmpdir(), 'clientpool-codegen-project-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(files: Readonly<Record<string, string>>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
}

write({
  'package.json': '{ "type": "module" }\n',
  'app/tsconfig.json': JSON.stringify({
    compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', experimentalDecorators: true, paths: { '@lib/*': ['./src/lib/*'] }, noEmit: true },
  }),
  'app/src/lib/types.ts': 'export interface Row { readonly id: number }\n',
  'app/src/db.ts': "import type { Row } from '@lib/types.js';\nexport class Db { async query(sql: string): Promise<Row[]> { return [{ id: sql.length }]; } }\n",
  'app/src/service.ts': [
    'function Inject(_token: string): ParameterDecorator { return () => {}; }',
    'export class Service {',
    "  constructor(@Inject('x') readonly x: string) {}",
    '  async get(key: string): Promise<string> { return key + this.x; }',
    '}',
    '',
  ].join('\n'),
  'plain/config/base.json': JSON.stringify({ compilerOptions: { strict: true, experimentalDecorators: true } }),
  'plain/service.ts': "function Inject(_token: string): ParameterDecorator { return () => {}; }\nexport class Service { constructor(@Inject('x') readonly x: string) {} async get(k: string): Promise<string> { return k; } }\n",
  'defaults/client.ts': 'export default class Client { async get(key: string): Promise<string> { return key; } }\n',
  'generic/store.ts': [
    "type Mode = 'legacy' | 'resp3';",
    'export class Store<M extends Mode = \'legacy\'> { readonly mode?: M; async get(key: string): Promise<string> { return key; } }',
    'export class Strict<M extends Mode> { readonly mode?: M; async get(key: string): Promise<string> { return key; } }',
    '',
  ].join('\n'),
  'defaults/anonymous.ts': 'export default class { async get(key: string): Promise<string> { return key; } }\n',
});

const base = { wrapper: 'Multi', importFrom: 'clientpool', cwd: dir } as const;

describe("the source's project", () => {
  it("reads the source with the nearest tsconfig.json's options: paths aliases and decorators", () => {
    const db = generate({ ...base, source: 'app/src/db.ts', type: 'Db', out: 'app/gen/db.ts' });
    expect(db.wrapped).toEqual(['query']);
    expect(db.code).toContain("import type { Row } from '../src/lib/types.js';");
    expect(generate({ ...base, source: 'app/src/service.ts', type: 'Service', out: 'app/gen/service.ts' }).wrapped).toEqual(['get']);
  });

  it('reads the tsconfig named by --tsconfig, and refuses a missing one', () => {
    const options = { ...base, source: 'plain/service.ts', type: 'Service', out: 'plain/gen/service.ts' };
    expect(() => generate(options)).toThrow(/TS1206|Decorators are not valid here|type error/);
    expect(generate({ ...options, tsconfig: 'plain/config/base.json' }).wrapped).toEqual(['get']);
    expect(() => generate({ ...options, tsconfig: 'plain/missing.json' })).toThrow(CodegenError);
  });
});

describe('default exports', () => {
  it('wraps `export default class Client` by its declared name, or by --type default', () => {
    for (const type of ['Client', 'default']) {
      const { code } = generate({ ...base, source: 'defaults/client.ts', type, out: 'defaults/gen/client.ts' });
      expect(code).toContain("import type { default as Client } from '../client.js';");
      expect(code).toContain('readonly pool: ClientPool<Client>;');
    }
  });

  it('names an anonymous default export after its file', () => {
    const { code } = generate({ ...base, source: 'defaults/anonymous.ts', type: 'default', out: 'defaults/gen/anonymous.ts' });
    expect(code).toContain("import type { default as Anonymous } from '../anonymous.js';");
  });
});

describe('class type parameters', () => {
  it("drops a type parameter whose constraint cannot be imported, the client type taking its default (ioredis 6's ReplyMapping)", () => {
    const { code } = generate({ ...base, source: 'generic/store.ts', type: 'Store', out: 'generic/gen/store.ts' });
    expect(code).toContain('export class Multi {');
    expect(code).toContain('readonly pool: ClientPool<Store>;');
    expect(code).not.toContain('Mode');
  });

  it('refuses such a type parameter without a default, naming it', () => {
    expect(() => generate({ ...base, source: 'generic/store.ts', type: 'Strict', out: 'generic/gen/strict.ts' })).toThrow(/type parameter M has no default/);
  });
});
