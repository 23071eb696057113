import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';
import { isNamedByExports, packageName } from './export-subpath.js';

export { packageName } from './export-subpath.js';

/**
 * Which module specifiers the generated file may import from: relative paths, Node's built-in
 * modules, and packages the project declares in the nearest `package.json` above `cwd` (any kind of
 * dependency, or the package itself). A type reached through a package the project does not depend
 * on (`pg-protocol/dist/messages`, `@smithy/types`) would break when that package moves or is
 * hoisted differently, so the generator names it through the client type instead. A subpath into a
 * build directory (`pg/lib/client`) is not allowed either, unless the package's `exports` map names
 * that directory (openai's `./lib/*`); `declarationFile`, a file the specifier resolves to, finds the map.
 * Without a `package.json`, every package that resolves is allowed.
 */
export function importableSpecifiers(cwd: string): (specifier: string, declarationFile?: string) => boolean {
  const declared = declaredPackages(cwd);
  return (specifier, declarationFile) => {
    if (path.isAbsolute(specifier) || specifier.includes('node_modules/')) return false;
    if (specifier.startsWith('.') || isBuiltin(specifier)) return true;
    if (declared === undefined) return true;
    const name = packageName(specifier);
    // A subpath into a build directory is an implementation detail even of a declared package, unless
    // the package exports it by name.
    if (!declared.has(name)) return false;
    const buildDirectory = /\/(dist|lib|build|_types|src)\//.test(`${specifier.slice(name.length)}/`);
    return !buildDirectory || (declarationFile !== undefined && isNamedByExports(specifier, declarationFile));
  };
}


function declaredPackages(cwd: string): Set<string> | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const manifest = readJson(path.join(dir, 'package.json'));
    if (manifest !== undefined) {
      const names = new Set<string>();
      if (typeof manifest['name'] === 'string') names.add(manifest['name']);
      for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
        const entries = manifest[field];
        if (typeof entries === 'object' && entries !== null) for (const name of Object.keys(entries)) names.add(name);
      }
      return names;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function readJson(file: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
