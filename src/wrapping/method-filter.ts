import { InvalidOptionError } from '../errors.js';
import { defaultExclusionReason } from './default-exclusions.js';
import type { ExclusionReason } from './excluded-method-error.js';
import { globRegExp, isGlob } from './glob.js';

/**
 * Which members a wrapper leaves out, decided by name (`quit`, anywhere), dotted path
 * (`chat.completions.create`, that one) or glob (`flush*`, `chat.**`; see `globRegExp`), each matched
 * against both the name and the path: `exclude` wins, then `include`, then the default exclusions.
 */
export class MethodFilter {
  readonly #include: readonly RegExp[];
  readonly #exclude: readonly RegExp[];
  /** The include entries without a wildcard: only these bring back a built-in member (`toString`). */
  readonly #literalInclude: ReadonlySet<string>;

  constructor(include: unknown, exclude: unknown) {
    const included = names('include', include);
    this.#include = included.map(globRegExp);
    this.#exclude = names('exclude', exclude).map(globRegExp);
    this.#literalInclude = new Set(included.filter((name) => !isGlob(name)));
  }

  /** Why member `name` at `path` is left out, or undefined when it is wrapped. */
  reason(name: string, path: string, isMethod: boolean): ExclusionReason | undefined {
    if (matchesAny(this.#exclude, name, path)) return 'excluded';
    if (!isMethod || matchesAny(this.#include, name, path)) return undefined;
    return defaultExclusionReason(name);
  }

  /** Whether `include` names member `name` at `path` without a wildcard. */
  includesLiterally(name: string, path: string): boolean {
    return this.#literalInclude.has(name) || this.#literalInclude.has(path);
  }
}

function matchesAny(patterns: readonly RegExp[], name: string, path: string): boolean {
  return patterns.some((pattern) => pattern.test(name) || pattern.test(path));
}

function names(option: string, value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidOptionError(`proxy options.${option}`, 'an array of method names, dotted paths or globs', value);
  for (const [index, name] of (value as unknown[]).entries()) {
    if (typeof name !== 'string' || name === '') throw new InvalidOptionError(`proxy options.${option}[${index}]`, 'a method name, dotted path or glob', name);
    if (option === 'include' && name.split('.').includes('then')) {
      throw new InvalidOptionError(`proxy options.include[${index}]`, 'a method name, dotted path or glob other than then (never proxied: a proxy is not a promise)', name);
    }
  }
  return value as string[];
}
