import { tracingChannel } from 'node:diagnostics_channel';
import { ClientPool, type CallEnd, type CallMessage, type CallScope, type PoolOptions, type RunOptions } from '../../../src/index.js';

export type Watch = 'nothing' | 'around' | 'onCallEnd' | 'trace' | 'all';
export const WATCHED: Watch[] = ['around', 'onCallEnd', 'trace', 'all'];

const channel = tracingChannel('clientpool:call');

export interface Watched {
  readonly pool: ClientPool<string>;
  readonly scopes: CallScope<string>[];
  readonly ends: CallEnd<string>[];
  readonly trace: { kind: string; message: CallMessage }[];
  readonly fnRuns: { n: number };
  readonly done: () => Promise<void>;
}

/** A pool of clients 'a' and 'b', watched as `watch` says (an around hook that passes through, onCallEnd, a trace subscriber). */
export function watchedPool(watch: Watch, options: PoolOptions<string> = {}, clients: string[] = ['a', 'b'], around?: (scope: CallScope<string>, next: () => Promise<unknown>) => Promise<unknown>): Watched {
  const pool = new ClientPool<string>(options);
  const scopes: CallScope<string>[] = [];
  const ends: CallEnd<string>[] = [];
  const trace: { kind: string; message: CallMessage }[] = [];
  if (watch === 'around' || watch === 'all') {
    pool.use({
      name: 'around',
      around: (scope, next) => {
        scopes.push(scope);
        return around === undefined ? next() : around(scope, next);
      },
    });
  }
  if (watch === 'onCallEnd' || watch === 'all') pool.use({ name: 'ends', onCallEnd: (end) => void ends.push(end) });
  const keep = (kind: string) => (message: unknown): void => {
    if ((message as CallMessage).pool === pool) trace.push({ kind, message: message as CallMessage });
  };
  const subscribers = { start: keep('start'), end: keep('end'), asyncStart: keep('asyncStart'), asyncEnd: keep('asyncEnd'), error: keep('error') };
  const isTraced = watch === 'trace' || watch === 'all';
  if (isTraced) channel.subscribe(subscribers);
  for (const client of clients) pool.add(client, { name: client });
  return {
    pool,
    scopes,
    ends,
    trace,
    fnRuns: { n: 0 },
    done: async () => {
      if (isTraced) channel.unsubscribe(subscribers);
      await pool.close();
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
export function describe_(s: Settled): unknown {
  if (s.ok) return { resolved: s.value };
  const e = s.value as { constructor?: { name?: string }; code?: unknown; message?: unknown; option?: unknown };
  return { rejected: e?.constructor?.name, code: e?.code, message: e?.message, option: e?.option };
}

export function runWith(w: Watched, options: unknown, fn?: unknown): Promise<Settled> {
  const f = fn ?? ((client: string) => {
    w.fnRuns.n++;
    return client;
  });
  return settle(w.pool.run(f as (client: string) => string, options as RunOptions<string>));
}

export function inFlight(pool: ClientPool<string>): number {
  return pool.members().reduce((sum, m) => sum + m.inFlight, 0);
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
