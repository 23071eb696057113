import { defaultExclusionReason } from '../wrapping/default-exclusions.js';
import { globRegExp, isGlob } from '../wrapping/glob.js';
import { CodegenError } from './errors.js';

/**
 * Why a method or resource of the client is not in the wrapper. The first three come from the default
 * lists in `src/wrapping/default-exclusions.ts`; `callback style` means every signature takes a callback.
 */
export type SkipReason =
  | 'lifecycle'
  | 'event emitter'
  | 'stream or connection state'
  | 'returns a stream or event source'
  | 'callback style'
  | 'excluded by --exclude'
  | 'not in --include'
  | 'name taken by the wrapper'
  | 'types the output cannot import';

/** The user's choice of what to wrap: `--include` and `--exclude` patterns. */
export interface Selection {
  readonly include: readonly Pattern[];
  readonly exclude: readonly Pattern[];
}

/** One `--include`/`--exclude` pattern, compiled. */
export interface Pattern {
  readonly source: string;
  /** True when the pattern has no wildcard: it names a method, which then overrides the default lists. */
  readonly literal: boolean;
  /** Matched against the last segment (`get`) when the pattern has no `.`, else the whole path (`chat.completions.create`). */
  readonly byName: boolean;
  readonly regex: RegExp;
}

/**
 * Compile `--include`/`--exclude` patterns: `*` matches within one path segment, `**` across segments,
 * `?` one character. `get*` matches `get` and `getBuffer` at any depth; `chat.**` everything under `chat`.
 * @throws {CodegenError} `ERR_CODEGEN_INVALID_OPTION` for an empty pattern or one with an empty segment.
 */
export function compilePatterns(flag: string, patterns: readonly string[]): Pattern[] {
  return patterns.map((source) => {
    if (source.length === 0 || source.split('.').some((segment) => segment.length === 0)) {
      throw new CodegenError('ERR_CODEGEN_INVALID_OPTION', `${flag} patterns must be names or dotted paths, got '${source}'`);
    }
    return { source, literal: !isGlob(source), byName: !source.includes('.'), regex: globRegExp(source) };
  });
}

/** Whether `pattern` matches the method or resource at `path`. */
export function matches(pattern: Pattern, path: readonly string[]): boolean {
  return pattern.regex.test(pattern.byName ? (path.at(-1) ?? '') : path.join('.'));
}

/**
 * Whether the method at `path` is wrapped, or why not. `--exclude` always wins; with `--include`, only
 * matching methods are wrapped; a method on a default list (lifecycle, events, streams) or one found to be
 * event-emitter or stream-like (`inferred`) is wrapped only when an `--include` pattern names it literally.
 */
export function selectMethod(path: readonly string[], selection: Selection, inferred?: SkipReason): SkipReason | undefined {
  if (selection.exclude.some((pattern) => matches(pattern, path))) return 'excluded by --exclude';
  const included = selection.include.filter((pattern) => matches(pattern, path));
  if (selection.include.length > 0 && included.length === 0) return 'not in --include';
  if (included.some((pattern) => pattern.literal)) return undefined;
  return defaultExclusionReason(path.at(-1) ?? '') ?? inferred;
}

/** Whether the nested resource at `path` is explored: only `--exclude` can leave a whole resource out. */
export function selectResource(path: readonly string[], selection: Selection): SkipReason | undefined {
  return selection.exclude.some((pattern) => matches(pattern, path)) ? 'excluded by --exclude' : undefined;
}
