/**
 * What happens to the per-client series of a client removed from the pool:
 * - `'drop'`: they are exported at one more scrape (so the counts since the previous scrape are seen),
 *   kept for `removedClientsRetention` after the client was found gone, then forgotten, and memory
 *   stays bounded however many clients come and go;
 * - `'keep'`: they stay until `unregister()`, as every series did before this option.
 */
export type RemovedClients = 'drop' | 'keep';

/** Entries smaller than this are never swept early: a sweep reads every member of every pool. */
export const MIN_SWEEP_INTERVAL = 64;

/** How long a removed client's series stay after it was found gone, at least one scrape included: 5 minutes. */
export const DEFAULT_REMOVED_CLIENTS_RETENTION_MS = 5 * 60_000;

/** An entry of a map the sweep prunes: the client its series belong to, and when it was first seen gone. */
export interface ClientKeyed {
  /** The client the series belong to; undefined for series of no client (the pool-wide rate limit). */
  readonly client: string | undefined;
  /**
   * The scrape count when the client was first found absent, or -1 while it is in a pool or has had new
   * counts since (an attempt in flight when it was removed): such counts get their one more scrape too.
   */
  goneAt: number;
  /** When the client was found absent, in ms on the adapter's clock; read only while `goneAt >= 0`. */
  goneSince: number;
}

/** What one sweep may do. */
export interface SweepPass {
  /** The clients to keep as they are: those in the adapter's pools, and those a closing pool had. */
  readonly live: ReadonlySet<string>;
  /** The number of scrapes so far, this one not included. */
  readonly scrapes: number;
  /** Whether a scrape runs this sweep: what it marks is exported right after. */
  readonly isScrape: boolean;
  /** Now, in ms on the adapter's clock. */
  readonly now: number;
  /** How long, in ms, a removed client's series stay after it was found gone, once a scrape exported them. */
  readonly retention: number;
  /**
   * How many removed clients may keep their series between scrapes, over every map (a client counts
   * once however many entries it has); past it, the ones no scrape has exported yet come first.
   */
  readonly maxWaiting: number;
}

/** The entries of one absent client found by a sweep. */
interface Absent {
  readonly entries: [Map<string, ClientKeyed>, string, ClientKeyed][];
  /** Marked by an earlier sweep and not exported yet: it keeps its place. */
  isWaiting: boolean;
  /** Has an entry never marked: found gone now, or with new counts since it was. */
  isNew: boolean;
  /** When it was last found gone, for ordering the exported ones (newest kept first). */
  since: number;
}

/**
 * One pass over `maps`. A client absent from `pass.live` is marked gone the first time (`goneAt`,
 * `goneSince`); its entries are deleted once a scrape has exported them (a scrape since the mark) and
 * `pass.retention` ms have passed since the mark, so two scrapers (an HA pair, a health check on
 * `/metrics`) both see a removed client's last counts when they scrape within the retention.
 *
 * Memory stays bounded with or without scrapes: at most `pass.maxWaiting` absent clients keep their
 * entries between scrapes, counted per client, so a client's entries (calls, transitions, rate limits)
 * stay or go together. Within it, clients marked but not yet exported keep their place first, then
 * newly absent ones in the order met (the rest are deleted unseen: memory wins over showing them), then
 * exported ones waiting out the retention, the most recently gone first. A scrape marks every absent
 * client, as it exports them at once, even past the allowance: the caller must sweep again soon (every
 * client kept is then an exported one, which the next sweep trims to the allowance).
 *
 * @returns how many absent clients kept their entries (more than `pass.maxWaiting` only after a scrape,
 *   or when the allowance shrank below the clients marked and not yet exported).
 */
export function sweep(maps: readonly Map<string, ClientKeyed>[], pass: SweepPass): number {
  const absent = new Map<string, Absent>();
  for (const map of maps) {
    for (const [key, entry] of map) {
      const client = entry.client;
      if (client === undefined || pass.live.has(client)) {
        // A client removed and added again under its name carries on with its series.
        entry.goneAt = -1;
        continue;
      }
      const isMarked = entry.goneAt >= 0;
      if (isMarked && entry.goneAt < pass.scrapes && pass.now - entry.goneSince >= pass.retention) {
        map.delete(key);
        continue;
      }
      let found = absent.get(client);
      if (found === undefined) absent.set(client, (found = { entries: [], isWaiting: false, isNew: false, since: -Infinity }));
      found.entries.push([map, key, entry]);
      if (!isMarked) found.isNew = true;
      else {
        if (entry.goneAt >= pass.scrapes) found.isWaiting = true;
        found.since = Math.max(found.since, entry.goneSince);
      }
    }
  }
  const waiting: Absent[] = [];
  const fresh: Absent[] = [];
  const exported: Absent[] = [];
  for (const found of absent.values()) (found.isWaiting ? waiting : found.isNew ? fresh : exported).push(found);
  let kept = 0;
  for (const found of waiting) {
    mark(found, pass);
    kept++;
  }
  for (const found of fresh) {
    if (pass.isScrape || kept < pass.maxWaiting) {
      mark(found, pass);
      kept++;
    } else {
      drop(found);
    }
  }
  exported.sort((a, b) => b.since - a.since);
  for (const found of exported) {
    if (kept < pass.maxWaiting) kept++;
    else drop(found);
  }
  return kept;
}

/** Mark the entries of `found` never marked: they wait for the next scrape, from now. */
function mark(found: Absent, pass: SweepPass): void {
  for (const [, , entry] of found.entries) {
    if (entry.goneAt >= 0) continue;
    entry.goneAt = pass.scrapes;
    entry.goneSince = pass.now;
  }
}

function drop(found: Absent): void {
  for (const [map, key] of found.entries) map.delete(key);
}
