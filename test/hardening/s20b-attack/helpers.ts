import { tracingChannel } from 'node:diagnostics_channel';
import { ClientPool, type CallEnd, type CallMessage, type CallScope, type PoolOptions, type RunOptions } from '../../../src/index.js';

/** Which watchers a pool has: an around hook (passes through), an onCallEnd hook, a `clientpool:call` trace subscriber. */
export interface Watchers {
  readonly around: boolean;
  readonly onCallEnd: boolean;
  readonly trace: boolean;
}

export const NONE: Watchers = { around: false, onCallEnd: false, trace: false };

/** Every combination of the three watchers, unwatched first. */
export const ALL_WATCHERS: Watchers[] = [false, true].flatMap((around) => [false, true].flatMap((onCallEnd) => [false, true].map((trace) => ({ around, onCallEnd, trace }))));

export function watchName(w: Watchers): string {
  const parts = [w.around ? 'around' : '', w.onCallEnd ? 'onCallEnd' : '', w.trace ? 'trace' : ''].filter((p) => p !== '');
  return parts.length === 0 ? 'unwatched' : parts.join('+');
}

const channel = tracingChannel('clientpool:call');

export type AroundFn = (scope: CallScope<string>, next: () => Promise<unknown>) => Promise<unknown>;

export interface Watched {
  readonly pool: ClientPool<string>;
  readonly scopes: CallScope<string>[];
  readonly ends: CallEnd<string>[];
  readonly trace: { kind: string; message: CallMessage }[];
  readonly done: () => Promise<void>;
  readonly untrace: () => void;
}

export function watchedPool(w: Watchers, options: PoolOptions<string> = {}, clients: string[] = ['a', 'b'], around?: AroundFn): Watched {
  const pool = new ClientPool<string>(options);
  const scopes: CallScope<string>[] = [];
  const ends: CallEnd<string>[] = [];
  const trace: { kind: string; message: CallMessage }[] = [];
  if (w.around) {
    pool.use({
      name: 'around',
      around: (scope, next) => {
        scopes.push(scope);
        return around === undefined ? next() : around(scope, next);
      },
    });
  }
  if (w.onCallEnd) pool.use({ name: 'ends', onCallEnd: (end) => void ends.push(end) });
  const keep = (kind: string) => (message: unknown): void => {
    if ((message as CallMessage).pool === pool) trace.push({ kind, message: message as CallMessage });
  };
  const subscribers = { start: keep('start'), end: keep('end'), asyncStart: keep('asyncStart'), asyncEnd: keep('asyncEnd'), error: keep('error') };
  let traced = w.trace;
  if (traced) channel.subscribe(subscribers);
  const untrace = (): void => {
    if (traced) channel.unsubscribe(subscribers);
    traced = false;
  };
  for (const client of clients) pool.add(client, { name: client });
  return {
    pool,
    scopes,
    ends,
    trace,
    untrace,
    done: async () => {
      untrace();
      if (!pool.isClosed) await pool.close();
    },
  };
}

export interface Settled {
  readonly ok: boolean;
  readonly value: unknown;
}

export function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then((value) => ({ ok: true, value }), (value: unknown) => ({ ok: false, value }));
}

/** What a caller can compare of an outcome: resolved value, or error class, code, message, option. */
export function shape(s: Settled): unknown {
  if (s.ok) return { resolved: s.value };
  const e = s.value as { constructor?: { name?: string }; code?: unknown; message?: unknown; option?: unknown };
  return { rejected: e?.constructor?.name, code: e?.code, message: e?.message, option: e?.option };
}

export function run(pool: ClientPool<string>, fn: unknown, options?: unknown): Promise<Settled> {
  return settle(pool.run(fn as (client: string) => string, options as RunOptions<string>));
}

export function inFlight(pool: ClientPool<string>): number {
  return pool.members().reduce((sum, m) => sum + m.inFlight, 0);
}

/** Trace events of one kind. */
export function traced(w: Watched, kind: string): number {
  return w.trace.filter((t) => t.kind === kind).length;
}

/** Collect unhandled rejections while `body` runs (and a few turns after). */
export async function noUnhandled(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const on = (reason: unknown): void => void seen.push(reason);
  process.on('unhandledRejection', on);
  try {
    await body();
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  } finally {
    process.off('unhandledRejection', on);
  }
  return seen;
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
