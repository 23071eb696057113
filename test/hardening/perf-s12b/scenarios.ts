// Scenarios of the perf-s12b attack: retries with timeouts, signals and deadlines, quorum, coalesce,
// around/onCallEnd, measureLatency, breakers, adaptive limits, destroy() and remove() mid call. Each
// takes the library (src or another build) and returns what a user sees, as plain values.
import { vi } from 'vitest';
import type * as Lib from '../../../src/index.js';

type L = typeof Lib;
type Pool = Lib.ClientPool<{ id: string }>;
const clock = { now: (): number => Date.now() };

async function jobs(n = 40): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await jobs();
}
const hang = (): Promise<never> => new Promise<never>(() => {});
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => ((resolve = a), (reject = b)));
  return { promise, resolve, reject };
}
function out(log: string[], name: string, p: Promise<unknown>): Promise<void> {
  return p.then(
    (v) => void log.push(`${name}=${String(v)}`),
    (e: unknown) => void log.push(`${name}!${(e as { code?: string } | undefined)?.code ?? String(e as Error)}`),
  );
}
function counts(pool: Pool): string {
  return pool.members().map((m) => `${m.name}:s${m.successes}f${m.failures}c${m.cancelled}r${m.refused}i${m.inFlight}`).join(' ');
}
function poolOf(lib: L, n: number, options: Lib.PoolOptions<{ id: string }> = {}, add: Lib.AddOptions<{ id: string }> = {}): Pool {
  const pool = new lib.ClientPool<{ id: string }>({ clock, ...options });
  for (let i = 0; i < n; i++) pool.add({ id: `c${i}` }, { ...add, name: `c${i}` });
  return pool;
}
/** The clients each attempt reached, in order, and what it did there. */
function scripted(log: string[], script: Record<number, (id: string, call: Lib.Call<{ id: string }>) => unknown>): (c: { id: string }, call: Lib.Call<{ id: string }>) => unknown {
  return (c, call) => {
    log.push(`a${call.attempt}@${c.id}:${call.kind}`);
    return (script[call.attempt] ?? (() => hang()))(c.id, call);
  };
}

