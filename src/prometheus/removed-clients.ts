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

/**
 * One pass over `map` against the clients now in the adapter's pools (`live`): an entry whose client is
 * absent is marked the first time, and deleted the next time once it has been exported (a scrape since
 * the mark). A sweep made between scrapes (`isScrape` false, to bound memory under churn) deletes marked
 * entries even if no scrape saw them: without scrapes nothing would read them anyway.
 * `scrapes` is the number of scrapes so far, this one not included.
 */
export function sweep<V extends ClientKeyed>(map: Map<string, V>, live: ReadonlySet<string>, isScrape: boolean, scrapes: number): void {
  for (const [key, entry] of map) {
    if (entry.client === undefined || live.has(entry.client)) {
      // A client removed and added again under its name carries on with its series.
      entry.goneAt = -1;
    } else if (entry.goneAt < 0) {
      entry.goneAt = scrapes;
    } else if (!isScrape || entry.goneAt < scrapes) {
      map.delete(key);
    }
  }
}
