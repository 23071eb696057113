import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * `specifier` without its `.mjs`/`.js`/`.cjs` extension (`openai/resources/chat/completions.mjs` ->
 * `openai/resources/chat/completions`) when the package's `exports` map offers that subpath, exactly
 * or through a `*` pattern (`./resources/*`): such a subpath resolves under both `import` and
 * `require`, where the `.mjs` one breaks CommonJS consumers. Otherwise `specifier` unchanged.
 * @param declarationFile A file of the package the specifier resolves to, to find its `package.json` from.
 */
export function extensionlessSubpath(specifier: string, declarationFile: string | undefined): string {
  if (declarationFile === undefined || specifier.startsWith('.') || path.isAbsolute(specifier)) return specifier;
  const match = /\.[cm]?js$/.exec(specifier);
  const name = packageName(specifier);
  if (match === null || specifier.length <= name.length) return specifier;
  const exports = packageExports(declarationFile, name);
  if (exports === undefined) return specifier;
  const bare = specifier.slice(0, match.index);
  const subpath = `.${bare.slice(name.length)}`;
  const offered = Object.entries(exports).some(([key, target]) => target !== null && matches(key, subpath));
  return offered ? bare : specifier;
}

/** `@scope/name` or `name`, without a subpath. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/**
 * True when the package's `exports` map names the directory of `specifier` in a key of its own
 * (openai's `./lib/*` covers `openai/lib/beta/agents/agent-session-create-stream.mjs`): the author
 * made that subpath public, so a `lib/` or `dist/` in it is no sign of a build detail. A catch-all
 * `./*` does not count.
 * @param declarationFile A file of the package the specifier resolves to, to find its `package.json` from.
 */
export function isNamedByExports(specifier: string, declarationFile: string): boolean {
  const name = packageName(specifier);
  if (specifier.startsWith('.') || path.isAbsolute(specifier) || specifier.length <= name.length) return false;
  const exports = packageExports(declarationFile, name);
  if (exports === undefined) return false;
  const subpath = `.${specifier.slice(name.length)}`;
  const bare = subpath.replace(/\.[cm]?js$/, '');
  return Object.entries(exports).some(([key, target]) => target !== null && key !== './*' && (matches(key, subpath) || matches(key, bare)));
}

/** True when an `exports` key (`./x`, `./resources/*`) covers `subpath` (`./resources/chat`). */
function matches(key: string, subpath: string): boolean {
  const star = key.indexOf('*');
  if (star < 0) return key === subpath;
  const prefix = key.slice(0, star);
  const suffix = key.slice(star + 1);
  return subpath.length > prefix.length + suffix.length && subpath.startsWith(prefix) && subpath.endsWith(suffix);
}

/** The subpath `exports` object of package `name`, from the nearest `package.json` of that name above `file`. */
function packageExports(file: string, name: string): Record<string, unknown> | undefined {
  for (let dir = path.dirname(file); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (typeof manifest !== 'object' || manifest === null || (manifest as { name?: unknown }).name !== name) continue;
    const exports = (manifest as { exports?: unknown }).exports;
    // Only an object of subpaths (keys starting with '.') can offer one.
    if (typeof exports !== 'object' || exports === null || Array.isArray(exports)) return undefined;
    return Object.keys(exports).every((key) => key.startsWith('.')) ? (exports as Record<string, unknown>) : undefined;
  }
  return undefined;
}