export const scenarios: Record<string, (lib: L) => Promise<string[]>> = {
  async 'retry+timeout: first succeeds before its timeout'(lib) {
    const log: string[] = [];
    const pool = poolOf(lib, 2, { retry: { attempts: 3, backoff: { initial: 1, max: 1 } } as never });
    const p = out(log, 'call', pool.run(scripted(log, { 1: (id) => new Promise((r) => setTimeout(() => r(id), 5)) }), { timeout: 10 }));
    await advance(20);
    await p;
    log.push(counts(pool), `budget=${JSON.stringify(pool.retryBudget)}`);
    return log;
  },
  async 'retry+timeout: first throws, second succeeds'(lib) {
    const log: string[] = [];
    const pool = poolOf(lib, 2, { retry: { attempts: 3 } as never });
    const p = out(log, 'call', pool.run(scripted(log, { 1: () => { throw new Error('x'); }, 2: (id) => id }), { timeout: 10 }));
    await advance(1000);
    await p;
    log.push(counts(pool));
    return log;
  },
  async 'retry+timeout: first times out, second succeeds, first answers late'(lib) {
    const log: string[] = [];
    const late = deferred<string>();
    const pool = poolOf(lib, 2, { retry: { attempts: 3 } as never });
    const p = out(log, 'call', pool.run(scripted(log, { 1: () => late.promise, 2: (id) => id }), { timeout: 10 }));
    await advance(1000);
    await p;
    late.resolve('late');
    await jobs();
    log.push(counts(pool));
    return log;
  },
  async 'retry+signal: caller aborts the first attempt: no retry'(lib) {
    const log: string[] = [];
    const controller = new AbortController();
    const pool = poolOf(lib, 2, { retry: { attempts: 3 } as never });
    const p = out(log, 'call', pool.run(scripted(log, {}), { signal: controller.signal }));
    await advance(1);
    controller.abort('stop');
    await advance(1000);
    await p;
    log.push(counts(pool));
    return log;
  },
  async 'retry+signal: first succeeds, abort after: the value, no retry'(lib) {
    const log: string[] = [];
    const controller = new AbortController();
    const pool = poolOf(lib, 2, { retry: { attempts: 3 } as never });
    const p = out(log, 'call', pool.run(scripted(log, { 1: (id) => Promise.resolve(id) }), { signal: controller.signal, timeout: 50 }));
    await jobs();
    controller.abort('late');
    await advance(1000);
    await p;
    log.push(counts(pool));
    return log;
  },
  async 'retryOn sees each failure and its attempt number; false stops'(lib) {
    const log: string[] = [];
    const pool = poolOf(lib, 3, { retry: { attempts: 4, retryOn: (e: Error & { code?: string }, n: number) => (log.push(`retryOn(${e.code},${n})`), n < 2) } as never });
    const p = out(log, 'call', pool.run(scripted(log, {}), { timeout: 10 }));
    await advance(1000);
    await p;
    log.push(counts(pool));
    return log;
  },
  async 'retryOn throwing: reported, no retry'(lib) {
    const log: string[] = [];
    const pool = poolOf(lib, 2, { retry: { attempts: 4, retryOn: () => { throw new Error('bad retryOn'); } } as never });
    const p = out(log, 'call', pool.run(scripted(log, { 1: () => Promise.reject(new Error('x')) }), { timeout: 10 }));
    await advance(1000);
    await p;
    log.push(counts(pool));
    return log;
  },
  async 'default retry rule: an answered error (isFailure false) is not retried, with a timeout'(lib) {
    const log: string[] = [];
    const pool = poolOf(lib, 2, { isFailure: () => false, retry: { attempts: 3 } as never });
    const p = out(log, 'call', pool.run(scripted(log, { 1: () => Promise.reject(new Error('404')) }), { timeout: 10 }));
    await advance(1000);
    await p;
    log.push(counts(pool));
    return log;
  },
  async 'deadline with retries: the late retry is cut, a cancellation of its client'(lib) {
    const log: string[] = [];
    const pool = poolOf(lib, 3, { retry: { attempts: 5, backoff: { initial: 1, max: 1 } } as never });
    const p = out(log, 'call', pool.run(scripted(log, {}), { timeout: 40, deadline: 100 }));
    await advance(1000);
    await p;
    log.push(counts(pool));
    return log;
  },
  async 'deadline with hedges: attempts cut at the deadline'(lib) {
    const log: string[] = [];
    const pool = poolOf(lib, 3, { hedge: { delay: 30, maxHedges: 2 } as never });
    const p = out(log, 'call', pool.run(scripted(log, {}), { deadline: 50 }));
    await advance(1000);
    await p;
    log.push(counts(pool));
    return log;
  },
  async 'onCallEnd and around with retries and a timeout'(lib) {
    const log: string[] = [];
    const pool = poolOf(lib, 2, {
      retry: { attempts: 3 } as never,
      middleware: [{ name: 'm', onCallEnd: (e: { error?: { code?: string }; attempts?: number }) => void log.push(`end:${e.error?.code ?? 'ok'}:${e.attempts}`), around: (_s: unknown, next: () => Promise<unknown>) => (log.push('around'), next()) } as never],
    });
    await out(log, 'ok', pool.run(scripted(log, { 1: (id) => Promise.resolve(id) }), { timeout: 10 }));
    const p = out(log, 'retried', pool.run(scripted(log, { 2: (id) => Promise.resolve(id) }), { timeout: 10 }));
    await advance(1000);
    await p;
    const controller = new AbortController();
    const q = out(log, 'aborted', pool.run(scripted(log, {}), { timeout: 10, signal: controller.signal }));
    await jobs();
    controller.abort();
    await advance(1000);
    await q;
    log.push(counts(pool));
    return log;
  },
  async 'measureLatency with retries and a timeout: durations heard'(lib) {
    const log: string[] = [];
    const pool = poolOf(lib, 2, { measureLatency: true, retry: { attempts: 3 } as never, middleware: [{ name: 'o', onOutcome: (call: Lib.Call<{ id: string }>, o: { kind: string }, d: number) => void log.push(`o:${call.attempt}:${o.kind}:${d}`) }] });
    const p = out(log, 'call', pool.run(scripted(log, { 1: () => hang(), 2: (id) => new Promise((r) => setTimeout(() => r(id), 3)) }), { timeout: 10 }));
    await advance(1000);
    await p;
    const q = out(log, 'plain', pool.run(scripted(log, { 1: (id) => new Promise((r) => setTimeout(() => r(id), 4)) })));
    await advance(10);
    await q;
    log.push(counts(pool));
    return log;
  },
};
