/**
 * A closed-loop simulation on virtual time of one client behind an adaptive concurrency limit: no pool,
 * no timers, only a loop over a simulated clock. Calls arrive at a steady rate; a call is admitted while
 * the client has fewer than `limit` in flight, and is otherwise refused at once (it fails fast); each
 * finished attempt is reported to the controller as the pool would.
 */
import type { ConcurrencyLimit } from '../../../src/limit/adaptive/concurrency-limit.js';

/** What the backend does with one attempt, given the calls in flight when it started (itself included). */
export interface Outcome {
  readonly latencyMs: number;
  readonly didDrop: boolean;
}

/** A stretch of the run: `ms` long, calls arriving at `rate` per second, served by `backend`. */
export interface Phase {
  readonly name: string;
  readonly ms: number;
  readonly rate: number;
  readonly backend: (inFlight: number) => Outcome;
}

/** The limit at one instant of a phase. */
export interface Reading {
  readonly t: number;
  readonly limit: number;
}

export interface PhaseResult {
  readonly name: string;
  /** The limit every `tickMs` through the phase. */
  readonly limits: readonly Reading[];
  readonly admitted: number;
  readonly refused: number;
  /** Latencies of the attempts admitted in this phase, in ms. */
  readonly latencies: readonly number[];
}

/** The unloaded latency of the backend, in ms, and its knee: 20 ms up to 8 in flight, 40 ms above. */
export const UNLOADED_MS = 20;
export const KNEE = 8;
/** What 8 in flight at 20 ms serve: 400 calls/s. */
export const CAPACITY = (KNEE * 1_000) / UNLOADED_MS;

/** The backend: latency doubles above 8 in flight. */
export const kneeBackend = (inFlight: number): Outcome => ({ latencyMs: inFlight <= KNEE ? UNLOADED_MS : 2 * UNLOADED_MS, didDrop: false });
/** A backend failure burst: every attempt fails fast (5 ms). */
export const failingBackend = (): Outcome => ({ latencyMs: 5, didDrop: true });

interface Pending {
  readonly end: number;
  readonly start: number;
  readonly inFlight: number;
  readonly didDrop: boolean;
}

/** A binary min-heap of pending attempts by end time. */
class Heap {
  readonly #items: Pending[] = [];
  get size(): number {
    return this.#items.length;
  }
  peek(): Pending | undefined {
    return this.#items[0];
  }
  push(item: Pending): void {
    const items = this.#items;
    items.push(item);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.end <= items[i]!.end) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }
  pop(): Pending | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && items[l]!.end < items[m]!.end) m = l;
        if (r < items.length && items[r]!.end < items[m]!.end) m = r;
        if (m === i) break;
        [items[m], items[i]] = [items[i]!, items[m]!];
        i = m;
      }
    }
    return top;
  }
}

/** Run `phases` one after the other against `controller`; read the limit every `tickMs`. */
export function simulate(controller: ConcurrencyLimit, phases: readonly Phase[], tickMs = 10): PhaseResult[] {
  const pending = new Heap();
  let inFlight = 0;
  let t = 0;
  const finishUntil = (until: number): void => {
    for (let next = pending.peek(); next !== undefined && next.end <= until; next = pending.peek()) {
      pending.pop();
      inFlight--;
      controller.onSample({ rttMs: next.end - next.start, inFlight: next.inFlight, didDrop: next.didDrop, now: next.end });
    }
  };
  return phases.map((phase) => {
    const end = t + phase.ms;
    const interval = 1_000 / phase.rate;
    const limits: Reading[] = [];
    const latencies: number[] = [];
    let admitted = 0;
    let refused = 0;
    let nextTick = t;
    for (let arrival = t; arrival < end; arrival += interval) {
      for (; nextTick <= arrival; nextTick += tickMs) {
        finishUntil(nextTick);
        limits.push({ t: nextTick, limit: controller.limit });
      }
      finishUntil(arrival);
      if (inFlight >= controller.limit) {
        refused++;
        continue;
      }
      inFlight++;
      const outcome = phase.backend(inFlight);
      pending.push({ end: arrival + outcome.latencyMs, start: arrival, inFlight, didDrop: outcome.didDrop });
      latencies.push(outcome.latencyMs);
      admitted++;
    }
    for (; nextTick < end; nextTick += tickMs) {
      finishUntil(nextTick);
      limits.push({ t: nextTick, limit: controller.limit });
    }
    t = end;
    return { name: phase.name, limits, admitted, refused, latencies };
  });
}

/** The `q` quantile (0..1) of `values`, by the nearest-rank method. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The median of the limit over the last half of a phase. */
export function settledLimit(result: PhaseResult): number {
  return quantile(
    result.limits.slice(result.limits.length >> 1).map((r) => r.limit),
    0.5,
  );
}

/** Ms from the start of a phase until the limit is first in [lo, hi], or undefined when it never is. */
export function msUntilWithin(result: PhaseResult, lo: number, hi: number): number | undefined {
  const first = result.limits[0]?.t ?? 0;
  const hit = result.limits.find((r) => r.limit >= lo && r.limit <= hi);
  return hit === undefined ? undefined : hit.t - first;
}
