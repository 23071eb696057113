import type { ClientPool, RunOptions } from '../../../src/index.js';
import { settle, type Settled, type Watched, type Watchers } from '../../helpers/watched-pool.js';

export { inFlight, settle, shape, watchedPool, type AroundFn, type Settled, type Watched, type Watchers } from '../../helpers/watched-pool.js';
export { unhandledOverTurns as noUnhandled } from '../../helpers/unhandled.js';

export const NONE: Watchers = { around: false, onCallEnd: false, trace: false };

/** Every combination of the three watchers, unwatched first. */
export const ALL_WATCHERS: Watchers[] = [false, true].flatMap((around) => [false, true].flatMap((onCallEnd) => [false, true].map((trace) => ({ around, onCallEnd, trace }))));

export function watchName(w: Watchers): string {
  const parts = [w.around ? 'around' : '', w.onCallEnd ? 'onCallEnd' : '', w.trace ? 'trace' : ''].filter((p) => p !== '');
  return parts.length === 0 ? 'unwatched' : parts.join('+');
}


export function run(pool: ClientPool<string>, fn: unknown, options?: unknown): Promise<Settled> {
  return settle(pool.run(fn as (client: string) => string, options as RunOptions<string>));
}


/** Trace events of one kind. */
export function traced(w: Watched, kind: string): number {
  return w.trace.filter((t) => t.kind === kind).length;
}


/** Turns of the microtask queue. */
export async function ticks(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

/** A manual clock. */
export function manualClock(start = 0): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** A promise with its resolve and reject. */
export function deferred<V = undefined>(): { promise: Promise<V>; resolve: (v: V) => void; reject: (e: unknown) => void } {
  let resolve!: (v: V) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<V>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
