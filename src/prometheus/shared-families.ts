import type { Metric, OpenMetricsContentType, Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { FAMILY_BRAND, HistogramFamily, isSharedFamily, type Labels, type SharedFamily } from './family.js';

/** A prom-client registry of either content type. */
export type AnyRegistry = Registry | Registry<OpenMetricsContentType>;

/** What the adapter was configured with, to name the option at fault when a family cannot be shared. */
interface Configured {
  readonly prefix: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The option that set each histogram's buckets, by its key in `wanted`. */
  readonly bucketOptions: Readonly<Record<string, string>>;
  /**
   * True for an export whose series are meant to add up with another's of equal labels (one Redis bucket
   * exported twice); otherwise an adapter whose constant label values equal those of one already feeding
   * a family is refused, as its series would merge with that adapter's.
   * @default false
   */
  readonly mergesEqualLabels?: boolean;
}

/**
 * Put `wanted` families on the registry, or join the ones already there. Two adapters (say, one per pool)
 * with the same prefix on one registry share each family and both feed it, their series told apart by
 * their constant labels; prom-client would otherwise throw "A metric with the name ... has already been
 * registered". Everything is checked before anything is registered, so a refusal leaves the registry as
 * it was. The adapter's constant labels are claimed on each family for the source it adds next (see
 * `Sources` in family.ts), and free again once that source is deleted (`unregister()`).
 *
 * @returns the families to feed, by the keys of `wanted`: either the new ones or those already there.
 * @throws InvalidOptionError when a name is taken by another kind of metric, or by clientpool metrics
 *   with other label names or buckets (the series could not be merged into one family), or (unless
 *   `mergesEqualLabels`) by an adapter with the same constant label values (the series would merge).
 */
export function registerFamilies<W extends Record<string, SharedFamily>>(registry: AnyRegistry, wanted: W, configured: Configured): W {
  const chosen = Object.fromEntries(Object.entries(wanted).map(([role, family]) => [role, choose(registry, family, configured, configured.bucketOptions[role] ?? 'buckets')])) as W;
  // After every other check, so that a family that could not be shared at all is named first.
  if (configured.mergesEqualLabels !== true) for (const family of Object.values(chosen)) refuseEqualLabels(family, configured);
  for (const family of Object.values(chosen)) {
    family.sources.claim(configured.labels);
    // prom-client's Registry takes any object with name, help, type and get() (lib/registry.js); its
    // types list only its own classes, hence the cast.
    if (registry.getSingleMetric(family.key) === undefined) registry.registerMetric(family as unknown as Metric);
  }
  return chosen;
}

/** The family to feed for `family`: itself if the name is free, or the compatible one already registered. */
function choose(registry: AnyRegistry, family: SharedFamily, configured: Configured, bucketOption: string): SharedFamily {
  const existing: unknown = registry.getSingleMetric(family.key);
  if (existing === undefined) return family;
  if (isOtherProtocol(existing)) {
    throw new InvalidOptionError(
      'prefix',
      `a prefix whose metric names are free on the registry (${family.key} is registered by another version of clientpool, whose metrics this one cannot share)`,
      configured.prefix,
    );
  }
  if (!isSharedFamily(existing) || existing.type !== family.type) {
    throw new InvalidOptionError(
      'prefix',
      `a prefix whose metric names are free on the registry (${family.key} is already registered by something other than clientpool)`,
      configured.prefix,
    );
  }
  if (!sameValues(existing.labelNames, family.labelNames)) {
    throw new InvalidOptionError(
      'labels',
      `the same label names as the clientpool metrics already on the registry with prefix "${configured.prefix}" (${existing.labelNames.join(', ')})`,
      configured.labels,
    );
  }
  // Same type (checked above): both are histograms or neither is.
  if (family instanceof HistogramFamily) {
    const bounds = (existing as HistogramFamily).bounds;
    if (!sameValues(bounds, family.bounds)) {
      throw new InvalidOptionError(bucketOption, `the same buckets as ${family.key} already on the registry (${bounds.join(', ')})`, family.bounds);
    }
  }
  return existing;
}

/** Refuse constant label values equal to those of an adapter feeding `family`: the series of both would merge. */
function refuseEqualLabels(family: SharedFamily, configured: Configured): void {
  for (const fed of family.sources.constantLabels()) {
    if (!sameLabels(fed, configured.labels)) continue;
    throw new InvalidOptionError(
      'labels',
      `values no other adapter with prefix "${configured.prefix}" on this registry has (one with ${describeLabels(fed)} already feeds ${family.key}, and the series of both would merge into one; give each pool its own value, e.g. labels: { pool: 'a' })`,
      configured.labels,
    );
  }
}

/** A family of a clientpool copy that speaks another version of the sharing protocol. */
function isOtherProtocol(metric: unknown): boolean {
  return typeof metric === 'object' && metric !== null && FAMILY_BRAND in metric && !isSharedFamily(metric);
}

/** Equal label sets: the same names with the same values (the order does not matter). */
function sameLabels(a: Labels, b: Labels): boolean {
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((name) => Object.hasOwn(b, name) && a[name] === b[name]);
}

/** `labels pool="x", region="eu"`, as the exposition prints them, or `no constant labels`. */
function describeLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? 'no constant labels' : `labels ${entries.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(', ')}`;
}

/** What releasing needs of a family: its registered name and who still feeds it. */
export interface FedFamily {
  readonly key: string;
  readonly sources: ReadonlySet<unknown>;
}

/** Take `families` off the registry once no adapter feeds them. */
export function releaseFamilies(registry: AnyRegistry, families: readonly FedFamily[]): void {
  for (const family of families) {
    if (family.sources.size === 0 && (registry.getSingleMetric(family.key) as unknown) === family) registry.removeSingleMetric(family.key);
  }
}

function sameValues(a: readonly (string | number)[], b: readonly (string | number)[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
