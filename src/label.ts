/**
 * How a wrapper method is labelled in `pool.run(fn, { method })`: `snake` turns `getSlot` into
 * `get_slot` (the Go generator's labels, so dashboards keep working), `as-is` keeps `getSlot`.
 */
export type LabelStyle = 'snake' | 'as-is';

/** The label styles, for validating user input. */
export const LABEL_STYLES: readonly LabelStyle[] = ['snake', 'as-is'];

/**
 * `getSlot` → `get_slot`, `getHTTPResponse` → `get_http_response`, `sha256Sum` → `sha256_sum`.
 * Runs of capitals stay one word, so acronyms do not explode into letters.
 */
export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** The label of method `name` in the given style. */
export function methodLabel(name: string, style: LabelStyle): string {
  return style === 'snake' ? toSnakeCase(name) : name;
}
