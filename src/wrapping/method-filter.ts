import { InvalidOptionError } from '../errors.js';
import { defaultExclusionReason } from './default-exclusions.js';
import type { ExclusionReason } from './excluded-method-error.js';

/**
 * Which members a wrapper leaves out, decided by name (`quit`, anywhere) or dotted path
 * (`chat.completions.create`, that one): `exclude` wins, then `include`, then the default exclusions.
 */
export class MethodFilter {
  readonly #include: ReadonlySet<string>;
  readonly #exclude: ReadonlySet<string>;

  constructor(include: unknown, exclude: unknown) {
    this.#include = names('include', include);
    this.#exclude = names('exclude', exclude);
  }

  /** Why member `name` at `path` is left out, or undefined when it is wrapped. */
  reason(name: string, path: string, isMethod: boolean): ExclusionReason | undefined {
    if (this.#exclude.size > 0 && (this.#exclude.has(name) || this.#exclude.has(path))) return 'excluded';
    if (!isMethod || this.#include.has(name) || this.#include.has(path)) return undefined;
    return defaultExclusionReason(name);
  }
}

function names(option: string, value: unknown): ReadonlySet<string> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) throw new InvalidOptionError(`proxy options.${option}`, 'an array of method names or dotted paths', value);
  for (const [index, name] of (value as unknown[]).entries()) {
    if (typeof name !== 'string' || name === '') throw new InvalidOptionError(`proxy options.${option}[${index}]`, 'a method name or dotted path', name);
  }
  return new Set(value as string[]);
}
