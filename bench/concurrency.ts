import { GCProfiler } from 'node:v8';
import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import { Registry } from 'prom-client';
import { ClientPool } from '../src/index.js';
import { prometheusMetrics } from '../src/prometheus/index.js';
import { BARE, COCKATIEL, DEFAULT } from './core.js';
import { median } from './harness.js';
import { FULL_STACK } from './variants.js';

/**
 * A client whose calls all answer on one shared turn of the event loop: every pending call resolves in the
 * same `setImmediate`, so with N calls in flight one turn answers N of them, as a busy upstream would, and
 * the client's own cost stays the same for every candidate.
 */
export class TickClient {
  readonly id: number;
  readonly #tick: Tick;
  constructor(id: number, tick: Tick) {
    this.id = id;
    this.#tick = tick;
  }

  get(value: number): Promise<number> {
    return this.#tick.later(value + this.id);
  }
}

/** The shared tick: one `setImmediate` resolves every call made since the previous one. */
export class Tick {
  #pending: { resolve: (value: number) => void; value: number }[] = [];
  readonly #flush = (): void => {
    const pending = this.#pending;
    this.#pending = [];
    for (const { resolve, value } of pending) resolve(value);
  };

  later(value: number): Promise<number> {
    return new Promise((resolve) => {
      if (this.#pending.length === 0) setImmediate(this.#flush);
      this.#pending.push({ resolve, value });
    });
  }
}

export interface ConcurrencyCandidate {
  readonly name: string;
  readonly run: () => Promise<number>;
  readonly close?: () => unknown;
}

export const CONCURRENCY_CLIENTS = 4;
const GET = { method: 'get' } as const;
const get = (client: TickClient): Promise<number> => client.get(1);

/** The bare call, clientpool's default and full stacks, and cockatiel's breaker, over tick clients. */
export function concurrencyCandidates(): ConcurrencyCandidate[] {
  const tick = new Tick();
  const clients = Array.from({ length: CONCURRENCY_CLIENTS }, (_, i) => new TickClient(i, tick));
  const pool = (full: boolean): ClientPool<TickClient> => {
    const p = new ClientPool<TickClient>(full ? { limit: { rate: 1e12, burst: 1e12 } } : {});
    clients.forEach((client, i) => p.add(client, { name: `c${i}` }));
    if (full) p.use(prometheusMetrics({ registry: new Registry() }));
    return p;
  };
  const basic = pool(false);
  const full = pool(true);
  const breakers = clients.map(() => circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }));
  let next = 0;
  return [
    { name: BARE, run: () => get(clients[0]!) },
    { name: DEFAULT, run: () => basic.run(get), close: () => basic.close() },
    { name: FULL_STACK, run: () => full.run(get, GET), close: () => full.close() },
    {
      name: COCKATIEL,
      run: () => {
        const i = next++ % CONCURRENCY_CLIENTS;
        return breakers[i]!.execute(() => get(clients[i]!));
      },
    },
  ];
}

/**
 * Keep `inFlight` calls running until `total` have finished (each finished call starts the next one), and
 * return the elapsed nanoseconds. Rejects on the first failed call.
 */
export function drive(run: () => Promise<unknown>, inFlight: number, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let started = 0;
    let finished = 0;
    const done = (): void => {
      finished++;
      if (started < total) launch();
      else if (finished === total) resolve(Number(process.hrtime.bigint() - start));
    };
    const launch = (): void => {
      started++;
      run().then(done, reject);
    };
    for (let i = 0; i < Math.min(inFlight, total); i++) launch();
  });
}

export interface ConcurrencyOptions {
  /** Calls kept in flight: one table column each. */
  readonly levels: readonly number[];
  /** Calls per round at each level. */
  readonly total: (inFlight: number) => number;
  readonly rounds: number;
}

/** `drive()` with the share of its time spent in garbage collection (from `v8.GCProfiler`). */
async function driveWithGc(run: () => Promise<unknown>, inFlight: number, total: number): Promise<{ ns: number; gcShare: number }> {
  const profiler = new GCProfiler();
  profiler.start();
  const ns = await drive(run, inFlight, total);
  const gcMicroseconds = profiler.stop().statistics.reduce((sum, entry) => sum + entry.cost, 0);
  return { ns, gcShare: (gcMicroseconds * 1e3) / ns };
}

/** Throughput of each candidate with N calls in flight, interleaved in rounds; median round. */
export async function runConcurrency(options: ConcurrencyOptions): Promise<string> {
  const candidates = concurrencyCandidates();
  try {
    const rates = new Map<string, number[]>();
    const gc = new Map<string, number>();
    const largest = options.levels.at(-1)!;
    for (const level of options.levels) {
      const total = options.total(level);
      const samples = candidates.map(() => [] as number[]);
      const gcShares = candidates.map(() => [] as number[]);
      for (const candidate of candidates) await drive(candidate.run, level, Math.min(total, 10_000));
      for (let round = 0; round < options.rounds; round++) {
        for (let k = 0; k < candidates.length; k++) {
          const i = (k + round) % candidates.length;
          const { ns, gcShare } = await driveWithGc(candidates[i]!.run, level, total);
          samples[i]!.push(total / (ns / 1e9));
          gcShares[i]!.push(gcShare);
        }
      }
      candidates.forEach((candidate, i) => {
        const row = rates.get(candidate.name) ?? [];
        row.push(median(samples[i]!));
        rates.set(candidate.name, row);
        if (level === largest) gc.set(candidate.name, median(gcShares[i]!));
      });
    }
    const bare = rates.get(candidates[0]!.name)!;
    const head = [
      'candidate',
      ...options.levels.map((n) => `${n.toLocaleString('en-US')} in flight (calls/s)`),
      ...options.levels.map((n) => `x bare @${n.toLocaleString('en-US')}`),
      `GC share @${largest.toLocaleString('en-US')}`,
    ];
    const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '--:')).join('|')}|`];
    for (const [name, row] of rates) {
      const cells = [...row.map((r) => Math.round(r).toLocaleString('en-US')), ...row.map((r, i) => (r / bare[i]!).toFixed(2)), `${((gc.get(name) ?? 0) * 100).toFixed(0)}%`];
      lines.push(`| ${name} | ${cells.join(' | ')} |`);
    }
    return [
      lines.join('\n'),
      '',
      `Each client answers on a shared \`setImmediate\` (one turn of the event loop answers every call in flight); a driver keeps N calls in flight, starting one as each finishes. ` +
        `Median of ${options.rounds} interleaved rounds; calls per round: ${options.levels.map((n) => `${options.total(n).toLocaleString('en-US')} at ${n.toLocaleString('en-US')}`).join(', ')}. ` +
        `GC share: time in garbage collection (\`v8.GCProfiler\`) over the round's time; with many calls in flight, what each call keeps alive while it waits is copied by every scavenge, so retained bytes per call cost more than their allocation.`,
    ].join('\n');
  } finally {
    await Promise.all(candidates.map((candidate) => candidate.close?.()));
  }
}
