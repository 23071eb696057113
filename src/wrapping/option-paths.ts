import { InvalidOptionError } from '../errors.js';
import { BUILT_IN_NAMES, isResource } from './member-kind.js';
import type { MethodFilter } from './method-filter.js';

/**
 * The checks on the method paths that key a proxy's `methods` and `signal` options. What the options
 * alone tell is checked at `pool.proxy()`: the path's shape, and that the proxy does not leave the
 * method out. Whether the client has a method there needs a client: checked on one as soon as the pool
 * has one (at `pool.proxy()`, or at the first call).
 */

/** An option keyed by a method path, and the path split into its steps. */
export interface OptionPath {
  /** The option naming the path, for errors: `proxy options.methods.chat.completions.create`. */
  readonly option: string;
  readonly path: string;
  readonly steps: readonly string[];
}

/**
 * Check the shape of `path` (dotted, no empty step) and that `filter` keeps the method there.
 * @throws InvalidOptionError naming `option`, with the path as the value.
 */
export function optionPath(option: string, path: string, filter: MethodFilter): OptionPath {
  const steps = path.split('.');
  if (steps.some((step) => step === '')) throw new InvalidOptionError(option, 'keyed by the dotted path of a method (`get`, `chat.completions.create`)', path);
  for (let i = 0; i < steps.length; i++) {
    const name = steps[i]!;
    const dotted = steps.slice(0, i + 1).join('.');
    const isLast = i === steps.length - 1;
    if (name === 'then') throw new InvalidOptionError(option, 'keyed by the path of a proxied method (`then` is never proxied: a proxy is not a promise)', path);
    if (BUILT_IN_NAMES.has(name) && !filter.includesLiterally(name, dotted)) {
      throw new InvalidOptionError(option, `keyed by the path of a proxied method (${name} is the proxy's own unless included by name: include: ['${name}'])`, path);
    }
    const reason = filter.reason(name, dotted, isLast);
    if (reason !== undefined) {
      const fix = reason === 'excluded' ? 'drop it from exclude' : `include it: include: ['${name}']`;
      throw new InvalidOptionError(option, `keyed by the path of a proxied method (${dotted} is left out: ${reason}; ${fix})`, path);
    }
  }
  return { option, path, steps };
}

/**
 * Check that some client of `clients` has a method at each path, under resources holding methods: what
 * the proxy finds there too. A getter that throws counts as no method.
 * @throws InvalidOptionError for the first path that names no method of any client, saying what the
 * first client has there.
 */
export function checkPathsOn(clients: Iterable<unknown>, paths: readonly OptionPath[]): void {
  for (const path of paths) {
    let problem: string | undefined;
    let isFound = false;
    for (const client of clients) {
      const found = problemAt(client, path.steps);
      if (found === undefined) {
        isFound = true;
        break;
      }
      problem ??= found;
    }
    if (!isFound && problem !== undefined) {
      throw new InvalidOptionError(path.option, `keyed by the dotted path of a method of the client (${problem}: misspelt?)`, path.path);
    }
  }
}

/** What is wrong with `steps` as a method path of `client`, or undefined when there is a method there. */
function problemAt(client: unknown, steps: readonly string[]): string | undefined {
  let owner = client;
  for (let i = 0; i < steps.length; i++) {
    let value: unknown;
    try {
      value = (owner as Record<string, unknown>)[steps[i]!];
    } catch {
      value = undefined;
    }
    const isLast = i === steps.length - 1;
    if (isLast ? typeof value !== 'function' : !isResource(value)) {
      return `${steps.slice(0, i + 1).join('.')} ${isLast ? 'is not a method of the client' : 'is not a resource holding methods'}`;
    }
    owner = value;
  }
  return undefined;
}
