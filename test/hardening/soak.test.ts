/**
 * Issue 8, soak: many calls through the full stack in a child process (test/hardening/fixtures/soak.ts,
 * run with `node --expose-gc --import tsx`), which reports its heap after GC at every tenth of the run,
 * the listeners on the shared caller signal, and what is left after `close()`.
 *
 * Size: SOAK_CALLS, default 1 000 000: what CI runs, 22 to 24 s on the 2-core CI machine. The full soak,
 * 10 000 000 calls, takes about 5.5 minutes here: run the fixture directly (see its header) or set
 * SOAK_CALLS=10000000 SOAK_SECONDS=600 for this file. SOAK_SECONDS caps each tenth of the run at a tenth
 * of it (default 50 here, so that the file stays under 60 s); the test fails rather than pass on a
 * shorter run than the one it names.
 */
import { spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClientPool } from '../../src/index.js';

const SOAK_CALLS = Number(process.env['SOAK_CALLS'] ?? 1_000_000);
const SOAK_SECONDS = Number(process.env['SOAK_SECONDS'] ?? 50);
const SCRIPT = fileURLToPath(new URL('fixtures/soak.ts', import.meta.url));
/** Heap growth allowed between the 10 % mark and the end, after GC with nothing in flight. */
const MAX_HEAP_GROWTH = 5 * 1024 * 1024;

interface SoakReport {
  readonly calls: number;
  readonly attempts: number;
  readonly counted: number;
  readonly requests: number;
  readonly hung: number;
  readonly lost: number;
  readonly seconds: number;
  readonly maxListeners: number;
  readonly maxInFlight: number;
  readonly samples: readonly { readonly calls: number; readonly heapUsed: number; readonly listeners: number; readonly inFlight: number }[];
  readonly outcomes: Readonly<Record<string, number>>;
  readonly closed: number;
  readonly timersAfterClose: number;
  readonly resourcesAfterClose: readonly string[];
}

function runSoak(): Promise<SoakReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT], {
      env: { ...process.env, SOAK_CALLS: String(SOAK_CALLS), SOAK_SECONDS: String(SOAK_SECONDS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), (SOAK_SECONDS + 8) * 1_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) reject(new Error(`soak exited with ${code ?? signal}: ${stderr}`));
      else resolve(JSON.parse(line) as SoakReport);
    });
  });
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(2);

describe(`soak (issue 8): ${SOAK_CALLS} calls through the full stack (CI runs 1 000 000; SOAK_CALLS=10000000 for the full soak)`, () => {
  let report: SoakReport;
  beforeAll(async () => {
    report = await runSoak();
    const heap = report.samples.map((s) => mb(s.heapUsed)).join(' ');
    console.info(
      `soak: ${report.calls} calls, ${report.attempts} attempts in ${report.seconds.toFixed(1)} s; max ${report.maxInFlight} attempts in flight; ` +
        `heap after GC at each tenth (MB): ${heap}; listeners on the shared signal at each tenth: ${report.samples.map((s) => s.listeners).join(' ')} ` +
        `(max ${report.maxListeners} mid-run, ${report.lost} calls never answered); outcomes ${JSON.stringify(report.outcomes)}; after close: ${JSON.stringify(report.resourcesAfterClose)}`,
    );
  }, (SOAK_SECONDS + 10) * 1_000);

  it('runs the stated number of calls; every attempt is counted once by the pool and by Prometheus', () => {
    expect(report.calls).toBe(SOAK_CALLS);
    expect(report.samples).toHaveLength(10);
    expect(report.counted).toBe(report.attempts);
    expect(report.requests).toBe(report.attempts);
    expect(Object.keys(report.outcomes).filter((k) => k.startsWith('not a clientpool error'))).toEqual([]);
    expect(Object.values(report.outcomes).reduce((a, b) => a + b, 0)).toBe(report.calls);
    expect(report.samples.every((s) => s.inFlight === 0)).toBe(true);
    // The rare paths were taken: hangs until the timeout, answers that never come.
    expect(report.hung).toBeGreaterThan(0);
    expect(report.lost).toBeGreaterThan(0);
  });

  it('heap after GC stays flat: less than 5 MB growth between the 10 % mark and the end', () => {
    const first = report.samples[0]!.heapUsed;
    const last = report.samples.at(-1)!.heapUsed;
    expect(last - first).toBeLessThan(MAX_HEAP_GROWTH);
    // And no tenth stands out either.
    for (const sample of report.samples) expect(sample.heapUsed - first).toBeLessThan(MAX_HEAP_GROWTH);
  });

  it('close() runs every close hook and leaves no timer', () => {
    expect(report.closed).toBe(8);
    expect(report.timersAfterClose).toBe(0);
    expect(report.resourcesAfterClose).not.toContain('Timeout');
  });

  it('listeners on the shared caller signal are bounded by the calls in flight (two per attempt at most)', () => {
    // Mid-run: the pool's own listener per call (retry) and per attempt (timeout forwarding). The
    // listeners the bug below leaves behind are added on top; they are bounded by the calls never answered.
    expect(report.maxListeners).toBeLessThanOrEqual(2 * 256 + report.lost);
  });

  // Regression test (a bug this suite found, now fixed). A call with a caller signal and a timeout whose function
  // never settles (it ignores its signal) leaves #guarded's `forward` listener on the caller's signal
  // for ever: #guarded removes it only when the chain settles, and the timeout rejects the call without
  // cleaning up. Over a soak the listeners on a shared signal grow with such calls, and each keeps its
  // call (client, options, closures) alive.
  it('no listener is left on the shared caller signal once nothing is in flight (soak)', () => {
    // Before the fix: the counts grow round after round, by the calls never answered.
    expect(report.samples.map((s) => s.listeners)).toEqual(report.samples.map(() => 0));
  });

  it('a timed-out call whose function never settles leaves no listener on the caller signal', async () => {
    const pool = new ClientPool<{ readonly id: string }>({ timeout: 5, breaker: false });
    pool.add({ id: 'a' });
    const shared = new AbortController().signal;
    const error = await pool.run(() => new Promise(() => undefined), { signal: shared }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TIMEOUT' });
    // The shared listener stays until the loop turns (for the next call on the signal), then goes.
    // Before the fix: one listener (#guarded's `forward`) remained, for ever.
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(shared, 'abort')).toHaveLength(0);
  });
});
