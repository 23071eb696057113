import { isClientPoolError } from '../errors.js';
import { Buckets } from './buckets.js';
import type { Labels } from './family.js';

/** The `code` label of a call that resolved. */
export const OK_CODE = 'OK';
/** The `code` label of a call that rejected with something that has no clientpool `code`, or past the cap. */
export const UNKNOWN_CODE = 'ERR_UNKNOWN';
/**
 * How many distinct error codes are kept. clientpool's own codes are a dozen; a user subclass of
 * `ClientPoolError` may add more, and a code built from data must not grow Prometheus without limit.
 */
export const MAX_CODES = 64;

/**
 * The codes the pool itself fails a call with, each exported at 0 in `calls_total` for every method
 * seen: Prometheus' `rate()` and `increase()` cannot see a series' first value, so without a series at
 * 0 the first calls to fail with a code would escape the error-ratio alert. Counter lines only, made at
 * scrape time: no histogram series and no map entry until a call really ends with the code.
 * `ERR_ABORTED` (the caller's own choice, which the alert leaves out) is not among them.
 */
export const ZERO_CODES: readonly string[] = Object.freeze(['ERR_ALL_CIRCUITS_OPEN', 'ERR_NO_CLIENTS', 'ERR_RATE_LIMITED', 'ERR_TIMEOUT', 'ERR_CLIENT_CALL']);
const ALWAYS_NAMED: ReadonlySet<string> = new Set(ZERO_CODES);

/** The calls of one method that ended with one code: `calls_total` is its `count`, `call_duration_seconds` the whole. */
export class CodeSeries {
  readonly labels: Labels;
  /** Whole-call durations in seconds; `count` is the number of calls. */
  readonly duration: Buckets;

  constructor(labels: Labels, bounds: readonly number[]) {
    this.labels = labels;
    this.duration = new Buckets(bounds);
  }
}

/**
 * The calls of one method, as callers saw them. Success, the common case, has its own field, so a call
 * that resolves costs one map lookup (the method's); one that rejects, a second (its code).
 */
export class MethodCalls {
  readonly ok: CodeSeries;
  readonly byCode = new Map<string, CodeSeries>();
  /** Calls answered without a journey of their own, by where the answer came from (`CallEnd.source`). */
  readonly reused = { shared: 0, cache: 0, stale: 0 };
  readonly #labels: Labels;
  readonly #bounds: readonly number[];

  /** `labels` holds `method` and the constant labels; `code` is added per series. */
  constructor(labels: Labels, bounds: readonly number[]) {
    this.#labels = labels;
    this.#bounds = bounds;
    // Made at once, so a method seen only failing still has its `code="OK"` series (at 0) for error ratios.
    this.ok = this.#series(OK_CODE);
  }

  /**
   * The series of a call that rejected with `code` (its error's raw code, see {@link codeOf}): one
   * lookup once the code is known; a code past the cap is not a key, so it cannot grow the map.
   */
  failed(code: string, codes: CodeLabels): CodeSeries {
    const known = this.byCode.get(code);
    if (known !== undefined) return known;
    const label = codes.label(code);
    let series = this.byCode.get(label);
    if (series === undefined) this.byCode.set(label, (series = this.#series(label)));
    return series;
  }

  /** The labels of this method's series for `code`, shaped as its own series' (`method`, `code`, constant labels). */
  labelsOf(code: string): Labels {
    const { method, ...constant } = this.#labels;
    return { method: method!, code, ...constant };
  }

  /** The labels of this method's `calls_reused_total` series for `source`. */
  sourceLabels(source: string): Labels {
    const { method, ...constant } = this.#labels;
    return { method: method!, source, ...constant };
  }

  *all(): Generator<CodeSeries> {
    yield this.ok;
    yield* this.byCode.values();
  }

  #series(code: string): CodeSeries {
    return new CodeSeries(this.labelsOf(code), this.#bounds);
  }
}

/**
 * What a code must look like to be a label value as it is (clientpool's are `ERR_` and capitals): a code
 * built from data (a 100 KB string, a URL) would make every line of `/metrics` that long.
 */
const CODE_SHAPE = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

/** The raw `code` of what a call rejected with: a clientpool error's, else {@link UNKNOWN_CODE}. Never throws. */
export function codeOf(error: unknown): string {
  try {
    const code = isClientPoolError(error) ? error.code : undefined;
    return typeof code === 'string' && code !== OK_CODE && CODE_SHAPE.test(code) ? code : UNKNOWN_CODE;
  } catch {
    // A getter on a user subclass that throws: the call failed all the same.
    return UNKNOWN_CODE;
  }
}

/**
 * Keeps the `code` label bounded: the first {@link MAX_CODES} distinct codes keep their name, later ones
 * are `ERR_UNKNOWN`. The {@link ZERO_CODES} always keep theirs, matching the series exported at 0.
 */
export class CodeLabels {
  readonly #admitted = new Set<string>();

  /** The label to record `code` under. Called only when a method sees a code for the first time. */
  label(code: string): string {
    if (code === UNKNOWN_CODE || ALWAYS_NAMED.has(code) || this.#admitted.has(code)) return code;
    if (this.#admitted.size >= MAX_CODES) return UNKNOWN_CODE;
    this.#admitted.add(code);
    return code;
  }
}
