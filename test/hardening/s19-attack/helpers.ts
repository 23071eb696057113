import type { PoolOptions } from '../../../src/index.js';
import { watchedPool as watched, type Watched } from '../../helpers/watched-pool.js';

export { settle, type TraceEvent, type Watched } from '../../helpers/watched-pool.js';

export type Watch = 'nothing' | 'onCallEnd' | 'around' | 'trace' | 'all';
export const WATCHES: Watch[] = ['nothing', 'onCallEnd', 'around', 'trace', 'all'];
export const WATCHED: Watch[] = ['onCallEnd', 'around', 'trace', 'all'];

/** A pool with clients `a` (and `b`), watched as `watch` says (test/helpers/watched-pool.ts). */
export function watchedPool(watch: Watch, options: PoolOptions<string> = {}, clients = ['a', 'b']): Watched {
  return watched({ around: watch === 'around' || watch === 'all', onCallEnd: watch === 'onCallEnd' || watch === 'all', trace: watch === 'trace' || watch === 'all' }, options, clients);
}

/** Options whose `key` getter throws on read number `n` (1-based) and counts every read. */
export function throwsOnRead(key: string, n: number, value: unknown, base: Record<string, unknown> = {}): { options: object; reads: () => number; thrown: Error } {
  let reads = 0;
  const thrown = new Error(`read ${n} of ${key} fails`);
  const options = { ...base };
  Object.defineProperty(options, key, {
    enumerable: true,
    get() {
      reads++;
      if (reads === n) throw thrown;
      return value;
    },
  });
  return { options, reads: () => reads, thrown };
}
