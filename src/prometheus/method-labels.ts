/** The method label of calls past the `maxMethods` cap. */
export const OTHER_METHOD = 'other';

/**
 * Keeps the `method` label bounded. Every distinct label value is a time series per client in each
 * call metric, so a method name built from data (an ID in it) would grow Prometheus without limit.
 * The first `max` distinct methods keep their name; later ones are all recorded as `other`.
 */
export class MethodLabels {
  readonly #admitted = new Set<string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The label to record `method` under. Called only when a client sees a method for the first time. */
  label(method: string): string {
    if (this.#admitted.has(method)) return method;
    if (this.#admitted.size >= this.#max) return OTHER_METHOD;
    this.#admitted.add(method);
    return method;
  }
}
