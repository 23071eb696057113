import type * as ts from 'typescript';
import { quote } from './names.js';

/**
 * The `import type` statements of the generated file. Every named type gets one local name: the
 * same symbol reached through two paths (`import("ioredis").default` and `.Redis`) shares it, and a
 * name already taken (a global, another module's type, a type parameter) gets a numbered alias.
 */
export class ImportSet {
  readonly #bySpecifier = new Map<string, Map<string, string>>();
  readonly #byKey = new Map<string, string>();
  readonly #bySymbol = new Map<ts.Symbol, string>();
  readonly #taken = new Set<string>();
  readonly #locals = new Set<string>();
  readonly #isFree: (name: string) => boolean;

  /** @param isFree False for names that would shadow something the output uses, such as globals. */
  constructor(isFree: (name: string) => boolean) {
    this.#isFree = isFree;
  }

  /** Keep `name` for something other than an import (the wrapper class, type parameters). */
  reserve(name: string): void {
    this.#taken.add(name);
  }

  /** True when `name` is neither taken nor shadowing anything, so a class may be declared with it. */
  isFree(name: string): boolean {
    return !this.#taken.has(name) && this.#isFree(name);
  }

  /** True when `name` is the local name of an import. */
  isLocal(name: string): boolean {
    return this.#locals.has(name);
  }

  /**
   * The local name for export `exportName` of `specifier`, importing it on first use.
   * @param target The symbol the export resolves to, when known, to share one name per symbol.
   * @param preferred The name to use when free; defaults to `exportName`.
   */
  add(specifier: string, exportName: string, target?: ts.Symbol, preferred: string = exportName): string {
    const key = `${specifier}\0${exportName}`;
    const known = this.#byKey.get(key) ?? (target && this.#bySymbol.get(target));
    if (known !== undefined) {
      this.#byKey.set(key, known);
      return known;
    }
    let local = preferred;
    for (let n = 2; this.#taken.has(local) || !this.#isFree(local); n++) local = `${preferred}${n}`;
    this.#taken.add(local);
    this.#locals.add(local);
    this.#byKey.set(key, local);
    if (target !== undefined) this.#bySymbol.set(target, local);
    let names = this.#bySpecifier.get(specifier);
    if (names === undefined) {
      names = new Map();
      this.#bySpecifier.set(specifier, names);
    }
    names.set(exportName, local);
    return local;
  }

  /**
   * The import statements for the locals in `used`: packages before relative paths, each sorted,
   * long lists one name a line.
   */
  render(used: ReadonlySet<string>): string {
    const specifiers = [...this.#bySpecifier.keys()].sort(
      (a, b) => Number(isRelative(a)) - Number(isRelative(b)) || compare(a, b),
    );
    return specifiers
      .flatMap((specifier) => {
        const names = [...(this.#bySpecifier.get(specifier) ?? [])]
          .filter(([, local]) => used.has(local))
          .sort(([a], [b]) => compare(a.toLowerCase(), b.toLowerCase()) || compare(a, b))
          .map(([exported, local]) => (exported === local ? local : `${exported} as ${local}`));
        if (names.length === 0) return [];
        // Quoted and escaped: a specifier comes from flags and file names, and must not end the string.
        const from = quote(specifier);
        const line = `import type { ${names.join(', ')} } from ${from};`;
        return line.length <= 100 ? line : `import type {\n${names.map((name) => `  ${name},\n`).join('')}} from ${from};`;
      })
      .join('\n');
  }
}

function isRelative(specifier: string): boolean {
  return specifier.startsWith('.');
}

/** Code-point order: unlike `localeCompare`, the same on every machine. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
