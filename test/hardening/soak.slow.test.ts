/**
 * Soak: many calls through the full stack in a child process (test/hardening/fixtures/soak.ts, run with
 * `node --expose-gc --import tsx`), which reports its heap after GC at every tenth of the run, the
 * listeners on the shared caller signal, and what is left after `close()`.
 *
 * Size: SOAK_CALLS, default 1 000 000: 22 to 24 s on a quiet 2-core machine, several times that on a busy
 * one. The run is bounded by its count of calls, never by time, so a busy machine makes it longer, not
 * different; the only time limit is the one that stops a hang (SOAK_TIMEOUT_SECONDS, default 900). The
 * full soak, 10 000 000 calls, takes about 5.5 minutes on a quiet machine: run the fixture directly (see
 * its header) or set SOAK_CALLS=10000000 SOAK_TIMEOUT_SECONDS=3600 for this file.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const SOAK_CALLS = Number(process.env['SOAK_CALLS'] ?? 1_000_000);
const SOAK_TIMEOUT_SECONDS = Number(process.env['SOAK_TIMEOUT_SECONDS'] ?? 900);
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
      // No time cap on the rounds: the run ends at its count.
      env: { ...process.env, SOAK_CALLS: String(SOAK_CALLS), SOAK_SECONDS: 'Infinity' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), SOAK_TIMEOUT_SECONDS * 1_000);
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

describe(`soak: ${SOAK_CALLS} calls through the full stack (CI runs 1 000 000; SOAK_CALLS=10000000 for the full soak)`, () => {
  let report: SoakReport;
  beforeAll(async () => {
    report = await runSoak();
    const heap = report.samples.map((s) => mb(s.heapUsed)).join(' ');
    console.info(
      `soak: ${report.calls} calls, ${report.attempts} attempts in ${report.seconds.toFixed(1)} s; max ${report.maxInFlight} attempts in flight; ` +
        `heap after GC at each tenth (MB): ${heap}; listeners on the shared signal at each tenth: ${report.samples.map((s) => s.listeners).join(' ')} ` +
        `(max ${report.maxListeners} mid-run, ${report.lost} calls never answered); outcomes ${JSON.stringify(report.outcomes)}; after close: ${JSON.stringify(report.resourcesAfterClose)}`,
    );
  }, (SOAK_TIMEOUT_SECONDS + 10) * 1_000);

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
    // Mid-run: the pool's own listener per call (retry) and per attempt (timeout forwarding), and those of
    // calls never answered until the loop turns.
    expect(report.maxListeners).toBeLessThanOrEqual(2 * 256 + report.lost);
  });

  // A call with a caller signal and a timeout, whose function never settles (it ignores its signal), must
  // not leave a listener on the caller's signal: over a soak such listeners would grow with the calls never
  // answered, each keeping its call alive. (test/pipeline/abort.test.ts pins the single call.)
  it('no listener is left on the shared caller signal once nothing is in flight (soak)', () => {
    expect(report.samples.map((s) => s.listeners)).toEqual(report.samples.map(() => 0));
  });
});
