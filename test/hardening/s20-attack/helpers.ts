import type { PoolOptions, RunOptions } from '../../../src/index.js';
import { settle, watchedPool as watched, type AroundFn, type Settled, type Watched as Shared } from '../../helpers/watched-pool.js';

export { inFlight, settle, shape as describe_, type Settled } from '../../helpers/watched-pool.js';
export { unhandledOverTurns as noUnhandled } from '../../helpers/unhandled.js';

export type Watch = 'nothing' | 'around' | 'onCallEnd' | 'trace' | 'all';
export const WATCHED: Watch[] = ['around', 'onCallEnd', 'trace', 'all'];

export interface Watched extends Shared {
  readonly fnRuns: { n: number };
}

/** A pool of clients 'a' and 'b', watched as `watch` says (test/helpers/watched-pool.ts). */
export function watchedPool(watch: Watch, options: PoolOptions<string> = {}, clients: string[] = ['a', 'b'], around?: AroundFn): Watched {
  const w = watched({ around: watch === 'around' || watch === 'all', onCallEnd: watch === 'onCallEnd' || watch === 'all', trace: watch === 'trace' || watch === 'all' }, options, clients, around);
  return { ...w, fnRuns: { n: 0 } };
}


export function runWith(w: Watched, options: unknown, fn?: unknown): Promise<Settled> {
  const f = fn ?? ((client: string) => {
    w.fnRuns.n++;
    return client;
  });
  return settle(w.pool.run(f as (client: string) => string, options as RunOptions<string>));
}


