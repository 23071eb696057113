/**
 * What happens to the per-client series of a client removed from the pool:
 * - `'drop'`: they are exported at one more scrape (so the counts since the previous scrape are seen),
 *   then forgotten, and memory stays bounded however many clients come and go;
 * - `'keep'`: they stay until `unregister()`, as every series did before this option.
 */
export type RemovedClients = 'drop' | 'keep';

/** Entries smaller than this are never swept early: a sweep reads every member of every pool. */
export const MIN_SWEEP_INTERVAL = 64;

/** An entry of a map the sweep prunes: the client its series belong to, and when it was first seen gone. */
export interface ClientKeyed {
  /** The client the series belong to; undefined for series of no client (the pool-wide rate limit). */
  readonly client: string | undefined;
  /**
   * The scrape count when the client was first found absent, or -1 while it is in a pool or has had new
   * counts since (an attempt in flight when it was removed): such counts get their one more scrape too.
   */
  goneAt: number;
}

/** What one sweep may do. */
export interface SweepPass {
  /** The clients now in the adapter's pools. */
  readonly live: ReadonlySet<string>;
  /** The number of scrapes so far, this one not included. */
  readonly scrapes: number;
  /** Whether a scrape runs this sweep: what it marks is exported right after. */
  readonly isScrape: boolean;
  /**
   * Whether absent clients may be marked gone: not while a pool closes, since its clients have left
   * `members()` and cannot be told from removed ones.
   */
  readonly canMark: boolean;
  /**
   * Between scrapes, how many entries may wait marked for a scrape, over every map; an absent client
   * past it is deleted unseen (memory wins over showing it).
   */
  readonly maxWaiting: number;
}

/**
 * One pass over `maps`: an entry whose client is absent from `pass.live` is marked the first time, and
 * deleted once a scrape has exported it (a scrape since the mark). Between scrapes, marked entries wait
 * for that scrape, at most `pass.maxWaiting` of them: the ones marked first keep their place, later
 * ones are deleted at once. So memory stays bounded without scrapes, and a removed client is lost
 * unseen only when more clients left between two scrapes than the allowance.
 */
export function sweep(maps: readonly Map<string, ClientKeyed>[], pass: SweepPass): void {
  let waiting = 0;
  const absent: [Map<string, ClientKeyed>, string, ClientKeyed][] = [];
  for (const map of maps) {
    for (const [key, entry] of map) {
      if (entry.client === undefined || pass.live.has(entry.client)) {
        // A client removed and added again under its name carries on with its series.
        entry.goneAt = -1;
      } else if (entry.goneAt < 0) {
        if (pass.canMark) absent.push([map, key, entry]);
      } else if (entry.goneAt < pass.scrapes) {
        map.delete(key);
      } else {
        waiting++;
      }
    }
  }
  for (const [map, key, entry] of absent) {
    if (pass.isScrape || waiting < pass.maxWaiting) {
      entry.goneAt = pass.scrapes;
      waiting++;
    } else {
      map.delete(key);
    }
  }
}
